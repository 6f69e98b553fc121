"""Extract from the real hashicorp/aws provider's schema what the jsii assembly lacks.

The CDK bindings' jsii assembly, which the stand-in provider's schema comes from, carries neither
deprecation notes nor which attributes are sensitive. Both matter offline: `terraform validate`
warns about deprecated arguments, and a plan refuses a root output derived from a sensitive
attribute without `sensitive = true` (the way `cognito_user_pool_id` stopped every plan). So they
are taken from the real provider, which `make tf-local` builds and whose
`terraform providers schema -json` it saves:

    python deploy/offline/overlay_from_schema.py .local/terraform/tf-local/real-schema.json \\
        deploy/offline/aws-schema-overlay.json

The output lists, per resource and data source type, the dotted paths (through nested blocks)
of deprecated arguments and blocks and of sensitive attributes, and the deprecated types;
deploy/offline/jsii_schema.py merges it into the schema the stand-in serves.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"


def flagged_paths(block: dict[str, Any], flag: str, prefix: str = "") -> list[str]:
    out = []
    for name, attr in sorted(block.get("attributes", {}).items()):
        if attr.get(flag):
            out.append(prefix + name)
    for name, nested in sorted(block.get("block_types", {}).items()):
        if nested.get("block", {}).get(flag):
            out.append(prefix + name)
        out.extend(flagged_paths(nested.get("block", {}), flag, f"{prefix}{name}."))
    return out


def extract(schema: dict[str, Any], origin: str) -> dict[str, Any]:
    provider = schema["provider_schemas"][PROVIDER_ADDRESS]
    result: dict[str, Any] = {"origin": origin}
    for flag in ("deprecated", "sensitive"):
        result[flag] = {}
        for section, key in (("resource_schemas", "resources"), ("data_source_schemas", "data_sources")):
            paths = {}
            for type_name, type_schema in sorted(provider.get(section, {}).items()):
                found = flagged_paths(type_schema["block"], flag)
                if found:
                    paths[type_name] = found
            result[flag][key] = paths
    result["deprecated_types"] = {
        key: sorted(n for n, s in provider.get(section, {}).items() if s["block"].get("deprecated"))
        for section, key in (("resource_schemas", "resources"), ("data_source_schemas", "data_sources"))
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("schema", type=Path, help="terraform providers schema -json of the real provider")
    parser.add_argument("out", type=Path)
    parser.add_argument("--origin", required=True, help="where the schema came from (provider version)")
    args = parser.parse_args(argv)
    result = extract(json.loads(args.schema.read_text()), args.origin)
    args.out.write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")
    counts = {
        flag: sum(len(p) for v in result[flag].values() for p in v.values())
        for flag in ("deprecated", "sensitive")
    }
    print(f"overlay_from_schema: {counts} -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
