"""Read the Terraform under deploy/terraform with python-hcl2 into plain Python structures.

`load_tree()` returns one `TfFile` per .tf file with its blocks flattened:
resources and data sources as `Block(kind, type, name, body, path)`, plus variables, outputs,
module calls and provider blocks. String literals have their quotes stripped; expressions stay
as `${...}` strings, which the tests match textually.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

REPO_ROOT = Path(__file__).resolve().parents[2]
TF_ROOT = REPO_ROOT / "deploy" / "terraform"
MODULES = TF_ROOT / "modules"
ENVS = TF_ROOT / "envs"
SERVICES = ("producer", "enricher", "indexer", "dashboard")

_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=True)


@dataclass(frozen=True)
class Block:
    kind: str  # resource | data | module | variable | output | provider
    type: str  # e.g. aws_iam_role ("" for module/variable/output)
    name: str
    body: dict[str, Any]
    path: Path

    @property
    def text(self) -> str:
        """The body as JSON text, for textual assertions on expressions."""
        return json.dumps(self.body, sort_keys=True)

    @property
    def where(self) -> str:
        rel = self.path.relative_to(REPO_ROOT)
        return f"{rel}: {self.kind} {self.type + '.' if self.type else ''}{self.name}"


def _unquote(key: str) -> str:
    return key[1:-1] if len(key) >= 2 and key[0] == key[-1] == '"' else key


@cache
def parse(path: Path) -> dict[str, Any]:
    with path.open() as fh:
        return hcl2.load(fh, serialization_options=_OPTIONS)


def tf_files() -> list[Path]:
    return sorted(p for p in TF_ROOT.rglob("*.tf") if ".terraform" not in p.parts)


@cache
def blocks() -> tuple[Block, ...]:
    out: list[Block] = []
    for path in tf_files():
        doc = parse(path)
        for kind in ("resource", "data"):
            for entry in doc.get(kind, []):
                for rtype, named in entry.items():
                    for name, body in named.items():
                        out.append(Block(kind, _unquote(rtype), _unquote(name), body, path))
        for kind in ("module", "variable", "output"):
            for entry in doc.get(kind, []):
                for name, body in entry.items():
                    out.append(Block(kind, "", _unquote(name), body, path))
        for entry in doc.get("provider", []):
            for name, body in entry.items():
                out.append(Block("provider", "", _unquote(name), body, path))
    return tuple(out)


def find(kind: str, type_: str = "", name: str | None = None, under: Path | None = None) -> list[Block]:
    return [
        b
        for b in blocks()
        if b.kind == kind
        and (not type_ or b.type == type_)
        and (name is None or b.name == name)
        and (under is None or under in b.path.parents)
    ]


def one(kind: str, type_: str, name: str, under: Path | None = None) -> Block:
    found = find(kind, type_, name, under)
    assert len(found) == 1, f"expected exactly one {kind} {type_}.{name}, found {[b.where for b in found]}"
    return found[0]


def first(body: dict[str, Any], key: str) -> Any:
    """A nested block or attribute (blocks are lists of dicts after parsing)."""
    value = body.get(key)
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return value[0]
    return value


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(doc: Block) -> list[dict[str, Any]]:
    """Statements of an aws_iam_policy_document data source."""
    return as_list(doc.body.get("statement"))


def comments(block: Block) -> list[str]:
    return [c.get("value", "") for c in block.body.get("__comments__", [])]
