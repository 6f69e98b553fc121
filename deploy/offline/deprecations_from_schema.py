"""Extract what the real hashicorp/aws provider marks deprecated, for the stand-in's schema.

The jsii assembly the stand-in's schema comes from carries no deprecation notes, so the
deprecations are taken from the real provider (`make tf-local` builds it and saves its
`terraform providers schema -json` as .local/terraform/tf-local/real-schema.json):

    python deploy/offline/deprecations_from_schema.py .local/terraform/tf-local/real-schema.json \\
        deploy/offline/aws-deprecations.json

The output lists, per resource and data source type, the dotted paths of deprecated arguments
and blocks (block paths through nested blocks), and the deprecated types themselves.
jsii_schema.py merges it into the served schema, so `terraform validate` offline warns where
the real provider would.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"


def deprecated_paths(block: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for name, attr in sorted(block.get("attributes", {}).items()):
        if attr.get("deprecated"):
            out.append(prefix + name)
    for name, nested in sorted(block.get("block_types", {}).items()):
        if nested.get("block", {}).get("deprecated"):
            out.append(prefix + name)
        out.extend(deprecated_paths(nested.get("block", {}), f"{prefix}{name}."))
    return out


def extract(schema: dict[str, Any], origin: str) -> dict[str, Any]:
    provider = schema["provider_schemas"][PROVIDER_ADDRESS]
    result: dict[str, Any] = {"origin": origin}
    for section, key in (("resource_schemas", "resources"), ("data_source_schemas", "data_sources")):
        paths = {}
        types = []
        for type_name, type_schema in sorted(provider.get(section, {}).items()):
            found = deprecated_paths(type_schema["block"])
            if found:
                paths[type_name] = found
            if type_schema["block"].get("deprecated"):
                types.append(type_name)
        result[key] = paths
        result[f"deprecated_{key}"] = types
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schema", type=Path, help="terraform providers schema -json of the real provider")
    parser.add_argument("out", type=Path)
    parser.add_argument(
        "--origin", default="terraform providers schema -json of the real hashicorp/aws provider"
    )
    args = parser.parse_args(argv)
    result = extract(json.loads(args.schema.read_text()), args.origin)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    count = sum(len(v) for k, v in result.items() if k in ("resources", "data_sources"))
    print(f"deprecations_from_schema: {count} types with deprecations -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
