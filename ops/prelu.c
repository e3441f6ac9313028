// ops/prelu.c - PReLU (torch.nn.functional.prelu): y = x where x > 0, else weight[c] * x,
// c the index along dim 1 (the one weight of a 1-element weight for every element).
//
// As PyTorch 1.13's CPU kernel: `x > 0` decides, so NaN takes the weight's side (and stays
// NaN) and -0 stays -0.
#include "../autograd/op.h"
#include "activations.h"

// x seen as (outer, channels, inner) around dim 1; channels 1 for a shared weight.
typedef struct prelu_geometry {
    int64_t outer, channels, inner;
} prelu_geometry;

static prelu_geometry geometry(const cg_tensor *x, const cg_tensor *weight) {
    prelu_geometry g = {x->numel, 1, 1};
    if (weight->numel > 1) {
        g.outer = x->shape[0];
        g.channels = weight->numel;
        for (int d = 2; d < x->ndim; d++) g.inner *= x->shape[d];
    }
    return g;
}

// x (outer, C, inner), weight (C) -> y (outer, C, inner)
static void prelu_forward(const float *x, const float *w, float *y, prelu_geometry g) {
    for (int64_t o = 0; o < g.outer; o++)
        for (int64_t c = 0; c < g.channels; c++) {
            int64_t base = (o * g.channels + c) * g.inner;
            for (int64_t i = base; i < base + g.inner; i++) y[i] = x[i] > 0 ? x[i] : w[c] * x[i];
        }
}

// dx = g where x > 0, else weight[c] * g; dweight[c] = sum of g * x where x <= 0 (not > 0)
static void prelu_backward(cg_node *n, const cg_tensor *grad) {
    cg_tensor *x = n->inputs[0], *weight = n->inputs[1];
    prelu_geometry g = *(const prelu_geometry *)n->ctx;
    cg_tensor *dx = cg_needs_grad(n, 0) ? cg_empty_like(x) : NULL;
    cg_tensor *dw = cg_needs_grad(n, 1) ? cg_zeros_like(weight) : NULL;
    const float *xv = x->data, *w = weight->data, *gv = grad->data;
    for (int64_t c = 0; c < g.channels; c++) {
        double dw_c = 0;
        for (int64_t o = 0; o < g.outer; o++) {
            int64_t base = (o * g.channels + c) * g.inner;
            for (int64_t i = base; i < base + g.inner; i++) {
                bool positive = xv[i] > 0;
                if (dx) dx->data[i] = positive ? gv[i] : w[c] * gv[i];
                if (!positive) dw_c += (double)xv[i] * gv[i];
            }
        }
        if (dw) dw->data[c] = (float)dw_c;
    }
    if (dx) cg_accumulate_grad(x, dx);
    if (dw) cg_accumulate_grad(weight, dw);
}
const cg_op cg_op_prelu = {"prelu", prelu_backward, "input, weight"};

cg_tensor *cg_prelu(cg_tensor *x, cg_tensor *weight) {
    if (!cg_check_arg(x, "prelu", "input") || !cg_check_arg(weight, "prelu", "weight")) return NULL;
    if (weight->ndim > 1)
        return cg_error(CG_ERR_SHAPE,
                        "prelu: Expected `weight` to be a scalar or 1D tensor, but got ndim = %d",
                        weight->ndim);
    if (weight->numel == 0) return cg_error(CG_ERR_SHAPE, "prelu: weight has no elements");
    int64_t channels = x->ndim >= 2 ? x->shape[1] : 1;
    if (weight->numel != 1 && weight->numel != channels)
        return cg_error(CG_ERR_SHAPE,
                        "prelu: Mismatch of parameter numbers and input channel size. Found "
                        "parameter numbers = %lld and channel size = %lld.",
                        (long long)weight->numel, (long long)channels);
    cg_tensor *y = cg_empty_like(x);
    if (!y) return NULL;
    prelu_geometry g = geometry(x, weight);
    prelu_forward(x->data, weight->data, y->data, g);
    cg_node *n = cg_record(y, &cg_op_prelu, 2, (cg_tensor *[]){x, weight});
    if (n) cg_node_set_ctx(n, &g, sizeof g);
    return y;
}
