"""Fuzzing in `make test` (3,000 inputs): every parser and the normalizer either accept an
input or refuse it the documented way (producer: ParseError → skipped; enricher: Poison →
dead-lettered), never with any other exception. The big campaign (100,000 inputs) runs in
`make reliability`: `python tests/fuzz/pulse_fuzz_targets.py --count 100000`."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pulse_fuzz_targets import (
    Tally,
    check_enricher_record,
    check_normalizer,
    check_producer_line,
    run,
)

FAST = settings(max_examples=300, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

KEYS = st.sampled_from([
    "id", "id_str", "text", "full_text", "data", "includes", "users", "user", "author", "author_id",
    "created_at", "public_metrics", "entities", "hashtags", "mentions", "urls", "geo", "coordinates",
    "delete", "status", "kind", "did", "time_us", "commit", "operation", "record", "rkey", "collection",
    "op", "version", "ingested_at", "post", "network", "native_id", "engagement", "referenced_tweets",
    "type", "extended_tweet", "retweeted_status", "place", "bounding_box", "limit", "note_tweet", "lang",
])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=40),
    st.sampled_from(["2026-11-24T18:00:00Z", "Wed Nov 24 18:00:00 +0000 2026", "x:1", "Point",
                     "app.bsky.feed.post", "commit", "create", "delete", "upsert", "retweeted", "quoted"]),
)
JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=6)), max_leaves=25)
DOCS = st.dictionaries(KEYS, JSON, max_size=8)


def _dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8", "surrogatepass")


@FAST
@given(st.binary(max_size=600))
def test_any_bytes_are_parsed_or_skipped_by_the_producer(line):
    check_producer_line(line, Tally())


@FAST
@given(DOCS)
def test_any_json_document_of_known_keys_is_parsed_or_skipped_by_the_producer(doc):
    check_producer_line(_dumps(doc), Tally())


@FAST
@given(st.binary(max_size=600))
def test_any_bytes_decode_to_an_envelope_or_a_dead_letter_reason(data):
    check_enricher_record(data, Tally())


@FAST
@given(DOCS)
def test_any_json_envelope_decodes_or_is_dead_lettered_and_valid_ones_enrich(doc):
    check_enricher_record(_dumps(doc), Tally())


@FAST
@given(st.text(max_size=300))
def test_the_normalizer_and_extractors_accept_any_text(text):
    check_normalizer(text, Tally())


def test_fifteen_hundred_mutated_real_inputs_are_parsed_or_refused_the_documented_way():
    tally = run(1500, seed=7)
    assert tally.inputs["producer_line"] > 500 and tally.inputs["enricher_record"] > 500
    # Both sides of the contract are exercised: some inputs parse, some are refused.
    outcomes = {outcome for _, outcome in tally.outcomes}
    assert "parsed" in outcomes and any(o.startswith("poison:") for o in outcomes)
