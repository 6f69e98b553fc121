"""Query cost stays bounded whatever a user types: a prefix needs 3 characters, the operators of one
search are capped, partial hashtag and aspect filters are term lookups in the edge-n-gram subfields
(never `prefix` queries that walk every term of a keyword field), and a repeated parameter is one
clause per distinct value, with a cap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from security_support import RecordingSearch

from pulse_dashboard import fields as F  # noqa: N812
from pulse_dashboard.filters import MAX_QUERY_OPERATORS, MAX_VALUES
from pulse_dashboard.views.common import EDGE_NGRAM_MAX_CHARS

MAPPING = Path(__file__).resolve().parents[2] / "mappings" / "posts.template.json"


def _keys(node) -> list[str]:
    if isinstance(node, dict):
        return [*node, *(k for v in node.values() for k in _keys(v))]
    if isinstance(node, list):
        return [k for v in node for k in _keys(v)]
    return []


@pytest.mark.parametrize("q", ["a*", "ba*", "*", "-ba*", "nova ab*", "(x* | battery)"])
def test_a_prefix_shorter_than_three_characters_is_refused(dashboard, q):
    search = RecordingSearch()
    res = dashboard(search).get("/api/posts", params={"q": q})
    assert res.status_code == 400 and res.json()["param"] == "q" and "prefix" in res.json()["message"]
    assert search.bodies == []  # refused before OpenSearch


def test_a_three_character_prefix_and_escaped_stars_are_fine(dashboard):
    search = RecordingSearch()
    api = dashboard(search)
    assert api.get("/api/posts", params={"q": "bat* -nova"}).status_code == 200
    assert api.get("/api/posts", params={"q": r"5\* rating"}).status_code == 200


def test_the_number_of_operators_is_capped(dashboard):
    many = " | ".join(f"term{i}" for i in range(MAX_QUERY_OPERATORS + 2))  # one | too many
    res = dashboard().get("/api/posts", params={"q": many})
    assert res.status_code == 400 and "operators" in res.json()["message"]
    fine = " | ".join(f"term{i}" for i in range(MAX_QUERY_OPERATORS + 1))
    assert dashboard().get("/api/posts", params={"q": fine}).status_code == 200


@pytest.mark.parametrize(("param", "value"), [("hashtag", "#No"), ("aspect", "Ba"), ("hashtag", "x" * 40)])
def test_partial_hashtag_and_aspect_filters_never_run_prefix_queries(dashboard, param, value):
    search = RecordingSearch()
    assert dashboard(search).get("/api/posts", params={param: value}).status_code == 200
    body = search.bodies[-1]
    assert "prefix" not in _keys(body) and "wildcard" not in _keys(body) and "regexp" not in _keys(body)
    text = json.dumps(body)
    subfield = F.HASHTAGS_PREFIX if param == "hashtag" else F.ASPECT_NAME_PREFIX
    if len(value) <= EDGE_NGRAM_MAX_CHARS:
        assert f'"{subfield}"' in text
    else:  # longer than any n-gram: the whole value, as an exact keyword
        assert f'"{F.HASHTAGS}": "{value}"' in text


def test_the_edge_n_gram_subfields_exist_in_the_mapping_with_the_length_the_code_assumes():
    template = json.loads(MAPPING.read_text())["template"]
    gram = template["settings"]["analysis"]["filter"]["pulse_edge_ngram"]
    assert gram["type"] == "edge_ngram" and gram["max_gram"] == EDGE_NGRAM_MAX_CHARS
    props = template["mappings"]["properties"]
    hashtag, aspect = props["hashtags"], props["aspects"]["properties"]["name"]
    for sub in (hashtag["fields"]["search"], aspect["fields"]["search"]):
        assert sub["analyzer"] == "pulse_prefix_index" and sub["search_analyzer"] == "pulse_prefix_search"


def test_repeated_parameters_are_one_clause_per_distinct_value_and_capped(dashboard):
    search = RecordingSearch()
    api = dashboard(search)
    params = [("lang", "en"), ("lang", "EN"), ("lang", "en,en"), ("product", "nova"), ("product", "NOVA")]
    params *= 50
    assert api.get("/api/posts", params=params).status_code == 200
    filters = search.bodies[-1]["query"]["bool"]["filter"]
    assert {"terms": {F.LANG: ["en"]}} in filters and {"terms": {F.PRODUCTS: ["nova"]}} in filters
    too_many = [("lang", f"l{chr(97 + i // 26)}{chr(97 + i % 26)}") for i in range(MAX_VALUES + 1)]
    res = api.get("/api/posts", params=too_many)
    assert res.status_code == 400 and res.json()["param"] == "lang"
