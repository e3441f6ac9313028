// ops/dropout.c - inverted dropout (torch.nn.functional.dropout, torch.nn.Dropout).
//
// In training each element is kept with probability 1-p and scaled by 1/(1-p), so the
// expected output equals the input and eval mode is the identity. The mask comes from the
// global generator (cg_manual_seed), so runs are reproducible.
#include <stdio.h>

#include "../autograd/op.h"
#include "functional.h"

// The mask is not kept: backward draws it again from a copy of the generator's state at
// the forward (16 bytes instead of 4 per element, held until the graph is freed), the same
// draws in the same order, so the same mask.
typedef struct dropout_ctx {
    cg_rng rng; // the generator as the forward found it
    float p, scale;
} dropout_ctx;

// Element i's factor, the i-th draw of rng: kept with probability 1 - p (scaled), else 0.
static float mask_factor(cg_rng *rng, float p, float scale) {
    return cg_rng_uniform(rng) >= p ? scale : 0.0f;
}

// dx = g * mask
static void dropout_backward(cg_node *n, const cg_tensor *grad) {
    const dropout_ctx *c = n->ctx;
    cg_rng rng = c->rng;
    cg_tensor *dx = cg_empty_like(grad);
    if (!dx) return;
    for (int64_t i = 0; i < dx->numel; i++)
        dx->data[i] = grad->data[i] * mask_factor(&rng, c->p, c->scale);
    cg_accumulate_grad(n->inputs[0], dx);
}
const cg_op cg_op_dropout = {"dropout", dropout_backward, "generator state (mask drawn again)"};

cg_tensor *cg_dropout(cg_tensor *x, float p, bool training) {
    if (!cg_check_arg(x, "dropout", "input")) return NULL;
    if (!(p >= 0.0f && p <= 1.0f)) // also rejects NaN
        return cg_error(CG_ERR_ARG, "dropout: probability p = %g is not in [0, 1]", (double)p);
    if (!training || p == 0.0f) return x;
    cg_tensor *y = cg_empty_like(x);
    if (!y) return NULL;
    // p = 1 drops everything: zeros (and a zero gradient), as PyTorch.
    dropout_ctx c = {*cg_global_rng(), p, p < 1.0f ? 1.0f / (1.0f - p) : 0.0f};
    for (int64_t i = 0; i < x->numel; i++)
        y->data[i] = x->data[i] * mask_factor(cg_global_rng(), p, c.scale);
    cg_node *n = cg_record(y, &cg_op_dropout, 1, &x);
    if (n && !cg_node_set_ctx(n, &c, sizeof c)) { // reported by cg_alloc
        cg_free(y);
        return NULL;
    }
    return y;
}
