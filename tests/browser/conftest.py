"""A real headless Chromium (Debian `chromium` + `chromium-driver`, driven by Selenium) against the
dashboard served by its console script (`pulse-dashboard`, the way `make demo` starts it) over the
bundled sample indexed into a throw-away alias of the local OpenSearch."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulse_dashboard.testing import SampleIndex

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _need_chromium() -> None:
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return
    reason = "Chromium is not installed: apt-get install -y chromium chromium-driver"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


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
    _need_chromium()
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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="pulse-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        f"--user-data-dir={profile}", "--window-size=1440,1000", "--lang=en-US",
    ):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    drv.set_page_load_timeout(60)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
