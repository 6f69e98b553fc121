"""The real CLI with a live source served locally: Bluesky Jetstream and the X filtered stream."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from producer_stack import PRODUCER, producer_env, stream_ids, summary_of

pytestmark = pytest.mark.integration

UNIT = Path(__file__).resolve().parents[2] / "unit" / "producer"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "producer"
sys.path.insert(0, str(UNIT))
from producer_fakes import FakeClock, FakeJetstream, FakeXServer  # noqa: E402


def _wait_for_ids(stack, expected: set[str], timeout_s: float = 60) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        ids = stream_ids(stack)
        if expected <= set(ids) or time.monotonic() > deadline:
            return ids
        time.sleep(0.3)


def _terminate(proc: subprocess.Popen) -> tuple[str, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_bluesky_posts_and_deletes_land_and_the_cursor_survives_sigterm(isolated_stack, tmp_path):
    frames = (FIXTURES / "jetstream.jsonl").read_text().splitlines()
    server = FakeJetstream([frames])
    cursor_file = tmp_path / "jetstream.cursor"
    env = producer_env(isolated_stack, PULSE_PRODUCER_JETSTREAM_STALL_TIMEOUT_S="5")
    proc = subprocess.Popen(
        [PRODUCER, "bluesky", "--jetstream-url", server.url, "--cursor-file", str(cursor_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        expected = {
            "bluesky:did:plc:abc123xyz/3lbxaaa111",
            "bluesky:did:plc:def456uvw/3lbxbbb222",
            "bluesky:did:plc:ghi789rst/3lbxccc333",
        }
        ids = _wait_for_ids(isolated_stack, expected)
    finally:
        stdout, stderr = _terminate(proc)
        server.close()
    assert proc.returncode == 0, stderr[-2000:]
    assert set(ids) == expected and len(ids) == 4  # three posts and the delete of the first
    summary = summary_of(stdout)
    assert summary["put"] == summary["received"] == 4 and summary["failed"] == 0
    last_time_us = json.loads(frames[-1])["time_us"]
    assert int(cursor_file.read_text()) == last_time_us


def test_x_stream_posts_land_after_a_reconnect_and_sigterm_exits_cleanly(isolated_stack):
    doc = json.loads((FIXTURES / "x_v2_with_includes.json").read_text())
    clock = FakeClock()
    server = FakeXServer([("status", 503), ("tweets", [doc]), "stall", "stall", "stall"], clock)
    env = producer_env(
        isolated_stack,
        PULSE_PRODUCER_X_BEARER_TOKEN="t0ken",
        PULSE_PRODUCER_X_API_BASE_URL=server.url,
        PULSE_PRODUCER_X_STALL_TIMEOUT_S="2",
    )
    proc = subprocess.Popen(
        [PRODUCER, "x"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        ids = _wait_for_ids(isolated_stack, {"x:2120400000000000001"}, timeout_s=90)
    finally:
        stdout, stderr = _terminate(proc)
        server.close()
    assert proc.returncode == 0, stderr[-2000:]
    assert ids == ["x:2120400000000000001"]
    assert summary_of(stdout)["put"] == 1
    assert '"cause": "http_503"' in stderr and '"delay_s": 5.0' in stderr  # X's first HTTP-error wait
    assert {r["tag"] for r in server.rules} == {"pulse:nova", "pulse:orbit", "pulse:lumen"}
    assert server.overlaps == 0
