// io/onnx_ops_norm.c - the emitters of the normalisation ops (io/onnx_ops.c holds the
// table), read from the node's cg_norm_plan (ops/norm_internal.h: layout, whether the
// statistics were the input's own, eps):
//   batch norm (eval)        BatchNormalization with the running statistics
//   instance norm            InstanceNormalization (BatchNormalization when it used
//                            running statistics: track_running_stats in eval mode)
//   group norm               Reshape to (N, G, -1), InstanceNormalization, Reshape back,
//                            then the per-channel affine (GroupNormalization is opset 18)
//   layer norm               LayerNormalization from opset 17, before that ReduceMean,
//                            Sub, Mul, ReduceMean, Add, Sqrt, Div and the affine
// The running statistics are the model's buffers, found next to the norm's weight
// ("bn.running_mean" beside "bn.weight"); a norm without weight uses the ones its node
// saved (mean, 1/sqrt(var + eps)), equal to the buffers up to rounding in var.
#include <math.h>
#include <string.h>

#include "../ops/norm_internal.h"
#include "../tensor/alloc.h"
#include "../tensor/error.h"
#include "onnx_internal.h"

// A constant filled with v, `count` long.
static const char *filled(cg_onnx_graph *g, const char *hint, int64_t count, float v, char *buf) {
    float *data = cg_alloc((size_t)(count > 0 ? count : 1) * sizeof(float));
    if (!data) return NULL;
    for (int64_t i = 0; i < count; i++) data[i] = v;
    cg_onnx_const_floats(g, hint, 1, &count, data, buf);
    cg_dealloc(data);
    return buf;
}

// The model's buffer `<module>.<which>` for the norm whose weight is input 1, or NULL.
static const char *buffer_beside_weight(cg_onnx_graph *g, const cg_node *n, const char *which,
                                        int64_t count) {
    const char *w = n->inputs[1] ? cg_onnx_state_name(g, n->inputs[1]) : NULL;
    const char *dot = w ? strrchr(w, '.') : NULL;
    if (!dot) return NULL;
    char name[CG_NAME_MAX + 32];
    snprintf(name, sizeof name, "%.*s.%s", (int)(dot - w), w, which);
    const cg_tensor *t = cg_onnx_state_tensor(g, name);
    return t && t->numel == count ? cg_onnx_leaf(g, t) : NULL;
}

// BatchNormalization of x (C channels) with the statistics it was normalised with.
static bool batch_normalization(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                                const char *out) {
    const cg_norm_plan *p = n->ctx;
    int64_t C = p->layout.C;
    const char *mean = buffer_beside_weight(g, n, "running_mean", C);
    const char *var = buffer_beside_weight(g, n, "running_var", C);
    char mb[CG_ONNX_NAME], vb[CG_ONNX_NAME], sb[CG_ONNX_NAME], bb[CG_ONNX_NAME];
    if (!mean || !var) { // from the node's saved (mean, invstd) of the first C statistics
        const cg_tensor *stats = n->saved[0];
        int64_t ns = stats->numel / 2;
        float *v = cg_alloc((size_t)(2 * C) * sizeof(float));
        if (!v) return false;
        for (int64_t c = 0; c < C; c++) {
            float invstd = stats->data[ns + c];
            v[c] = stats->data[c];
            v[C + c] = (float)(1.0 / ((double)invstd * invstd) - p->eps);
        }
        mean = cg_onnx_const_floats(g, "running_mean", 1, &C, v, mb);
        var = cg_onnx_const_floats(g, "running_var", 1, &C, v + C, vb);
        cg_dealloc(v);
    }
    const char *scale = in[1] ? in[1] : filled(g, "scale", C, 1, sb);
    const char *bias = in[2] ? in[2] : filled(g, "bias", C, 0, bb);
    if (!scale || !bias) return false;
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "BatchNormalization", 5,
                       (const char *[]){in[0], scale, bias, mean, var}, out);
    cg_onnx_attr_float(&nd, "epsilon", (float)p->eps);
    cg_onnx_node_end(&nd);
    return true;
}

bool cg_onnx_emit_batch_norm(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                             const char *out) {
    const cg_norm_plan *p = n->ctx;
    if (p->batch_stats)
        return cg_onnx_refuse(g, n,
                              "batch norm in training mode: put the model in eval mode "
                              "(cg_module_eval) before exporting");
    if (!p->relu) return batch_normalization(g, n, in, out);
    char bn[CG_ONNX_NAME];
    if (!batch_normalization(g, n, in, cg_onnx_temp(g, "batch_norm", bn))) return false;
    cg_onnx_simple(g, "Relu", 1, (const char *[]){bn}, out);
    return true;
}

// InstanceNormalization of x over groups of `channels` (scale and bias: names or NULL).
static bool instance_normalization(cg_onnx_graph *g, const char *x, int64_t channels,
                                   const char *scale, const char *bias, double eps,
                                   const char *out) {
    char sb[CG_ONNX_NAME], bb[CG_ONNX_NAME];
    if (!scale) scale = filled(g, "scale", channels, 1, sb);
    if (!bias) bias = filled(g, "bias", channels, 0, bb);
    if (!scale || !bias) return false;
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "InstanceNormalization", 3, (const char *[]){x, scale, bias}, out);
    cg_onnx_attr_float(&nd, "epsilon", (float)eps);
    cg_onnx_node_end(&nd);
    return true;
}

bool cg_onnx_emit_instance_norm(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                                const char *out) {
    const cg_norm_plan *p = n->ctx;
    if (!p->batch_stats) return batch_normalization(g, n, in, out); // running statistics
    return instance_normalization(g, in[0], p->layout.C, in[1], in[2], p->eps, out);
}

// A Reshape of x to `shape` (ndim dims, 0 = copy that input dim).
static void reshape(cg_onnx_graph *g, const char *x, int ndim, const int64_t *shape,
                    const char *out) {
    char s[CG_ONNX_NAME];
    cg_onnx_const_ints(g, "shape", ndim, shape, s);
    cg_onnx_simple(g, "Reshape", 2, (const char *[]){x, s}, out);
}

// y * weight + bias with per-channel (dim 1) weight and bias of an ndim-dim y: each seen as
// (C, 1, ..., 1) to broadcast. Either may be NULL.
static void channel_affine(cg_onnx_graph *g, const char *y, int ndim, int64_t C, const char *weight,
                           const char *bias, const char *out) {
    int64_t shape[CG_MAX_DIMS] = {C};
    for (int d = 1; d < ndim - 1; d++) shape[d] = 1;
    char w[CG_ONNX_NAME], b[CG_ONNX_NAME], scaled[CG_ONNX_NAME];
    const char *src = y;
    if (weight) {
        reshape(g, weight, ndim - 1, shape, cg_onnx_temp(g, "weight", w));
        cg_onnx_simple(g, "Mul", 2, (const char *[]){y, w},
                       bias ? cg_onnx_temp(g, "scaled", scaled) : out);
        src = scaled;
    }
    if (bias) {
        reshape(g, bias, ndim - 1, shape, cg_onnx_temp(g, "bias", b));
        cg_onnx_simple(g, "Add", 2, (const char *[]){src, b}, out);
    }
    if (!weight && !bias) cg_onnx_simple(g, "Identity", 1, &y, out);
}

bool cg_onnx_emit_group_norm(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                             const char *out) {
    const cg_norm_plan *p = n->ctx;
    const cg_tensor *x = n->inputs[0];
    char grouped[CG_ONNX_NAME], normed[CG_ONNX_NAME], back[CG_ONNX_NAME];
    reshape(g, in[0], 3, (const int64_t[]){0, p->layout.G, -1}, cg_onnx_temp(g, "groups", grouped));
    if (!instance_normalization(g, grouped, p->layout.G, NULL, NULL, p->eps,
                                cg_onnx_temp(g, "normed", normed)))
        return false;
    int64_t shape[CG_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[0] = 0;
    reshape(g, normed, x->ndim, shape, cg_onnx_temp(g, "ungrouped", back));
    channel_affine(g, back, x->ndim, p->layout.C, in[1], in[2], out);
    return true;
}

// The first normalised dim: the weight's dims are the last ones of x; without a weight,
// the shortest suffix of x holding the normalised size.
static int layer_axis(const cg_node *n) {
    const cg_tensor *x = n->inputs[0], *w = n->inputs[1];
    if (w) return x->ndim - w->ndim;
    int64_t size = 1, D = ((const cg_norm_plan *)n->ctx)->layout.C;
    int axis = x->ndim;
    while (axis > 1 && size != D) size *= x->shape[--axis];
    return axis;
}

// Opsets before 17: the normalisation written out (biased variance, as PyTorch).
static void layer_norm_decomposed(cg_onnx_graph *g, const char *x, int axis, int ndim, double eps,
                                  const char *normed) {
    int64_t axes[CG_MAX_DIMS];
    for (int d = axis; d < ndim; d++) axes[d - axis] = d;
    char mean[CG_ONNX_NAME], diff[CG_ONNX_NAME], sq[CG_ONNX_NAME], var[CG_ONNX_NAME],
        e[CG_ONNX_NAME], ve[CG_ONNX_NAME], sd[CG_ONNX_NAME];
    const char *reduce_in[2] = {x, sq}, *reduce_out[2] = {cg_onnx_temp(g, "mean", mean), NULL};
    for (int k = 0; k < 2; k++) {
        cg_onnx_node nd;
        cg_onnx_node_begin(&nd, g, "ReduceMean", 1, &reduce_in[k], reduce_out[k]);
        cg_onnx_attr_ints(&nd, "axes", ndim - axis, axes);
        cg_onnx_attr_int(&nd, "keepdims", 1);
        cg_onnx_node_end(&nd);
        if (k == 0) {
            cg_onnx_simple(g, "Sub", 2, (const char *[]){x, mean}, cg_onnx_temp(g, "diff", diff));
            cg_onnx_simple(g, "Mul", 2, (const char *[]){diff, diff}, cg_onnx_temp(g, "sq", sq));
            reduce_out[1] = cg_onnx_temp(g, "var", var);
        }
    }
    cg_onnx_const_scalar(g, "eps", (float)eps, e);
    cg_onnx_simple(g, "Add", 2, (const char *[]){var, e}, cg_onnx_temp(g, "var_eps", ve));
    cg_onnx_simple(g, "Sqrt", 1, (const char *[]){ve}, cg_onnx_temp(g, "std", sd));
    cg_onnx_simple(g, "Div", 2, (const char *[]){diff, sd}, normed);
}

bool cg_onnx_emit_layer_norm(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                             const char *out) {
    const cg_norm_plan *p = n->ctx;
    const cg_tensor *x = n->inputs[0];
    int axis = layer_axis(n);
    if (g->opset >= 17) {
        char sb[CG_ONNX_NAME];
        const char *scale = in[1] ? in[1] : filled(g, "scale", p->layout.C, 1, sb);
        if (!scale) return false;
        cg_onnx_node nd;
        cg_onnx_node_begin(&nd, g, "LayerNormalization", in[2] ? 3 : 2,
                           (const char *[]){in[0], scale, in[2]}, out);
        cg_onnx_attr_int(&nd, "axis", axis);
        cg_onnx_attr_float(&nd, "epsilon", (float)p->eps);
        cg_onnx_node_end(&nd);
        return true;
    }
    char normed[CG_ONNX_NAME], scaled[CG_ONNX_NAME];
    layer_norm_decomposed(g, in[0], axis, x->ndim, p->eps, cg_onnx_temp(g, "normed", normed));
    const char *src = normed;
    if (in[1]) { // weight and bias have the normalised dims' shape: they broadcast as is
        cg_onnx_simple(g, "Mul", 2, (const char *[]){normed, in[1]},
                       in[2] ? cg_onnx_temp(g, "scaled", scaled) : out);
        src = scaled;
    }
    if (in[2]) cg_onnx_simple(g, "Add", 2, (const char *[]){src, in[2]}, out);
    if (!in[1] && !in[2]) cg_onnx_simple(g, "Identity", 1, (const char *[]){normed}, out);
    return true;
}
