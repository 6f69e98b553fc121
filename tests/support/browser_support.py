"""Test support for driving the dashboard page in a real headless Chromium (Debian `chromium` +
`chromium-driver`, through Selenium). Used by tests/browser (a dashboard over seeded data) and
tests/integration/dashboard (the dashboard `pulse-demo` serves): one copy of the driver set-up and
of the page helpers. Selenium is imported lazily, so importing this module needs no browser.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

# Every card of the page: `data-card` name -> the page sets `data-state` (loading/ready/empty/error).
CARDS = (
    "overview",
    "timeline",
    "alerts",
    "aspects",
    "share-of-voice",
    "influencers",
    "emerging",
    "posts",
    "live",
)


def missing_chromium_reason() -> str | None:
    """None when Chromium and its driver are installed, else what to install."""
    if CHROMIUM.exists() and CHROMEDRIVER.exists():
        return None
    return "Chromium is not installed: apt-get install -y chromium chromium-driver"


def require_chromium() -> None:
    """Skip the calling test without Chromium; under CI=true fail instead (CI must run it)."""
    import pytest

    reason = missing_chromium_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason} (CI must run the browser test)")
    pytest.skip(reason)


@contextmanager
def chromium_driver() -> Iterator[Any]:
    """A headless Chromium WebDriver with a throw-away profile and the browser console captured."""
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
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait(driver, condition: Callable[[Any], Any], timeout: float = 60, what: str = "condition") -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        condition, message=f"timed out waiting for {what}"
    )


def card_states(driver) -> dict[str, str]:
    from selenium.webdriver.common.by import By

    return {
        e.get_attribute("data-card"): e.get_attribute("data-state")
        for e in driver.find_elements(By.CSS_SELECTOR, "[data-card]")
    }


# What every chart draws when it has data: CSS selector -> how many elements at least.
CHART_CONTENTS = {
    "#timeline-chart svg g.bar": 1,
    "#aspects-chart .aspect-row": 8,
    "#sov-chart .sov-bar div": 1,
    "#influencers-body .person": 1,
    "#emerging-body .term": 1,
    "#alerts-list .alert": 1,
    "#posts-list .post": 1,
}


def empty_charts(driver) -> list[str]:
    """The charts (CHART_CONTENTS selectors, and the first KPI) that show no data; [] when all do."""
    from selenium.webdriver.common.by import By

    empty = [css for css, at_least in CHART_CONTENTS.items()
             if len(driver.find_elements(By.CSS_SELECTOR, css)) < at_least]
    if driver.find_element(By.CSS_SELECTOR, "#kpis .kpi .value").text in ("", "–", "0"):
        empty.append("#kpis .kpi .value")
    return empty


def open_page(driver, url: str) -> Any:
    """Load the dashboard and wait until every card has finished loading (whatever its state)."""
    driver.get(url)
    wait(
        driver,
        lambda d: all(card_states(d).get(c) in ("ready", "empty", "error") for c in CARDS),
        what="every card to load",
    )
    return driver


def click(driver, element) -> None:
    """Scroll the element to the middle of the viewport (clear of the sticky filter bar), then click."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    time.sleep(0.2)
    element.click()


def show(driver, element_id: str) -> None:
    """Scroll a card to just below the sticky filter bar, for its screenshot."""
    driver.execute_script(
        "const e = document.getElementById(arguments[0]);"
        "window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 70);",
        element_id,
    )
    time.sleep(0.3)


def full_page_screenshot(driver, path: Path) -> None:
    height = driver.execute_script(
        "return Math.max(document.body.scrollHeight, document.documentElement.scrollHeight)"
    )
    driver.set_window_size(1440, min(max(height, 900), 6000))
    time.sleep(0.3)
    driver.save_screenshot(str(path))
    driver.set_window_size(1440, 1000)


def severe_console_errors(driver) -> list[dict]:
    return [e for e in driver.get_log("browser") if e["level"] == "SEVERE" and "favicon" not in e["message"]]


def api_json(url: str, path: str, params: dict) -> dict:
    with urllib.request.urlopen(
        f"{url}{path}?{urllib.parse.urlencode(params, doseq=True)}", timeout=30
    ) as res:
        return json.loads(res.read())
