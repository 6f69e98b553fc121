"""A real headless Chromium (Debian `chromium` + `chromium-driver`, driven by Selenium) against the
dashboard served by its console script (`pulse-dashboard`, the way `make demo` starts it) over the
bundled sample indexed into a throw-away alias of the local OpenSearch."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import chromium_driver, require_chromium
from dashboard_index import SampleIndex

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def browser_index(local_stack) -> Iterator[SampleIndex]:
    index = SampleIndex.create(local_stack.opensearch_url, prefix="t-browser")
    try:
        yield index
    finally:
        index.drop()


@pytest.fixture(scope="session")
def dashboard_url(browser_index: SampleIndex) -> Iterator[str]:
    """`pulse-dashboard --port 0` as a real process; its URL comes from its first stdout line."""
    require_chromium()
    script = Path(sys.executable).with_name("pulse-dashboard")
    env = {**os.environ, **browser_index.env(), "PULSE_DASHBOARD_LIVE_POLL_MS": "1000"}
    proc = subprocess.Popen(
        [str(script), "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    )
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("pulse-dashboard: http://"), f"dashboard did not start: {line!r}"
        url = line.split(": ", 1)[1].strip()
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url + "healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def driver(dashboard_url: str):
    with chromium_driver() as drv:
        yield drv


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
