// Historic DQM page: draws the charts of #trends-data with Plotly (vendored), the fill bands, the hover with
// the run's facts, the links of a clicked point and the correlation of two trends. The view lives in the URL.
// The full-screen plot (trends-fullscreen.js) draws with the same functions (window.RunregTrends).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("trends-data").textContent || "null");
  const form = document.getElementById("trend-filters");
  const COLORS = ["#0b5cad", "#c2410c", "#15803d", "#7c3aed", "#be123c", "#0e7490", "#a16207", "#4b5563"];

  function filterFields() {
    const kind = form.elements.filter.value;
    form.querySelectorAll("[data-filter]").forEach((el) => { el.hidden = el.dataset.filter !== kind; });
  }

  function postWhenGolden() {
    // An uploaded golden JSON is too long for a URL: the form is then posted (it only reads).
    const golden = document.getElementById("golden-json");
    if (golden && golden.value.trim()) {
      form.method = "post";
      if (!form.elements.csrf) {
        const input = document.createElement("input");
        input.type = "hidden"; input.name = "csrf"; input.value = form.dataset.csrf;
        form.appendChild(input);
      }
    }
  }

  function wireForm() {
    if (!form) return;
    filterFields();
    form.elements.filter.addEventListener("change", filterFields);
    const file = document.getElementById("golden-file");
    file.addEventListener("change", () => {
      const chosen = file.files[0];
      if (!chosen) return;
      chosen.text().then((text) => { document.getElementById("golden-json").value = text; postWhenGolden(); form.requestSubmit(); });
    });
    form.addEventListener("submit", postWhenGolden);
    document.querySelectorAll("[data-page]").forEach((a) => a.addEventListener("click", (event) => {
      event.preventDefault(); form.elements.page.value = a.dataset.page; submitView();
    }));
    document.querySelectorAll("[data-fullscreen]").forEach((b) => b.addEventListener("click", () => {
      form.elements.fs.value = b.dataset.fullscreen; submitView();
    }));
  }

  // The view again with the form's settings (GET, or POST when a golden JSON was uploaded).
  function submitView() { postWhenGolden(); form.submit(); }

  function runFacts(run) { return (data.runs && data.runs[run]) || { run: Number(run), known: false }; }

  // x of each run: its number, its start time, or its fill (runs of one fill spread inside [fill-0.4, fill+0.4])
  function xPositions() {
    const runs = Object.keys(data.runs).map(Number).sort((a, b) => a - b);
    const out = {};
    if (data.x === "fill") {
      const byFill = {};
      runs.forEach((r) => { const f = runFacts(r).fill; if (f != null) (byFill[f] = byFill[f] || []).push(r); });
      Object.entries(byFill).forEach(([fill, members]) => members.forEach((r, i) => {
        out[r] = Number(fill) + (members.length === 1 ? 0 : -0.4 + (0.8 * i) / (members.length - 1));
      }));
    } else if (data.x === "time") {
      runs.forEach((r) => { const s = runFacts(r).start; if (s) out[r] = s; });
    } else {
      runs.forEach((r) => { out[r] = r; });
    }
    return out;
  }

  function hoverText(run) {
    const f = runFacts(run);
    if (!f.known) return `run ${run} (not in the registry)`;
    const lines = [`run <b>${run}</b> · ${f.class || "no class"}${f.significant ? "" : " · not significant"}`,
      `fill ${f.fill ?? "?"} · ${f.start ? f.start.replace("T", " ").slice(0, 16) : "?"} · ${f.duration ?? "?"} s`,
      `delivered ${f.delivered ?? "?"} · recorded ${f.recorded ?? "?"}`,
      `B ${f.b_field ?? "?"} T · ${f.energy ?? "?"} GeV`];
    if (f.component) lines.push(`${f.component.name}: ${f.component.status}`);
    if (f.certified_ls != null) lines.push(`${f.certified_ls} LS in the golden JSON`);
    lines.push(f.bad && f.bad.length ? `BAD: ${f.bad.join(", ")}` : "no component BAD");
    return lines.join("<br>");
  }

  // Alternating bands, one per LHC fill, spanning its runs (midway to the neighbouring runs).
  function fillBands(xs) {
    if (!data.fills || data.x === "fill") return [];
    const runs = Object.keys(xs).map(Number).sort((a, b) => a - b);
    const shapes = [];
    let start = 0;
    for (let i = 1; i <= runs.length; i++) {
      if (i < runs.length && runFacts(runs[i]).fill === runFacts(runs[start]).fill) continue;
      const fill = runFacts(runs[start]).fill;
      if (fill != null) {
        const left = start > 0 ? mid(xs[runs[start - 1]], xs[runs[start]]) : pad(xs[runs[start]], -1);
        const right = i < runs.length ? mid(xs[runs[i - 1]], xs[runs[i]]) : pad(xs[runs[i - 1]], 1);
        shapes.push({ type: "rect", xref: "x", yref: "paper", x0: left, x1: right, y0: 0, y1: 1, layer: "below",
          line: { width: 0 }, fillcolor: shapes.length % 2 ? "rgba(11,92,173,0.07)" : "rgba(120,120,120,0.05)",
          name: `fill ${fill}` });
      }
      start = i;
    }
    return shapes;
  }
  function mid(a, b) { return typeof a === "string" ? new Date((Date.parse(a) + Date.parse(b)) / 2).toISOString() : (a + b) / 2; }
  function pad(a, sign) { return typeof a === "string" ? new Date(Date.parse(a) + sign * 1800e3).toISOString() : a + sign * 0.5; }

  function axisTitle() { return { run: "run", time: "start time (UTC)", fill: "LHC fill" }[data.x]; }

  // One chart: its series (or opts.series), markers with error bars, fill bands, the marked run. Options of
  // the full-screen plot: height, an OMS quantity on a second y axis (opts.oms), the selected run, the y range,
  // and opts.pick(run, trendId) called on a click instead of the point links.
  function drawChart(el, chart, xs, opts = {}) {
    const series = opts.series || chart.series;
    if (opts.correlate || (chart.correlation && !opts.series)) return drawCorrelation(el, series[0], series[1], opts);
    const traces = series.map((s, i) => {
      const pts = s.points.filter((p) => xs[p[0]] !== undefined);
      return {
        type: pts.length > 1000 ? "scattergl" : "scatter", mode: "markers", name: s.name, x: pts.map((p) => xs[p[0]]), y: pts.map((p) => p[1]),
        error_y: { type: "data", array: pts.map((p) => p[2]), visible: data.errors, thickness: 1, width: 0, color: COLORS[i % COLORS.length] },
        marker: { size: opts.height ? 8 : 6, color: COLORS[i % COLORS.length] },
        customdata: pts.map((p) => [p[0], p[2], s.trend_id]), text: pts.map((p) => hoverText(p[0])),
        hovertemplate: "%{y:.5g} ± %{customdata[1]:.3g}<br>%{text}<extra>" + s.name + "</extra>",
      };
    });
    if (opts.oms) {
      const pts = opts.oms.points.filter((p) => xs[p[0]] !== undefined);
      traces.push({ type: "scatter", mode: "lines+markers", name: opts.oms.name, yaxis: "y2", x: pts.map((p) => xs[p[0]]),
        y: pts.map((p) => p[1]), line: { color: "#9ca3af", width: 1, shape: "hvh" }, marker: { size: 4, color: "#6b7280" },
        customdata: pts.map((p) => [p[0], 0, null]), hovertemplate: "%{y:.5g}<extra>" + opts.oms.name + "</extra>" });
    }
    const shapes = fillBands(xs);
    const mark = (run, color, dash, width) => shapes.push({ type: "line", xref: "x", yref: "paper", x0: xs[run], x1: xs[run], y0: 0, y1: 1, line: { color, dash, width } });
    if (data.mark != null && xs[data.mark] !== undefined) mark(data.mark, "#be123c", "dot", 1.5);
    if (opts.selected != null && xs[opts.selected] !== undefined) mark(opts.selected, "#f59e0b", "solid", 2.5);
    const layout = {
      margin: { l: 64, r: opts.oms ? 64 : 16, t: 8, b: 44 }, height: opts.height || 300, shapes, showlegend: traces.length > 1,
      legend: { orientation: "h", y: 1.12 }, hovermode: "closest", uirevision: opts.height ? "fullscreen" : undefined,
      xaxis: { title: { text: axisTitle() }, type: data.x === "time" ? "date" : "linear", tickformat: data.x === "time" ? undefined : "d", zeroline: false },
      yaxis: { title: { text: chart.y_title }, zeroline: false, exponentformat: "power" },
    };
    if (opts.yrange && opts.yrange.every((v) => v != null)) layout.yaxis.range = opts.yrange;
    if (opts.oms) layout.yaxis2 = { title: { text: opts.oms.name }, overlaying: "y", side: "right", zeroline: false, showgrid: false };
    if (data.x !== "time") {  // whole runs (fills) as ticks; a few: exactly theirs
      const values = [...new Set(traces.flatMap((t) => t.x))].sort((a, b) => a - b);
      if (values.length && values.length <= 12 && data.x === "run") layout.xaxis.tickvals = values;
      if (values.length === 1) layout.xaxis.range = [values[0] - 1, values[0] + 1];
    }
    Plotly.react(el, traces, layout, { displaylogo: false, responsive: true });
    el.pick = opts.pick || ((run, trendId) => showLinks(el.parentElement.querySelector(".point-links"), run, trendId));
    if (!el.dataset.wired) {
      el.dataset.wired = "1";
      el.on("plotly_click", (event) => {
        const point = event.points[0];
        if (point && point.customdata) el.pick(point.customdata[0], point.customdata[2]);
      });
    }
  }

  // The original's expand_url: the DQM GUI page or image of one ME of a series' run (its own dataset).
  function expandUrl(type, run, s) {
    return "/hdqm/api/expand_url?" + new URLSearchParams({ url_type: type, run, trend_id: s.trend_id,
      subsystem: s.subsystem || data.subsystem, pd: s.pd || data.pd, ps: s.ps || data.ps });
  }
  function omsRunReport(run) { return `https://cmsoms.cern.ch/cms/runs/report?cms_run=${run}`; }

  function showLinks(box, run, trendId) {
    const q = (type) => expandUrl(type, run, { trend_id: trendId });
    box.innerHTML = "";
    const links = [[`run ${run}`, `/runs/${run}`], ["OMS run report", omsRunReport(run)],
      ["DQM GUI", q("main_gui_url")], ["image", q("main_image_url")], ["trends around this run", trendsAround(run)]];
    links.forEach(([label, href], i) => {
      const a = document.createElement("a"); a.href = href; a.textContent = label; a.className = "point-link";
      if (href.startsWith("http")) { a.target = "_blank"; a.rel = "noopener"; }
      box.appendChild(a); if (i < links.length - 1) box.appendChild(document.createTextNode(" · "));
    });
    box.hidden = false;
  }

  function trendsAround(run) {
    const params = new URLSearchParams(window.location.search);
    params.set("filter", "range"); params.set("from_run", run - 50); params.set("to_run", run + 50); params.set("mark", run);
    return "/trends?" + params.toString();
  }

  // A scatter of trend A against trend B over their common runs, coloured by run order, with a least-squares line.
  function drawCorrelation(el, a, b, opts = {}) {
    const bRuns = new Map(b.points.map((p) => [p[0], p]));
    const common = a.points.filter((p) => bRuns.has(p[0]));
    const xs = common.map((p) => p[1]), ys = common.map((p) => bRuns.get(p[0])[1]);
    const traces = [{
      type: "scatter", mode: "markers", name: "runs", x: xs, y: ys,
      error_x: { type: "data", array: common.map((p) => p[2]), visible: data.errors, thickness: 1, width: 0 },
      error_y: { type: "data", array: common.map((p) => bRuns.get(p[0])[2]), visible: data.errors, thickness: 1, width: 0 },
      marker: { size: 7, color: common.map((_, i) => i), colorscale: [[0, "#15803d"], [1, "#be123c"]], showscale: true,
        colorbar: { title: { text: "run order" }, thickness: 10 } },
      text: common.map((p) => hoverText(p[0])), hovertemplate: `${a.name} %{x:.5g}<br>${b.name} %{y:.5g}<br>%{text}<extra></extra>`,
    }];
    const fit = leastSquares(xs, ys);
    if (fit) {
      const lo = Math.min(...xs), hi = Math.max(...xs);
      traces.push({ type: "scatter", mode: "lines", x: [lo, hi], y: [fit.a + fit.b * lo, fit.a + fit.b * hi],
        name: `y = ${fit.b.toPrecision(4)}·x + ${fit.a.toPrecision(4)}  (r = ${fit.r.toFixed(3)})`, line: { color: "#4b5563", dash: "dash" } });
    }
    Plotly.react(el, traces, {
      margin: { l: 60, r: 16, t: 8, b: 44 }, height: opts.height || 320, legend: { orientation: "h", y: 1.12 }, showlegend: true,
      xaxis: { title: { text: a.name }, zeroline: false }, yaxis: { title: { text: b.name }, zeroline: false },
    }, { displaylogo: false, responsive: true });
    el.dataset.common = String(common.length);
  }

  function leastSquares(xs, ys) {
    const n = xs.length;
    if (n < 2) return null;
    const mx = xs.reduce((s, v) => s + v, 0) / n, my = ys.reduce((s, v) => s + v, 0) / n;
    let sxx = 0, sxy = 0, syy = 0;
    for (let i = 0; i < n; i++) { sxx += (xs[i] - mx) ** 2; sxy += (xs[i] - mx) * (ys[i] - my); syy += (ys[i] - my) ** 2; }
    if (!sxx) return null;
    const b = sxy / sxx;
    return { a: my - b * mx, b, r: syy ? sxy / Math.sqrt(sxx * syy) : 0 };
  }

  // OMS quantities of the shown runs, as series a trend can be correlated with (the original's "OMS trends").
  const OMS = [["delivered", "OMS delivered lumi"], ["recorded", "OMS recorded lumi"], ["duration", "OMS run duration (s)"],
    ["end_lumi", "OMS end lumi"], ["b_field", "OMS B field (T)"], ["energy", "OMS beam energy (GeV)"],
    ["hlt_rate", "OMS HLT physics rate (Hz)"], ["l1_rate", "OMS L1T rate (Hz)"]];
  function omsSeries(keys = OMS) {
    const runs = Object.keys(data.runs).map(Number).sort((a, b) => a - b);
    return keys.map(([key, name]) => ({ trend_id: `oms:${key}`, name,
      points: runs.map((r) => [r, Number(runFacts(r)[key]), 0]).filter((p) => Number.isFinite(p[1])) }))
      .filter((s) => s.points.length);
  }

  function wireCorrelation() {
    const all = data.charts.flatMap((c) => c.series).concat(omsSeries());
    const selA = document.getElementById("corr-a"), selB = document.getElementById("corr-b");
    if (!selA) return;
    all.forEach((s, i) => {
      [selA, selB].forEach((sel) => { const o = document.createElement("option"); o.value = s.trend_id; o.textContent = s.name; sel.appendChild(o); });
      if (i === 1) selB.value = s.trend_id;
    });
    const box = document.getElementById("correlation");
    function show(ids) {
      const [a, b] = ids.map((id) => all.find((s) => String(s.trend_id) === String(id)));
      if (!a || !b) return;
      selA.value = a.trend_id; selB.value = b.trend_id; box.hidden = false;
      drawCorrelation(box, a, b);
      form.elements.corr.value = `${a.trend_id},${b.trend_id}`;
      const params = new URLSearchParams(window.location.search); params.set("corr", form.elements.corr.value);
      if (form.method !== "post") history.replaceState(null, "", "?" + params.toString());
    }
    document.getElementById("corr-show").addEventListener("click", () => show([selA.value, selB.value]));
    document.getElementById("corr-clear").addEventListener("click", () => {
      box.hidden = true; Plotly.purge(box); form.elements.corr.value = "";
      const params = new URLSearchParams(window.location.search); params.delete("corr");
      history.replaceState(null, "", "?" + params.toString());
    });
    if (data.corr) show(data.corr.split(","));
  }

  function draw() {
    wireForm();
    if (!data) return;
    const xs = xPositions();
    document.querySelectorAll(".chart[data-chart]").forEach((el) => drawChart(el, data.charts[Number(el.dataset.chart)], xs));
    wireCorrelation();
    // a recompute done from this page: draw its new points (a posted golden-JSON view stays as it is)
    document.body.addEventListener("trends-changed", () => { if (form.method !== "post") setTimeout(() => window.location.reload(), 800); });
    document.body.dataset.trendsDrawn = "1";
  }

  window.RunregTrends = { data, form, COLORS, OMS, drawChart, drawCorrelation, omsSeries, xPositions, runFacts,
    expandUrl, omsRunReport, submitView };

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw); else draw();
})();
