// The original's inner loop: json-logic-js applied to every lumisection's evaluation context (rr_backend.md §6.8).
//
// Usage: node benchmarks/jsonlogic_per_ls.js RULE.json CONTEXTS.ndjson [LOOPS=3]
// CONTEXTS.ndjson holds one dataset per line: {key, dataset, run, lumisections: [{lumisection_number, oms, rr}]}.
// Every LS context {dataset, run, lumisection} is built before timing (as the original builds it per LS, sharing
// nothing but the values); then only the loop `if (jsonLogic.apply(rule, context)) passing.push(ls)` over all LS
// is timed, LOOPS times. Prints one JSON summary line (LS, loop seconds, median, LS/s), then one line per dataset:
// "<run>-<dataset>\t[[first, last], ...]" (the passing LS as ranges). Written by benchmarks/golden_json.py.
"use strict";

const fs = require("fs");
const path = require("path");
const readline = require("readline");

const modules = path.join(__dirname, "..", "tools", "jsonlogic-js", "node_modules");
const jsonLogic = require(path.join(modules, "json-logic-js"));
const version = require(path.join(modules, "json-logic-js", "package.json")).version;

function toRanges(numbers) {
  const out = [];
  for (const n of numbers) {
    const last = out[out.length - 1];
    if (last && last[1] + 1 === n) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}

async function main() {
  const [rulePath, contextsPath, loopsArg] = process.argv.slice(2);
  if (!rulePath || !contextsPath) {
    console.error("usage: node jsonlogic_per_ls.js RULE.json CONTEXTS.ndjson [LOOPS]");
    process.exit(2);
  }
  const loops = Number(loopsArg || 3);
  const rule = JSON.parse(fs.readFileSync(rulePath, "utf8"));
  const datasets = [];
  let total = 0;
  // Line by line: the file can exceed the longest string V8 allows.
  const lines = readline.createInterface({ input: fs.createReadStream(contextsPath), crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line) continue;
    const ds = JSON.parse(line);
    const contexts = ds.lumisections.map((lumisection) => ({ dataset: ds.dataset, run: ds.run, lumisection }));
    datasets.push({ key: ds.key, contexts });
    total += contexts.length;
  }

  const seconds = [];
  let passing = null;
  for (let loop = 0; loop < loops; loop++) {
    const results = [];
    const started = process.hrtime.bigint();
    for (const ds of datasets) {
      const good = [];
      const contexts = ds.contexts;
      for (let i = 0; i < contexts.length; i++) {
        if (jsonLogic.apply(rule, contexts[i])) good.push(contexts[i].lumisection.lumisection_number);
      }
      results.push(good);
    }
    seconds.push(Number(process.hrtime.bigint() - started) / 1e9);
    passing = results;
  }
  const sorted = [...seconds].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(
    `json-logic-js ${version} on node ${process.version}: ${total} LS of ${datasets.length} datasets, ` +
      `loops ${seconds.map((s) => s.toFixed(3)).join(", ")} s, median ${median.toFixed(3)} s = ` +
      `${Math.round(total / median)} LS/s`,
  );
  console.log(
    JSON.stringify({
      version,
      node: process.version,
      datasets: datasets.length,
      ls: total,
      loops_s: seconds,
      median_s: median,
      ls_per_s: total / median,
    }),
  );
  datasets.forEach((ds, i) => console.log(`${ds.key}\t${JSON.stringify(toRanges(passing[i]))}`));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
