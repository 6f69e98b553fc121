"""deploy/opensearch-dashboards/pulse.ndjson: every reference resolves inside the file and every
field a visualization, saved search or Vega spec uses exists in mappings/posts.template.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
NDJSON = REPO / "deploy" / "opensearch-dashboards" / "pulse.ndjson"
TEMPLATE = REPO / "mappings" / "posts.template.json"


def load_objects(text: str | None = None) -> list[dict]:
    text = NDJSON.read_text(encoding="utf-8") if text is None else text
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def mapping_fields() -> set[str]:
    def walk(props: dict, prefix: str = "") -> set[str]:
        out = set()
        for name, spec in props.items():
            path = f"{prefix}{name}"
            out.add(path)
            out |= walk(spec.get("properties", {}), f"{path}.")
            out |= {f"{path}.{sub}" for sub in spec.get("fields", {})}
        return out

    return walk(json.loads(TEMPLATE.read_text())["template"]["mappings"]["properties"])


def kuery_fields(query: str) -> set[str]:
    return set(re.findall(r"([A-Za-z_][\w.]*)\s*:", query))


def fields_used(obj: dict) -> set[str]:
    attrs = obj["attributes"]
    used: set[str] = set()
    if obj["type"] == "index-pattern":
        used.add(attrs["timeFieldName"])
    source = json.loads(attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}"))
    used |= kuery_fields(source.get("query", {}).get("query", ""))
    if obj["type"] == "visualization":
        vis = json.loads(attrs["visState"])
        used |= {a["params"]["field"] for a in vis["aggs"] if "field" in a.get("params", {})}
        if vis["type"] == "vega":
            spec = json.loads(vis["params"]["spec"])
            url = spec["data"]["url"]
            used.add(url["%timefield%"])
            used |= set(re.findall(r'"field":\s*"([^"]+)"', json.dumps(url["body"])))
            used |= set(re.findall(r'"path":\s*"([^"]+)"', json.dumps(url["body"])))
    if obj["type"] == "search":
        used |= set(attrs["columns"]) | {s[0] for s in attrs["sort"]}
    return used


def test_every_object_has_a_unique_id_and_a_known_type():
    objects = load_objects()
    ids = [(o["type"], o["id"]) for o in objects]
    assert len(ids) == len(set(ids))
    assert {o["type"] for o in objects} == {"index-pattern", "visualization", "search", "dashboard"}


def test_every_reference_resolves_inside_the_file():
    objects = load_objects()
    present = {(o["type"], o["id"]) for o in objects}
    for obj in objects:
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in present, f"{obj['id']} -> {ref}"
        if obj["type"] == "dashboard":
            names = {r["name"] for r in obj["references"]}
            panels = json.loads(obj["attributes"]["panelsJSON"])
            assert panels and all(p["panelRefName"] in names for p in panels)
        source = json.loads(obj["attributes"].get("kibanaSavedObjectMeta", {}).get("searchSourceJSON", "{}"))
        if "indexRefName" in source:
            assert source["indexRefName"] in {r["name"] for r in obj["references"]}


@pytest.mark.parametrize("obj", load_objects(), ids=lambda o: o["id"])
def test_every_field_used_exists_in_the_mapping(obj):
    missing = sorted(fields_used(obj) - mapping_fields())
    assert missing == []


def test_the_dashboard_shows_every_visualization_and_the_saved_search():
    objects = load_objects()
    dashboard = next(o for o in objects if o["type"] == "dashboard")
    shown = {(r["type"], r["id"]) for r in dashboard["references"]}
    assert shown == {(o["type"], o["id"]) for o in objects if o["type"] in ("visualization", "search")}


def test_osd_import_rewrites_the_alias_but_never_an_id():
    # the same substitution osd.mk applies for OSD_INDEX=my-alias
    text = re.sub(r"pulse-posts([^-])", r"my-alias\1", NDJSON.read_text(encoding="utf-8"))
    objects = load_objects(text)
    assert [o["id"] for o in objects] == [o["id"] for o in load_objects()]
    pattern = next(o for o in objects if o["type"] == "index-pattern")
    assert pattern["attributes"]["title"] == "my-alias"
    vega = next(o for o in objects if '"vega"' in o["attributes"].get("visState", ""))
    assert (
        json.loads(json.loads(vega["attributes"]["visState"])["params"]["spec"])["data"]["url"]["index"]
        == "my-alias"
    )
