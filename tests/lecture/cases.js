// tests/lecture/cases.js - the parameter sets the browser test puts through the lecture
// page's controls (node cases.js prints them as JSON). Every case sets every control, so
// none depends on the one before; expect_error is part of cgrad's message for it.
"use strict";
const base = { mode: 0, c_in: 1, c_out: 1, h: 4, w: 4, kh: 3, kw: 3, stride_h: 1, stride_w: 1,
  padding_kind: 0, pad_h: 0, pad_w: 0, dil_h: 1, dil_w: 1, groups: 1, out_pad_h: 0, out_pad_w: 0,
  padding_mode: 0, bias: 1, window_o: 0, window_pos: 0, grad_kind: 0, grad_seed: 1, data_seed: 1 };
const conv = ["y", "x_p", "direct", "window", "window_sum", "cols", "w_flat", "col_prod", "M", "M_x",
  "Mt_y", "tconv_y", "gy", "dx_auto", "dx_view", "dw_auto", "dw_view"];
const identities = ["direct|y", "col_prod|y", "M_x|y", "Mt_y|tconv_y", "dx_auto|dx_view", "dw_auto|dw_view"];
const cases = [
  // The lecture's example: a 4x4 image, a 3x3 kernel, a 2x2 output, M 4x16.
  { set: {}, must_show: conv, must_diff: identities },
  { set: { c_in: 2, c_out: 4, h: 5, w: 6, kh: 3, kw: 2, stride_h: 2, pad_h: 1, pad_w: 2, dil_w: 2,
    groups: 2, window_o: 3, window_pos: 4, grad_kind: 1, grad_seed: 7, data_seed: 3 },
    must_show: conv, must_diff: identities },
  { set: { c_in: 2, c_out: 2, h: 5, w: 5, kh: 2, kw: 3, padding_kind: 1, padding_mode: 1, grad_kind: 2,
    window_pos: 7, data_seed: 4 }, must_show: conv, must_diff: identities },
  { set: { c_in: 1, c_out: 2, h: 4, w: 5, kh: 2, kw: 2, pad_h: 1, pad_w: 1, padding_mode: 3, bias: 0,
    window_o: 1, window_pos: 5, data_seed: 5 }, must_show: conv, must_diff: identities },
  { set: { mode: 1, c_in: 2, c_out: 4, h: 3, w: 3, stride_h: 2, stride_w: 2, pad_h: 1, pad_w: 1,
    out_pad_h: 1, out_pad_w: 1, groups: 2, grad_kind: 1, data_seed: 6 },
    must_show: ["y", "M", "M_x", "Mt_y", "tconv_y", "dx_auto", "dx_view", "dw_auto", "dw_view"],
    must_diff: ["M_x|y", "Mt_y|tconv_y", "dx_auto|dx_view", "dw_auto|dw_view"] },
  { set: { mode: 2, c_in: 2, c_out: 2, w: 7, kw: 3, stride_w: 2, pad_w: 1, groups: 2, data_seed: 7 },
    must_show: [...conv, "y_1d"], must_diff: [...identities, "y_1d|y"] },
  { set: { c_in: 2, c_out: 4, groups: 3 }, expect_error: "divisible by groups" },
  { set: { padding_kind: 1, stride_w: 2 }, expect_error: "same" },
  { set: { mode: 1, padding_mode: 1 }, expect_error: "zeros" },
  { set: { h: 2, w: 2, kh: 3, kw: 3 }, expect_error: "Kernel size can't be greater" },
];
for (const c of cases) c.set = { ...base, ...c.set };
console.log(JSON.stringify(cases));
