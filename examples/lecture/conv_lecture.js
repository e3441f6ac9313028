// examples/lecture/conv_lecture.js - the lecture page: reads the controls, asks cgrad
// (lecture_api.c in WebAssembly) for every number, and draws the views. With
// #selftest=<JSON list of cases> in the URL it sets each case through the controls, reads
// the displayed numbers back from the DOM and writes them as JSON into #selftest-result
// (tests/lecture/run_lecture_test.sh compares them with the native build).
// The page's names live in one function scope: the compiled module that follows defines
// globals of its own (run, out, err, ...). Only Module is shared.
var Module = { onRuntimeInitialized: () => lecturePage.start() };
const lecturePage = (() => {
"use strict";
// The order of lecture_api.h's LEC_* indices; each is a control's id.
const PARAMS = ["mode", "c_in", "c_out", "h", "w", "kh", "kw", "stride_h", "stride_w",
  "padding_kind", "pad_h", "pad_w", "dil_h", "dil_w", "groups", "out_pad_h", "out_pad_w",
  "padding_mode", "bias", "window_o", "window_pos", "grad_kind", "grad_seed"];
const $ = (id) => document.getElementById(id);
let api;

function readParams() {
  const p = {};
  for (const id of PARAMS) p[id] = $(id).type === "checkbox" ? ($(id).checked ? 1 : 0) : parseInt($(id).value, 10) || 0;
  if (p.mode === 2) Object.assign(p, { h: 1, kh: 1, stride_h: 1, pad_h: 0, dil_h: 1, out_pad_h: 0 });
  return p;
}

// Sizes of x, weight and bias the page must hand over (cgrad checks the rest).
function sizes(p) {
  const g = Math.max(p.groups, 1);
  const wsize = p.mode === 1 ? p.c_in * Math.floor(p.c_out / g) : p.c_out * Math.floor(p.c_in / g);
  return { x: p.c_in * p.h * p.w, w: Math.max(wsize, 0) * p.kh * p.kw, b: p.c_out };
}

// Small integers, reproducible from the data seed (mulberry32).
function randomInts(n, seed) {
  let a = seed >>> 0; const out = [];
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0; let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out.push((((t ^ (t >>> 14)) >>> 0) % 5) - 2);
  }
  return out;
}
const parseValues = (s) => s.split(/[\s,]+/).filter((t) => t.length).map(Number);

// Keeps the value boxes at the sizes the parameters need (new random values when not).
function syncValues(p, force) {
  const n = sizes(p), seed = parseInt($("data_seed").value, 10) || 0;
  const fields = [["x_values", n.x, 1], ["w_values", n.w, 2], ["b_values", n.b, 3]];
  for (const [id, len, k] of fields)
    if (force || parseValues($(id).value).length !== len) $(id).value = randomInts(len, seed * 7 + k).join(" ");
}

function run(p) {
  const n = sizes(p);
  const ints = PARAMS.map((id) => p[id]);
  const pp = Module._malloc(4 * ints.length), px = Module._malloc(4 * (n.x + n.w + n.b + 1));
  Module.HEAP32.set(ints, pp >> 2);
  const values = [...parseValues($("x_values").value), ...parseValues($("w_values").value), ...parseValues($("b_values").value)];
  Module.HEAPF32.set(values.slice(0, n.x + n.w + n.b), px >> 2);
  const rc = api.run(pp, px, px + 4 * n.x, px + 4 * (n.x + n.w));
  Module._free(pp); Module._free(px);
  const res = {};
  for (let i = 0; i < api.count(); i++) {
    const shape = []; for (let d = 0; d < api.ndim(i); d++) shape.push(api.dim(i, d));
    const ptr = api.data(i) >> 2;
    res[api.name(i)] = { shape, v: Array.from(Module.HEAPF32.subarray(ptr, ptr + api.size(i))) };
  }
  return { error: rc < 0 ? api.error() : "", res };
}

// ---- drawing -----------------------------------------------------------------------------
const fmt = (v) => (Number.isInteger(v) ? String(v) : v.toPrecision(4));
// A heat-map colour whose cell still shows the value (readable without colour).
function shade(v, max) {
  if (!max) return "";
  const a = Math.min(Math.abs(v) / max, 1) * 0.6;
  return v > 0 ? `background: rgba(200,60,0,${a})` : v < 0 ? `background: rgba(0,80,200,${a})` : "";
}
// One 2-D slice as a table; mark(r, c) gives a cell's extra class.
function grid(name, rows, cols, v, offset, mark, heat) {
  const max = heat ? Math.max(...v.map(Math.abs)) : 0;
  let h = `<table class="grid${heat ? " heat" : ""}">`;
  for (let r = 0; r < rows; r++) {
    h += "<tr>";
    for (let c = 0; c < cols; c++) {
      const x = v[offset + r * cols + c], cls = mark ? mark(r, c) : "";
      const text = heat && x === 0 ? "&middot;" : fmt(x);
      h += `<td class="v ${cls}" data-result="${name}" data-v="${x}" style="${shade(x, max)}">${text}</td>`;
    }
    h += "</tr>";
  }
  return h + "</table>";
}
// A result shown as its channels' planes (or as one matrix when 2-D).
function tensor(res, name, caption, mark, heat) {
  const t = res[name]; if (!t) return "";
  const s = t.shape, H = s[s.length - 2] || 1, W = s[s.length - 1] || 1;
  const planes = t.v.length / (H * W);
  let h = `<div class="tensor" data-name="${name}"><div class="cap">${caption} ${s.join("&times;")}</div><div class="row">`;
  for (let c = 0; c < planes; c++) h += grid(name, H, W, t.v, c * H * W, mark ? (r, col) => mark(c, r, col) : null, heat);
  return h + "</div></div>";
}
// max |a - b| of two results, displayed (and read back by the self-test).
function diff(res, a, b, label) {
  if (!res[a] || !res[b]) return "";
  const d = res[a].v.length === res[b].v.length ? Math.max(0, ...res[a].v.map((x, i) => Math.abs(x - res[b].v[i]))) : NaN;
  return `<div class="diff" data-diff="${a}|${b}">${label}: max |${a} &minus; ${b}| = <b>${d.toExponential(2)}</b></div>`;
}

function term(value, label, colour) {
  return `<span class="term" style="border-color:${colour}">${value}<small>${label}</small></span>`;
}
function formula(p, res) {
  const lines = [];
  const axes = p.mode === 2 ? [["W", "w", "kw", "stride_w", "pad_w", "dil_w", "out_pad_w", 3]]
    : [["H", "h", "kh", "stride_h", "pad_h", "dil_h", "out_pad_h", 2], ["W", "w", "kw", "stride_w", "pad_w", "dil_w", "out_pad_w", 3]];
  for (const [A, n, k, s, pd, d, op, dim] of axes) {
    const dil = p[d], kk = p[k], total = dil * (kk - 1);
    let pad = p.padding_kind === 2 ? "0" : p.padding_kind === 1 ? `${Math.floor(total / 2)}+${total - Math.floor(total / 2)}` : `2&middot;${p[pd]}`;
    const got = res.y ? res.y.shape[dim] : "error";
    if (p.mode === 1)
      lines.push(`${A}_out = (${term(p[n], A + "_in", "#06c")} &minus; 1)&middot;${term(p[s], "stride", "#c60")} &minus; ${term("2&middot;" + p[pd], "padding", "#090")} + ${term(dil, "dilation", "#909")}&middot;(${term(kk, "kernel", "#c00")} &minus; 1) + ${term(p[op], "output_padding", "#666")} + 1 = <b>${got}</b>`);
    else
      lines.push(`${A}_out = &lfloor;(${term(p[n], A + "_in", "#06c")} + ${term(pad, "padding", "#090")} &minus; ${term(dil, "dilation", "#909")}&middot;(${term(kk, "kernel", "#c00")} &minus; 1) &minus; 1) / ${term(p[s], "stride", "#c60")}&rfloor; + 1 = <b>${got}</b>`);
  }
  return lines.map((l) => `<div class="formula">${l}</div>`).join("") +
    (res.y ? `<div class="row">${tensor(res, "x_p", p.mode !== 1 ? "input x, padded (x_p)" : "input x")}${tensor(res, "y", "output y = " + ["Conv2d", "ConvTranspose2d", "Conv1d (2-D code)"][p.mode] + "(x)")}</div>` : "");
}

function windowView(p, res) {
  if (p.mode === 1) return "<p>The sliding window and im2col are views of Conv2d; ConvTranspose2d is shown as M&#7488; below.</p>";
  if (!res.cols) return "";
  const Ho = res.y.shape[2], Wo = res.y.shape[3], pos = p.window_pos, oh = Math.floor(pos / Wo), ow = pos % Wo;
  const cg = p.c_in / p.groups, og = p.c_out / p.groups, g = Math.floor(p.window_o / og);
  const inWindow = (c, r, col) => {
    if (c < g * cg || c >= (g + 1) * cg) return false;
    const i = (r - oh * p.stride_h) / p.dil_h, j = (col - ow * p.stride_w) / p.dil_w;
    return Number.isInteger(i) && Number.isInteger(j) && i >= 0 && i < p.kh && j >= 0 && j < p.kw;
  };
  let h = tensor(res, "x_p", "padded input x_p", (c, r, col) => (inWindow(c, r, col) ? "win" : ""));
  if (res.window) {
    const k = res.w_flat.v.slice(p.window_o * res.w_flat.shape[1], (p.window_o + 1) * res.w_flat.shape[1]);
    const L = res.cols.shape[1], rows = res.window.v.length, base = g * rows;
    const terms = res.window.v.map((v, i) => `${fmt(k[i])}&middot;${fmt(res.cols.v[(base + i) * L + pos])}`);
    h += `<p class="products">y[${p.window_o}, ${oh}, ${ow}] = ${terms.join(" + ")}<br>` +
      `= ${res.window.v.map(fmt).join(" + ")}${p.bias ? " + bias" : ""} = <b data-result="window_sum" data-v="${res.window_sum.v[0]}">${fmt(res.window_sum.v[0])}</b></p>` +
      tensor(res, "window", "the products kernel &middot; window (cgrad's cg_mul)");
  } else h += `<p>Position ${pos} is outside the ${Ho}&times;${Wo} output.</p>`;
  const at = p.window_o * Ho * Wo + pos;
  h += `<div class="row">${tensor(res, "direct", "y by the definition (cg_conv2d_direct)", (c, r, col) => (c * Ho * Wo + r * Wo + col === at ? "win" : ""))}${tensor(res, "y", "y = Conv module(x)")}</div>`;
  return h + diff(res, "direct", "y", "sliding window vs the module");
}

function im2colView(p, res) {
  if (!res.cols) return "";
  const pos = p.window_pos;
  return `<p>Each column of cols is one window of x<sub>p</sub> (column ${pos} dashed); each row of w_flat one output channel's kernel. Per group: w_flat &times; cols, plus bias, reshaped to (C_out, H_out, W_out).</p>` +
    `<div class="row">${tensor(res, "w_flat", "w_flat")}${tensor(res, "cols", "cols = unfold(x_p)", (c, r, col) => (col === pos ? "col" : ""))}</div>` +
    tensor(res, "col_prod", "w_flat &times; cols (+ bias), reshaped") + diff(res, "col_prod", "y", "im2col vs the module");
}

function unrolledView(p, res) {
  if (!res.M) return "";
  const onPadded = p.mode !== 1 && p.padding_mode !== 0;
  let h = p.mode === 1 ? "<p>ConvTranspose2d is M&#7488; of the Conv2d with the same weight: y = M&#7488; vec(x) + bias. Its M:</p>"
    : `<p>Row (o, i, j) of M holds output (o, i, j)'s kernel where it touches ${onPadded ? "the padded input x<sub>p</sub> (padding_mode is not zeros)" : "x (zero padding only drops columns)"}. Zeros show as &middot;.</p>`;
  h += tensor(res, "M", "M", null, true);
  h += tensor(res, "M_x", p.mode === 1 ? "M&#7488; vec(x) + bias" : "M vec(x) + bias");
  return h + diff(res, "M_x", "y", p.mode === 1 ? "y = M&#7488; x" : "vec(y) = M vec(x)");
}

function transposedView(p, res) {
  if (!res.Mt_y) return "";
  const x = p.mode !== 1 && p.padding_mode !== 0 ? res.x_p : { v: parseValues($("x_values").value) };
  const back = Math.max(0, ...res.Mt_y.v.map((v, i) => Math.abs(v - x.v[i])));
  return `<div class="row">${tensor(res, "Mt_y", p.mode === 1 ? "M vec(y)" : "M&#7488; vec(y)")}${tensor(res, "tconv_y", p.mode === 1 ? "conv2d(y, weight)" : "conv_transpose2d(y, weight)")}</div>` +
    diff(res, "Mt_y", "tconv_y", "the matrix transpose is the transposed convolution") +
    `<p>The shape comes back (${res.Mt_y.shape.join("&times;")}), the values do not: max |M&#7488;y &minus; x| = <b>${back.toPrecision(4)}</b>.</p>`;
}

function backwardView(p, res) {
  if (!res.dx_auto) return "";
  const dx = p.mode === 1 ? "conv2d(dL/dy, weight) = M vec(dL/dy)" : "conv_transpose2d(dL/dy, weight) = M&#7488; vec(dL/dy)" + (p.padding_mode ? ", then the pad's transpose" : "");
  return tensor(res, "gy", "dL/dy") +
    `<div class="row">${tensor(res, "dx_auto", "dL/dx by cgrad's autograd")}${tensor(res, "dx_view", "dL/dx = " + dx)}</div>` + diff(res, "dx_auto", "dx_view", "dL/dx") +
    `<div class="row">${tensor(res, "dw_auto", "dL/dW by autograd")}${tensor(res, "dw_view", p.mode === 1 ? "dL/dW: a convolution of dL/dy with x" : "dL/dW: a convolution of x_p with dL/dy")}</div>` + diff(res, "dw_auto", "dw_view", "dL/dW") +
    tensor(res, "db_auto", "dL/db by autograd (the sum of dL/dy per channel)");
}

function conv1dView(p, res) {
  if (p.mode !== 2) return "<p>Choose layer &lsquo;Conv1d&rsquo;: a length-L signal is computed as a 1&times;L image by the same 2-D code.</p>";
  return `<div class="row">${tensor(res, "y_1d", "cg_Conv1d's output")}${tensor(res, "y", "the 2-D code on the 1&times;L image")}</div>` + diff(res, "y_1d", "y", "Conv1d vs 2-D");
}

function render(force) {
  const p = readParams();
  document.body.classList.toggle("one-d", p.mode === 2);
  syncValues(p, force);
  const { error, res } = run(p);
  $("error").textContent = error;
  $("formula-body").innerHTML = formula(p, res);
  const views = [["window-body", windowView], ["im2col-body", im2colView], ["unrolled-body", unrolledView],
    ["transposed-body", transposedView], ["backward-body", backwardView], ["conv1d-body", conv1dView]];
  for (const [id, view] of views) $(id).innerHTML = res.y ? view(p, res) : "";
}

// ---- self-test (tests/lecture/run_lecture_test.sh) --------------------------------------
function setControl(id, value) {
  const el = $(id);
  if (el.type === "checkbox") el.checked = !!value; else el.value = String(value);
  el.dispatchEvent(new Event("input", { bubbles: true }));
  el.dispatchEvent(new Event("change", { bubbles: true }));
}
// What the page displays, read back from the DOM.
function readDisplayed() {
  const results = {}, diffs = {};
  document.querySelectorAll("[data-result]").forEach((el) => {
    const name = el.dataset.result;
    if (el.closest("[data-name]") && el.closest("[data-name]").dataset.name !== name) return;
    (results[name] = results[name] || []).push(Number(el.dataset.v));
  });
  document.querySelectorAll("[data-name]").forEach((el) => {
    results[el.dataset.name] = [...el.querySelectorAll("td.v")].map((td) => Number(td.dataset.v));
  });
  document.querySelectorAll("[data-diff]").forEach((el) => { diffs[el.dataset.diff] = Number(el.querySelector("b").textContent); });
  return { error: $("error").textContent, results, diffs };
}
// Synchronous: each change event renders at once, and the whole test ends before the page's
// load event (what headless Chromium's --dump-dom waits for).
function selftest(cases) {
  const out = [];
  for (const c of cases) {
    for (const [id, v] of Object.entries(c.set)) setControl(id, v);
    const p = readParams();
    out.push({ params: PARAMS.map((id) => p[id]), x: parseValues($("x_values").value),
      w: parseValues($("w_values").value), b: parseValues($("b_values").value), ...readDisplayed() });
  }
  $("selftest-result").textContent = JSON.stringify(out);
  const last = cases[cases.length - 1];
  // For a screenshot of one view: the other views hidden (headless screenshots do not scroll).
  // On a narrow screen the parameters fold away (they would fill the screenshot).
  if (last && last.only) {
    document.querySelectorAll("main > section").forEach((el) => { el.hidden = el.id !== last.only; });
    if (window.innerWidth < 1000) $("controls-box").open = false;
    $("selftest-result").hidden = true;
  }
}

function start() {
  api = {
    run: Module._lec_run, count: Module._lec_count, name: (i) => Module.UTF8ToString(Module._lec_name(i)), ndim: Module._lec_ndim,
    dim: Module._lec_dim, size: Module._lec_size, data: Module._lec_data, error: () => Module.UTF8ToString(Module._lec_error()),
  };
  for (const id of [...PARAMS, "data_seed"]) $(id).addEventListener("change", () => render(id === "data_seed"));
  for (const id of ["x_values", "w_values", "b_values"]) $(id).addEventListener("change", () => render(false));
  $("step").addEventListener("click", () => {
    const pos = parseInt($("window_pos").value, 10) || 0;
    const cur = readParams(), n = run(cur).res.y;
    const L = n ? n.shape[2] * n.shape[3] : 1;
    setControl("window_pos", (pos + 1) % L);
  });
  render(true);
  const m = location.hash.match(/^#selftest=(.*)$/);
  if (m) selftest(JSON.parse(decodeURIComponent(m[1])));
}
return { start };
})();
