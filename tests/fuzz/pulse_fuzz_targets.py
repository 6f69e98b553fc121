"""Fuzzing of every input parser and the normalizer: shared targets, mutators and a runner.

Targets (each input must either parse or be refused with the documented "bad input" outcome that
leads to the skip / dead-letter path, never any other exception):

- `producer_line`: `pulse_producer.parsers.parse_line(bytes)` (X v1.1, X v2, twarc2, compliance and
  v1.1 deletes, Jetstream; the producer's normalizer into `Post`). Allowed: a list of events, or
  `ParseError` (the line is counted as skipped). Every event it returns must then encode
  (`events.record_bytes`) and decode in the enricher to the same envelope: a post the producer
  accepts but the enricher dead-letters would be lost.
- `enricher_record`: `pulse_common.contracts.envelope.decode(bytes)` (Kinesis record → RecordEnvelope).
  Allowed: a `RecordEnvelope`, or `Poison` with a reason from `envelope.POISON_REASONS` (dead-lettered). It
  is documented never to raise.
- `enricher_post`: for every envelope `decode` accepts, the NLP normalizer and enrichment
  (`Enricher.enrich`, which runs `normalize_text` and the entity extractors) and `contracts.items.to_item`
  must not raise; a raise would dead-letter a valid post as `enrich_failed`.
- `normalize_text`: the text normalizer and extractors on arbitrary strings never raise.

Inputs come from two sources: a fast deterministic mutator (byte-level and JSON-structure
mutations of a seed corpus: the bundled sample and the producer's test fixtures) and hypothesis
strategies. `python tests/fuzz/pulse_fuzz_targets.py --count 100000` runs the big campaign
(`make reliability` does); the pytest module runs a few thousand inputs.
"""

from __future__ import annotations

import argparse
import base64
import copy
import gzip
import json
import random
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "posts.jsonl.gz"
PRODUCER_FIXTURES = REPO / "tests" / "fixtures" / "producer"


# ------------------------------------------------------------------------------------ seed corpus


@lru_cache(maxsize=1)
def seed_lines() -> tuple[bytes, ...]:
    """Valid-looking lines of every supported shape (sample + producer fixtures)."""
    lines: list[bytes] = []
    with gzip.open(SAMPLE, "rb") as src:
        for i, line in enumerate(src):
            if i >= 300:
                break
            lines.append(line.strip())
    for path in sorted(PRODUCER_FIXTURES.glob("*.json*")):
        text = path.read_bytes()
        if path.suffix == ".json":
            lines.append(json.dumps(json.loads(text), separators=(",", ":")).encode())
        else:
            lines += [ln.strip() for ln in text.splitlines() if ln.strip()]
    return tuple(lines)


@lru_cache(maxsize=1)
def seed_records() -> tuple[bytes, ...]:
    """Valid Kinesis record payloads (RecordEnvelope JSON) made by the producer from the seeds."""
    from pulse_producer.events import Refused, record_bytes
    from pulse_producer.parsers import ParseError, parse_line

    records = []
    at = datetime(2026, 11, 24, 18, 0, tzinfo=UTC)
    for line in seed_lines():
        try:
            events = parse_line(line)
        except ParseError:
            continue
        records += [record_bytes(event, at) for event in events if not isinstance(event, Refused)]
    return tuple(records)


# ---------------------------------------------------------------------------------------- mutator

ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 1, 2**31, 2**63 - 1, 2**63, 2**64 + 7, -(2**63) - 1, 10**30, 1.5, -0.0,
    1e308, -1e308, 5e-324, "", " ", "0", "-1", "null", "x" * 300, "é" * 30_000, "\u0000", "\ufeff",
    "\U0001f600" * 5, "2026-13-45T25:61:00Z", "2026-11-24T18:00:00", "Wed Nov 24 18:00:00 +0000 2026",
    "9999-12-31T23:59:59.999999+14:00", "0001-01-01T00:00:00Z", "Infinity", "NaN", [], {}, [None],
    [[]], {"": ""}, {"type": "Point", "coordinates": [999, -999]}, {"id": None},
    ["a", 1, None, {}], "x:", "x:1", "at://did:plc:x/app.bsky.feed.post/abc",
]
# Raw JSON fragments that json.dumps cannot produce (lone surrogates, NaN tokens, huge numbers).
RAW_TOKENS = [
    b'"\\ud800"', b'"\\udfff\\ud800"', b"NaN", b"-Infinity", b"1e999", b"-1e999", b"123456789" * 40,
    b'"\\u0000"', b"[]", b"{}", b"null", b'"\xff\xfe"', b'"\xed\xa0\x80"', b"[" * 600 + b"]" * 600,
]


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node[:8]):
            found += _paths(value, (*prefix, index))
    return found


def _get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def _set(root: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    _get(root, path[:-1])[path[-1]] = value
    return root


def _delete(root: Any, path: tuple) -> Any:
    if not path:
        return root
    parent = _get(root, path[:-1])
    del parent[path[-1]]
    return root


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.5 or depth > 3:
        # a copy: a shared [] or {} that a later mutation writes into grows across inputs, into a
        # cycle or a list nested a thousand deep
        return copy.deepcopy(rng.choice(ODD_VALUES))
    if roll < 0.65:
        ranges = [(32, 127), (0x80, 0x3000), (0x1F300, 0x1FAFF)]
        points = [rng.randrange(*rng.choice(ranges)) for _ in range(rng.randrange(0, 40))]
        return "".join(chr(p) for p in points)
    if roll < 0.8:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))]
    if roll < 0.9:
        return rng.randrange(-(2**70), 2**70)
    return {rng.choice(["id", "text", "data", "user", "created_at", "version", "op", "post", "kind"]):
            _random_value(rng, depth + 1) for _ in range(rng.randrange(0, 4))}


def mutate_json(data: bytes, rng: random.Random) -> bytes:
    """Structural mutations: delete, retype, duplicate or swap fields, then re-serialize."""
    try:
        doc = json.loads(data)
    except ValueError:
        return mutate_bytes(data, rng)
    for _ in range(rng.choice([1, 1, 1, 2, 3, 5])):
        paths = _paths(doc)
        path = rng.choice(paths)
        roll = rng.random()
        try:
            if roll < 0.35:
                doc = _set(doc, path, _random_value(rng))
            elif roll < 0.55 and path:
                doc = _delete(doc, path)
            elif roll < 0.65:
                other = _get(doc, rng.choice(paths))
                doc = _set(doc, path, json.loads(json.dumps(other)))
            elif roll < 0.75:
                target = _get(doc, path)
                if isinstance(target, dict):
                    target[rng.choice(["data", "includes", "delete", "user", "author", "commit", "kind",
                                       "did", "time_us", "op", "post", "version", "id", "text"])] = (
                        _random_value(rng))
                else:
                    doc = _set(doc, path, [target])
            elif roll < 0.85:
                target = _get(doc, path)
                if isinstance(target, str):
                    doc = _set(doc, path, target * rng.choice([2, 50, 1000]))
                elif isinstance(target, int | float) and not isinstance(target, bool):
                    doc = _set(doc, path, rng.choice([-target, target * 10**20, str(target), float(target)]))
            else:
                doc = _set(doc, path, {"nested": _get(doc, path)} if rng.random() < 0.5 else None)
        except (KeyError, IndexError, TypeError, RecursionError):
            continue
    out = json.dumps(doc, separators=(",", ":"), ensure_ascii=rng.random() < 0.5, allow_nan=True)
    encoded = out.encode("utf-8", "surrogatepass")
    if rng.random() < 0.1:  # splice a token no serializer produces
        at = rng.randrange(len(encoded) + 1)
        encoded = encoded[:at] + rng.choice(RAW_TOKENS) + encoded[at:]
    return encoded


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    """Byte-level mutations: flips, truncations, insertions, duplications, odd encodings."""
    buf = bytearray(data)
    for _ in range(rng.choice([1, 1, 2, 4, 8])):
        roll = rng.random()
        pos = rng.randrange(len(buf) + 1)
        if roll < 0.2 and buf:
            buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
        elif roll < 0.35:
            del buf[pos:]
        elif roll < 0.5:
            buf[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 8)))
        elif roll < 0.6:
            buf[pos:pos] = rng.choice(RAW_TOKENS)
        elif roll < 0.7 and buf:
            end = min(len(buf), pos + rng.randrange(1, 64))
            buf[pos:pos] = buf[pos:end]
        elif roll < 0.8 and buf:
            end = min(len(buf), pos + rng.randrange(1, 32))
            del buf[pos:end]
        elif roll < 0.87:
            buf[pos:pos] = rng.choice([b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"\n", b"\x00"])
        elif roll < 0.93:
            try:
                buf = bytearray(bytes(buf).decode("utf-8").encode(rng.choice(["utf-16", "utf-32", "latin-1"]),
                                                                 "replace"))
            except UnicodeDecodeError:
                pass
        else:
            buf = bytearray(b"\xef\xbb\xbf") + buf  # a BOM
    return bytes(buf)


def mutated(corpus: tuple[bytes, ...], rng: random.Random) -> bytes:
    data = rng.choice(corpus)
    roll = rng.random()
    if roll < 0.55:
        return mutate_json(data, rng)
    if roll < 0.9:
        return mutate_bytes(data, rng)
    if roll < 0.95:
        return mutate_bytes(mutate_json(data, rng), rng)
    return data  # the seeds themselves keep the "parses" side honest


# ------------------------------------------------------------------------------------ the checks


class FuzzFailure(AssertionError):
    """An input produced an outcome outside the documented contract."""

    def __init__(self, target: str, data: bytes | str, problem: str) -> None:
        raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
        super().__init__(f"{target}: {problem}; input (base64, first 2 KB): "
                         f"{base64.b64encode(raw[:2048]).decode()}")
        self.target = target
        self.problem = problem


@dataclass
class Tally:
    inputs: Counter = field(default_factory=Counter)  # per target
    outcomes: Counter = field(default_factory=Counter)  # (target, outcome)
    failures: list = field(default_factory=list)  # FuzzFailure (run(keep_going=True))

    def add(self, target: str, outcome: str) -> None:
        self.inputs[target] += 1
        self.outcomes[(target, outcome)] += 1

    @property
    def total(self) -> int:
        return sum(self.inputs.values())


@lru_cache(maxsize=1)
def enricher() -> Any:
    from pulse_common.tracking import load_tracking_config
    from pulse_enricher.nlp import Enricher

    return Enricher(load_tracking_config(None))


AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def check_enricher_post(envelope: Any, raw: bytes, tally: Tally) -> None:
    from pulse_common.contracts.items import item_too_large
    from pulse_common.contracts.items import to_item as build_item
    from pulse_enricher.nlp.influence import DuplicateTracker

    try:
        enriched = enricher().enrich(envelope.post, ingested_at=envelope.ingested_at, enriched_at=AT,
                                     duplicates=DuplicateTracker(capacity=16))
        item = build_item(enriched, envelope, enriched_at=AT, retention=timedelta(days=30))
    except Exception as exc:
        problem = f"enrich/build_item raised {type(exc).__name__}: {exc}"
        raise FuzzFailure("enricher_post", raw, problem) from exc
    tally.add("enricher_post", "item_too_large" if item_too_large(item) else "enriched")


def check_enricher_record(data: bytes, tally: Tally, *, enrich: bool = True) -> Any:
    from pulse_common.contracts.envelope import POISON_REASONS as REASONS
    from pulse_common.contracts.envelope import Poison, RecordEnvelope, decode

    try:
        result = decode(data)
    except Exception as exc:
        raise FuzzFailure("enricher_record", data, f"decode raised {type(exc).__name__}: {exc}") from exc
    if isinstance(result, Poison):
        if result.reason not in REASONS:
            raise FuzzFailure("enricher_record", data, f"undocumented poison reason {result.reason!r}")
        tally.add("enricher_record", f"poison:{result.reason}")
        return result
    if not isinstance(result, RecordEnvelope):
        raise FuzzFailure("enricher_record", data, f"decode returned {type(result).__name__}")
    tally.add("enricher_record", f"envelope:{result.op}")
    if enrich and result.op == "upsert":
        check_enricher_post(result, data, tally)
    return result


def check_producer_line(line: bytes, tally: Tally, *, enrich: bool = True) -> None:
    from pulse_common.contracts.envelope import RecordEnvelope
    from pulse_producer.events import Refused, Upsert, record_bytes
    from pulse_producer.parsers import ParseError, parse_line

    try:
        events = parse_line(line)
    except ParseError as exc:
        tally.add("producer_line", f"skipped:{exc.reason}")
        return
    except Exception as exc:
        raise FuzzFailure("producer_line", line, f"parse_line raised {type(exc).__name__}: {exc}") from exc
    refused = [event for event in events if isinstance(event, Refused)]
    for event in refused:  # one tweet of a page refused, its neighbours kept
        tally.add("producer_line", f"skipped:{event.reason}")
    events = [event for event in events if not isinstance(event, Refused)]
    tally.add("producer_line", "parsed" if events else "parsed_empty")
    for event in events:
        try:
            data = record_bytes(event, AT)
        except Exception as exc:
            problem = f"record_bytes raised {type(exc).__name__}: {exc}"
            raise FuzzFailure("producer_line", line, problem) from exc
        decoded = check_enricher_record(data, tally, enrich=enrich)
        if not isinstance(decoded, RecordEnvelope):
            # Still inside the contract (the enricher dead-letters it, nothing crashes), but the
            # producer and the enricher disagree: counted and reported as a finding.
            tally.add("producer_line", f"FINDING:producer_accepts_enricher_poison:{decoded.reason}")
            continue
        expected_version = event.post.version if isinstance(event, Upsert) else event.version
        if decoded.id != event.id or decoded.version != expected_version:
            raise FuzzFailure("producer_line", line, "id/version changed between producer and enricher")


def check_normalizer(text: str, tally: Tally) -> None:
    from pulse_enricher.nlp import text as nlp_text

    try:
        normalized = nlp_text.normalize_text(text)
        nlp_text.extract_urls(normalized)
        nlp_text.extract_mentions(normalized)
        nlp_text.extract_hashtags(normalized)
        nlp_text.extract_emojis(normalized)
        nlp_text.is_manual_retweet(normalized)
    except Exception as exc:
        raise FuzzFailure("normalize_text", text, f"raised {type(exc).__name__}: {exc}") from exc
    if normalized != normalized.strip():
        raise FuzzFailure("normalize_text", text, "result is not stripped")
    tally.add("normalize_text", "ok")


# ------------------------------------------------------------------------------------ the runner


def random_text(rng: random.Random) -> str:
    pieces = []
    for _ in range(rng.randrange(0, 12)):
        roll = rng.random()
        if roll < 0.3:
            pieces.append(rng.choice([
                "Orbit S5", "@user_1", "#orbits5", "https://example.com/a?b=1", "&amp;", "&amp;amp;lt;",
                "RT @x:", "www.x.y", "＃タグ", "😀👍🏽", "\u200d", "\r\n\t", "e\u0301", "©®™", "\ud7ff",
                "&#x1F600;", "&#0;", "&#xD800;",
            ]))
        else:
            pieces.append("".join(chr(rng.randrange(0, 0x2FFFF)) for _ in range(rng.randrange(0, 20))))
    text = " ".join(pieces)
    return text.encode("utf-8", "replace").decode("utf-8", "replace")


def run(count: int, seed: int = 1, *, progress: bool = False, keep_going: bool = False) -> Tally:
    """count inputs, split over the targets. Raises FuzzFailure on the first contract violation, or
    with keep_going records every violation in `tally.failures` and goes on."""
    rng = random.Random(seed)
    tally = Tally()
    lines, records = seed_lines(), seed_records()
    started = time.monotonic()
    # Shares: lines 45 %, records 45 %, normalizer 10 %; enrich every accepted upsert.
    for i in range(count):
        roll = rng.random()
        try:
            if roll < 0.45:
                check_producer_line(mutated(lines, rng), tally)
            elif roll < 0.9:
                check_enricher_record(mutated(records, rng), tally)
            else:
                check_normalizer(random_text(rng), tally)
        except FuzzFailure as exc:
            if not keep_going:
                raise
            tally.failures.append(exc)
        if progress and i and i % 20_000 == 0:
            print(f"# fuzz: {i} inputs, {time.monotonic() - started:.0f}s", file=sys.stderr, flush=True)
    return tally


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Fuzz the parsers and the normalizer.")
    parser.add_argument("--count", type=int, default=100_000, help="mutated inputs (default 100000)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    started = time.monotonic()
    tally = run(args.count, args.seed, progress=True, keep_going=True)
    elapsed = time.monotonic() - started
    for target, n in sorted(tally.inputs.items()):
        kinds = {k[1]: v for k, v in tally.outcomes.items() if k[0] == target}
        top = ", ".join(f"{k}={v}" for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])[:8])
        print(f"fuzz: {target} inputs={n} ({top})", flush=True)
    problems = Counter(f"{f.target}: {f.problem.splitlines()[0][:160]}" for f in tally.failures)
    for problem, n in problems.most_common(10):
        print(f"fuzz: FAILURE x{n} {problem}", flush=True)
    if tally.failures:
        print(f"fuzz: first failing input: {tally.failures[0]}"[:3000], flush=True)
    print(f"fuzz: total inputs={args.count} checks={tally.total} failures={len(tally.failures)} "
          f"seconds={elapsed:.0f}", flush=True)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    sys.exit(main())
