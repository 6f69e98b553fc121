"""The `hashicorp/aws` provider schema, read from the jsii assembly of the CDK bindings.

`cdktf-cdktf-provider-aws` (PyPI; pinned with its hash in deploy/offline/schema-wheel.txt) is
generated from the provider's own schema and ships it as a jsii assembly
(`cdktf_cdktf_provider_aws/_jsii/provider-aws@<v>.jsii.tgz`, member `package/.jsii`). This module
turns that assembly into the JSON layout of `terraform providers schema -json`, which the
stand-in provider (deploy/offline/standin-provider) serves to `terraform validate`:

* every resource and data source class names its Terraform type in its documentation link;
* its config struct holds the arguments: `optional` tells required from optional, and a property
  documented as "`<name>` block." is a nested block (a single struct: at most one; an array of
  structs: a list), any other struct-typed property is a nested attribute;
* getters of the class (and of a block's output reference) that are not arguments are the
  computed-only attributes;
* the jsii assembly carries no deprecation notes, no sensitivity and no conflict rules
  (ConflictsWith, ExactlyOneOf): deprecated and sensitive flags are merged in from
  deploy/offline/aws-schema-overlay.json, which deploy/offline/overlay_from_schema.py extracts
  from the real provider's schema (make tf-local saves it).

    python deploy/offline/jsii_schema.py <wheel> <out.json> [--overlay <json>]
"""

from __future__ import annotations

import argparse
import io
import json
import re
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

PROVIDER_ADDRESS = "registry.terraform.io/hashicorp/aws"
TYPE_LINK = re.compile(r"\{@link \S+/docs/(resources|data-sources)/\w+ (aws_\w+)\}")
ARG_LINK = re.compile(r"/docs(?:/(?:resources|data-sources)/\w+)?#(\w+) ")
BLOCK_SUMMARY = re.compile(r"^(\w+) block\.$")
# Meta-arguments Terraform handles itself in a provider block.
PROVIDER_META = {"alias"}


def read_assembly(wheel: Path) -> dict[str, Any]:
    """The parsed `package/.jsii` of the wheel's jsii tarball."""
    with zipfile.ZipFile(wheel) as zf:
        names = [n for n in zf.namelist() if n.endswith(".jsii.tgz")]
        if len(names) != 1:
            raise SystemExit(f"jsii_schema: expected one .jsii.tgz in {wheel}, found {names}")
        blob = zf.read(names[0])
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tf:
        member = tf.extractfile("package/.jsii")
        if member is None:
            raise SystemExit("jsii_schema: no package/.jsii in the jsii tarball")
        return json.load(member)


def snake(camel: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", camel).lower()


def arg_name(prop: dict[str, Any]) -> str:
    docs = prop.get("docs", {})
    found = ARG_LINK.search(docs.get("summary", "") + " " + docs.get("remarks", ""))
    return found.group(1) if found else snake(prop["name"])


class Converter:
    def __init__(self, types: dict[str, dict[str, Any]]):
        self.types = types
        self.opaque: list[str] = []  # names of blocks whose content the bindings do not describe

    # --- types --------------------------------------------------------------------------------

    def is_struct(self, fqn: str) -> bool:
        return self.types.get(fqn, {}).get("kind") == "interface" and fqn.startswith("@cdktf/provider-aws")

    def struct_of(self, jtype: dict[str, Any]) -> tuple[str, str] | None:
        """(fqn, 'single'|'list'|'map') when the type is a struct or a collection of structs."""
        if "fqn" in jtype and self.is_struct(jtype["fqn"]):
            return jtype["fqn"], "single"
        if "union" in jtype:
            for member in jtype["union"]["types"]:
                found = self.struct_of(member)
                if found:
                    return found
        if "collection" in jtype:
            element = jtype["collection"]["elementtype"]
            if "fqn" in element and self.is_struct(element["fqn"]):
                return element["fqn"], "list" if jtype["collection"]["kind"] == "array" else "map"
        return None

    def cty(self, jtype: dict[str, Any]) -> Any:
        """The Terraform (cty JSON) type of a jsii property type."""
        if "primitive" in jtype:
            return {"string": "string", "number": "number", "boolean": "bool"}.get(
                jtype["primitive"], "dynamic"
            )
        if "union" in jtype:
            members = [m for m in jtype["union"]["types"] if m != {"fqn": "cdktf.IResolvable"}]
            if len(members) == 1:
                return self.cty(members[0])
            if {"primitive": "boolean"} in members:
                return "bool"
            return "dynamic"
        if "collection" in jtype:
            kind = "list" if jtype["collection"]["kind"] == "array" else "map"
            return [kind, self.cty(jtype["collection"]["elementtype"])]
        fqn = jtype.get("fqn", "")
        simple = {
            "cdktf.IResolvable": "bool",  # cdktf's getBooleanAttribute
            "cdktf.StringMap": ["map", "string"],
            "cdktf.NumberMap": ["map", "number"],
            "cdktf.BooleanMap": ["map", "bool"],
            "cdktf.AnyMap": ["map", "dynamic"],
            "cdktf.StringListMap": ["map", ["list", "string"]],
            "cdktf.NumberListMap": ["map", ["list", "number"]],
        }
        if fqn in simple:
            return simple[fqn]
        if fqn.endswith("List") and fqn[: -len("List")] + "OutputReference" in self.types:
            obj = self.output_object(fqn[: -len("List")] + "OutputReference")
            return ["list", obj] if obj else "dynamic"
        return "dynamic"

    def output_object(self, fqn: str, depth: int = 0) -> Any:
        """An object type from the getters of a computed list element's output reference."""
        if depth > 4:
            return None
        attrs = {}
        for prop in self.types.get(fqn, {}).get("properties", []):
            if prop.get("static") or prop["name"].endswith("Input") or prop["name"] == "internalValue":
                continue
            attrs[snake(prop["name"])] = self.cty(prop["type"])
        return ["object", attrs] if attrs else None

    # --- blocks -------------------------------------------------------------------------------

    def block(
        self, config_fqn: str | None, class_fqn: str | None, skip: set[str] = frozenset()
    ) -> dict[str, Any]:
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        arg_props = self.types.get(config_fqn, {}).get("properties", []) if config_fqn else []
        declared = set()
        for prop in arg_props:
            name = arg_name(prop)
            if name in skip:
                continue
            declared.add(prop["name"])
            optional = bool(prop.get("optional"))
            summary = prop.get("docs", {}).get("summary", "")
            struct = self.struct_of(prop["type"])
            if struct and BLOCK_SUMMARY.match(summary):
                fqn, shape = struct
                nested = {
                    "nesting_mode": "list",
                    "block": self.block(fqn, fqn + "OutputReference"),
                }
                if shape == "single":
                    nested["max_items"] = 1
                if not optional:
                    nested["min_items"] = 1
                block_types[name] = nested
                continue
            attr: dict[str, Any] = {"required": True} if not optional else {"optional": True}
            if struct:
                # An attribute holding objects: the SDK's "attributes as blocks" (e.g. a
                # security group's ingress, which Terraform also accepts in block syntax) or
                # a framework nested attribute.
                fqn, shape = struct
                obj = self.object_type(self.block(fqn, None))
                attr["type"] = obj if shape == "single" else [shape, obj]
            elif prop["type"] == {"primitive": "any"} and BLOCK_SUMMARY.match(summary):
                # The bindings type this block `any` (too deeply nested): its content is unknown.
                self.opaque.append(name)
                attr["type"] = "dynamic"
            else:
                attr["type"] = self.cty(prop["type"])
            attributes[name] = attr
        for prop in self.types.get(class_fqn, {}).get("properties", []) if class_fqn else []:
            if prop.get("static") or prop["name"].endswith("Input") or prop["name"] == "internalValue":
                continue
            if prop["name"] in declared:
                continue
            name = snake(prop["name"])
            if name in attributes or name in block_types or name in skip:
                continue
            attributes[name] = {"type": self.cty(prop["type"]), "computed": True}
        return {"attributes": attributes, "block_types": block_types}

    def object_type(self, block: dict[str, Any]) -> list[Any]:
        """The object type of a struct's block, every attribute optional (nested blocks as lists)."""
        members = {name: attr["type"] for name, attr in block["attributes"].items() if "type" in attr}
        for name, nested in block["block_types"].items():
            inner = self.object_type(nested["block"])
            members[name] = inner if nested.get("max_items") == 1 else ["list", inner]
        return ["object", members, sorted(members)]

    def config_of(self, cls: dict[str, Any]) -> str | None:
        for param in cls.get("initializer", {}).get("parameters", []):
            if param["name"] == "config":
                return param["type"].get("fqn")
        return None

    def provider_schema(self) -> dict[str, Any]:
        resources: dict[str, Any] = {}
        data_sources: dict[str, Any] = {}
        provider_block: dict[str, Any] | None = None
        self.opaque_blocks: dict[str, list[str]] = {}
        for fqn, cls in self.types.items():
            if cls.get("kind") != "class":
                continue
            base = cls.get("base")
            if base == "cdktf.TerraformProvider":
                provider_block = self.block(self.config_of(cls), None, skip=PROVIDER_META)
                continue
            if base not in ("cdktf.TerraformResource", "cdktf.TerraformDataSource"):
                continue
            link = TYPE_LINK.search(cls.get("docs", {}).get("summary", ""))
            if not link:
                continue
            kind, type_name = link.groups()
            target = resources if kind == "resources" else data_sources
            self.opaque = []
            block = self.block(self.config_of(cls), fqn)
            if kind == "data-sources":
                # The bindings do not say which optional arguments the provider also computes; a
                # data source fills in the ones it is not given (aws_region's region, ...), so
                # they are served as optional and computed (terraform test's mocks fill them).
                for attr in block["attributes"].values():
                    if attr.get("optional"):
                        attr["computed"] = True
            target[type_name] = {"version": 0, "block": block}
            if self.opaque:
                self.opaque_blocks[f"{type_name}"] = sorted(set(self.opaque))
        if provider_block is None:
            raise SystemExit("jsii_schema: no provider class in the assembly")
        return {
            "provider": {"version": 0, "block": provider_block},
            "resource_schemas": dict(sorted(resources.items())),
            "data_source_schemas": dict(sorted(data_sources.items())),
        }


def apply_overlay(schema: dict[str, Any], overlay: dict[str, Any]) -> dict[str, int]:
    """Mark what the real provider marks deprecated or sensitive (aws-schema-overlay.json)."""
    marked = {"deprecated": 0, "sensitive": 0}
    for flag in marked:
        for section, key in (("resource_schemas", "resources"), ("data_source_schemas", "data_sources")):
            for type_name, paths in overlay.get(flag, {}).get(key, {}).items():
                if type_name not in schema[section]:
                    continue
                for path in paths:
                    block: dict[str, Any] | None = schema[section][type_name]["block"]
                    *parents, leaf = path.split(".")
                    for part in parents:
                        block = (block or {}).get("block_types", {}).get(part, {}).get("block")
                    if block is None:
                        continue
                    target = block.get("attributes", {}).get(leaf)
                    if target is None and flag == "deprecated":
                        target = (block.get("block_types", {}).get(leaf) or {}).get("block")
                    if target is not None:
                        target[flag] = True
                        marked[flag] += 1
    for section, key in (("resource_schemas", "resources"), ("data_source_schemas", "data_sources")):
        for type_name in overlay.get("deprecated_types", {}).get(key, []):
            if type_name in schema[section]:
                schema[section][type_name]["block"]["deprecated"] = True
                marked["deprecated"] += 1
    return marked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="the hashicorp/aws schema (providers schema -json layout) from the bindings' jsii"
    )
    parser.add_argument("wheel", type=Path, help="cdktf_cdktf_provider_aws-<v>-py3-none-any.whl")
    parser.add_argument("out", type=Path, help="where to write the schema JSON")
    parser.add_argument(
        "--overlay", type=Path, help="deprecated and sensitive flags (aws-schema-overlay.json)"
    )
    args = parser.parse_args(argv)

    assembly = read_assembly(args.wheel)
    converter = Converter(assembly["types"])
    schema = converter.provider_schema()
    source = {
        "assembly": assembly["name"],
        "version": assembly["version"],
        "wheel": args.wheel.name,
        # Blocks the bindings type `any`: served as dynamic attributes, so Terraform rejects
        # them in block syntax; deploy/offline/standin.py reports those errors as not checkable.
        "opaque_blocks": converter.opaque_blocks,
    }
    marked = {"deprecated": 0, "sensitive": 0}
    if args.overlay:
        overlay = json.loads(args.overlay.read_text())
        marked = apply_overlay(schema, overlay)
        source["overlay"] = {"file": args.overlay.name, "origin": overlay.get("origin"), "marked": marked}
    document = {"format_version": "1.0", "source": source, "provider_schemas": {PROVIDER_ADDRESS: schema}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(json.dumps(document, separators=(",", ":")))
    tmp.replace(args.out)
    print(
        f"jsii_schema: {len(schema['resource_schemas'])} resources,"
        f" {len(schema['data_source_schemas'])} data sources, {marked['deprecated']} deprecated,"
        f" {marked['sensitive']} sensitive -> {args.out}",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
