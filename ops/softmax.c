// ops/softmax.c - softmax, log_softmax and softmin along one dim, numerically stable.
//
// The tensor is seen as (outer, len, inner) around `dim`; each of the outer*inner rows of
// `len` elements (stride `inner`) is normalised on its own after subtracting its maximum.
#include <math.h>

#include "../autograd/op.h"
#include "math.h"
#include "op_ctx_internal.h"
#include "../tensor/parallel.h"

static bool plan_rows(const cg_tensor *x, int dim, const char *op, softmax_plan *r) {
    int d = cg_normalize_dim(dim, x->ndim, op);
    if (d < 0) return false;
    r->outer = r->inner = 1;
    r->log_output = false;
    r->sign = 1;
    r->len = x->ndim ? x->shape[d] : 1;
    for (int k = 0; k < d; k++) r->outer *= x->shape[k];
    for (int k = d + 1; k < x->ndim; k++) r->inner *= x->shape[k];
    return true;
}

typedef struct softmax_job {
    const float *x;
    float *y;
    softmax_plan r;
} softmax_job;

// Rows [begin, end) of the outer * inner rows, each r.len long with stride r.inner.
static void softmax_range(void *ctx, int64_t begin, int64_t end) {
    const softmax_job *s = ctx;
    softmax_plan r = s->r;
    for (int64_t row = begin; row < end; row++) {
        int64_t o = row / r.inner, in = row % r.inner;
        const float *xr = s->x + o * r.len * r.inner + in;
        float *yr = s->y + o * r.len * r.inner + in;
        float max = -INFINITY;
        for (int64_t j = 0; j < r.len; j++) max = fmaxf(max, r.sign * xr[j * r.inner]);
        double sum = 0;
        for (int64_t j = 0; j < r.len; j++) sum += expf(r.sign * xr[j * r.inner] - max);
        float log_sum = (float)log(sum);
        for (int64_t j = 0; j < r.len; j++) {
            float shifted = r.sign * xr[j * r.inner] - max;
            yr[j * r.inner] = r.log_output ? shifted - log_sum : expf(shifted - log_sum);
        }
    }
}

static void softmax_rows(const float *x, float *y, softmax_plan r) {
    softmax_job s = {x, y, r};
    // exp is ~10x a plain load: rows of len elements count len * 10 toward the threshold
    int64_t min_rows = CG_PARALLEL_MIN / (10 * (r.len > 0 ? r.len : 1));
    cg_parallel_for(r.outer * r.inner, min_rows, softmax_range, &s);
}

// softmax: dx = y * (g - sum_j g_j y_j); log_softmax: dx = g - exp(y) * sum_j g_j;
// softmin: -(softmax's), by the chain rule through -x
static void softmax_backward(cg_node *n, const cg_tensor *grad) {
    softmax_plan r = *(const softmax_plan *)n->ctx;
    bool log_output = r.log_output;
    cg_tensor *dx_t = cg_empty_like(grad);
    if (!dx_t) return;
    const float *y = n->output->data, *g = grad->data;
    float *dx = dx_t->data;
    for (int64_t o = 0; o < r.outer; o++) {
        for (int64_t in = 0; in < r.inner; in++) {
            int64_t base = o * r.len * r.inner + in;
            double dot = 0;
            for (int64_t j = 0; j < r.len; j++) {
                int64_t k = base + j * r.inner;
                dot += log_output ? g[k] : g[k] * y[k];
            }
            for (int64_t j = 0; j < r.len; j++) {
                int64_t k = base + j * r.inner;
                dx[k] = r.sign *
                        (log_output ? g[k] - expf(y[k]) * (float)dot : y[k] * (g[k] - (float)dot));
            }
        }
    }
    cg_accumulate_grad(n->inputs[0], dx_t);
}

const cg_op cg_op_softmax = {"softmax", softmax_backward, "output"};
const cg_op cg_op_log_softmax = {"log_softmax", softmax_backward, "output"};
const cg_op cg_op_softmin = {"softmin", softmax_backward, "output"};

static cg_tensor *softmax(cg_tensor *x, int dim, bool log_output, float sign, const cg_op *op) {
    if (!cg_check_arg(x, op->name, "input")) return NULL;
    softmax_plan r;
    if (!plan_rows(x, dim, op->name, &r)) return NULL;
    cg_tensor *y = cg_empty_like(x);
    if (!y) return NULL;
    r.log_output = log_output;
    r.sign = sign;
    softmax_rows(x->data, y->data, r);
    cg_node *n = cg_record(y, op, 1, &x);
    if (n) cg_node_set_ctx(n, &r, sizeof r);
    return y;
}

cg_tensor *cg_softmax(cg_tensor *x, int dim) {
    return softmax(x, dim, false, 1, &cg_op_softmax);
}
cg_tensor *cg_log_softmax(cg_tensor *x, int dim) {
    return softmax(x, dim, true, 1, &cg_op_log_softmax);
}
cg_tensor *cg_softmin(cg_tensor *x, int dim) { // F.softmin: softmax(-x)
    return softmax(x, dim, false, -1, &cg_op_softmin);
}
