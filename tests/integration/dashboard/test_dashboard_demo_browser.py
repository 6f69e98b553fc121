"""The dashboard that `make demo` serves, in a real headless Chromium.

`pulse-demo` (the entry point `make demo` runs) is started as a process with a free dashboard port
and resources of its own (`--port 0 --name <unique>`): it starts the services, replays the bundled
sample through the producer, the enricher (KCL daemon) and the indexer, and prints the dashboard's
URL once every post is searchable. Chromium then loads that URL, waits for every chart to render
with data, clicks an aspect bar through to the posts behind it and runs a search. Screenshots go to
tests/artifacts/ (gitignored). The demo's process tree is stopped with SIGTERM (what Ctrl-C does)
and its stream, tables, queue and indices are deleted afterwards.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from browser_support import (
    CARDS,
    api_json,
    card_states,
    chromium_driver,
    click,
    empty_charts,
    full_page_screenshot,
    open_page,
    require_chromium,
    severe_console_errors,
    show,
    wait,
)

pytestmark = pytest.mark.integration

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
# The stack is up already (local_stack); the replay itself takes ~40 s on a quiet machine.
DEMO_TIMEOUT_S = 480
SUMMARY = re.compile(r"^demo: produced=(\d+) enriched=(\d+) indexed=(\d+) dead_letter=(\d+)")


@dataclass
class Demo:
    """A running `pulse-demo` process: its output lines, its dashboard URL and its summary."""

    proc: subprocess.Popen
    name: str
    lines: list[str] = field(default_factory=list)
    url: str = ""
    summary: dict[str, int] = field(default_factory=dict)
    _queue: queue.Queue = field(default_factory=queue.Queue)

    def read_until(self, pattern: re.Pattern, timeout_s: float) -> re.Match:
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"pulse-demo: no line matching {pattern.pattern!r}:\n" + self.output())
            try:
                line = self._queue.get(timeout=min(remaining, 1.0))
            except queue.Empty:
                if self.proc.poll() is not None and self._queue.empty():
                    raise AssertionError(
                        f"pulse-demo exited with {self.proc.returncode}:\n" + self.output()
                    ) from None
                continue
            if line is None:  # end of output
                raise AssertionError(f"pulse-demo closed its output:\n{self.output()}")
            found = pattern.search(line)
            if found:
                return found

    def output(self) -> str:
        return "\n".join(self.lines[-40:])

    def stop(self, timeout_s: float = 90) -> tuple[int | None, list[int]]:
        """SIGTERM (the demo stops its services, the KCL's JVM included); SIGKILL the tree if it hangs.

        Returns the demo's exit code and the pids of its former descendants still alive."""
        if self.proc.poll() is not None:
            return self.proc.returncode, []
        from pulse_devstack import procs

        tree = procs.descendants(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            procs.kill_tree(self.proc.pid)
            self.proc.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(procs.pid_alive(p) for p in tree):
            time.sleep(0.2)
        survivors = [p for p in tree if procs.pid_alive(p)]
        for pid in survivors:
            procs.kill_tree(pid)
        return self.proc.returncode, survivors


def _pump(proc: subprocess.Popen, demo: Demo) -> None:
    assert proc.stdout is not None
    for raw in proc.stdout:
        line = raw.rstrip("\n")
        demo.lines.append(line)
        demo._queue.put(line)
    demo._queue.put(None)


def _delete_resources(env: dict[str, str]) -> None:
    """The demo run's own stream, tables, queue, indices and template (never the shared ones)."""
    from botocore.exceptions import ClientError

    from pulse_common.aws import client
    from pulse_common.opensearch import opensearch_client
    from pulse_common.settings import StackSettings
    from pulse_devstack import seed

    stack = StackSettings(  # the endpoints from the environment, the run's own names
        stream_name=env["PULSE_STREAM_NAME"],
        table_name=env["PULSE_TABLE_NAME"],
        dlq_name=env["PULSE_DLQ_NAME"],
        opensearch_index_alias=env["PULSE_OPENSEARCH_INDEX_ALIAS"],
    )
    app = env["PULSE_ENRICHER_APPLICATION_NAME"]
    kinesis, dynamodb, sqs = client("kinesis", stack), client("dynamodb", stack), client("sqs", stack)
    calls = [lambda: kinesis.delete_stream(StreamName=stack.stream_name, EnforceConsumerDeletion=True)]
    for table in (
        stack.table_name,
        f"{stack.table_name}-indexer-leases",
        app,
        f"{app}-CoordinatorState",
        f"{app}-WorkerMetricStats",
    ):
        calls.append(lambda table=table: dynamodb.delete_table(TableName=table))
    calls.append(lambda: sqs.delete_queue(QueueUrl=sqs.get_queue_url(QueueName=stack.dlq_name)["QueueUrl"]))
    for call in calls:
        try:
            call()
        except ClientError:
            pass  # not created, or already gone
    seed.delete_alias_indices(opensearch_client(stack), stack)


@pytest.fixture(scope="module")
def demo(local_stack) -> Iterator[Demo]:
    """`pulse-demo --port 0 --name <unique> --no-prometheus`, until its dashboard URL and summary."""
    require_chromium()
    from pulse_devstack import demo as demo_module

    name = f"t-demo-{uuid.uuid4().hex[:8]}"
    script = Path(sys.executable).with_name("pulse-demo")
    proc = subprocess.Popen(
        [str(script), "--port", "0", "--name", name, "--no-prometheus"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1", "DEMO_EXIT": ""},
        text=True,
    )
    running = Demo(proc=proc, name=name)
    threading.Thread(target=_pump, args=(proc, running), daemon=True).start()
    try:
        url = running.read_until(re.compile(r"^demo: dashboard\s+(http://\S+)"), DEMO_TIMEOUT_S)
        running.url = url[1] if url[1].endswith("/") else url[1] + "/"
        found = running.read_until(SUMMARY, 60)
        running.summary = dict(
            zip(("produced", "enriched", "indexed", "dead_letter"), map(int, found.groups()), strict=True)
        )
        yield running
    finally:
        running.stop()
        _delete_resources({**local_stack.env, **demo_module.own_resources(name)})


@pytest.fixture(scope="module")
def driver(demo: Demo):
    with chromium_driver() as drv:
        yield drv


@pytest.fixture(scope="module")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def page(driver, demo: Demo):
    return open_page(driver, demo.url)


def test_the_demo_indexed_the_whole_sample_before_printing_its_dashboard(demo):
    assert demo.summary["produced"] > 0
    assert demo.summary["indexed"] == demo.summary["enriched"] == demo.summary["produced"]
    assert demo.summary["dead_letter"] == 0
    assert re.match(r"^http://127\.0\.0\.1:\d+/$", demo.url) and not demo.url.endswith(":8080/")


def test_every_chart_of_the_demo_dashboard_renders_with_data(page, demo, artifacts):
    from selenium.webdriver.common.by import By

    assert card_states(page) == dict.fromkeys(CARDS, "ready")
    # the page reads the demo's own index: as many posts as the demo reported indexed
    assert page.find_element(By.ID, "data-span").text == f"{demo.summary['indexed']:,} posts indexed"
    assert empty_charts(page) == []
    full_page_screenshot(page, artifacts / "demo-dashboard.png")
    assert severe_console_errors(page) == []


def test_clicking_an_aspect_bar_of_the_demo_shows_the_posts_behind_it(page, demo, artifacts):
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
        negative = [t.text for t in post.find_elements(By.CSS_SELECTOR, ".tags span.negative")]
        assert "battery" in negative, post.text
    # the count shown is the demo API's count for exactly that drill-down
    params = dict(
        urllib.parse.parse_qsl(
            urllib.parse.urlparse(page.find_element(By.ID, "export-posts").get_attribute("href")).query
        )
    )
    expected = api_json(demo.url, "api/posts", {**params, "size": 1})["total"]
    assert expected > 0
    assert page.find_element(By.ID, "posts-title").text == f"Posts · {expected:,}"
    show(page, "card-posts")
    page.save_screenshot(str(artifacts / "demo-drilldown.png"))


def test_a_search_on_the_demo_dashboard_highlights_its_matches(page, artifacts):
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
    page.save_screenshot(str(artifacts / "demo-search.png"))
    assert severe_console_errors(page) == []


def test_the_demo_stops_its_whole_process_tree_on_sigterm(demo, driver):
    driver.get("about:blank")  # leave the page first: its polls would only log aborted requests
    code, survivors = demo.stop()
    assert code == 0, demo.output()
    assert survivors == [], f"still running after the demo stopped: {survivors}"
