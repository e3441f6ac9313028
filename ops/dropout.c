// ops/dropout.c - inverted dropout (torch.nn.functional.dropout, torch.nn.Dropout).
//
// In training each element is kept with probability 1-p and scaled by 1/(1-p), so the
// expected output equals the input and eval mode is the identity. The mask comes from the
// global generator (cg_manual_seed), so runs are reproducible.
#include <stdio.h>

#include "../autograd/op.h"
#include "functional.h"

// dx = g * mask (the mask already holds 0 or 1/(1-p))
static void dropout_backward(cg_node *n, const cg_tensor *grad) {
    const cg_tensor *mask = n->saved[0];
    cg_tensor *dx = cg_empty_like(grad);
    if (!dx) return;
    for (int64_t i = 0; i < dx->numel; i++) dx->data[i] = grad->data[i] * mask->data[i];
    cg_accumulate_grad(n->inputs[0], dx);
}
const cg_op cg_op_dropout = {"dropout", dropout_backward, "scaled mask"};

cg_tensor *cg_dropout(cg_tensor *x, float p, bool training) {
    if (!cg_check_arg(x, "dropout", "input")) return NULL;
    if (!(p >= 0.0f && p <= 1.0f)) // also rejects NaN
        return cg_error(CG_ERR_ARG, "dropout: probability p = %g is not in [0, 1]", (double)p);
    if (!training || p == 0.0f) return x;
    cg_tensor *mask = cg_rand(x->ndim, x->shape, NULL);
    cg_tensor *y = cg_empty_like(x);
    if (!mask || !y) {
        cg_free(mask);
        cg_free(y);
        return NULL;
    }
    // p = 1 drops everything: zeros (and a zero gradient), as PyTorch.
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    for (int64_t i = 0; i < x->numel; i++) {
        mask->data[i] = mask->data[i] >= p ? scale : 0.0f;
        y->data[i] = x->data[i] * mask->data[i];
    }
    cg_node *n = cg_record(y, &cg_op_dropout, 1, &x);
    if (n)
        cg_node_save(n, 0, mask);
    else
        cg_free(mask);
    return y;
}
