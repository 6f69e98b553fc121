"""The dashboard in a real headless Chromium: every chart renders with data, an aspect bar drills down
to the posts behind it, a search highlights its matches, new posts appear live, the report opens.
Screenshots go to tests/artifacts/ (gitignored)."""

from __future__ import annotations

import urllib.parse
import urllib.request
from datetime import UTC, datetime

import pytest
from browser_support import (
    CARDS,
    api_json,
    card_states,
    click,
    empty_charts,
    full_page_screenshot,
    open_page,
    severe_console_errors,
    show,
    wait,
)

pytestmark = pytest.mark.integration

@pytest.fixture(scope="module")
def page(driver, dashboard_url):
    return open_page(driver, dashboard_url)


def test_every_chart_renders_with_data(page, artifacts):

    assert card_states(page) == dict.fromkeys(CARDS, "ready")
    assert empty_charts(page) == []
    full_page_screenshot(page, artifacts / "dashboard.png")
    assert severe_console_errors(page) == []


def test_clicking_an_aspect_bar_shows_the_posts_behind_it(page, dashboard_url, artifacts):
    from selenium.webdriver.common.by import By

    bar = page.find_element(
        By.CSS_SELECTOR, '#aspects-chart .aspect-row[data-aspect="battery"] rect[data-polarity="negative"]'
    )
    click(page, bar)
    wait(
        page,
        lambda d: "battery · negative" in d.find_element(By.ID, "drill-label").text,
        what="the drill-down label",
    )
    wait(page, lambda d: card_states(d)["posts"] == "ready", what="the drilled posts")
    posts = page.find_elements(By.CSS_SELECTOR, "#posts-list .post")
    assert posts
    for post in posts:
        assert post.find_elements(By.CSS_SELECTOR, ".tags span.negative"), post.text
        assert "battery" in [t.text for t in post.find_elements(By.CSS_SELECTOR, ".tags span.negative")]
    # the count shown is the API's count for exactly that drill-down
    params = dict(
        urllib.parse.parse_qsl(
            urllib.parse.urlparse(page.find_element(By.ID, "export-posts").get_attribute("href")).query
        )
    )
    expected = api_json(dashboard_url, "api/posts", {**params, "size": 1})["total"]
    assert page.find_element(By.ID, "posts-title").text == f"Posts · {expected:,}"
    show(page, "card-posts")
    page.save_screenshot(str(artifacts / "dashboard-drilldown.png"))


def test_a_search_highlights_its_matches(page, artifacts):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    click(page, page.find_element(By.CSS_SELECTOR, "#drill-label button"))
    box = page.find_element(By.ID, "search-input")
    box.clear()
    box.send_keys("bloatware", Keys.ENTER)
    wait(page, lambda d: "bloatware" in d.find_element(By.ID, "drill-label").text, what="the search label")
    wait(page, lambda d: card_states(d)["posts"] == "ready", what="search results")
    marks = page.find_elements(By.CSS_SELECTOR, "#posts-list .post mark")
    assert marks and all(m.text.lower().startswith("bloatware") for m in marks)
    show(page, "card-posts")
    page.save_screenshot(str(artifacts / "dashboard-search.png"))


def test_new_posts_appear_without_reload(page, browser_index, artifacts):
    from selenium.webdriver.common.by import By

    from pulse_common.tracking import load_tracking_config
    from pulse_devstack import seed, synthetic

    fresh = next(
        synthetic.generate(1, load_tracking_config(), end=datetime.now(UTC), days=0.001, seed=99, spike=False)
    )
    fresh = fresh.model_copy(
        update={"id": "synthetic:live-1", "text": "Live check: the Nova 12 camera is superb"}
    )
    seed.bulk_index(browser_index.client, browser_index.stack, [fresh])
    wait(
        page,
        lambda d: d.find_elements(By.CSS_SELECTOR, '#live-list [data-id="synthetic:live-1"]'),
        timeout=30,
        what="the live post",
    )
    assert page.find_element(By.ID, "live-count").text.startswith("+")
    show(page, "card-live")
    page.save_screenshot(str(artifacts / "dashboard-live.png"))


def test_filters_and_empty_states_render_in_place(page, artifacts):
    from selenium.webdriver.common.by import By

    page.execute_script("window.scrollTo(0, 0)")
    click(page, page.find_element(By.CSS_SELECTOR, '#range-presets button[data-range="24h"]'))
    click(page, page.find_element(By.CSS_SELECTOR, '#brand-chips .chip[data-brand="lumen"]'))
    wait(
        page,
        lambda d: all(card_states(d).get(c) in ("ready", "empty") for c in CARDS if c != "live"),
        what="filtered cards",
    )
    assert "Lumen Pro" in page.find_element(By.ID, "timeline-brands").text
    page.save_screenshot(str(artifacts / "dashboard-filtered.png"))
    assert severe_console_errors(page) == []


def test_the_report_opens_in_chromium_without_errors(driver, dashboard_url, artifacts):
    from selenium.webdriver.common.by import By

    driver.get("about:blank")  # leave the dashboard: its in-flight polls may log aborted requests
    driver.get_log("browser")  # drain, so only the report's own messages are checked below
    driver.get(f"{dashboard_url}api/report?since=30d&product=nova&competitor=orbit")
    assert driver.find_element(By.TAG_NAME, "h1").text.startswith("Pulse report")
    assert len(driver.find_elements(By.CSS_SELECTOR, "svg")) >= 3
    assert severe_console_errors(driver) == []
    full_page_screenshot(driver, artifacts / "report.png")
