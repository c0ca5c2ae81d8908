// Workflow page: the event-count (or lumisection) history of each output dataset, drawn with the vendored
// Plotly from the JSON the server embedded, again after htmx re-drew the page (an update from the page).
function drawWorkflowHistory() {
  const data = document.getElementById("history-data");
  const node = document.getElementById("history-plot");
  if (!data || !node || !window.Plotly) return;
  const chart = JSON.parse(data.textContent);
  const drawn = chart.series.filter((s) => s.times.length);
  if (!drawn.length) { node.textContent = "No numbers recorded yet."; node.classList.add("muted", "empty-plot"); return; }
  // A dataset's numbers hold until they change: each line goes on, flat, to now (unmarked).
  const latest = drawn.reduce((t, s) => (s.times[s.times.length - 1] > t ? s.times[s.times.length - 1] : t), "");
  const end = chart.now > latest ? chart.now : latest;
  const traces = drawn.map((s) => ({
    type: "scatter", mode: "lines+markers", line: { shape: "hv", width: 2 },
    marker: { size: s.times.map(() => 6).concat([0]) },
    name: s.tier, x: s.times.concat([end]), y: s.values.concat([s.values[s.values.length - 1]]),
    text: s.types.concat([s.types[s.types.length - 1] + ", now"]),
    hovertemplate: `${s.dataset}<br>%{x}<br>%{y:,} ${chart.basis} (%{text})<extra></extra>`,
  }));
  const shapes = chart.target ? [{ type: "line", xref: "paper", x0: 0, x1: 1, y0: chart.target, y1: chart.target,
    line: { dash: "dash", color: "#5b6575", width: 1 } }] : [];
  const annotations = chart.target ? [{ xref: "paper", x: 0, y: chart.target, yanchor: "bottom", xanchor: "left",
    showarrow: false, text: `expected ${chart.target.toLocaleString("en")}`, font: { size: 10, color: "#5b6575" } }] : [];
  Plotly.newPlot(node, traces, {
    margin: { l: 70, r: 20, t: 10, b: 40 }, font: { size: 11 }, shapes, annotations,
    xaxis: { type: "date", title: { text: "UTC" } }, yaxis: { title: { text: chart.basis }, rangemode: "tozero", separatethousands: true },
    legend: { orientation: "h", y: -0.2 }, hovermode: "closest",
  }, { displaylogo: false, responsive: true });
}
document.addEventListener("DOMContentLoaded", drawWorkflowHistory);
document.addEventListener("htmx:afterSettle", () => {
  const node = document.getElementById("history-plot");
  if (node && !node.classList.contains("js-plotly-plot") && !node.textContent) drawWorkflowHistory();
});
