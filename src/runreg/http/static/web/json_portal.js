// JSON portal result page: draws the loss charts from the JSON the server embedded (Plotly, vendored), again
// after htmx re-draws the page part holding them.
function drawJsonCharts() {
  const data = document.getElementById("chart-data");
  if (!data || !window.Plotly) return;
  const charts = JSON.parse(data.textContent);
  const layout = (extra) => Object.assign({
    margin: { l: 10, r: 10, t: 10, b: 30 }, font: { size: 11 }, xaxis: { title: { text: charts.unit }, automargin: true },
    yaxis: { automargin: true, autorange: "reversed" }, showlegend: false,
  }, extra || {});
  const config = { displaylogo: false, responsive: true };
  const bars = (id, part, color) => {
    const node = document.getElementById(id);
    if (!node) return;
    if (!part.labels.length) { node.textContent = "Nothing was lost."; node.classList.add("muted"); return; }
    Plotly.newPlot(node, [{ type: "bar", orientation: "h", y: part.labels, x: part.values, marker: { color } }], layout(), config);
  };
  bars("chart-rules", charts.by_rule, "#cf222e");
  bars("chart-combinations", charts.by_combination, "#d4a72c");
  const subsystems = document.getElementById("chart-subsystems");
  if (subsystems) {
    const s = charts.by_subsystem;
    if (!s.labels.length) { subsystems.textContent = "Nothing was lost."; subsystems.classList.add("muted"); }
    else Plotly.newPlot(subsystems, [
      { type: "bar", orientation: "h", name: "among those to blame", y: s.labels, x: s.inclusive, marker: { color: "#8fb8e8" } },
      { type: "bar", orientation: "h", name: "the only one to blame", y: s.labels, x: s.exclusive, marker: { color: "#0b5cad" } },
    ], layout({ barmode: "overlay", showlegend: true, legend: { orientation: "h", y: -0.2 } }), config);
  }
}
document.addEventListener("DOMContentLoaded", drawJsonCharts);
document.addEventListener("htmx:afterSettle", () => {
  const first = document.getElementById("chart-rules");
  if (first && !first.classList.contains("js-plotly-plot") && !first.textContent) drawJsonCharts();  // new, undrawn
});
