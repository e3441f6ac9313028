// ops/linear.c - y = x W^T + b (torch.nn.functional.linear) and the Linear module.
//
// Every leading dim of x is a row: x is seen as (rows, in), so forward and both weight
// gradients are single cg_gemm calls with transpose flags, whatever the batch shape.
#include <stdio.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../kernels/gemm.h"
#include "functional.h"

// The number of rows of x seen as (rows, in): every dim but the last.
static int64_t leading_rows(const cg_tensor *x) {
    int64_t rows = 1;
    for (int d = 0; d + 1 < x->ndim; d++) rows *= x->shape[d];
    return rows;
}

// y (rows, out) = x (rows, in) W^T (in, out) + b (out)
static void linear_forward(const float *x, const float *w, const float *b, float *y, int64_t rows,
                           int64_t in, int64_t out) {
    cg_gemm(false, true, rows, out, in, 1.0f, x, in, w, in, 0.0f, y, out);
    if (!b) return;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t o = 0; o < out; o++) y[r * out + o] += b[o];
}

// dx (rows, in) = g (rows, out) W (out, in); dW (out, in) = g^T x; db (out) = sum_rows g
static void linear_backward(cg_node *n, const cg_tensor *grad) {
    cg_tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->inputs[2];
    int64_t in = w->shape[1], out = w->shape[0], rows = leading_rows(x);
    const float *g = grad->data;
    if (cg_needs_grad(n, 0)) {
        cg_tensor *dx = cg_empty_like(x);
        if (!dx) return;
        cg_gemm(false, false, rows, in, out, 1.0f, g, out, w->data, in, 0.0f, dx->data, in);
        cg_accumulate_grad(x, dx);
    }
    if (cg_needs_grad(n, 1)) {
        cg_tensor *dw = cg_empty_like(w);
        if (!dw) return;
        cg_gemm(true, false, out, in, rows, 1.0f, g, out, x->data, in, 0.0f, dw->data, in);
        cg_accumulate_grad(w, dw);
    }
    if (b && cg_needs_grad(n, 2)) {
        cg_tensor *db = cg_zeros_like(b);
        if (!db) return;
        for (int64_t r = 0; r < rows; r++)
            for (int64_t o = 0; o < out; o++) db->data[o] += g[r * out + o];
        cg_accumulate_grad(b, db);
    }
}
const cg_op cg_op_linear = {"linear", linear_backward, "nothing (reads input and weight)"};

cg_tensor *cg_linear(cg_tensor *x, cg_tensor *weight, cg_tensor *bias) {
    if (!cg_check_arg(x, "linear", "input") || !cg_check_arg(weight, "linear", "weight"))
        return NULL;
    if (weight->ndim != 2)
        return cg_error(CG_ERR_SHAPE,
                        "linear: weight must be 2-D (out_features, in_features), got %s",
                        cg_tensor_shape_str(weight));
    int64_t out = weight->shape[0], in = weight->shape[1];
    if (x->ndim == 0 || x->shape[x->ndim - 1] != in)
        return cg_error(CG_ERR_SHAPE,
                        "linear: input %s does not end in in_features = %lld (weight %s)",
                        cg_tensor_shape_str(x), (long long)in, cg_tensor_shape_str(weight));
    if (bias && (bias->ndim != 1 || bias->shape[0] != out))
        return cg_error(CG_ERR_SHAPE, "linear: bias %s must be [%lld] for weight %s",
                        cg_tensor_shape_str(bias), (long long)out, cg_tensor_shape_str(weight));
    int64_t shape[CG_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = out;
    cg_tensor *y = cg_empty(x->ndim, shape);
    if (!y) return NULL;
    linear_forward(x->data, weight->data, bias ? bias->data : NULL, y->data, leading_rows(x), in,
                   out);
    cg_node *n = cg_record(y, &cg_op_linear, 3, (cg_tensor *[]){x, weight, bias});
    if (n) n->unread = CG_OP_OUTPUT_UNREAD; // backward reads x and the weight, not y
    return y;
}
