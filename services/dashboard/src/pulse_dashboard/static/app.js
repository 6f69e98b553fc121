/* Pulse dashboard page: filters -> /api/* -> inline SVG charts. Plain JS, no build step. */
(function () {
  "use strict";
  const C = window.PulseCharts;
  const { el, escapeHtml: esc, fmt } = C;
  const $ = (id) => document.getElementById(id);
  const HOUR = 3600 * 1000;
  const signed = (v) => (v == null ? "–" : (v >= 0.005 ? "+" : v <= -0.005 ? "−" : "") + Math.abs(v).toFixed(2));

  const state = {
    config: { live_poll_ms: 5000, auth_mode: "none" },
    meta: null,
    range: "7d",
    until: null,            // null = now (live); else an ISO anchor when the data is historical
    brands: new Set(),      // selected brand ids; empty = every tracked brand
    network: "", lang: "",
    q: "", drill: null, page: 1, sort: "recent",
    timelineBrand: "all", sovView: "overall", openAspect: null,
    live: { cursor: null, timer: null, fresh: 0 },
    seq: 0,
  };

  // ------------------------------------------------------------------ fetch helpers
  class ApiError extends Error {
    constructor(status, body) { super((body && body.message) || `HTTP ${status}`); this.status = status; this.body = body; }
  }

  async function api(path, params) {
    const url = params ? `${path}?${params.toString()}` : path;
    const res = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
    let body = null;
    try { body = await res.json(); } catch (_) { body = null; }
    if (res.status === 401) askToken();
    if (!res.ok) throw new ApiError(res.status, body);
    return body;
  }

  function askToken() {
    const dlg = $("auth-dialog");
    if (!dlg || dlg.open || state.config.auth_mode !== "token") return;
    dlg.showModal();
    $("auth-form").onsubmit = () => {
      const token = $("auth-token").value.trim();
      document.cookie = `pulse_token=${encodeURIComponent(token)}; path=/; SameSite=Strict`;
      setTimeout(() => location.reload(), 50);
    };
  }

  function brandInfo(id) {
    const all = state.meta ? [...state.meta.products, ...state.meta.competitors] : [];
    const i = all.findIndex((b) => b.id === id);
    return { id, name: i >= 0 ? all[i].name : id, kind: i >= 0 ? all[i].kind : "competitor",
      color: C.BRAND_COLORS[(i >= 0 ? i : all.length) % C.BRAND_COLORS.length] };
  }

  function filterParams(extra) {
    const p = new URLSearchParams();
    p.set("since", state.range);
    if (state.until) p.set("until", state.until);
    for (const id of state.brands) p.append(brandInfo(id).kind === "product" ? "product" : "competitor", id);
    if (state.network) p.set("network", state.network);
    if (state.lang) p.set("lang", state.lang);
    for (const [k, v] of Object.entries(extra || {})) if (v != null && v !== "") p.set(k, v);
    return p;
  }

  function postParams() {
    const extra = {};
    const q = state.q.trim();
    if (q.startsWith("#")) extra.hashtag = q.slice(1);
    else if (/^aspect:/i.test(q)) extra.aspect = q.slice(7).trim();
    else if (q) extra.q = q;
    Object.assign(extra, (state.drill && state.drill.params) || {});
    const p = filterParams(extra);
    if (state.drill && state.drill.params.since) { p.set("since", state.drill.params.since); }
    if (state.drill && state.drill.params.until) { p.set("until", state.drill.params.until); }
    return p;
  }

  // ------------------------------------------------------------------ card states
  function setState(card, st, node) {
    const section = document.querySelector(`[data-card="${card}"]`);
    if (section) section.dataset.state = st;
    return node;
  }

  function skeleton(target, kind) {
    target.replaceChildren();
    if (kind === "lines") {
      for (let i = 0; i < 5; i++) {
        const d = document.createElement("div");
        d.className = "skeleton sk-line"; d.style.width = `${60 + ((i * 37) % 40)}%`;
        target.appendChild(d);
      }
    } else {
      const d = document.createElement("div"); d.className = "skeleton sk-block"; target.appendChild(d);
    }
  }

  function message(target, cls, title, text) {
    const d = document.createElement("div");
    d.className = `state ${cls}`;
    d.innerHTML = `<div class="title">${esc(title)}</div>${text ? `<div>${esc(text)}</div>` : ""}`;
    target.replaceChildren(d);
  }

  function showError(card, target, err) {
    setState(card, "error");
    const title = err.status === 404 && err.body && err.body.error === "no_data" ? "Nothing indexed yet"
      : err.status === 400 ? "Invalid filter" : err.status === 401 ? "Sign-in needed" : "Could not load this view";
    message(target, err.status === 404 ? "empty" : "error", title, err.message);
  }

  async function load(card, target, url, params, render, kind) {
    const seq = state.seq;
    setState(card, "loading");
    skeleton(target, kind);
    try {
      const data = await api(url, params);
      if (seq !== state.seq) return;  // a newer filter change owns the card now
      const empty = render(data);
      setState(card, empty ? "empty" : "ready");
    } catch (err) {
      if (seq !== state.seq) return;
      showError(card, target, err);
    }
  }

  // ------------------------------------------------------------------ filters UI
  function buildFilters() {
    const chips = $("brand-chips");
    chips.replaceChildren();
    for (const b of [...state.meta.products, ...state.meta.competitors]) {
      const info = brandInfo(b.id);
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "chip" + (state.brands.has(b.id) ? " on" : "");
      chip.dataset.brand = b.id;
      chip.innerHTML = `<span class="sw" style="background:${info.color}"></span>${esc(b.name)}<span class="kind">${b.kind === "product" ? "ours" : "rival"}</span>`;
      chip.onclick = () => {
        if (state.brands.has(b.id)) state.brands.delete(b.id); else state.brands.add(b.id);
        chip.classList.toggle("on");
        refresh();
      };
      chips.appendChild(chip);
    }
    const fill = (sel, values) => {
      for (const v of values) { const o = document.createElement("option"); o.value = v; o.textContent = v; sel.appendChild(o); }
    };
    fill($("network-select"), state.meta.networks);
    fill($("lang-select"), state.meta.langs);
    $("network-select").onchange = (e) => { state.network = e.target.value; refresh(); };
    $("lang-select").onchange = (e) => { state.lang = e.target.value; refresh(); };
    for (const b of $("range-presets").querySelectorAll("button")) {
      b.classList.toggle("on", b.dataset.range === state.range);
      b.onclick = () => {
        state.range = b.dataset.range;
        for (const x of $("range-presets").querySelectorAll("button")) x.classList.toggle("on", x === b);
        refresh();
      };
    }
    $("search-form").onsubmit = (e) => {
      e.preventDefault();
      state.q = $("search-input").value;
      state.page = 1;
      if (state.q.trim() && state.sort === "recent") { state.sort = "relevance"; $("sort-select").value = "relevance"; }
      loadPosts();
      $("card-posts").scrollIntoView({ behavior: "smooth", block: "start" });
    };
    $("sort-select").onchange = (e) => { state.sort = e.target.value; state.page = 1; loadPosts(); };
    $("influence-help").onclick = (e) => { e.preventDefault(); $("influence-formula").hidden = !$("influence-formula").hidden; };
  }

  function rangeText() {
    const until = state.until ? new Date(state.until) : new Date();
    const m = /^(\d+)([hdw])$/.exec(state.range);
    const ms = m ? Number(m[1]) * { h: HOUR, d: 24 * HOUR, w: 168 * HOUR }[m[2]] : 0;
    const since = new Date(until.getTime() - ms);
    const f = (d) => d.toLocaleString("en-US", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC", hour12: false });
    $("range-text").textContent = `${f(since)} – ${state.until ? f(until) : "now"} UTC`;
  }

  function updateLinks() {
    $("export-posts").href = `/api/export/posts.csv?${postParams().toString()}`;
    $("export-aspects").href = `/api/export/aspects.csv?${filterParams().toString()}`;
    $("open-report").href = `/api/report?${filterParams().toString()}`;
  }

  // ------------------------------------------------------------------ views
  function loadOverview() {
    const target = $("kpis");
    target.replaceChildren();
    for (let i = 0; i < 6; i++) { const d = document.createElement("div"); d.className = "kpi skeleton"; d.style.height = "78px"; target.appendChild(d); }
    setState("overview", "loading");
    const seq = state.seq;
    api("/api/overview", filterParams()).then((d) => {
      if (seq !== state.seq) return;
      const s = d.sentiment;
      const pct = (v) => (d.posts ? `${Math.round((100 * v) / d.posts)}%` : "–");
      const net = signed(s.net);
      const ci = s.net == null ? "no posts" : `95% CI ${s.ci_low.toFixed(2)} … ${s.ci_high.toFixed(2)}`;
      const top = d.brands.find((b) => b.kind === "product") || d.brands[0] || null;
      const kpis = [
        ["Posts", fmt(d.posts), `${fmt(d.flagged_posts)} flagged as spam/bot`, ""],
        ["Authors", fmt(d.authors), "distinct accounts", ""],
        ["Net sentiment", net, ci, s.net > 0.05 ? "pos" : s.net < -0.05 ? "neg" : ""],
        ["Positive", pct(s.positive), `${fmt(s.positive)} posts`, "pos"],
        ["Negative", pct(s.negative), `${fmt(s.negative)} posts`, "neg"],
        [top ? `${top.name} net` : "Brand net", top ? signed(top.net) : "–",
          top ? `${fmt(top.total)} posts mention it` : "", top && top.net != null ? (top.net > 0.05 ? "pos" : top.net < -0.05 ? "neg" : "") : ""],
      ];
      target.replaceChildren();
      for (const [label, value, sub, cls] of kpis) {
        const k = document.createElement("div");
        k.className = "kpi";
        k.innerHTML = `<div class="label">${esc(label)}</div><div class="value ${cls}">${esc(value)}</div><div class="sub">${esc(sub)}</div>`;
        target.appendChild(k);
      }
      setState("overview", d.posts ? "ready" : "empty");
    }).catch((err) => {
      if (seq !== state.seq) return;
      setState("overview", "error");
      const k = document.createElement("div");
      k.className = "kpi"; k.style.gridColumn = "span 6";
      k.innerHTML = `<div class="label">Overview</div><div class="sub" style="color:#b42318">${esc(err.message)}</div>`;
      target.replaceChildren(k);
    });
  }

  let timelineData = null;
  function loadTimeline() {
    load("timeline", $("timeline-chart"), "/api/timeline", filterParams(), (d) => {
      timelineData = d;
      return drawTimeline();
    });
  }

  function drawTimeline() {
    const d = timelineData;
    const target = $("timeline-chart");
    const tabs = $("timeline-brands");
    tabs.replaceChildren();
    const opts = [["all", "All"], ...d.brands.map((b) => [b.id, b.name])];
    if (!opts.some(([id]) => id === state.timelineBrand)) state.timelineBrand = "all";
    for (const [id, name] of opts) {
      const b = document.createElement("button");
      b.textContent = name; b.dataset.brand = id;
      b.className = id === state.timelineBrand ? "on" : "";
      b.onclick = () => { state.timelineBrand = id; drawTimeline(); };
      tabs.appendChild(b);
    }
    const brand = d.brands.find((b) => b.id === state.timelineBrand);
    const series = brand ? brand.series : d.overall;
    const total = series.reduce((a, s) => a + s.total, 0);
    if (!total) { message(target, "empty", "No posts in this range", "Try a longer range or fewer filters."); return true; }
    const spikes = d.spikes.filter((s) => !brand || s.brand === brand.id).map((s) => ({
      index: d.times.indexOf(s.t),
      html: `<b>Spike · ${esc(s.name)}</b><div class="row"><span>Posts</span><b>${fmt(s.count)}</b></div><div class="row"><span>Usual</span><b>${s.baseline.toFixed(1)}</b></div><div class="row"><span>z-score</span><b>${s.z.toFixed(1)}</b></div>`,
    })).filter((s) => s.index >= 0);
    const svg = C.timeline({
      times: d.times, series, spikes, intervalSeconds: d.interval_seconds, width: target.clientWidth || 800,
      onClick: (i) => {
        const start = d.times[i];
        const end = new Date(new Date(start).getTime() + d.interval_seconds * 1000).toISOString();
        const params = { since: start, until: end };
        if (brand) params.brand = brand.id;
        drill(`${brand ? brand.name + " · " : ""}${C.timeLabel(start, d.interval_seconds, 0)}`, params);
      },
    });
    target.replaceChildren(svg);
    return false;
  }

  function loadAspects() {
    $("aspects-legend").innerHTML = `<span><i style="background:${C.COLORS.negative}"></i>negative</span><span><i style="background:${C.COLORS.positive}"></i>positive</span>`;
    load("aspects", $("aspects-chart"), "/api/aspects", filterParams({ quotes: 2 }), renderAspects, "lines");
  }

  function renderAspects(d) {
    const target = $("aspects-chart");
    if (!d.aspects.length) { message(target, "empty", "No aspects mentioned", "No post in this range talks about a tracked feature."); return true; }
    const maxSide = Math.max(...d.aspects.map((a) => Math.max(a.positive, a.negative)));
    const rows = [...d.aspects].sort((a, b) => b.mentions - a.mentions).slice(0, 14);
    target.replaceChildren();
    for (const a of rows) {
      const row = document.createElement("div");
      row.className = "aspect-row" + (state.openAspect === a.aspect ? " selected" : "");
      row.dataset.aspect = a.aspect;
      const name = document.createElement("div");
      name.className = "name";
      name.innerHTML = `${esc(a.name)}<small>${fmt(a.mentions)} mentions${a.in_taxonomy ? "" : " · new"}</small>`;
      name.style.cursor = "pointer";
      name.title = "Show example quotes";
      name.onclick = () => { state.openAspect = state.openAspect === a.aspect ? null : a.aspect; renderAspects(d); };
      const bar = document.createElement("div");
      bar.className = "bar-cell";
      bar.appendChild(C.divergingBar(a, maxSide, { onClick: (pol) => drill(`${a.name} · ${pol}`, { aspect: a.aspect, aspect_polarity: pol }) }));
      const net = document.createElement("div");
      net.className = "net";
      net.style.color = a.net > 0.05 ? C.COLORS.positive : a.net < -0.05 ? C.COLORS.negative : "inherit";
      net.innerHTML = `${signed(a.net)}<small>±${((a.ci_high - a.ci_low) / 2).toFixed(2)}</small>`;
      const trend = document.createElement("div");
      const series = (d.trend && d.trend.series[a.aspect]) || [];
      trend.appendChild(C.sparkline(series.map((v) => [v[0], v[1]]), { diverging: true, width: 84, height: 26 }));
      trend.title = "Trend: positive (blue) and negative (vermillion) mentions";
      row.append(name, bar, net, trend);
      if (state.openAspect === a.aspect) {
        const q = document.createElement("div");
        q.className = "quotes";
        for (const pol of ["positive", "negative"]) {
          const col = document.createElement("div");
          const quotes = (a.quotes && a.quotes[pol]) || [];
          col.innerHTML = quotes.length ? quotes.map((x) => `<div class="quote ${pol === "positive" ? "pos" : "neg"}">“${esc(x.text)}”<cite>@${esc(x.author || "unknown")} · ${esc(x.network || "")}</cite></div>`).join("")
            : `<div class="quote">No ${pol} quote yet.</div>`;
          q.appendChild(col);
        }
        row.appendChild(q);
      }
      target.appendChild(row);
    }
    return false;
  }

  function loadSov() {
    load("share-of-voice", $("sov-chart"), "/api/share-of-voice", filterParams(), (d) => {
      const target = $("sov-chart");
      if (!d.mentions) { message(target, "empty", "No brand mentions", "Nothing in this range mentions a tracked brand."); return true; }
      target.replaceChildren();
      const bar = document.createElement("div");
      bar.className = "sov-bar";
      const legend = document.createElement("div");
      legend.className = "sov-legend";
      for (const b of d.brands) {
        const info = brandInfo(b.id);
        if (b.share > 0) {
          const seg = document.createElement("div");
          seg.style.width = `${(b.share * 100).toFixed(2)}%`;
          seg.style.background = info.color;
          seg.textContent = b.share >= 0.08 ? `${Math.round(b.share * 100)}%` : "";
          seg.dataset.brand = b.id;
          C.hover(seg, `<b>${esc(b.name)}</b><div class="row"><span>Share</span><b>${(b.share * 100).toFixed(1)}%</b></div><div class="row"><span>Posts</span><b>${fmt(b.total)}</b></div>`);
          seg.onclick = () => drill(b.name, { brand: b.id });
          bar.appendChild(seg);
        }
        const l = document.createElement("span");
        l.innerHTML = `<i style="background:${info.color}"></i>${esc(b.name)} <b>${fmt(b.total)}</b>`;
        legend.appendChild(l);
      }
      const t1 = document.createElement("div"); t1.className = "sub-title"; t1.textContent = "Net sentiment by brand";
      const overall = C.forest([{ label: "overall", items: d.brands.map((b) => ({ name: b.name, color: brandInfo(b.id).color, net: b.net, lo: b.ci_low, hi: b.ci_high, n: b.total })) }],
        { width: 460, rowHeight: 30, labelWidth: 90 });
      const t2 = document.createElement("div"); t2.className = "sub-title"; t2.textContent = "Per aspect (mentions attributed to each brand)";
      const rows = d.aspects.slice(0, 8).map((a) => ({
        label: a.name, items: a.brands.map((b) => ({ name: brandInfo(b.id).name, color: brandInfo(b.id).color, net: b.net, lo: b.ci_low, hi: b.ci_high, n: b.total })),
      }));
      target.append(bar, legend, t1, overall, t2, rows.length ? C.forest(rows, { width: 460, rowHeight: 24, labelWidth: 90 }) : document.createTextNode("No attributed aspect mentions."));
      return false;
    });
  }

  function loadInfluencers() {
    load("influencers", $("influencers-body"), "/api/influencers", filterParams({ limit: 6 }), (d) => {
      const target = $("influencers-body");
      if (!d.advocates.length && !d.detractors.length) { message(target, "empty", "No influencers yet", "No author has a clear stance in this range."); return true; }
      target.replaceChildren();
      for (const [title, cls, list] of [["Advocates", "pos", d.advocates], ["Detractors", "neg", d.detractors]]) {
        const col = document.createElement("div");
        col.className = "people";
        col.innerHTML = `<h3 class="${cls}">${title}</h3>`;
        if (!list.length) col.innerHTML += `<div class="state empty" style="min-height:60px">None in this range</div>`;
        list.forEach((p, i) => {
          const row = document.createElement("div");
          row.className = "person";
          row.dataset.author = p.author_id;
          row.innerHTML = `<span class="rank">${i + 1}</span><span class="who"><b>@${esc(p.username || p.author_id)}${p.verified ? '<span class="tick" title="verified">✔</span>' : ""}${p.flagged_posts ? '<span class="flag" title="some posts flagged as spam/bot">FLAGGED</span>' : ""}</b>` +
            `<small>${fmt(p.followers)} followers · ${p.posts} posts · ${fmt(p.engagement)} engagements · stance ${signed(p.stance)}</small></span>` +
            `<span class="score" style="color:${cls === "pos" ? C.COLORS.positive : C.COLORS.negative}">${p.score.toFixed(1)}</span>`;
          row.onclick = () => drill(`@${p.username || p.author_id}`, { author: p.author_id });
          col.appendChild(row);
        });
        target.appendChild(col);
      }
      return false;
    }, "lines");
  }

  function loadEmerging() {
    load("emerging", $("emerging-body"), "/api/emerging", filterParams(), (d) => {
      const target = $("emerging-body");
      if (!d.recent.length && !d.negative.length && !d.new_aspects.length) {
        message(target, "empty", "Nothing unusual", "No topic stands out in this range (needs a few posts per topic)."); return true;
      }
      target.replaceChildren();
      const section = (title, items, cls) => {
        const t = document.createElement("div"); t.className = "sub-title"; t.textContent = title;
        const box = document.createElement("div"); box.className = "terms";
        if (!items.length) box.innerHTML = `<span class="range-text">none</span>`;
        for (const it of items) {
          const b = document.createElement("button");
          b.type = "button";
          b.className = `term ${cls}` + (it.known ? " known" : "");
          b.innerHTML = `${esc(it.term)}<b>${fmt(it.docs)}</b>`;
          b.title = it.bg_docs != null ? `${it.docs} posts here vs ${it.bg_docs} in the whole range` : "";
          // a multi-word topic is searched as a phrase
          const query = it.term.includes(" ") ? `"${it.term}"` : it.term;
          b.onclick = () => { $("search-input").value = it.search || query; $("search-form").requestSubmit(); };
          box.appendChild(b);
        }
        target.append(t, box);
      };
      section("Rising in the latest quarter of the range", d.recent, "");
      section("Over-represented in negative posts", d.negative, "neg");
      section("New aspects (not in the taxonomy yet)", d.new_aspects.map((a) => ({ term: a.aspect, docs: a.mentions, search: `aspect:${a.aspect}` })), "");
      return false;
    }, "lines");
  }

  function loadAlerts() {
    load("alerts", $("alerts-list"), "/api/alerts", filterParams({ limit: 6 }), (d) => {
      const target = $("alerts-list");
      if (!d.alerts.length) { message(target, "empty", "No spikes", "No aspect jumped above its usual level (z ≥ 3) in this range."); return true; }
      target.replaceChildren();
      for (const a of d.alerts) {
        const box = document.createElement("div");
        box.className = `alert ${a.polarity}`;
        const who = a.product ? brandInfo(a.product).name : "Unattributed";
        const aspectName = (state.meta.aspects.find((x) => x.id === a.aspect) || { name: a.aspect }).name;
        box.innerHTML = `<div class="head"><b>${esc(who)} · ${esc(aspectName)} · ${esc(a.polarity)}</b><span class="z">z ${a.z.toFixed(1)}</span></div>` +
          `<div class="why">${fmt(a.count)} mentions ${esc(C.timeLabel(a.t, 3600, 0))} vs ~${a.baseline.toFixed(1)} usual` +
          `${a.top_terms && a.top_terms.length ? ` · <b>${a.top_terms.slice(0, 4).map(esc).join(", ")}</b>` : ""}</div>`;
        const idx = d.times.indexOf(a.t);
        box.appendChild(C.sparkline(a.series, { color: a.polarity === "negative" ? C.COLORS.negative : C.COLORS.positive, mark: idx, width: 300, height: 28 }));
        if (a.samples && a.samples[0]) {
          const s = document.createElement("div"); s.className = "sample";
          s.textContent = `“${a.samples[0].text}” — @${a.samples[0].author || "unknown"}`;
          box.appendChild(s);
        }
        box.onclick = () => {
          const params = { aspect: a.aspect, aspect_polarity: a.polarity };
          if (a.product) params.aspect_product = a.product;
          drill(`${who} · ${aspectName} · ${a.polarity}`, params);
        };
        target.appendChild(box);
      }
      return false;
    }, "lines");
  }

  function renderPost(p, marks) {
    const div = document.createElement("article");
    div.className = "post";
    div.dataset.id = p.id;
    let text = esc(p.highlight || p.text);
    if (p.highlight && marks) text = text.split(marks[0]).join("<mark>").split(marks[1]).join("</mark>");
    const when = new Date(p.created_at).toLocaleString("en-US", { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: "UTC", hour12: false });
    const eng = p.engagement || {};
    div.innerHTML = `<div class="meta"><b>@${esc(p.author || "unknown")}</b>${p.verified ? '<span class="tick">✔</span>' : ""}` +
      `<span>${esc(p.network)}</span><span>${esc(when)} UTC</span><span>${fmt(p.followers)} followers</span>` +
      `<span class="pill ${esc(p.sentiment)}">${esc(p.sentiment)}</span>${p.flags.length ? '<span class="flag">FLAGGED</span>' : ""}</div>` +
      `<div class="text">${text}</div>` +
      `<div class="tags">${p.products.map((b) => `<span>${esc(brandInfo(b).name)}</span>`).join("")}` +
      `${[...new Map(p.aspects.map((a) => [`${a.aspect}:${a.polarity}`, a])).values()].map((a) => `<span class="${esc(a.polarity)}" title="${esc(a.polarity)} about ${esc(a.aspect)}">${esc(a.aspect)}</span>`).join("")}` +
      `${p.hashtags.map((h) => `<span>#${esc(h)}</span>`).join("")}` +
      `<span>♥ ${fmt(eng.likes || 0)} · ↻ ${fmt(eng.reposts || 0)}</span></div>`;
    return div;
  }

  function loadPosts() {
    const label = $("drill-label");
    const parts = [];
    if (state.drill) parts.push(state.drill.label);
    if (state.q.trim()) parts.push(`“${state.q.trim()}”`);
    if (parts.length) {
      label.hidden = false;
      label.innerHTML = `${esc(parts.join(" · "))} <button type="button" aria-label="Clear" title="Clear">×</button>`;
      label.querySelector("button").onclick = () => { state.drill = null; state.q = ""; $("search-input").value = ""; state.page = 1; loadPosts(); };
    } else {
      label.hidden = true;
    }
    updateLinks();
    const params = postParams();
    params.set("page", state.page); params.set("size", 10); params.set("sort", state.sort);
    load("posts", $("posts-list"), "/api/posts", params, (d) => {
      const target = $("posts-list");
      $("posts-title").textContent = `Posts · ${fmt(d.total)}`;
      const pager = $("posts-pager");
      pager.replaceChildren();
      if (!d.total) { message(target, "empty", "No posts match", "Try other words, a longer range or fewer filters."); return true; }
      target.replaceChildren(...d.posts.map((p) => renderPost(p, d.highlight_markers)));
      const prev = document.createElement("button"); prev.textContent = "‹ Prev"; prev.disabled = d.page <= 1;
      const next = document.createElement("button"); next.textContent = "Next ›"; next.disabled = d.page >= d.pages || d.page * d.size >= 10000;
      const info = document.createElement("span"); info.textContent = `Page ${d.page} of ${fmt(d.pages)}`;
      prev.onclick = () => { state.page -= 1; loadPosts(); };
      next.onclick = () => { state.page += 1; loadPosts(); };
      pager.append(prev, info, next);
      return false;
    }, "lines");
  }

  function drill(labelText, params) {
    state.drill = { label: labelText, params };
    state.page = 1;
    if (state.sort === "relevance" && !state.q) { state.sort = "recent"; $("sort-select").value = "recent"; }
    loadPosts();
    $("card-posts").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  // ------------------------------------------------------------------ live
  function liveParams() {
    const p = filterParams();
    p.delete("until");
    if (state.live.cursor) p.set("after", state.live.cursor);
    return p;
  }

  async function pollLive(first) {
    const ind = $("live-indicator");
    try {
      const d = await api("/api/live", liveParams());
      ind.classList.remove("error");
      const list = $("live-list");
      if (first) {
        list.replaceChildren();
        if (!d.posts.length) message(list, "empty", "Waiting for posts", "New posts appear here as they are indexed.");
        for (const p of d.posts.slice(0, 12)) list.appendChild(livePost(p, false));
        setState("live", "ready");
      } else if (d.posts.length) {
        if (list.querySelector(".state")) list.replaceChildren();
        for (const p of [...d.posts].reverse()) list.prepend(livePost(p, true));
        while (list.children.length > 30) list.lastChild.remove();
        state.live.fresh += d.new || d.posts.length;
        $("live-count").hidden = false;
        $("live-count").textContent = `+${fmt(state.live.fresh)}`;
        scheduleKpiRefresh();
      }
      state.live.cursor = d.cursor || state.live.cursor;
      $("live-text").textContent = `Live · updated ${new Date().toLocaleTimeString("en-US", { hour12: false })}`;
    } catch (err) {
      ind.classList.add("error");
      $("live-text").textContent = "Live · reconnecting";
      if (first) showError("live", $("live-list"), err);
    }
  }

  function livePost(p, fresh) {
    const d = document.createElement("div");
    d.className = "live-post" + (fresh ? " fresh" : "");
    d.dataset.id = p.id;
    d.innerHTML = `<div class="meta"><b>@${esc(p.author || "unknown")}</b><span>${esc(p.network)}</span><span class="pill ${esc(p.sentiment)}">${esc(p.sentiment)}</span></div><div>${esc(p.text)}</div>`;
    return d;
  }

  let kpiTimer = null;
  function scheduleKpiRefresh() {
    if (kpiTimer || state.until) return;
    kpiTimer = setTimeout(() => { kpiTimer = null; loadOverview(); }, 15000);
  }

  function startLive() {
    if (state.live.timer) clearInterval(state.live.timer);
    state.live.cursor = null;
    state.live.fresh = 0;
    $("live-count").hidden = true;
    pollLive(true);
    state.live.timer = setInterval(() => { if (!document.hidden) pollLive(false); }, state.config.live_poll_ms);
  }

  // ------------------------------------------------------------------ main
  function refresh() {
    state.seq += 1;
    state.page = 1;
    rangeText();
    updateLinks();
    loadOverview();
    loadTimeline();
    loadAspects();
    loadSov();
    loadInfluencers();
    loadEmerging();
    loadAlerts();
    loadPosts();
    startLive();
  }

  async function init() {
    try {
      state.config = await api("/api/config");
      $("alias-name").textContent = state.config.alias || "";
      state.meta = await api("/api/meta");
    } catch (err) {
      for (const card of document.querySelectorAll("[data-card]")) {
        const body = card.querySelector(".body") || card;
        showError(card.dataset.card, body, err);
      }
      if (err.status === 404) {
        // nothing indexed yet: keep the page, retry every few seconds
        setTimeout(init, 5000);
      }
      return;
    }
    const last = state.meta.last_post_at ? new Date(state.meta.last_post_at) : null;
    if (last && Date.now() - last.getTime() > 6 * HOUR) {
      // historical data (a replayed sample): anchor the range at the last post, not at now
      state.until = new Date(last.getTime() + 1000).toISOString();
    }
    if (state.meta.first_post_at && last) {
      const days = (last - new Date(state.meta.first_post_at)) / (24 * HOUR);
      state.range = days <= 1 ? "24h" : days <= 7 ? "7d" : days <= 14 ? "14d" : days <= 30 ? "30d" : "90d";
    }
    $("data-span").textContent = state.meta.total_posts ? `${fmt(state.meta.total_posts)} posts indexed` : "no posts indexed yet";
    buildFilters();
    refresh();
    let resizeTimer = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (timelineData) drawTimeline(); }, 150);
    });
  }

  document.addEventListener("DOMContentLoaded", init);
})();
