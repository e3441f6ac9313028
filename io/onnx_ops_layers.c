// io/onnx_ops_layers.c - the emitters of the layer ops (io/onnx_ops.c holds the table):
// convolutions, linear, softmax, shape ops (reshape, permute, cat, narrow), pad, prelu and
// the reductions, each read from its node's context. Pooling and resizing are in
// io/onnx_ops_pool.c.
#include <string.h>

#include "../kernels/conv_geometry.h"
#include "../ops/op_ctx_internal.h"
#include "../tensor/alloc.h"
#include "../tensor/error.h"
#include "onnx_internal.h"

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
        cg_onnx_slice(g, in[0], p->start, p->start + p->length, dim, out);
    return true;
}

bool cg_onnx_emit_cat(cg_onnx_graph *g, const cg_node *n, const char *const *in, const char *out) {
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "Concat", n->n_inputs, in, out);
    cg_onnx_attr_int(&nd, "axis", *(const int *)n->ctx);
    cg_onnx_node_end(&nd);
    return true;
}

// ---- pad -----------------------------------------------------------------------
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
        if (b)
            cg_onnx_slice(g, cur, size - b, size, d,
                          parts[k++] = cg_onnx_temp(g, "wrap_before", lo));
        parts[k++] = cur;
        if (a) cg_onnx_slice(g, cur, 0, a, d, parts[k++] = cg_onnx_temp(g, "wrap_after", hi));
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
// op_type over `axes` of x. ReduceSum takes its axes as an input from opset 13, the others as
// an attribute until opset 18.
static void reduce_node(cg_onnx_graph *g, const char *op_type, const char *x, int k,
                        const int64_t *axes, bool keep, const char *out) {
    char ax[CG_ONNX_NAME];
    cg_onnx_node nd;
    if (strcmp(op_type, "ReduceSum") == 0) {
        cg_onnx_const_ints(g, "axes", k, axes, ax);
        cg_onnx_node_begin(&nd, g, op_type, 2, (const char *[]){x, ax}, out);
    } else {
        cg_onnx_node_begin(&nd, g, op_type, 1, &x, out);
        cg_onnx_attr_ints(&nd, "axes", k, axes);
    }
    cg_onnx_attr_int(&nd, "keepdims", keep);
    cg_onnx_node_end(&nd);
}

// The reduced dims of the context; 0 for a 0-d input (nothing to reduce).
static int reduced_axes(const reduction *r, int64_t *axes) {
    int k = 0;
    for (int d = 0; d < r->ndim; d++)
        if (r->reduced[d]) axes[k++] = d;
    return k;
}

// sum, mean, max and min (values) over the context's dims; keepdims when the output kept
// them.
bool cg_onnx_emit_reduce(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                         const char *out) {
    const reduction *r = n->ctx;
    const char *name = n->op->name, *op_type = strcmp(name, "mean") == 0  ? "ReduceMean"
                                               : strcmp(name, "max") == 0 ? "ReduceMax"
                                               : strcmp(name, "min") == 0 ? "ReduceMin"
                                                                          : "ReduceSum";
    int64_t axes[CG_MAX_DIMS];
    int k = reduced_axes(r, axes);
    if (k == 0)
        cg_onnx_simple(g, "Identity", 1, in, out);
    else
        reduce_node(g, op_type, in[0], k, axes, r->out_ndim == r->ndim, out);
    return true;
}

// var = sum((x - mean)^2) / (count - correction), count the traced number of reduced
// elements: refused over the batch dim, whose size is free in the exported graph.
bool cg_onnx_emit_var(cg_onnx_graph *g, const cg_node *n, const char *const *in, const char *out) {
    const reduction *r = n->ctx;
    int64_t axes[CG_MAX_DIMS];
    int k = reduced_axes(r, axes);
    if (k > 0 && axes[0] == 0)
        return cg_onnx_refuse(g, n,
                              "a variance over the batch dim (dim 0) depends on the batch size");
    char mean[CG_ONNX_NAME], diff[CG_ONNX_NAME], sq[CG_ONNX_NAME], sum[CG_ONNX_NAME],
        denom[CG_ONNX_NAME];
    const char *x = in[0];
    if (k == 0) { // a 0-d input: (x - x)^2 / (1 - correction)
        cg_onnx_simple(g, "Sub", 2, (const char *[]){x, x}, cg_onnx_temp(g, "diff", diff));
        cg_onnx_simple(g, "Mul", 2, (const char *[]){diff, diff}, cg_onnx_temp(g, "sum", sum));
    } else {
        reduce_node(g, "ReduceMean", x, k, axes, true, cg_onnx_temp(g, "mean", mean));
        cg_onnx_simple(g, "Sub", 2, (const char *[]){x, mean}, cg_onnx_temp(g, "diff", diff));
        cg_onnx_simple(g, "Mul", 2, (const char *[]){diff, diff}, cg_onnx_temp(g, "sq", sq));
        reduce_node(g, "ReduceSum", sq, k, axes, r->out_ndim == r->ndim,
                    cg_onnx_temp(g, "sum", sum));
    }
    cg_onnx_const_scalar(g, "count", (float)(r->count - r->correction), denom);
    cg_onnx_simple(g, "Div", 2, (const char *[]){sum, denom}, out);
    return true;
}
