"""The real `pulse-producer` CLI against the local stack: throttling, SIGTERM, dead letters, errors."""

from __future__ import annotations

import base64
import json
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import orjson
import pytest
from producer_stack import PRODUCER, producer_env, run_producer, stream_ids, summary_of

from pulse_common.aws import client
from pulse_devstack.fault_proxy import FaultProxy, PutRecordsThrottle
from pulse_producer.sample import generate

pytestmark = pytest.mark.integration


def _write_posts(path: Path, count: int) -> list[str]:
    ids = []
    with open(path, "wb") as out:
        for made in generate(count, seed=99):
            out.write(orjson.dumps(made.doc) + b"\n")
            ids.append(f"x:{made.doc['data']['id']}")
    return ids


@pytest.fixture(scope="module")
def ten_thousand_posts(tmp_path_factory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("producer") / "posts-10k.jsonl"
    return path, _write_posts(path, 10_000)


def test_every_post_lands_when_a_proxy_fails_30_percent_of_put_records_entries(
    isolated_stack, ten_thousand_posts
):
    path, ids = ten_thousand_posts
    with FaultProxy(isolated_stack.aws_endpoint_url, rules=[PutRecordsThrottle(0.3)], seed=3) as proxy:
        env = producer_env(isolated_stack, PULSE_AWS_ENDPOINT_URL=proxy.url)
        done = run_producer(["replay", str(path)], env, timeout=600)
        injected = proxy.injected
    assert done.returncode == 0, done.stderr[-2000:]
    assert summary_of(done.stdout) == {
        "received": 10_000,
        "put": 10_000,
        "failed": 0,
        "skipped": 0,
        "dead_letter": 0,
        "outcomes": {"posts": 10_000},
        "refused": {},
    }
    assert injected >= 3_000  # 30 % of 10,000 first attempts, plus their retries
    landed = stream_ids(isolated_stack)
    assert set(landed) == set(ids)


def test_sigterm_mid_stream_flushes_everything_read_before_exiting(isolated_stack, ten_thousand_posts):
    path, ids = ten_thousand_posts
    # A linger of a minute: without the flush on SIGTERM, the partial batch would be lost.
    env = producer_env(isolated_stack, PULSE_PRODUCER_LINGER_MS="60000")
    proc = subprocess.Popen(
        [PRODUCER, "replay", "--rate", "400", str(path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in proc.stderr:
            if "producer starting" in line:
                break
        time.sleep(2.0)
        proc.send_signal(signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr[-2000:]
    summary = summary_of(stdout)
    assert 0 < summary["received"] < 10_000
    assert summary["put"] == summary["received"] and summary["failed"] == 0
    landed = stream_ids(isolated_stack)
    assert sorted(landed) == sorted(ids[: summary["received"]])


def test_a_record_over_one_mebibyte_is_dead_lettered_with_its_reason(isolated_stack, tmp_path):
    good = next(iter(generate(1))).doc
    huge = json.loads(json.dumps(good))
    huge["data"]["id"] = "2120999999999999999"
    huge["data"]["entities"] = {
        "hashtags": [{"start": 0, "end": 1, "tag": f"t{i:06d}" * 3} for i in range(60_000)]
    }
    path = tmp_path / "poison.jsonl"
    path.write_bytes(orjson.dumps(good) + b"\n" + orjson.dumps(huge) + b"\n")
    done = run_producer(["replay", str(path)], producer_env(isolated_stack))
    assert done.returncode == 0, done.stderr[-2000:]
    assert summary_of(done.stdout) == {"received": 2, "put": 1, "failed": 0, "skipped": 0, "dead_letter": 1,
                                       "outcomes": {"posts": 2}, "refused": {}}
    sqs = client("sqs", isolated_stack)
    url = sqs.get_queue_url(QueueName=isolated_stack.dlq_name)["QueueUrl"]
    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    letter = json.loads(message["Body"])
    assert letter["reason"] == "record_too_large" and letter["service"] == "producer"
    assert letter["source"].endswith("poison.jsonl:2") and base64.b64decode(letter["raw_b64"])
    assert stream_ids(isolated_stack) == [f"x:{good['data']['id']}"]


def test_a_missing_stream_is_a_clear_error_and_exit_code_2(isolated_stack, tmp_path):
    path = tmp_path / "one.jsonl"
    _write_posts(path, 1)
    done = run_producer(
        ["replay", str(path)], producer_env(isolated_stack, PULSE_STREAM_NAME="no-such-stream")
    )
    assert done.returncode == 2
    assert "'no-such-stream' does not exist" in done.stderr


def test_a_rejected_x_bearer_token_is_a_clear_error_and_a_non_zero_exit(isolated_stack):
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from threading import Thread

    class Unauthorized(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"title":"Unauthorized","status":401}'
            self.send_response(401)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Unauthorized)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = producer_env(
            isolated_stack,
            PULSE_PRODUCER_X_BEARER_TOKEN="not-a-token",
            PULSE_PRODUCER_X_API_BASE_URL=f"http://127.0.0.1:{server.server_address[1]}",
        )
        done = run_producer(["x"], env, timeout=60)
    finally:
        server.shutdown()
    assert done.returncode == 2
    assert "X rejected the bearer token (401" in done.stderr
    assert "not-a-token" not in done.stderr + done.stdout


def test_the_metrics_server_reports_health_readiness_and_counters(isolated_stack):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = producer_env(isolated_stack, PULSE_PRODUCER_METRICS_PORT=str(port))
    proc = subprocess.Popen(
        [PRODUCER, "synthetic", "--rate", "50", "--count", "150"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    seen: dict[str, str] = {}
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(seen) < 3:
            for path in ("/healthz", "/readyz", "/metrics"):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=2) as resp:
                        body = resp.read().decode()
                except OSError:
                    continue
                if path != "/metrics" or "pulse_producer_records_put_total 0.0" not in body:
                    seen[path] = body
            time.sleep(0.2)
        stdout, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0
    assert seen["/healthz"].strip() == "ok" and seen["/readyz"].strip() == "ok"
    assert 'pulse_producer_posts_received_total{source="synthetic"}' in seen["/metrics"]
    assert "pulse_producer_batch_size_records_bucket" in seen["/metrics"]
    assert summary_of(stdout)["put"] == 150


def test_a_replay_of_real_payloads_prints_its_counts_by_outcome(isolated_stack, tmp_path):
    from real_payloads import REAL, document

    compliance = tmp_path / "compliance.jsonl"
    compliance.write_bytes(b"\n".join(document(f"x_compliance/v2_stream/{p.name}")
                                       for p in sorted((REAL / "x_compliance" / "v2_stream").glob("*.json"))))
    published = (REAL / "x_compliance" / "v1_firehose" / "00_tweet_edit.json").read_bytes()
    edit = tmp_path / "tweet_edit.jsonl"  # X's example on one line (still missing its comma)
    edit.write_bytes(b" ".join(published.split()) + b"\n")
    files = [str(REAL / "twarc2" / "edited_before.jsonl"), str(REAL / "twarc2" / "withheld_first3.jsonl"),
             str(REAL / "x_compliance" / "twarc2_batch" / "users_compliance.jsonl"), str(compliance),
             str(edit)]
    done = run_producer(["replay", *files], producer_env(isolated_stack))
    assert done.returncode == 0, done.stderr[-2000:]
    summary = summary_of(done.stdout)
    # edited_before: 1 post + 1 delete; withheld_first3: 3 posts; users_compliance: 2 user events;
    # the 14 v2 events: 2 deletes (delete, tweet_edit), 3 hides (withheld, drop, undrop counted apart),
    # 8 user events, 1 ignored (user_profile_modification); the v1 tweet_edit as X publishes it: bad_json
    assert summary["outcomes"] == {"posts": 4, "deletes": 3, "hides": 2, "unhides": 1, "user_compliance": 10}
    assert summary["refused"] == {"bad_json": 1}
    assert ("replay: posts=4 deletes=3 hides=2 unhides=1 user_compliance=10 refused=1 (bad_json=1)"
            in done.stderr)
