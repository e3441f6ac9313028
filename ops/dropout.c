// ops/dropout.c - dropout in its three forms (torch.nn.functional.dropout, dropout1d,
// dropout2d, alpha_dropout and the modules of nn/dropout.c).
//
// In training each element (dropout, alpha_dropout) or each channel of each sample
// (dropout1d/2d: "feature" dropout) is kept with probability 1-p. Inverted dropout scales the
// kept ones by 1/(1-p), so the expected output equals the input; alpha dropout maps them to
// a x + c and the dropped ones to a fixed value chosen so that mean and variance are kept for
// SELU activations. In eval mode, and for p = 0, every form returns x itself. The masks come
// from the global generator (cg_manual_seed), so runs are reproducible.
#include <math.h>
#include <stdio.h>

#include "../autograd/op.h"
#include "../kernels/simd_clones.h"
#include "functional.h"

// The mask is not kept for backward: the node holds the generator's state before the
// forward drew it (16 bytes instead of 4 per element, held until the graph is freed), and
// backward draws the same numbers again in the same order, so the same mask.
typedef struct mask_ctx {
    cg_rng rng; // the generator as the forward found it
    float p, scale;
    int64_t groups; // one draw per group of numel / groups consecutive elements
} mask_ctx;

// Draws are taken DRAW_BLOCK at a time (cg_rng_uniforms), so the generator's state stays in
// registers and the loops below see plain arrays.
#define DRAW_BLOCK 256

// Adding -0 changes no value, not even a -0 product: y = x * m keeps its sign, as PyTorch's.
static const float no_shift[2] = {-0.0f, -0.0f};

// For each group g in order: keep = (draw >= p), then out = in * m + shift[keep] over its
// `inner` elements, m = keep ? scale : 0 (a group is kept only if scale != 0: p < 1). Forward and
// backward (shift 0) share it, so the backward redraws the forward's mask from the saved generator
// state.
CG_SIMD_CLONES static void apply_groups(cg_rng *rng, const float *in, float *out, int64_t groups,
                                        int64_t inner, float p, float scale, const float shift[2]) {
    const float dropped = shift[0], kept = shift[1]; // locals: out might alias shift
    float draws[DRAW_BLOCK];
    for (int64_t g0 = 0; g0 < groups; g0 += DRAW_BLOCK) {
        int64_t n = groups - g0 < DRAW_BLOCK ? groups - g0 : DRAW_BLOCK;
        cg_rng_uniforms(rng, draws, n);
        if (inner == 1) { // element dropout: one draw per element, a loop GCC vectorises
            for (int64_t k = 0; k < n; k++) {
                bool keep = draws[k] >= p;
                out[g0 + k] = in[g0 + k] * (keep ? scale : 0.0f) + (keep ? kept : dropped);
            }
            continue;
        }
        for (int64_t k = 0; k < n; k++) {
            bool keep = draws[k] >= p;
            float m = keep ? scale : 0.0f, add = keep ? kept : dropped;
            const float *x = in + (g0 + k) * inner;
            float *y = out + (g0 + k) * inner;
            for (int64_t i = 0; i < inner; i++) y[i] = x[i] * m + add;
        }
    }
}

// dx = g * multiplier: 0 for a dropped group, else the kept elements' scale
static void dropout_backward(cg_node *n, const cg_tensor *grad) {
    const mask_ctx *c = n->ctx;
    cg_rng rng = c->rng;
    cg_tensor *dx = cg_empty_like(grad);
    if (!dx) return;
    int64_t inner = c->groups ? dx->numel / c->groups : 0;
    apply_groups(&rng, grad->data, dx->data, c->groups, inner, c->p, c->scale, no_shift);
    cg_accumulate_grad(n->inputs[0], dx);
}
const cg_op cg_op_dropout = {"dropout", dropout_backward, "generator state (mask drawn again)"};
const cg_op cg_op_feature_dropout = {"feature_dropout", dropout_backward,
                                     "generator state (mask drawn again)"};
const cg_op cg_op_alpha_dropout = {"alpha_dropout", dropout_backward,
                                   "generator state (mask drawn again)"};

static bool check_p(const char *op, cg_tensor *x, float p) {
    if (!cg_check_arg(x, op, "input")) return false;
    if (!(p >= 0.0f && p <= 1.0f)) { // also rejects NaN
        cg_error(CG_ERR_ARG, "%s: probability p = %g is not in [0, 1]", op, (double)p);
        return false;
    }
    return true;
}

// y = x * mask + shift over `groups` groups of numel / groups consecutive elements: each group
// is kept with probability 1-p (one draw from the global generator per group, in order) and
// then multiplied by `scale`, else by 0; shift[0] is added where dropped, shift[1] where kept.
// Recorded with the generator state that drew the mask, for backward (mask_ctx).
static cg_tensor *masked(cg_tensor *x, int64_t groups, float p, float scale, const float shift[2],
                         const cg_op *op) {
    mask_ctx c = {*cg_global_rng(), p, scale, groups};
    cg_tensor *y = cg_empty_like(x);
    if (!y) return NULL;
    apply_groups(cg_global_rng(), x->data, y->data, groups, groups ? x->numel / groups : 0, p,
                 scale, shift);
    cg_node *n = cg_record(y, op, 1, &x);
    if (n && !cg_node_set_ctx(n, &c, sizeof c)) { // reported by cg_alloc
        cg_free(y);
        return NULL;
    }
    return y;
}

// Inverted dropout over groups of elements; p = 1 drops everything: zeros (and a zero
// gradient), as PyTorch.
static cg_tensor *inverted_dropout(cg_tensor *x, int64_t groups, float p, const cg_op *op) {
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    return masked(x, groups, p, scale, no_shift, op);
}

cg_tensor *cg_dropout(cg_tensor *x, float p, bool training) {
    if (!check_p("dropout", x, p)) return NULL;
    if (!training || p == 0.0f || x->numel == 0) return x;
    return inverted_dropout(x, x->numel, p, &cg_op_dropout);
}

// (N, C, *) -> N*C channels of numel / (N*C) elements; `batched` false: (C, *), C channels.
// Ranks below 2 are refused only when there is something to drop, as PyTorch.
static cg_tensor *feature_dropout(const char *op, cg_tensor *x, float p, bool training,
                                  bool batched) {
    if (!training || p == 0.0f || x->numel == 0) return x;
    if (x->ndim < 2)
        return cg_error(CG_ERR_SHAPE,
                        "%s: Feature dropout requires at least 2 dimensions in the input, got a "
                        "%dD input",
                        op, x->ndim);
    int64_t groups = batched ? x->shape[0] * x->shape[1] : x->shape[0];
    return inverted_dropout(x, groups, p, &cg_op_feature_dropout);
}

cg_tensor *cg_dropout1d(cg_tensor *x, float p, bool training) {
    if (!check_p("dropout1d", x, p)) return NULL;
    if (x->ndim != 2 && x->ndim != 3)
        return cg_error(
            CG_ERR_SHAPE,
            "dropout1d: Expected 2D or 3D input, but received a %dD input (channel-wise "
            "dropout of (N, C, L) or unbatched (C, L) inputs)",
            x->ndim);
    return feature_dropout("dropout1d", x, p, training, x->ndim == 3);
}

// PyTorch 1.13's rules and warnings: 4-D (N, C, H, W); 3-D taken as (N, C, L); other ranks
// deprecated but run with channels along dim 1.
cg_tensor *cg_dropout2d(cg_tensor *x, float p, bool training) {
    if (!check_p("dropout2d", x, p)) return NULL;
    if (x->ndim != 3 && x->ndim != 4)
        cg_warn("dropout2d: Received a %d-D input to dropout2d, which is deprecated and will "
                "result in an error in a future release. To retain the behavior and silence this "
                "warning, please use dropout instead. Note that dropout2d exists to provide "
                "channel-wise dropout on inputs with 2 spatial dimensions, a channel dimension, "
                "and an optional batch dimension (i.e. 3D or 4D inputs).",
                x->ndim);
    if (x->ndim == 3)
        cg_warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D "
                "dropout behavior is desired - input is interpreted as shape (N, C, L), where C "
                "is the channel dim. This behavior will change in a future release to interpret "
                "the input as one without a batch dimension, i.e. shape (C, H, W). To maintain "
                "the 1D channel-wise dropout behavior, please switch to using dropout1d instead.");
    return feature_dropout("dropout2d", x, p, training, true);
}

// PyTorch's constants: the SELU saturation value -alpha * scale is where dropped units go.
static const double ALPHA_DROPOUT_ALPHA = 1.7580993408473766;

cg_tensor *cg_alpha_dropout(cg_tensor *x, float p, bool training) {
    if (!check_p("alpha_dropout", x, p)) return NULL;
    if (!training || p == 0.0f || x->numel == 0) return x;
    if (p == 1.0f) return inverted_dropout(x, x->numel, p, &cg_op_alpha_dropout); // zeros
    // kept: a x + alpha a p; dropped: alpha a (p - 1), a = 1 / sqrt((alpha^2 p + 1)(1 - p))
    double alpha = ALPHA_DROPOUT_ALPHA;
    double a = 1.0 / sqrt((alpha * alpha * p + 1) * (1 - p));
    const float shift[2] = {(float)(alpha * a * (p - 1)), (float)(alpha * a * p)};
    return masked(x, x->numel, p, (float)a, shift, &cg_op_alpha_dropout);
}
