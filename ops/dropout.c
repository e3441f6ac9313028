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
#include "functional.h"

// The mask is not kept for backward: the node holds the generator's state before the
// forward drew it (16 bytes instead of 4 per element, held until the graph is freed), and
// backward draws the same numbers again in the same order, so the same mask.
typedef struct mask_ctx {
    cg_rng rng; // the generator as the forward found it
    float p, scale;
    int64_t groups; // one draw per group of numel / groups consecutive elements
} mask_ctx;

// dx = g * multiplier: 0 for a dropped group, else the kept elements' scale
static void dropout_backward(cg_node *n, const cg_tensor *grad) {
    const mask_ctx *c = n->ctx;
    cg_rng rng = c->rng;
    cg_tensor *dx = cg_empty_like(grad);
    if (!dx) return;
    int64_t inner = c->groups ? dx->numel / c->groups : 0;
    for (int64_t g = 0; g < c->groups; g++) {
        float multiplier = cg_rng_uniform(&rng) >= c->p ? c->scale : 0.0f;
        for (int64_t i = g * inner; i < (g + 1) * inner; i++)
            dx->data[i] = grad->data[i] * multiplier;
    }
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

// The mask of `groups` groups of `inner` consecutive elements: each group is kept with
// probability 1-p (one draw per group) and then holds `scale`, else 0. NULL on failure.
static cg_tensor *group_mask(const cg_tensor *x, int64_t groups, float p, float scale,
                             mask_ctx *c) {
    *c = (mask_ctx){*cg_global_rng(), p, scale, groups};
    cg_tensor *draws = cg_rand(1, (int64_t[]){groups}, NULL);
    cg_tensor *mask = cg_empty_like(x);
    if (!draws || !mask) {
        cg_free(draws);
        cg_free(mask);
        return NULL;
    }
    int64_t inner = groups ? x->numel / groups : 0;
    for (int64_t i = 0; i < x->numel; i++) mask->data[i] = draws->data[i / inner] >= p ? scale : 0;
    cg_free(draws);
    return mask;
}

// y = x * mask + shift (shift[0] where the mask is 0, shift[1] where it is not), recorded
// with the generator state that drew the mask for backward (mask_ctx).
static cg_tensor *apply_mask(cg_tensor *x, cg_tensor *mask, const float shift[2], const cg_op *op,
                             const mask_ctx *c) {
    cg_tensor *y = cg_empty_like(x);
    if (!y) {
        cg_free(mask);
        return NULL;
    }
    for (int64_t i = 0; i < x->numel; i++)
        y->data[i] = x->data[i] * mask->data[i] + shift[mask->data[i] != 0];
    cg_free(mask);
    cg_node *n = cg_record(y, op, 1, &x);
    if (n && !cg_node_set_ctx(n, c, sizeof *c)) { // reported by cg_alloc
        cg_free(y);
        return NULL;
    }
    return y;
}

// Inverted dropout over groups of elements; p = 1 drops everything: zeros (and a zero
// gradient), as PyTorch.
static cg_tensor *inverted_dropout(cg_tensor *x, int64_t groups, float p, const cg_op *op) {
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    mask_ctx c;
    cg_tensor *mask = group_mask(x, groups, p, scale, &c);
    return mask ? apply_mask(x, mask, (const float[2]){0, 0}, op, &c) : NULL;
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
    mask_ctx c;
    cg_tensor *mask = group_mask(x, x->numel, p, (float)a, &c);
    if (!mask) return NULL;
    const float shift[2] = {(float)(alpha * a * (p - 1)), (float)(alpha * a * p)};
    return apply_mask(x, mask, shift, &cg_op_alpha_dropout, &c);
}
