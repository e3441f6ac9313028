// io/onnx_ops_layers.c - the emitters of the layer ops (io/onnx_ops.c holds the table):
// convolutions, linear, pooling, softmax, shape ops (reshape, permute, cat), pad and
// interpolate, each read from its node's context. What ONNX cannot express for an
// occurrence (circular padding, a pooling divisor override, antialiasing) is refused
// naming the op and the option.
#include <string.h>

#include "../kernels/conv_geometry.h"
#include "../ops/interpolate_internal.h"
#include "../ops/op_ctx_internal.h"
#include "../ops/pool_internal.h"
#include "../tensor/alloc.h"
#include "../tensor/error.h"
#include "onnx_internal.h"

// A Slice of x: [start, end) along axis.
static void slice(cg_onnx_graph *g, const char *x, int64_t start, int64_t end, int64_t axis,
                  const char *out) {
    char s[CG_ONNX_NAME], e[CG_ONNX_NAME], a[CG_ONNX_NAME];
    cg_onnx_const_ints(g, "starts", 1, &start, s);
    cg_onnx_const_ints(g, "ends", 1, &end, e);
    cg_onnx_const_ints(g, "axes", 1, &axis, a);
    cg_onnx_simple(g, "Slice", 4, (const char *[]){x, s, e, a}, out);
}

// ---- convolutions ---------------------------------------------------------------------------
// Conv / ConvTranspose with the geometry's attributes: 2-D, or 1-D for conv1d (weight
// (O, C/g, kW): the H side of the geometry is 1 and unused).
static void conv_node(cg_onnx_graph *g, const cg_node *n, const char *const *in, const char *out,
                      bool transposed) {
    const cg_conv_geometry *c = n->ctx;
    bool one = c->spatial == 1;
    int k = one ? 1 : 2, s = one ? 1 : 0; // attribute count, first used entry
    int64_t kernel[2] = {c->kernel_h, c->kernel_w}, stride[2] = {c->stride_h, c->stride_w},
            dil[2] = {c->dilation_h, c->dilation_w},
            outpad[2] = {c->output_padding_h, c->output_padding_w};
    int64_t pads[4] = {c->pad_top, c->pad_left, c->pad_bottom, c->pad_right};
    int64_t pads1[2] = {c->pad_left, c->pad_right};
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, transposed ? "ConvTranspose" : "Conv", in[2] ? 3 : 2, in, out);
    cg_onnx_attr_ints(&nd, "kernel_shape", k, kernel + s);
    cg_onnx_attr_ints(&nd, "strides", k, stride + s);
    cg_onnx_attr_ints(&nd, "dilations", k, dil + s);
    cg_onnx_attr_ints(&nd, "pads", 2 * k, one ? pads1 : pads);
    cg_onnx_attr_int(&nd, "group", c->groups);
    if (transposed) cg_onnx_attr_ints(&nd, "output_padding", k, outpad + s);
    cg_onnx_node_end(&nd);
}

static bool batched_conv(cg_onnx_graph *g, const cg_node *n) {
    return ((const cg_conv_geometry *)n->ctx)->batched ||
           cg_onnx_refuse(g, n, "the input has no batch dim");
}

bool cg_onnx_emit_conv(cg_onnx_graph *g, const cg_node *n, const char *const *in, const char *out) {
    if (!batched_conv(g, n)) return false;
    conv_node(g, n, in, out, false);
    return true;
}
bool cg_onnx_emit_conv_relu(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                            const char *out) {
    if (!batched_conv(g, n)) return false;
    char c[CG_ONNX_NAME];
    conv_node(g, n, in, cg_onnx_temp(g, "conv", c), false);
    cg_onnx_simple(g, "Relu", 1, (const char *[]){c}, out);
    return true;
}
bool cg_onnx_emit_conv_transpose(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                                 const char *out) {
    if (!batched_conv(g, n)) return false;
    conv_node(g, n, in, out, true);
    return true;
}

// ---- linear -----------------------------------------------------------------------------------
// y = x W^T + b: Gemm for a matrix x, MatMul with the transposed weight for more dims.
bool cg_onnx_emit_linear(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                         const char *out) {
    if (n->inputs[0]->ndim == 2) {
        cg_onnx_node nd;
        cg_onnx_node_begin(&nd, g, "Gemm", in[2] ? 3 : 2, in, out);
        cg_onnx_attr_int(&nd, "transB", 1);
        cg_onnx_node_end(&nd);
        return true;
    }
    char wt[CG_ONNX_NAME], mm[CG_ONNX_NAME];
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "Transpose", 1, &in[1], cg_onnx_temp(g, "weight_t", wt));
    cg_onnx_attr_ints(&nd, "perm", 2, (const int64_t[]){1, 0});
    cg_onnx_node_end(&nd);
    const char *mm_out = in[2] ? cg_onnx_temp(g, "matmul", mm) : out;
    cg_onnx_simple(g, "MatMul", 2, (const char *[]){in[0], wt}, mm_out);
    if (in[2]) cg_onnx_simple(g, "Add", 2, (const char *[]){mm, in[2]}, out);
    return true;
}

// ---- pooling ------------------------------------------------------------------------------------
// Whether PyTorch's ceil_mode made the output larger than the floor formula gives.
static bool ceil_mode(const pool_geometry *p, int dim) {
    int64_t size = dim ? p->W : p->H, out = dim ? p->OW : p->OH;
    int64_t span =
        size + 2 * p->padding[dim] - (int64_t)p->dilation[dim] * (p->kernel[dim] - 1) - 1;
    return out > span / p->stride[dim] + 1;
}

static void window_attrs(cg_onnx_node *nd, const pool_geometry *p, bool dilations) {
    int64_t k[2] = {p->kernel[0], p->kernel[1]}, s[2] = {p->stride[0], p->stride[1]},
            d[2] = {p->dilation[0], p->dilation[1]},
            pads[4] = {p->padding[0], p->padding[1], p->padding[0], p->padding[1]};
    cg_onnx_attr_ints(nd, "kernel_shape", 2, k);
    cg_onnx_attr_ints(nd, "strides", 2, s);
    cg_onnx_attr_ints(nd, "pads", 4, pads);
    if (dilations) cg_onnx_attr_ints(nd, "dilations", 2, d);
    if (ceil_mode(p, 0) || ceil_mode(p, 1)) cg_onnx_attr_int(nd, "ceil_mode", 1);
}

// Adaptive windows that do not tile the input: window o of a dim of size `in` is PyTorch's
// [floor(o * in / out), ceil((o + 1) * in / out)). Average and max over a rectangle are
// separable, so each spatial dim is reduced on its own: per output index a Slice and a
// ReduceMean or ReduceMax over that axis, the results concatenated along it.
static bool adaptive_axis(cg_onnx_graph *g, const char *x, int64_t axis, int64_t in,
                          int64_t out_size, bool max, const char *out) {
    char *names = cg_alloc((size_t)out_size * CG_ONNX_NAME);
    const char **parts = cg_alloc((size_t)out_size * sizeof *parts);
    if (names && parts) {
        for (int64_t o = 0; o < out_size; o++) {
            int64_t start = o * in / out_size, end = ((o + 1) * in + out_size - 1) / out_size;
            char window[CG_ONNX_NAME];
            slice(g, x, start, end, axis, cg_onnx_temp(g, "window", window));
            parts[o] =
                cg_onnx_temp(g, max ? "window_max" : "window_mean", names + o * CG_ONNX_NAME);
            cg_onnx_node nd;
            cg_onnx_node_begin(&nd, g, max ? "ReduceMax" : "ReduceMean", 1,
                               (const char *[]){window}, parts[o]);
            cg_onnx_attr_ints(&nd, "axes", 1, &axis);
            cg_onnx_attr_int(&nd, "keepdims", 1);
            cg_onnx_node_end(&nd);
        }
        cg_onnx_node cat;
        cg_onnx_node_begin(&cat, g, "Concat", (int)out_size, parts, out);
        cg_onnx_attr_int(&cat, "axis", axis);
        cg_onnx_node_end(&cat);
    }
    bool ok = names && parts;
    cg_dealloc(names);
    cg_dealloc(parts);
    return ok;
}

// An adaptive pooling as a fixed one: global when the output is 1x1, windows of
// H/OH x W/OW when they divide, else window by window (adaptive_axis).
static bool adaptive(cg_onnx_graph *g, const cg_node *n, const char *x, const char *out, bool max) {
    const pool_geometry *p = n->ctx;
    if (p->OH == 1 && p->OW == 1) {
        cg_onnx_simple(g, max ? "GlobalMaxPool" : "GlobalAveragePool", 1, &x, out);
        return true;
    }
    if (p->H % p->OH || p->W % p->OW) {
        char rows[CG_ONNX_NAME];
        const char *mid = x;
        if (p->H != p->OH) {
            mid = p->W != p->OW ? cg_onnx_temp(g, "rows", rows) : out;
            if (!adaptive_axis(g, x, 2, p->H, p->OH, max, mid)) return false;
        }
        return p->W == p->OW || adaptive_axis(g, mid, 3, p->W, p->OW, max, out);
    }
    int64_t k[2] = {p->H / p->OH, p->W / p->OW};
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, max ? "MaxPool" : "AveragePool", 1, &x, out);
    cg_onnx_attr_ints(&nd, "kernel_shape", 2, k);
    cg_onnx_attr_ints(&nd, "strides", 2, k);
    cg_onnx_node_end(&nd);
    return true;
}

static bool pool(cg_onnx_graph *g, const cg_node *n, const char *x, const char *out, bool max) {
    const pool_geometry *p = n->ctx;
    if (n->inputs[0]->ndim != 4) return cg_onnx_refuse(g, n, "the input has no batch dim");
    if (p->adaptive) return adaptive(g, n, x, out, max);
    if (!max && p->divisor_override)
        return cg_onnx_refuse(g, n, "divisor_override has no ONNX equivalent");
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, max ? "MaxPool" : "AveragePool", 1, &x, out);
    window_attrs(&nd, p, max);
    if (!max) cg_onnx_attr_int(&nd, "count_include_pad", !p->exclude_pad);
    cg_onnx_node_end(&nd);
    return true;
}

bool cg_onnx_emit_max_pool(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                           const char *out) {
    return pool(g, n, in[0], out, true);
}
bool cg_onnx_emit_avg_pool(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                           const char *out) {
    return pool(g, n, in[0], out, false);
}
bool cg_onnx_emit_relu_max_pool(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                                const char *out) {
    char r[CG_ONNX_NAME];
    cg_onnx_simple(g, "Relu", 1, in, cg_onnx_temp(g, "relu", r));
    return pool(g, n, r, out, true);
}

// ---- softmax --------------------------------------------------------------------------------
// The dim the op ran over: the one whose outer and inner products match the context (any
// dim that does gives the same rows).
bool cg_onnx_emit_softmax(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                          const char *out) {
    const softmax_plan *r = n->ctx;
    const cg_tensor *x = n->inputs[0];
    int axis = -1;
    for (int d = 0, outer = 1; d < x->ndim && axis < 0; outer *= (int)x->shape[d], d++) {
        int64_t inner = 1;
        for (int k = d + 1; k < x->ndim; k++) inner *= x->shape[k];
        if (outer == r->outer && x->shape[d] == r->len && inner == r->inner) axis = d;
    }
    if (axis < 0) return cg_onnx_refuse(g, n, "its dim could not be found");
    const char *src = in[0];
    char neg[CG_ONNX_NAME];
    if (r->sign < 0) { // softmin: the softmax of -x
        cg_onnx_simple(g, "Neg", 1, in, cg_onnx_temp(g, "neg", neg));
        src = neg;
    }
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, r->log_output ? "LogSoftmax" : "Softmax", 1, &src, out);
    cg_onnx_attr_int(&nd, "axis", axis);
    cg_onnx_node_end(&nd);
    return true;
}

// ---- shapes --------------------------------------------------------------------------------
// A reshape that keeps the batch: Flatten for (N, rest) from (N, ...), else Reshape with 0
// for the batch dim (copied from the input at run time); a reshape that changes the first
// dim gets -1 there. Either way the other dims are the traced ones, so any batch size runs.
bool cg_onnx_emit_reshape(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                          const char *out) {
    const cg_tensor *x = n->inputs[0], *y = n->output;
    bool keeps_batch = x->ndim > 0 && y->ndim > 0 && x->shape[0] == y->shape[0];
    if (keeps_batch && y->ndim == 2 && x->ndim >= 2) {
        cg_onnx_node nd;
        cg_onnx_node_begin(&nd, g, "Flatten", 1, in, out);
        cg_onnx_attr_int(&nd, "axis", 1);
        cg_onnx_node_end(&nd);
        return true;
    }
    int64_t shape[CG_MAX_DIMS];
    memcpy(shape, y->shape, sizeof shape);
    if (y->ndim > 0) shape[0] = keeps_batch ? 0 : -1;
    char s[CG_ONNX_NAME];
    cg_onnx_const_ints(g, "shape", y->ndim, shape, s);
    cg_onnx_simple(g, "Reshape", 2, (const char *[]){in[0], s}, out);
    return true;
}

bool cg_onnx_emit_permute(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                          const char *out) {
    const permutation *p = n->ctx;
    int64_t perm[CG_MAX_DIMS];
    for (int i = 0; i < n->output->ndim; i++) perm[i] = p->perm[i];
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "Transpose", 1, in, out);
    cg_onnx_attr_ints(&nd, "perm", n->output->ndim, perm);
    cg_onnx_node_end(&nd);
    return true;
}

// Slice along the one dim whose size changed (none: all rows, an Identity).
bool cg_onnx_emit_narrow(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                         const char *out) {
    const narrow_plan *p = n->ctx;
    const cg_tensor *x = n->inputs[0], *y = n->output;
    int dim = -1;
    for (int d = 0; d < x->ndim && dim < 0; d++)
        if (x->shape[d] != y->shape[d]) dim = d;
    if (dim < 0)
        cg_onnx_simple(g, "Identity", 1, in, out);
    else
        slice(g, in[0], p->start, p->start + p->length, dim, out);
    return true;
}

bool cg_onnx_emit_cat(cg_onnx_graph *g, const cg_node *n, const char *const *in, const char *out) {
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "Concat", n->n_inputs, in, out);
    cg_onnx_attr_int(&nd, "axis", *(const int *)n->ctx);
    cg_onnx_node_end(&nd);
    return true;
}

// ---- pad, interpolate -----------------------------------------------------------------------
// Circular padding (Pad's 'wrap' is opset 19): per padded dim, the last `before` rows and
// the first `after` rows wrapped around with Slice and Concat.
static bool circular(cg_onnx_graph *g, const pad_plan *p, const char *x, const char *out) {
    int last = -1;
    for (int d = 0; d < p->ndim; d++)
        if (p->before[d] || p->after[d]) last = d;
    if (last < 0) {
        cg_onnx_simple(g, "Identity", 1, &x, out);
        return true;
    }
    char cur[CG_ONNX_NAME];
    snprintf(cur, sizeof cur, "%s", x);
    for (int d = 0; d <= last; d++) {
        int64_t size = p->in_shape[d], b = p->before[d], a = p->after[d];
        if (!b && !a) continue;
        char lo[CG_ONNX_NAME], hi[CG_ONNX_NAME], next[CG_ONNX_NAME];
        const char *parts[3];
        int k = 0;
        if (b) slice(g, cur, size - b, size, d, parts[k++] = cg_onnx_temp(g, "wrap_before", lo));
        parts[k++] = cur;
        if (a) slice(g, cur, 0, a, d, parts[k++] = cg_onnx_temp(g, "wrap_after", hi));
        cg_onnx_node nd;
        cg_onnx_node_begin(&nd, g, "Concat", k, parts,
                           d == last ? out : cg_onnx_temp(g, "wrapped", next));
        cg_onnx_attr_int(&nd, "axis", d);
        cg_onnx_node_end(&nd);
        if (d != last) snprintf(cur, sizeof cur, "%s", next);
    }
    return true;
}

bool cg_onnx_emit_pad(cg_onnx_graph *g, const cg_node *n, const char *const *in, const char *out) {
    const pad_plan *p = n->ctx;
    const char *mode = NULL;
    switch (p->mode) {
    case CG_PAD_ZEROS:
    case CG_PAD_CONSTANT:
        mode = "constant";
        break;
    case CG_PAD_REFLECT:
        mode = "reflect";
        break;
    case CG_PAD_REPLICATE:
        mode = "edge";
        break;
    case CG_PAD_CIRCULAR:
        return circular(g, p, in[0], out);
    }
    int64_t pads[2 * CG_MAX_DIMS];
    for (int d = 0; d < p->ndim; d++) {
        pads[d] = p->before[d];
        pads[p->ndim + d] = p->after[d];
    }
    char pv[CG_ONNX_NAME], cv[CG_ONNX_NAME];
    cg_onnx_const_ints(g, "pads", 2 * p->ndim, pads, pv);
    cg_onnx_const_scalar(g, "pad_value", p->mode == CG_PAD_CONSTANT ? p->value : 0, cv);
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "Pad", 3, (const char *[]){in[0], pv, cv}, out);
    cg_onnx_attr_string(&nd, "mode", mode);
    cg_onnx_node_end(&nd);
    return true;
}

// Resize with PyTorch's sampling rule for each mode. A scale_factor becomes `scales` (the
// kernels map coordinates with it, as ONNX does); a size becomes `sizes`, the input's
// (N, C) from its Shape then the traced spatial sizes, so the batch stays free.
static bool resize_modes(cg_onnx_node *nd, const cg_node *n, const interp_plan *p) {
    const char *mode = "linear", *coord = p->align_corners ? "align_corners" : "pytorch_half_pixel";
    switch (p->mode) {
    case CG_INTERPOLATE_NEAREST:
        mode = "nearest";
        coord = "asymmetric";
        cg_onnx_attr_string(nd, "nearest_mode", "floor");
        break;
    case CG_INTERPOLATE_NEAREST_EXACT:
        mode = "nearest";
        coord = "half_pixel";
        cg_onnx_attr_string(nd, "nearest_mode", "round_prefer_ceil");
        break;
    case CG_INTERPOLATE_BILINEAR:
    case CG_INTERPOLATE_LINEAR:
    case CG_INTERPOLATE_TRILINEAR:
        break;
    case CG_INTERPOLATE_BICUBIC:
        mode = "cubic";
        cg_onnx_attr_float(nd, "cubic_coeff_a", -0.75f);
        break;
    case CG_INTERPOLATE_AREA:
    case CG_INTERPOLATE_MODE_COUNT:
        return cg_onnx_refuse(nd->graph, n, "mode 'area' has no ONNX Resize mode");
    }
    cg_onnx_attr_string(nd, "mode", mode);
    cg_onnx_attr_string(nd, "coordinate_transformation_mode", coord);
    return true;
}

// 'area' is adaptive average pooling to the output size: each resized dim window by window.
static bool area(cg_onnx_graph *g, const interp_plan *p, const char *x, const char *out) {
    char names[2][CG_ONNX_NAME];
    const char *src = x;
    int last = -1;
    for (int d = 0; d < p->dims; d++)
        if (p->in[d] != p->out[d]) last = d;
    if (last < 0) {
        cg_onnx_simple(g, "Identity", 1, &x, out);
        return true;
    }
    for (int d = 0; d <= last; d++) {
        if (p->in[d] == p->out[d]) continue;
        const char *dst = d == last ? out : cg_onnx_temp(g, "area", names[d % 2]);
        if (!adaptive_axis(g, src, 2 + d, p->in[d], p->out[d], false, dst)) return false;
        src = dst;
    }
    return true;
}

bool cg_onnx_emit_interpolate(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                              const char *out) {
    const interp_plan *p = n->ctx;
    if (p->antialias)
        return cg_onnx_refuse(g, n, "antialias has no ONNX Resize equivalent before opset 18");
    if (p->mode == CG_INTERPOLATE_AREA) return area(g, p, in[0], out);
    int nd_x = n->inputs[0]->ndim;
    bool by_scale = p->scale[0] != 0;
    char scales[CG_ONNX_NAME] = "", sizes[CG_ONNX_NAME] = "";
    if (by_scale) {
        float v[2 + CG_INTERP_MAX_DIMS] = {1, 1};
        for (int d = 0; d < p->dims; d++) v[2 + d] = (float)p->scale[d];
        cg_onnx_const_floats(g, "scales", 1, (const int64_t[]){nd_x}, v, scales);
    } else { // sizes = concat(shape(x)[0:2], traced spatial sizes)
        char shape[CG_ONNX_NAME], nc[CG_ONNX_NAME], st[CG_ONNX_NAME], en[CG_ONNX_NAME],
            sp[CG_ONNX_NAME];
        cg_onnx_simple(g, "Shape", 1, in, cg_onnx_temp(g, "shape", shape));
        cg_onnx_const_ints(g, "start", 1, (const int64_t[]){0}, st);
        cg_onnx_const_ints(g, "end", 1, (const int64_t[]){2}, en);
        cg_onnx_simple(g, "Slice", 3, (const char *[]){shape, st, en}, cg_onnx_temp(g, "nc", nc));
        cg_onnx_const_ints(g, "spatial", p->dims, p->out, sp);
        cg_onnx_node cat;
        cg_onnx_node_begin(&cat, g, "Concat", 2, (const char *[]){nc, sp},
                           cg_onnx_temp(g, "sizes", sizes));
        cg_onnx_attr_int(&cat, "axis", 0);
        cg_onnx_node_end(&cat);
    }
    cg_onnx_node nd;
    const char *inputs[4] = {in[0], "", scales, sizes};
    cg_onnx_node_begin(&nd, g, "Resize", by_scale ? 3 : 4, inputs, out);
    bool ok = resize_modes(&nd, n, p);
    cg_onnx_node_end(&nd);
    return ok;
}

// PRelu broadcasts its slope from the right: C slopes become (C, 1, ..., 1) for an input
// (N, C, ...) with more than two dims.
bool cg_onnx_emit_prelu(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                        const char *out) {
    const cg_tensor *x = n->inputs[0], *w = n->inputs[1];
    const char *slope = in[1];
    char shape[CG_ONNX_NAME], r[CG_ONNX_NAME];
    if (w->numel > 1 && x->ndim > 2) {
        int64_t s[CG_MAX_DIMS];
        s[0] = w->numel;
        for (int d = 1; d < x->ndim - 1; d++) s[d] = 1;
        cg_onnx_const_ints(g, "slope_shape", x->ndim - 1, s, shape);
        cg_onnx_simple(g, "Reshape", 2, (const char *[]){in[1], shape},
                       cg_onnx_temp(g, "slope", r));
        slope = r;
    }
    cg_onnx_simple(g, "PRelu", 2, (const char *[]){in[0], slope}, out);
    return true;
}

// ---- reductions -------------------------------------------------------------------------------
// sum and mean over the context's dims; keepdims when the output kept them. ReduceSum takes
// its axes as an input from opset 13, ReduceMean as an attribute until opset 18.
bool cg_onnx_emit_reduce(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                         const char *out) {
    const reduction *r = n->ctx;
    bool mean = strcmp(n->op->name, "mean") == 0;
    int64_t axes[CG_MAX_DIMS];
    int k = 0;
    for (int d = 0; d < r->ndim; d++)
        if (r->reduced[d]) axes[k++] = d;
    if (k == 0) { // a 0-d input: nothing to reduce
        cg_onnx_simple(g, "Identity", 1, in, out);
        return true;
    }
    bool keep = r->out_ndim == r->ndim;
    char ax[CG_ONNX_NAME];
    cg_onnx_node nd;
    if (mean) {
        cg_onnx_node_begin(&nd, g, "ReduceMean", 1, in, out);
        cg_onnx_attr_ints(&nd, "axes", k, axes);
    } else {
        cg_onnx_const_ints(g, "axes", k, axes, ax);
        cg_onnx_node_begin(&nd, g, "ReduceSum", 2, (const char *[]){in[0], ax}, out);
    }
    cg_onnx_attr_int(&nd, "keepdims", keep);
    cg_onnx_node_end(&nd);
    return true;
}
