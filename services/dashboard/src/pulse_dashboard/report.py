"""pulse-report: a one-page, self-contained HTML report for a period (inline CSS and SVG, no JS).

    pulse-report --product nova --since 7d > report.html
    pulse-report --product nova --competitor orbit --since 2026-11-01 --until 2026-11-15 -o report.html

The same views as the dashboard (KPIs, volume and sentiment over time with spikes, features liked
and disliked, share of voice with confidence intervals, alerts, emerging topics, influencers),
drawn as inline SVG so the file opens anywhere, offline, and prints well.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from html import escape
from typing import Any

from pulse_dashboard.filters import Filters, ParamError, parse_filters
from pulse_dashboard.insights import Insights

POS, NEG, NEU = "#0072B2", "#D55E00", "#b9bec6"
BRAND_COLORS = ["#332288", "#E69F00", "#CC79A7", "#009E73", "#56B4E9", "#882255"]

CSS = """
body{font-family:"Inter","Segoe UI",system-ui,-apple-system,Arial,sans-serif;color:#1c2430;margin:0;
background:#fff;font-size:13px;line-height:1.45}
.page{max-width:1040px;margin:0 auto;padding:28px 32px 40px}
h1{font-size:22px;margin:0 0 2px;letter-spacing:-.02em}
h2{font-size:15px;margin:26px 0 8px;border-bottom:1px solid #e3e6eb;padding-bottom:4px}
.sub{color:#5c6675}
.kpis{display:grid;grid-template-columns:repeat(5,1fr);gap:12px;margin-top:18px}
.kpi{border:1px solid #e3e6eb;border-radius:8px;padding:10px 12px}
.kpi b{display:block;font-size:22px}
.kpi span{color:#5c6675;font-size:11px;text-transform:uppercase;letter-spacing:.04em;font-weight:600}
.pos{color:#0072B2}
.neg{color:#D55E00}
table{border-collapse:collapse;width:100%}
.num{white-space:nowrap}
td,th{padding:4px 6px;border-bottom:1px solid #f0f1f4;text-align:left;vertical-align:middle}
th{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:#5c6675}
.num{text-align:right;font-variant-numeric:tabular-nums}
.two{display:grid;grid-template-columns:1fr 1fr;gap:24px}
.chip{display:inline-block;border:1px solid #e3e6eb;border-radius:999px;padding:1px 9px;margin:2px;
font-size:12px}
.alert{border-left:4px solid #D55E00;padding:4px 10px;margin:6px 0;background:#fffaf6}
.alert.positive{border-left-color:#0072B2;background:#f5f9fd}
.quote{color:#5c6675;font-style:italic}
svg text{font-family:inherit;font-size:10px;fill:#5c6675}
.legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin:0 4px 0 10px;
vertical-align:-1px}
footer{margin-top:30px;color:#8a93a0;font-size:11px}
@media print{.page{padding:0}}
"""


def _e(value: Any) -> str:
    """Any value as HTML text or attribute content (class names too: data can name a polarity)."""
    return escape(str(value), quote=True)


def _fmt(n: float | int | None) -> str:
    if n is None:
        return "–"
    return f"{n:,.0f}"


def _signed(v: float | None) -> str:
    if v is None:
        return "–"
    return ("+" if v >= 0.005 else "−" if v <= -0.005 else "") + f"{abs(v):.2f}"


def _nice(v: float) -> float:
    if v <= 0:
        return 1
    import math

    p = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if m * p >= v:
            return m * p
    return 10 * p


def timeline_svg(data: dict[str, Any], width: int = 976, height: int = 220) -> str:
    series = data["overall"]
    n = len(series)
    if not n or not sum(s["total"] for s in series):
        return '<p class="sub">No posts in this period.</p>'
    ml, mr, mt, mb = 44, 8, 12, 22
    iw, ih = width - ml - mr, height - mt - mb
    top = _nice(max(s["positive"] + s["neutral"] for s in series) or 1)
    bottom = _nice(max(s["negative"] for s in series) or 1)
    scale = ih / (top + bottom)
    zero = mt + top * scale
    bw = iw / n
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="Posts over time by sentiment">'
    ]
    for v, y in ((top, mt), (0, zero), (bottom, mt + ih)):
        out.append(f'<line x1="{ml}" x2="{width - mr}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e6eb"/>')
        out.append(f'<text x="{ml - 5}" y="{y + 3:.1f}" text-anchor="end">{_fmt(v)}</text>')
    every = max(1, -(-n // max(2, iw // 90)))
    for i, s in enumerate(series):
        x = ml + i * bw + (0.5 if bw > 4 else 0)
        w = max(bw - (1 if bw > 4 else 0), 0.6)
        hp, hn, hneg = s["positive"] * scale, s["neutral"] * scale, s["negative"] * scale
        out.append(f'<rect x="{x:.1f}" y="{zero - hp:.1f}" width="{w:.1f}" height="{hp:.1f}" fill="{POS}"/>')
        out.append(
            f'<rect x="{x:.1f}" y="{zero - hp - hn:.1f}" width="{w:.1f}" height="{hn:.1f}" fill="{NEU}"/>'
        )
        out.append(f'<rect x="{x:.1f}" y="{zero:.1f}" width="{w:.1f}" height="{hneg:.1f}" fill="{NEG}"/>')
        if i % every == 0:
            t = datetime.fromisoformat(data["times"][i].replace("Z", "+00:00"))
            label = (
                t.strftime("%b %d")
                if data["interval_seconds"] >= 86400 or n * data["interval_seconds"] > 3 * 86400
                else t.strftime("%b %d %H:%M")
            )
            out.append(
                f'<text x="{ml + i * bw + bw / 2:.1f}" y="{height - 6}" text-anchor="middle">{escape(label)}</text>'  # noqa: E501
            )
    times = data["times"]
    for sp in data["spikes"]:
        if sp["t"] in times:
            i = times.index(sp["t"])
            cx = ml + i * bw + bw / 2
            out.append(
                f'<path d="M{cx - 5:.1f},{mt - 8} L{cx + 5:.1f},{mt - 8} L{cx:.1f},{mt} Z" fill="#E69F00">'
                f"<title>{_e(sp['name'])}: {_e(sp['count'])} posts (usual {sp['baseline']:.1f}, z {sp['z']:.1f})"  # noqa: E501
                "</title></path>"
            )
    out.append(f'<line x1="{ml}" x2="{width - mr}" y1="{zero:.1f}" y2="{zero:.1f}" stroke="#98a2b3"/></svg>')
    return "".join(out)


def diverging_svg(pos: int, neg: int, max_side: int, width: int = 260, height: int = 16) -> str:
    mid = width / 2
    scale = (mid - 1) / max(1, max_side)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}">'  # noqa: E501
        f'<rect x="{mid - neg * scale:.1f}" y="2" width="{neg * scale:.1f}" height="{height - 4}" fill="{NEG}"/>'  # noqa: E501
        f'<rect x="{mid:.1f}" y="2" width="{pos * scale:.1f}" height="{height - 4}" fill="{POS}"/>'
        f'<line x1="{mid}" x2="{mid}" y1="0" y2="{height}" stroke="#98a2b3"/></svg>'
    )


def ci_svg(items: list[dict[str, Any]], width: int = 220, height: int = 18) -> str:
    def x(v: float) -> float:
        return 4 + (v + 1) / 2 * (width - 8)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}">',  # noqa: E501
        f'<line x1="{x(0):.1f}" x2="{x(0):.1f}" y1="0" y2="{height}" stroke="#98a2b3"/>',
    ]
    k = len(items)
    for j, it in enumerate(items):
        if it.get("net") is None:
            continue
        y = height / 2 + (j - (k - 1) / 2) * min(5, (height - 4) / max(k, 1))
        out.append(
            f'<line x1="{x(it["ci_low"]):.1f}" x2="{x(it["ci_high"]):.1f}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{it["color"]}" stroke-width="2" opacity=".55"/>'
            f'<circle cx="{x(it["net"]):.1f}" cy="{y:.1f}" r="3.5" fill="{it["color"]}"/>'
        )
    out.append("</svg>")
    return "".join(out)


def render_report(insights: Insights, f: Filters) -> str:
    overview = insights.overview(f)
    timeline = insights.timeline(f)
    aspects = insights.aspects(f, quotes=1, trend=False)
    sov = insights.share_of_voice(f)
    infl = insights.influencers(f, limit=5)
    emerging = insights.emerging(f, size=12)
    alerts = insights.alerts(f, limit=5)
    names = insights.brand_names()
    colors = {b: BRAND_COLORS[i % len(BRAND_COLORS)] for i, b in enumerate(names)}
    scope = ", ".join(names.get(b, b) for b in f.brands) or "all tracked brands"
    period = f"{f.since:%Y-%m-%d %H:%M} – {f.until:%Y-%m-%d %H:%M} UTC"
    s = overview["sentiment"]
    net_cls = "pos" if (s["net"] or 0) > 0.05 else "neg" if (s["net"] or 0) < -0.05 else ""
    h: list[str] = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Pulse report · {escape(scope)} · {escape(period)}</title>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<style>{CSS}</style></head><body><div class='page'>",
        f"<h1>Pulse report · {escape(scope)}</h1><div class='sub'>{escape(period)} · "
        f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC</div>",
        "<div class='kpis'>",
        f"<div class='kpi'><span>Posts</span><b>{_fmt(overview['posts'])}</b></div>",
        f"<div class='kpi'><span>Authors</span><b>{_fmt(overview['authors'])}</b></div>",
        f"<div class='kpi'><span>Net sentiment</span><b class='{_e(net_cls)}'>{_signed(s['net'])}</b>"
        + (
            f"<small class='sub'>95% CI {s['ci_low']:.2f} … {s['ci_high']:.2f}</small>"
            if s["net"] is not None
            else ""
        )
        + "</div>",
        f"<div class='kpi'><span>Positive</span><b class='pos'>{_fmt(s['positive'])}</b></div>",
        f"<div class='kpi'><span>Negative</span><b class='neg'>{_fmt(s['negative'])}</b></div></div>",
        "<h2>Volume &amp; sentiment over time</h2>",
        f"<div class='legend sub'><i style='background:{POS}'></i>positive<i style='background:{NEU}'></i>neutral"  # noqa: E501
        f"<i style='background:{NEG}'></i>negative<i style='background:#E69F00'></i>volume spike</div>",
        timeline_svg(timeline),
        "<h2>Features liked &amp; disliked</h2>",
    ]
    rows = aspects["aspects"][:12]
    if rows:
        max_side = max(max(r["positive"], r["negative"]) for r in rows)
        h.append(
            "<table><tr><th>Aspect</th><th class='num'>Mentions</th><th>negative ◀ ▶ positive</th>"
            "<th class='num'>Net (95% CI)</th><th>Example</th></tr>"
        )
        for r in rows:
            quote = (r["quotes"].get("negative") or r["quotes"].get("positive") or [{}])[0].get("text", "")
            cls = "pos" if r["net"] > 0.05 else "neg" if r["net"] < -0.05 else ""
            h.append(
                f"<tr><td><b>{escape(r['name'])}</b></td><td class='num'>{_fmt(r['mentions'])}</td>"
                f"<td>{diverging_svg(r['positive'], r['negative'], max_side)}</td>"
                f"<td class='num {_e(cls)}'>{_signed(r['net'])} <span class='sub'>({r['ci_low']:.2f} … "
                f"{r['ci_high']:.2f})</span></td><td class='quote'>{escape(quote[:140])}</td></tr>"
            )
        h.append("</table>")
    else:
        h.append("<p class='sub'>No aspect mentions in this period.</p>")
    h.append("<h2>Share of voice</h2>")
    if sov["mentions"]:
        h.append(
            "<table><tr><th>Brand</th><th class='num'>Share</th><th class='num'>Posts</th>"
            "<th class='num'>Net (95% CI)</th><th>−1 … +1</th></tr>"
        )
        for b in sov["brands"]:
            h.append(
                f"<tr><td><i style='display:inline-block;width:10px;height:10px;border-radius:2px;"
                f"background:{colors.get(b['id'], '#666')}'></i> {escape(b['name'])}</td>"
                f"<td class='num'>{b['share'] * 100:.1f}%</td><td class='num'>{_fmt(b['total'])}</td>"
                f"<td class='num'>{_signed(b['net'])}"
                + (
                    f" <span class='sub'>({b['ci_low']:.2f} … {b['ci_high']:.2f})</span>"
                    if b["net"] is not None
                    else ""
                )
                + f"</td><td>{ci_svg([{**b, 'color': colors.get(b['id'], '#666')}])}</td></tr>"
            )
        h.append(
            "</table><div class='sub' style='margin-top:10px'>Per aspect, mentions attributed to each brand:</div>"  # noqa: E501
            "<table><tr><th>Aspect</th><th>Net sentiment by brand (−1 … +1)</th><th>Brands</th></tr>"
        )
        for a in sov["aspects"][:10]:
            items = [{**b, "color": colors.get(b["id"], "#666")} for b in a["brands"]]
            legend = " ".join(
                f"<span style='color:{colors.get(b['id'], '#666')}'>{escape(names.get(b['id'], b['id']))}"
                f" {_signed(b['net'])}</span>"
                for b in a["brands"]
                if b["net"] is not None
            )
            h.append(f"<tr><td>{escape(a['name'])}</td><td>{ci_svg(items, 300)}</td><td>{legend}</td></tr>")
        h.append("</table>")
    else:
        h.append("<p class='sub'>No brand mentions in this period.</p>")
    h.append("<div class='two'><div><h2>Aspect spike alerts</h2>")
    if alerts["alerts"]:
        for a in alerts["alerts"]:
            who = names.get(a["product"], a["product"]) if a["product"] else "Unattributed"
            sample = a["samples"][0]["text"] if a.get("samples") else ""
            h.append(
                f"<div class='alert {_e(a['polarity'])}'><b>{escape(who)} · {escape(a['aspect'])} · "
                f"{escape(a['polarity'])}</b> — {_e(a['count'])} mentions at {escape(a['t'][:16].replace('T', ' '))} "  # noqa: E501
                f"vs ~{a['baseline']:.1f} usual (z {a['z']:.1f})"
                + (
                    f"<br><span class='sub'>{escape(', '.join(a.get('top_terms', [])[:5]))}</span>"
                    if a.get("top_terms")
                    else ""
                )
                + (f"<br><span class='quote'>“{escape(sample[:160])}”</span>" if sample else "")
                + "</div>"
            )
    else:
        h.append("<p class='sub'>No aspect rose above its usual level (z ≥ 3).</p>")
    h.append("</div><div><h2>Emerging topics</h2><div class='sub'>Rising lately</div><div>")
    h.append(
        "".join(
            f"<span class='chip'>{_e(t['term'])} <b>{_e(t['docs'])}</b></span>" for t in emerging["recent"]
        )
        or "<span class='sub'>none</span>"
    )
    h.append("</div><div class='sub' style='margin-top:8px'>Over-represented in negative posts</div><div>")
    h.append(
        "".join(
            f"<span class='chip'>{_e(t['term'])} <b>{_e(t['docs'])}</b></span>" for t in emerging["negative"]
        )
        or "<span class='sub'>none</span>"
    )
    h.append("</div></div></div><div class='two'>")
    for title, key, cls in (("Advocates", "advocates", "pos"), ("Detractors", "detractors", "neg")):
        h.append(
            f"<div><h2 class='{_e(cls)}'>{_e(title)}</h2><table><tr><th>Author</th><th class='num'>Posts</th>"
            "<th class='num'>Followers</th><th class='num'>Score</th></tr>"
        )
        for p in infl[key]:
            flag = " <span class='sub'>(flagged)</span>" if p["flagged_posts"] else ""
            h.append(
                f"<tr><td>@{escape(p['username'] or p['author_id'])}{flag}</td><td class='num'>{_e(p['posts'])}</td>"  # noqa: E501
                f"<td class='num'>{_fmt(p['followers'])}</td>"
                f"<td class='num {_e(cls)}'>{p['score']:.1f}</td></tr>"
            )
        if not infl[key]:
            h.append("<tr><td colspan='4' class='sub'>none</td></tr>")
        h.append("</table></div>")
    h.append(
        "</div><footer>Influencer score = stance × (log₁₀ followers + log₁₀ engagement) × log₂(1 + posts) × "
        "(1 − 0.8 × flagged share). Net sentiment = (positive − negative) / total with a 95% normal interval. "  # noqa: E501
        f"Generated by pulse-report from OpenSearch alias {escape(insights.alias)}.</footer></div></body></html>"  # noqa: E501
    )
    return "".join(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pulse-report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--product", action="append", default=[], help="our product id (repeatable)")
    parser.add_argument("--competitor", action="append", default=[], help="competitor id (repeatable)")
    parser.add_argument("--network", action="append", default=[])
    parser.add_argument("--lang", action="append", default=[])
    parser.add_argument("--since", default="7d", help="ISO date/time or 24h / 7d / 4w (default 7d)")
    parser.add_argument("--until", default=None, help="ISO date/time (default now)")
    parser.add_argument("-o", "--out", help="write here instead of stdout")
    args = parser.parse_args(argv)

    from pulse_common.logging import configure_logging, redact
    from pulse_common.opensearch import opensearch_client
    from pulse_common.settings import secret_values
    from pulse_common.tracking import load_tracking_config
    from pulse_dashboard.settings import DashboardSettings

    settings = DashboardSettings()
    configure_logging("report", "WARNING", secrets=secret_values(settings))
    try:
        f = parse_filters(
            since=args.since,
            until=args.until,
            product=args.product,
            competitor=args.competitor,
            network=args.network,
            lang=args.lang,
            max_range_days=settings.max_range_days,
        )
    except ParamError as exc:
        print(f"pulse-report: {exc}", file=sys.stderr)
        return 2
    stack = settings.stack
    insights = Insights(
        opensearch_client(stack, timeout_s=30),
        stack.opensearch_index_alias,
        load_tracking_config(stack.tracking_config),
        timeout_s=30,
    )
    try:
        html = render_report(insights, f)
    except Exception as exc:  # noqa: BLE001 - one clear line instead of a traceback
        error = redact(f"{type(exc).__name__}: {exc}")
        print(f"pulse-report: could not build the report: {error}", file=sys.stderr)
        return 1
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            fh.write(html)
    else:
        sys.stdout.write(html)
    return 0


if __name__ == "__main__":
    sys.exit(main())
