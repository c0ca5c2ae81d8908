// Historic DQM: one plot full screen (URL fs=<plot key>). Run and y ranges, the selected run (buttons, ← →),
// trends of any dataset added (add=<ids>, read by the server), an OMS quantity on a second y axis (oms=), the
// correlation of two series; beside it the run's facts and the stored histograms of the trend's MEs, read from
// /trends/preview. Esc leaves. The chart is drawn by trends.js's own functions (window.RunregTrends).
(function () {
  "use strict";
  const T = window.RunregTrends;
  const section = document.getElementById("fullscreen");
  if (!T || !T.data || !T.data.fullscreen || !section) return;
  const data = T.data, fs = data.fullscreen, form = T.form;
  const chart = data.charts.find((c) => c.key === fs.key);
  if (!chart) return;
  const el = document.getElementById("fs-chart");
  const dialog = document.getElementById("fs-enlarged");
  const xs = T.xPositions();
  const series = chart.series.concat(fs.added);
  const addedIds = fs.added.map((s) => s.trend_id);
  const runs = [...new Set(series.flatMap((s) => s.points.map((p) => p[0])))].filter((r) => xs[r] !== undefined).sort((a, b) => a - b);
  const state = { sel: runs.includes(fs.sel) ? fs.sel : runs[runs.length - 1], y: fs.y, oms: fs.oms, correlate: chart.correlation };
  const $ = (id) => document.getElementById(id);
  let asked = 0;  // the newest side-panel request: older answers are dropped

  // The full-screen settings are hidden fields of the page's form (kept by any submit) and, in a GET view, the URL.
  function keep(name, value) {
    form.elements[name].value = value == null ? "" : String(value);
    if (form.method === "post") return;
    const params = new URLSearchParams(window.location.search);
    if (value == null || value === "") params.delete(name); else params.set(name, value);
    history.replaceState(null, "", "?" + params.toString());
  }

  function omsShown() { return state.oms ? T.omsSeries(T.OMS.filter(([key]) => key === state.oms))[0] || null : null; }

  function draw() {
    const oms = omsShown();
    const pair = oms ? series.concat([oms]) : series;  // a correlation plot: exactly two, runs in both
    const correlate = state.correlate && pair.length === 2;
    $("fs-correlate").disabled = pair.length !== 2;
    $("fs-correlate").checked = correlate;
    const height = Math.max(360, window.innerHeight - 300);
    T.drawChart(el, chart, xs, { series: correlate ? pair : series, correlate, oms: correlate ? null : oms,
      selected: state.sel, yrange: state.y, height, pick: (run) => select(run) });
    el.dataset.traces = String(el.data ? el.data.length : 0);
  }

  function select(run) {
    if (run == null) return;
    state.sel = run;
    keep("sel", run);
    const i = runs.indexOf(run);
    $("fs-run").textContent = `run ${run}` + (i >= 0 ? ` (${i + 1} of ${runs.length})` : "");
    $("fs-prev").disabled = i <= 0; $("fs-next").disabled = i < 0 || i >= runs.length - 1;
    draw();
    panel(run);
  }
  function move(step) {
    const i = runs.indexOf(state.sel) + step;
    if (i >= 0 && i < runs.length) select(runs[i]);
  }

  // -- side panel: links, the OMS info table, the previews ------------------------------------------------
  function meSeries() { return series.find((s) => String(s.trend_id) === $("fs-me-of").value) || series[0]; }

  function panel(run) {
    const token = ++asked, of = meSeries();
    links(run, of);
    table(run, null);
    $("fs-previews").innerHTML = '<p class="muted small">reading the stored histograms…</p>';
    fetch(`/trends/preview?trend=${of.trend_id}&run=${run}`, { credentials: "same-origin" })
      .then((r) => r.json().then((body) => ({ ok: r.ok, body })))
      .then(({ ok, body }) => {
        if (token !== asked) return;
        if (!ok) { table(run, null); previews(run, of, null, body.error ? body.error.message : "no answer"); }
        else { table(run, body.run); previews(run, of, body.mes, null); }
        section.dataset.panelRun = String(run);
      })
      .catch(() => { if (token === asked) previews(run, of, null, "the server did not answer"); });
  }

  function link(label, href) {
    const a = document.createElement("a"); a.href = href; a.textContent = label;
    if (href.startsWith("http")) { a.target = "_blank"; a.rel = "noopener"; }
    return a;
  }

  function links(run, of) {
    const box = $("fs-links");
    box.replaceChildren();
    [[`run ${run} in runreg`, `/runs/${run}`], ["OMS run report", T.omsRunReport(run)],
      ["DQM GUI", T.expandUrl("main_gui_url", run, of)]].forEach(([label, href], i) => {
      if (i) box.append(" · ");
      box.append(link(label, href));
    });
  }

  const FACTS = [["class", "run class"], ["significant", "significant"], ["fill_number", "fill"], ["start_time", "start"],
    ["end_time", "end"], ["duration", "duration (s)"], ["delivered_lumi", "delivered lumi"], ["recorded_lumi", "recorded lumi"],
    ["end_lumi", "end lumi"], ["b_field", "B field (T)"], ["energy", "energy (GeV)"], ["era", "era"],
    ["injection_scheme", "injection scheme"], ["fill_type_runtime", "fill type"], ["stable_beam", "stable beam"],
    ["hlt_key", "HLT key"], ["hlt_physics_rate", "HLT physics rate (Hz)"], ["l1_key", "L1T key"], ["l1_rate", "L1T rate (Hz)"]];

  function shown(value) {
    if (value == null || value === "") return "—";
    if (typeof value === "number") return Number.isInteger(value) ? String(value) : value.toPrecision(5);
    if (typeof value === "boolean") return value ? "yes" : "no";
    return /^\d{4}-\d\d-\d\dT/.test(value) ? value.replace("T", " ").slice(0, 19) : String(value);
  }

  function table(run, facts) {
    const rows = series.map((s, i) => {
      const p = s.points.find((q) => q[0] === run);
      return [s.name, p ? `${shown(p[1])} ± ${shown(p[2])}` : "no point", T.COLORS[i % T.COLORS.length]];
    });
    const out = $("fs-info");
    out.replaceChildren();
    const add = (name, value, color) => {
      const tr = out.insertRow(), th = document.createElement("th"), td = tr.insertCell();
      th.textContent = name; if (color) th.style.borderLeft = `4px solid ${color}`;
      tr.prepend(th); td.textContent = value;
    };
    rows.forEach(([name, value, color]) => add(name, value, color));
    add("run", String(run));
    if (!facts) return;
    if (!facts.known) { add("registry", "this run is not in the registry"); return; }
    FACTS.forEach(([key, name]) => add(name, shown(facts[key])));
  }

  function previews(run, of, mes, problem) {
    const box = $("fs-previews");
    box.replaceChildren();
    if (problem) { const p = document.createElement("p"); p.className = "field-error"; p.textContent = problem; box.append(p); }
    (mes || []).forEach((me) => {
      const card = document.createElement("figure");
      card.className = "preview"; card.dataset.role = me.role;
      const cap = document.createElement("figcaption");
      cap.innerHTML = `<b></b> <code></code>`;
      cap.querySelector("b").textContent = me.label; cap.querySelector("code").textContent = me.path || "";
      card.append(cap);
      box.append(card);  // in the page before drawing: Plotly takes the width the card has then
      if (me.histogram) {
        const plot = document.createElement("div");
        plot.className = "preview-plot"; plot.title = "click to enlarge";
        card.append(plot);
        drawHistogram(plot, me.histogram, false);
        plot.addEventListener("click", () => enlarge(me, run));
      }
      if (me.note) { const p = document.createElement("p"); p.className = "muted small note"; p.textContent = me.note; card.append(p); }
      if (me.path) {
        const p = document.createElement("p"); p.className = "small";
        p.append(link("DQM GUI", T.expandUrl(`${me.role}_gui_url`, run, of)), " · ", link("GUI image", T.expandUrl(`${me.role}_image_url`, run, of)));
        card.append(p);
      }
    });
  }

  function centers(edges) { return edges.slice(0, -1).map((e, i) => (e + edges[i + 1]) / 2); }

  // A stored histogram: bars of its bins (1D) or a heat map (2D); labelled bins keep their labels.
  function drawHistogram(target, h, big) {
    const merged = h.merged.some((f) => f > 1) ? ` · drawn with ${h.merged.join("×")} bins merged` : "";
    const note = h.dimension === 1
      ? `entries ${shown(h.entries)} · mean ${shown(h.mean)} · σ ${shown(h.std_dev)}${merged}`
      : `entries ${shown(h.entries)} · ${h.bins.join("×")} bins${merged}`;
    const xs = h.x_labels.length ? h.x_labels : centers(h.x_edges);
    let traces;
    if (h.dimension === 1) {
      traces = [{ type: "bar", x: xs, y: h.values, marker: { color: "#0b5cad", line: { width: 0 } },
        width: h.x_labels.length ? undefined : h.x_edges.slice(1).map((e, i) => e - h.x_edges[i]),
        error_y: { type: "data", array: h.errors, visible: big, thickness: 1, width: 0, color: "#1e293b" },
        hovertemplate: "%{x}: %{y:.5g}<extra></extra>" }];
    } else {
      traces = [{ type: "heatmap", x: xs, y: h.y_labels.length ? h.y_labels : centers(h.y_edges), z: h.z,
        colorscale: "Viridis", colorbar: { thickness: big ? 14 : 8, len: 0.9 }, hovertemplate: "%{x}, %{y}: %{z:.5g}<extra></extra>" }];
    }
    Plotly.react(target, traces, {
      height: big ? Math.max(420, window.innerHeight - 200) : 170, margin: big ? { l: 64, r: 24, t: 30, b: 50 } : { l: 40, r: 8, t: 18, b: 24 },
      bargap: 0, showlegend: false, font: { size: big ? 12 : 9 },
      title: { text: note, font: { size: big ? 12 : 9 }, x: 0.02, xanchor: "left" },
      xaxis: { automargin: true, zeroline: false }, yaxis: { automargin: true, zeroline: false, exponentformat: "power" },
    }, { displaylogo: false, responsive: true, staticPlot: !big });
  }

  function enlarge(me, run) {
    $("fs-enlarged-title").textContent = `${me.label} · run ${run} · ${me.path}`;
    dialog.showModal();
    drawHistogram($("fs-enlarged-plot"), me.histogram, true);
  }

  // -- controls -------------------------------------------------------------------------------------------
  function number(input) { const v = input.value.trim(); return v === "" ? null : Number(v); }

  function wireRanges() {
    $("fs-from").value = runs[0] ?? ""; $("fs-to").value = runs[runs.length - 1] ?? "";
    $("fs-ylo").value = state.y[0] ?? ""; $("fs-yhi").value = state.y[1] ?? "";
    const problem = (text) => { $("fs-range-error").textContent = text; };
    $("fs-ranges").addEventListener("submit", (event) => {  // a new run range: the points are read again
      event.preventDefault();
      const first = $("fs-from").value.trim(), last = $("fs-to").value.trim();
      if (!/^\d+$/.test(first) || !/^\d+$/.test(last)) return problem("runs: give two run numbers");
      if (Number(first) > Number(last)) return problem(`runs: ${first} is after ${last}`);
      form.elements.filter.value = "range"; form.elements.from_run.value = first; form.elements.to_run.value = last;
      form.elements.page.value = "";
      T.submitView();
    });
    $("fs-y-apply").addEventListener("click", () => {
      const low = number($("fs-ylo")), high = number($("fs-yhi"));
      if ([low, high].some((v) => v !== null && !Number.isFinite(v))) return problem("y: give numbers");
      if (low !== null && high !== null && low >= high) return problem(`y: ${low} is not below ${high}`);
      if ((low === null) !== (high === null)) return problem("y: give both ends");
      problem(""); state.y = [low, high]; keep("ylo", low); keep("yhi", high); draw();
    });
    $("fs-y-auto").addEventListener("click", () => {
      problem(""); state.y = [null, null]; $("fs-ylo").value = ""; $("fs-yhi").value = "";
      keep("ylo", null); keep("yhi", null); draw();
    });
  }

  function fillSelect(select, values, chosen) {
    select.replaceChildren(...values.map(([value, label]) => new Option(label, value, false, String(value) === String(chosen))));
  }

  function wireSeries() {
    const list = $("fs-series-list");
    series.forEach((s, i) => {
      const li = document.createElement("li");
      li.style.borderLeft = `4px solid ${T.COLORS[i % T.COLORS.length]}`;
      li.append(`${s.name} (${s.points.length} run${s.points.length === 1 ? "" : "s"})`);
      if (addedIds.includes(s.trend_id)) {
        const remove = document.createElement("button");
        remove.type = "button"; remove.className = "btn small fs-remove"; remove.textContent = "remove";
        remove.setAttribute("aria-label", `remove ${s.name}`);
        remove.addEventListener("click", () => { keep("add", addedIds.filter((id) => id !== s.trend_id).join(",")); T.submitView(); });
        li.append(" ", remove);
      }
      list.append(li);
    });
    const tree = fs.plot_selection || {};
    const sub = $("fs-add-sub"), pd = $("fs-add-pd"), ps = $("fs-add-ps"), trend = $("fs-add-trend");
    const wanted = chart.series[0].name;
    const cascade = (level) => {
      if (level <= 0) fillSelect(pd, Object.keys(tree[sub.value] || {}).map((k) => [k, k]), pd.value);
      if (level <= 1) fillSelect(ps, Object.keys((tree[sub.value] || {})[pd.value] || {}).map((k) => [k, k]), ps.value);
      const trends = ((tree[sub.value] || {})[pd.value] || {})[ps.value] || [];
      const same = trends.find((t) => t.name === wanted);  // the same quantity in another dataset first
      fillSelect(trend, trends.map((t) => [t.id, t.name]), same ? same.id : trend.value);
    };
    fillSelect(sub, Object.keys(tree).map((k) => [k, k]), data.subsystem);
    const pds = Object.keys(tree[data.subsystem] || {});
    fillSelect(pd, pds.map((k) => [k, k]), pds.find((k) => k !== data.pd) || data.pd);  // another dataset first
    cascade(1);
    sub.addEventListener("change", () => cascade(0));
    pd.addEventListener("change", () => cascade(1));
    ps.addEventListener("change", () => cascade(2));
    $("fs-add").addEventListener("click", () => {
      const id = Number(trend.value);
      if (!id || series.some((s) => s.trend_id === id)) return;
      keep("add", addedIds.concat([id]).join(","));
      T.submitView();
    });
    const oms = $("fs-oms");
    T.omsSeries().forEach((s) => oms.append(new Option(s.name, s.trend_id.slice(4), false, s.trend_id === `oms:${state.oms}`)));
    oms.addEventListener("change", () => { state.oms = oms.value; keep("oms", oms.value); draw(); });
    $("fs-correlate").addEventListener("change", (event) => { state.correlate = event.target.checked; draw(); });
    fillSelect($("fs-me-of"), series.map((s) => [s.trend_id, s.name]), series[0].trend_id);
    $("fs-me-of").addEventListener("change", () => panel(state.sel));
  }

  function exit() {
    document.removeEventListener("keydown", keys);
    section.hidden = true;
    document.body.classList.remove("fs-on");
    Plotly.purge(el);
    ["fs", "add", "sel", "ylo", "yhi", "oms"].forEach((name) => keep(name, null));
  }

  function keys(event) {
    if (dialog.open) return;  // Esc closes the enlarged preview first (the dialog's own)
    if (event.key === "Escape") { event.preventDefault(); exit(); return; }
    if (/^(INPUT|SELECT|TEXTAREA)$/.test(event.target.tagName)) return;
    if (event.key === "ArrowLeft") { event.preventDefault(); move(-1); }
    if (event.key === "ArrowRight") { event.preventDefault(); move(1); }
  }

  document.body.classList.add("fs-on");
  wireRanges();
  wireSeries();
  $("fs-prev").addEventListener("click", () => move(-1));
  $("fs-next").addEventListener("click", () => move(1));
  $("fs-close").addEventListener("click", exit);
  document.addEventListener("keydown", keys);
  window.addEventListener("resize", () => { if (!section.hidden) draw(); });
  select(state.sel);
  section.dataset.ready = "1";
})();
