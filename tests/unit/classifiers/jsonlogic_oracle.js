// The reference for runreg's JSON-logic evaluator: the original's own engine, json-logic-js, behind a pipe.
// Protocol: one JSON object per line in, {"rule": ..., "data": ...}; one per line out, {"result": ...} or
// {"error": "..."}. The first line out is {"ready": "<json-logic-js version>"} (or {"error": ...}).
'use strict';

const path = require('path');
const readline = require('readline');

const moduleDir = path.resolve(__dirname, '..', '..', '..', 'tools', 'jsonlogic-js', 'node_modules', 'json-logic-js');

// stdout carries the answers, so the `log` operation must not write there.
console.log = (...args) => process.stderr.write(args.map((a) => String(a)).join(' ') + '\n');

let jsonLogic;
try {
  jsonLogic = require(moduleDir);
} catch (e) {
  process.stdout.write(JSON.stringify({ error: `cannot load ${moduleDir}: ${e.message}` }) + '\n');
  process.exit(1);
}
process.stdout.write(JSON.stringify({ ready: require(path.join(moduleDir, 'package.json')).version }) + '\n');

const lines = readline.createInterface({ input: process.stdin, terminal: false });
lines.on('line', (line) => {
  let answer;
  try {
    const request = JSON.parse(line);
    // JSON.stringify drops an undefined result ({}) and writes NaN and Infinity as null.
    answer = JSON.stringify({ result: jsonLogic.apply(request.rule, request.data) });
  } catch (e) {
    answer = JSON.stringify({ error: String((e && e.message) || e) });
  }
  process.stdout.write(answer + '\n');
});
