// tests/lecture/compare.js - checks what the lecture page displayed (the JSON its self-test
// wrote into #selftest-result, in a DOM dump read from stdin) against the native cgrad build
// (lecture_native) on the same parameters and values.
// Usage: node compare.js LECTURE_NATIVE CASES_JSON < dom.html
"use strict";
const { execFileSync } = require("child_process");
const fs = require("fs");
const [native, casesFile] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));
const dom = fs.readFileSync(0, "utf8");
const m = dom.match(/<pre id="selftest-result">([^<]*)<\/pre>/);
if (!m || !m[1]) { console.error("FAIL: the page wrote no self-test result"); process.exit(1); }
const unescape = (s) => s.replace(/&quot;/g, '"').replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
const shown = JSON.parse(unescape(m[1]));
let failures = 0;
const fail = (i, msg) => { failures++; console.error(`FAIL case ${i} ${JSON.stringify(cases[i])}: ${msg}`); };
// Float rounding: the page runs the portable kernels in WebAssembly, the native build may not.
const close = (a, b) => Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a), Math.abs(b));

if (shown.length !== cases.length) fail(0, `${shown.length} results for ${cases.length} cases`);
shown.forEach((s, i) => {
  const input = `${s.x.length} ${s.w.length} ${s.b.length}\n${s.params.join(" ")}\n${[...s.x, ...s.w, ...s.b].join(" ")}\n`;
  const out = execFileSync(native, { input, encoding: "utf8" });
  const expectError = cases[i].expect_error;
  if (out.startsWith("error ")) {
    const msg = out.slice(6).trim();
    if (s.error !== msg) fail(i, `the page shows error "${s.error}", native cgrad says "${msg}"`);
    else if (!expectError || !msg.includes(expectError)) fail(i, `unexpected error "${msg}"`);
    else console.log(`case ${i}: the page shows cgrad's error: ${msg}`);
    return;
  }
  if (expectError) return fail(i, `expected an error containing "${expectError}", the page shows "${s.error}"`);
  if (s.error) return fail(i, `the page shows an error: ${s.error}`);
  const nat = {};
  for (const line of out.trim().split("\n")) {
    const t = line.split(" "), nd = Number(t[1]);
    nat[t[0]] = t.slice(2 + nd).map(Number);
  }
  let compared = 0;
  for (const [name, values] of Object.entries(s.results)) {
    if (!nat[name]) { fail(i, `the page shows ${name}, native has none`); continue; }
    if (values.length !== nat[name].length) { fail(i, `${name}: ${values.length} values shown, native ${nat[name].length}`); continue; }
    const bad = values.findIndex((v, k) => !close(v, nat[name][k]));
    if (bad >= 0) fail(i, `${name}[${bad}] shown ${values[bad]}, native ${nat[name][bad]}`);
    compared++;
  }
  for (const name of cases[i].must_show || [])
    if (!s.results[name]) fail(i, `the page does not show ${name}`);
  // The identities as displayed: every difference the page shows is float rounding.
  for (const [pair, d] of Object.entries(s.diffs))
    if (!(d <= 1e-4)) fail(i, `displayed max |${pair.replace("|", " - ")}| = ${d}`);
  for (const pair of cases[i].must_diff || [])
    if (!(pair in s.diffs)) fail(i, `the page does not display the difference ${pair}`);
  console.log(`case ${i}: ${compared} displayed results equal native cgrad; ${Object.keys(s.diffs).length} identities hold as displayed`);
});
if (failures) { console.error(`${failures} failure(s)`); process.exit(1); }
console.log("lecture page: all cases match the native build");
