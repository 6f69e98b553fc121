/* PulseCharts: the few inline-SVG charts the dashboard needs. No dependencies, MIT licensed
   (part of Pulse). Every chart returns an <svg> element sized by viewBox so it scales with its card. */
(function (global) {
  "use strict";
  const NS = "http://www.w3.org/2000/svg";
  const COLORS = { positive: "#0072B2", negative: "#D55E00", neutral: "#b9bec6" };
  const BRAND_COLORS = ["#332288", "#E69F00", "#CC79A7", "#009E73", "#56B4E9", "#882255"];

  function el(tag, attrs, children) {
    const node = document.createElementNS(NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v !== undefined && v !== null) node.setAttribute(k, String(v));
    }
    for (const child of children || []) {
      if (child == null) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return node;
  }

  function escapeHtml(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }

  function fmt(n) {
    if (n == null || Number.isNaN(n)) return "–";
    const a = Math.abs(n);
    if (a >= 1e6) return (n / 1e6).toFixed(a >= 1e7 ? 0 : 1) + "M";
    if (a >= 1e4) return (n / 1e3).toFixed(a >= 1e5 ? 0 : 1) + "k";
    return Math.round(n).toLocaleString("en-US");
  }

  function niceMax(v) {
    if (v <= 0) return 1;
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  // ---------------------------------------------------------------- tooltip
  const tip = {
    node: null,
    show(evt, html) {
      if (!this.node) this.node = document.getElementById("tooltip");
      if (!this.node) return;
      this.node.innerHTML = html;
      this.node.hidden = false;
      const pad = 14, w = this.node.offsetWidth, h = this.node.offsetHeight;
      let x = evt.clientX + pad, y = evt.clientY + pad;
      if (x + w > window.innerWidth - 8) x = evt.clientX - w - pad;
      if (y + h > window.innerHeight - 8) y = evt.clientY - h - pad;
      this.node.style.left = x + "px";
      this.node.style.top = y + "px";
    },
    hide() { if (this.node) this.node.hidden = true; },
  };

  function hover(node, html) {
    node.addEventListener("mousemove", (e) => tip.show(e, typeof html === "function" ? html() : html));
    node.addEventListener("mouseleave", () => tip.hide());
    return node;
  }

  function timeLabel(iso, intervalSeconds, spanSeconds) {
    const d = new Date(iso);
    const mon = d.toLocaleString("en-US", { month: "short", timeZone: "UTC" });
    const day = d.getUTCDate();
    if (intervalSeconds >= 86400 || spanSeconds > 3 * 86400) return `${mon} ${day}`;
    const hh = String(d.getUTCHours()).padStart(2, "0"), mm = String(d.getUTCMinutes()).padStart(2, "0");
    return `${mon} ${day} ${hh}:${mm}`;
  }

  // ------------------------------------------------- diverging sentiment timeline
  /* opts: {times, series: [{positive, neutral, negative, total}], intervalSeconds,
            spikes: [{index, html}], onClick(i), width} */
  function timeline(opts) {
    const W = Math.max(opts.width || 800, 320), H = opts.height || 260;
    const m = { l: 44, r: 12, t: 14, b: 26 };
    const iw = W - m.l - m.r, ih = H - m.t - m.b;
    const n = opts.times.length;
    const up = Math.max(1, ...opts.series.map((s) => s.positive + s.neutral));
    const down = Math.max(1, ...opts.series.map((s) => s.negative));
    const top = niceMax(up), bottom = niceMax(down);
    const zeroY = m.t + ih * (top / (top + bottom));
    const scale = ih / (top + bottom);
    const bw = iw / Math.max(n, 1);
    const gap = bw > 6 ? Math.min(2, bw * 0.18) : 0;
    const svg = el("svg", { class: "chart-svg", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": "Posts over time by sentiment" });
    // grid + y labels
    let lastY = -100;
    const ticks = [[top, m.t], [top / 2, zeroY - (top / 2) * scale], [0, zeroY], [bottom / 2, zeroY + (bottom / 2) * scale], [bottom, m.t + ih]];
    for (const [v, y] of ticks) {
      if (v !== 0) svg.appendChild(el("line", { class: "grid-line", x1: m.l, x2: W - m.r, y1: y, y2: y }));
      if (y - lastY < 13) continue;  // never overlap two labels
      lastY = y;
      svg.appendChild(el("text", { x: m.l - 6, y: y + 4, "text-anchor": "end" }, [Number.isInteger(v) ? fmt(v) : v.toFixed(1)]));
    }
    const span = n > 1 ? (new Date(opts.times[n - 1]) - new Date(opts.times[0])) / 1000 : 0;
    const every = Math.max(1, Math.ceil(n / Math.max(2, Math.floor(iw / 90))));
    opts.times.forEach((t, i) => {
      const s = opts.series[i];
      const x = m.l + i * bw + gap / 2, w = Math.max(bw - gap, 1);
      const g = el("g", { class: "bar", "data-index": i });
      const hp = s.positive * scale, hn = s.neutral * scale, hneg = s.negative * scale;
      g.appendChild(el("rect", { x, y: zeroY - hp, width: w, height: hp, fill: COLORS.positive }));
      g.appendChild(el("rect", { x, y: zeroY - hp - hn, width: w, height: hn, fill: COLORS.neutral }));
      g.appendChild(el("rect", { x, y: zeroY, width: w, height: hneg, fill: COLORS.negative }));
      // a full-height transparent target keeps thin bars easy to hover and click
      g.appendChild(el("rect", { x: m.l + i * bw, y: m.t, width: bw, height: ih, fill: "transparent" }));
      hover(g, () => `<b>${escapeHtml(timeLabel(t, opts.intervalSeconds, 0))}</b>` +
        `<div class="row"><span>Posts</span><b>${fmt(s.total)}</b></div>` +
        `<div class="row"><span style="color:#8ec5ea">Positive</span><b>${fmt(s.positive)}</b></div>` +
        `<div class="row"><span>Neutral</span><b>${fmt(s.neutral)}</b></div>` +
        `<div class="row"><span style="color:#f4a77a">Negative</span><b>${fmt(s.negative)}</b></div>`);
      if (opts.onClick) g.addEventListener("click", () => opts.onClick(i));
      svg.appendChild(g);
      if (i % every === 0) {
        svg.appendChild(el("text", { x: m.l + i * bw + bw / 2, y: H - 8, "text-anchor": "middle" },
          [timeLabel(t, opts.intervalSeconds, span)]));
      }
    });
    svg.appendChild(el("line", { class: "zero", x1: m.l, x2: W - m.r, y1: zeroY, y2: zeroY }));
    for (const sp of opts.spikes || []) {
      const s = opts.series[sp.index];
      if (!s) continue;
      const cx = m.l + sp.index * bw + bw / 2;
      const y = Math.max(m.t - 2, zeroY - (s.positive + s.neutral) * scale - 3);
      const mark = el("path", { class: "spike", d: `M${cx - 5},${y - 8} L${cx + 5},${y - 8} L${cx},${y} Z` });
      hover(mark, sp.html);
      if (opts.onClick) mark.addEventListener("click", () => opts.onClick(sp.index));
      svg.appendChild(mark);
    }
    return svg;
  }

  // ------------------------------------------------------------- sparkline
  /* values: numbers, or [[pos, neg], ...] with opts.diverging */
  function sparkline(values, opts) {
    opts = opts || {};
    const W = opts.width || 84, H = opts.height || 26;
    const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, "aria-hidden": "true",
      preserveAspectRatio: "none" });
    const n = values.length;
    if (!n) return svg;
    const step = n > 1 ? W / (n - 1) : W;
    const line = (arr, color, fill) => {
      const max = Math.max(1, ...arr);
      const pts = arr.map((v, i) => [i * step, H - 2 - (v / max) * (H - 4)]);
      const d = pts.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + "," + p[1].toFixed(1)).join("");
      if (fill) svg.appendChild(el("path", { d: `${d}L${W},${H}L0,${H}Z`, fill: color, opacity: 0.12 }));
      svg.appendChild(el("path", { d, fill: "none", stroke: color, "stroke-width": 1.5, "stroke-linejoin": "round" }));
      if (opts.mark != null && pts[opts.mark]) {
        svg.appendChild(el("circle", { cx: pts[opts.mark][0], cy: pts[opts.mark][1], r: 2.6, fill: color }));
      }
    };
    if (opts.diverging) {
      line(values.map((v) => v[0]), COLORS.positive, false);
      line(values.map((v) => v[1]), COLORS.negative, false);
    } else {
      line(values, opts.color || COLORS.negative, true);
    }
    return svg;
  }

  // -------------------------------------------- diverging bar (aspect row)
  function divergingBar(row, maxSide, handlers) {
    const W = 300, H = 22, mid = W / 2;
    const svg = el("svg", { class: "chart-svg", viewBox: `0 0 ${W} ${H}`, preserveAspectRatio: "none",
      "aria-label": `${row.name}: ${row.positive} positive, ${row.negative} negative` });
    const scale = (mid - 2) / Math.max(1, maxSide);
    const neg = el("rect", { class: "bar hot", x: mid - row.negative * scale, y: 3, width: row.negative * scale,
      height: H - 6, rx: 2, fill: COLORS.negative, "data-polarity": "negative" });
    const pos = el("rect", { class: "bar hot", x: mid, y: 3, width: row.positive * scale, height: H - 6, rx: 2,
      fill: COLORS.positive, "data-polarity": "positive" });
    const tipHtml = `<b>${escapeHtml(row.name)}</b><div class="row"><span>Positive</span><b>${fmt(row.positive)}</b></div>` +
      `<div class="row"><span>Neutral</span><b>${fmt(row.neutral)}</b></div>` +
      `<div class="row"><span>Negative</span><b>${fmt(row.negative)}</b></div><div>Click to read the posts</div>`;
    hover(neg, tipHtml); hover(pos, tipHtml);
    if (handlers && handlers.onClick) {
      neg.addEventListener("click", () => handlers.onClick("negative"));
      pos.addEventListener("click", () => handlers.onClick("positive"));
    }
    svg.appendChild(neg); svg.appendChild(pos);
    svg.appendChild(el("line", { class: "zero", x1: mid, x2: mid, y1: 0, y2: H }));
    return svg;
  }

  // --------------------------------------------------- forest plot (net ± CI)
  /* rows: [{label, items: [{name, color, net, lo, hi, n}]}] on a [-1, 1] axis */
  function forest(rows, opts) {
    opts = opts || {};
    const W = opts.width || 460, rowH = opts.rowHeight || 26, lab = opts.labelWidth || 110;
    const m = { t: 8, b: 24, r: 12 };
    const k = Math.max(1, ...rows.map((r) => r.items.length));
    const H = m.t + m.b + rows.length * rowH;
    const iw = W - lab - m.r;
    const x = (v) => lab + ((v + 1) / 2) * iw;
    const svg = el("svg", { class: "chart-svg", viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": "Net sentiment with 95% confidence intervals" });
    for (const v of [-1, -0.5, 0, 0.5, 1]) {
      svg.appendChild(el("line", { class: v === 0 ? "zero" : "grid-line", x1: x(v), x2: x(v), y1: m.t, y2: H - m.b }));
      svg.appendChild(el("text", { x: x(v), y: H - 8, "text-anchor": "middle" }, [(v > 0 ? "+" : "") + v]));
    }
    rows.forEach((r, i) => {
      const y0 = m.t + i * rowH;
      if (i % 2 === 1) svg.insertBefore(el("rect", { x: 0, y: y0, width: W, height: rowH, fill: "#fafbfc" }), svg.firstChild);
      svg.appendChild(el("text", { x: lab - 8, y: y0 + rowH / 2 + 4, "text-anchor": "end", style: "font-size:12px;fill:#1c2430" }, [r.label]));
      r.items.forEach((it, j) => {
        if (it.net == null) return;
        const y = y0 + rowH / 2 + (j - (k - 1) / 2) * Math.min(6, (rowH - 6) / k);
        const g = el("g", { class: "hot" });
        g.appendChild(el("line", { x1: x(it.lo), x2: x(it.hi), y1: y, y2: y, stroke: it.color, "stroke-width": 2, opacity: 0.55 }));
        g.appendChild(el("circle", { cx: x(it.net), cy: y, r: 4, fill: it.color, stroke: "#fff", "stroke-width": 1 }));
        hover(g, `<b>${escapeHtml(it.name)} · ${escapeHtml(r.label)}</b><div class="row"><span>Net</span><b>${(it.net >= 0 ? "+" : "") + it.net.toFixed(2)}</b></div>` +
          `<div class="row"><span>95% CI</span><b>${it.lo.toFixed(2)} … ${it.hi.toFixed(2)}</b></div><div class="row"><span>Mentions</span><b>${fmt(it.n)}</b></div>`);
        svg.appendChild(g);
      });
    });
    return svg;
  }

  global.PulseCharts = { el, escapeHtml, fmt, tip, hover, timeline, sparkline, divergingBar, forest, timeLabel, COLORS, BRAND_COLORS };
})(window);
