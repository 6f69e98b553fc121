"""Exports and reports cannot carry an attack to whoever opens them: every CSV cell is quoted and
guarded against formulas, also where a `;`-separated locale splits a cell (`a;=WEBSERVICE(...)`
must not become a formula cell of its own); every value in the HTML report is escaped, class names
included."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from security_support import RecordingSearch

from pulse_dashboard.filters import Filters
from pulse_dashboard.report import render_report

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A cell that spreadsheets in `;` locales split at the `;` when it is not quoted.
SPLIT_FORMULA = "great phone;=WEBSERVICE(A1)"


def _post(n: int, **fields) -> dict:
    post = {
        "id": f"x:{n}",
        "network": "x",
        "created_at": "2026-11-20T12:00:00Z",
        "lang": "en",
        "text": SPLIT_FORMULA,
        "author": {"id": "x:1", "username": "@SUM(A1:A9)", "followers": 10},
        "engagement": {"likes": 1},
        "hashtags": ["=cmd|'/c calc'!A0"],
        "products": ["nova"],
        "sentiment": {"label": "positive", "score": 0.5},
        "aspects": [{"name": "+1+1", "polarity": "positive"}],
        "influence": {"score": 1.0},
        "flags": [],
    }
    return {**post, **fields}


def test_every_csv_cell_is_quoted_and_no_locale_can_split_one_into_a_formula(dashboard):
    posts = [_post(1), _post(2, text="-2+3"), _post(3, text="plain text")]
    res = dashboard(RecordingSearch(posts)).get("/api/export/posts.csv")
    assert res.status_code == 200
    body = res.text
    rows = list(csv.reader(io.StringIO(body)))
    assert len(rows) == 4
    for line, row in zip(body.splitlines(), rows, strict=True):
        assert line == ",".join('"' + cell.replace('"', '""') + '"' for cell in row)  # QUOTE_ALL
    for row in rows[1:]:
        assert not any(cell.startswith(FORMULA_STARTS) for cell in row), row
    # The same file opened by a spreadsheet whose list separator is ';'.
    for row in csv.reader(io.StringIO(body), delimiter=";"):
        assert not any(cell.startswith(FORMULA_STARTS) for cell in row), row


HOSTILE = "\"'><script>alert(1)</script><b class='x' onclick='y'>"
HOSTILE_CLASS = "positive' onmouseover='alert(1)"


class HostileInsights:
    """Every view of the report, with attacker-chosen strings wherever the data could carry one."""

    alias = HOSTILE

    def brand_names(self):
        return {"nova": HOSTILE}

    def overview(self, f):
        return {"posts": 10, "authors": 5,
                "sentiment": {"net": 0.1, "ci_low": 0.0, "ci_high": 0.2, "positive": 5, "negative": 2}}

    def timeline(self, f, interval=None):
        t = "2026-11-20T00:00:00Z"
        return {"overall": [{"positive": 1, "neutral": 0, "negative": 1, "total": 2}], "times": [t],
                "interval_seconds": 3600,
                "spikes": [{"t": t, "name": HOSTILE, "count": HOSTILE, "baseline": 1.0, "z": 3.0}]}

    def aspects(self, f, **_kw):
        return {"aspects": [{"name": HOSTILE, "mentions": 3, "positive": 2, "negative": 1, "net": 0.3,
                             "ci_low": -0.1, "ci_high": 0.5, "quotes": {"negative": [{"text": HOSTILE}]}}]}

    def share_of_voice(self, f):
        brand = {"id": "nova", "name": HOSTILE, "share": 0.5, "total": 5, "net": 0.2, "ci_low": -0.1,
                 "ci_high": 0.4}
        return {"mentions": 5, "brands": [brand], "aspects": [{"name": HOSTILE, "brands": [brand]}]}

    def influencers(self, f, limit=5):
        person = {"username": HOSTILE, "author_id": "a", "flagged_posts": 1, "posts": HOSTILE,
                  "followers": 10, "score": 1.5}
        return {"advocates": [person], "detractors": [person]}

    def emerging(self, f, size=12):
        return {"recent": [{"term": HOSTILE, "docs": HOSTILE}], "negative": [{"term": HOSTILE, "docs": 2}]}

    def alerts(self, f, limit=5):
        return {"alerts": [{"product": "nova", "samples": [{"text": HOSTILE}], "polarity": HOSTILE_CLASS,
                            "aspect": HOSTILE, "count": HOSTILE, "t": "2026-11-20T00:00",
                            "baseline": 1.0, "z": 3.2, "top_terms": [HOSTILE]}]}


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)

    def handle_data(self, data):
        self.text.append(data)


def test_the_report_escapes_every_value_and_class_name():
    until = datetime(2026, 11, 21, tzinfo=UTC)
    week = Filters(since=until - timedelta(days=7), until=until, products=["nova"])
    html = render_report(HostileInsights(), week)
    parsed = Elements()
    parsed.feed(html)
    assert "script" not in parsed.tags
    assert not [name for name, _ in parsed.attrs if name.startswith("on")]
    # What the attacker wrote is shown as text, never read as markup.
    assert "<script>alert(1)</script>" in "".join(parsed.text)
    assert HOSTILE not in html and HOSTILE_CLASS not in html
    classes = [value for name, value in parsed.attrs if name == "class"]
    assert f"alert {HOSTILE_CLASS}" in classes  # the class attribute holds the value, it did not end
