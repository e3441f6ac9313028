// ops/reduce.c - sum, mean, var, max/min over dims, with keepdim.
//
// A reduction maps input element i to output element off(i), where off reads the output
// (in its keepdim shape) through strides that are 0 along reduced dims. Backward is the
// same map the other way: every input element takes the gradient of its output element.
#include <math.h>
#include <string.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "math.h"
#include "op_ctx_internal.h"
#include "../tensor/tensor_internal.h"

static bool plan_reduction(const cg_tensor *x, int ndims, const int *dims, bool keepdim,
                           const char *op, reduction *r) {
    memset(r, 0, sizeof *r);
    r->ndim = x->ndim;
    if (ndims < 0 || (ndims > 0 && !dims)) {
        cg_error(CG_ERR_ARG, "%s: %s (ndims %d) for input of shape %s", op,
                 ndims < 0 ? "ndims is negative" : "dims is NULL", ndims, cg_tensor_shape_str(x));
        return false;
    }
    for (int i = 0; i < ndims; i++) {
        int d = cg_normalize_dim(dims[i], x->ndim, op);
        if (d < 0) return false;
        if (x->ndim > 0 && r->reduced[d]) {
            cg_error(CG_ERR_ARG, "%s: dim %d appears twice in the list of dims", op, dims[i]);
            return false;
        }
        if (x->ndim > 0) r->reduced[d] = true;
    }
    if (ndims == 0)
        for (int d = 0; d < x->ndim; d++) r->reduced[d] = true;
    r->count = 1;
    for (int d = 0; d < x->ndim; d++) {
        r->keep_shape[d] = r->reduced[d] ? 1 : x->shape[d];
        if (r->reduced[d]) r->count *= x->shape[d];
        if (!r->reduced[d] || keepdim) r->out_shape[r->out_ndim++] = r->keep_shape[d];
    }
    return true;
}

// The output offset of each input element, visited in order: calls body(i, off).
#define FOR_EACH_REDUCED(x, r, ...)                                                                \
    do {                                                                                           \
        int64_t st_[CG_MAX_DIMS], ix_[CG_MAX_DIMS] = {0}, off = 0;                                 \
        cg_broadcast_strides((x)->ndim, (r)->keep_shape, (x)->ndim, (x)->shape, st_);              \
        for (int64_t i = 0; i < (x)->numel; i++) {                                                 \
            __VA_ARGS__;                                                                           \
            for (int d_ = (x)->ndim - 1; d_ >= 0; d_--) {                                          \
                off += st_[d_];                                                                    \
                if (++ix_[d_] < (x)->shape[d_]) break;                                             \
                off -= st_[d_] * (x)->shape[d_];                                                   \
                ix_[d_] = 0;                                                                       \
            }                                                                                      \
        }                                                                                          \
    } while (0)

static void reduce_sum(const cg_tensor *x, const reduction *r, double *acc) {
    FOR_EACH_REDUCED(x, r, acc[off] += x->data[i]);
}

// dx[i] = scale * g[off(i)] (+ optional per-element factor), the backward of sum and mean.
static cg_tensor *expand_grad(const cg_tensor *x, const reduction *r, const cg_tensor *g,
                              float scale) {
    cg_tensor *dx = cg_empty_like(x);
    if (!dx) return NULL;
    FOR_EACH_REDUCED(x, r, dx->data[i] = scale * g->data[off]);
    return dx;
}

static void store_reduction(const reduction *r, cg_node *n) {
    if (!n) return;
    cg_node_set_ctx(n, r, sizeof *r);
}

static void sum_backward(cg_node *n, const cg_tensor *g) {
    const reduction *r = n->ctx;
    cg_accumulate_grad(n->inputs[0], expand_grad(n->inputs[0], r, g, 1.0f));
}
static void mean_backward(cg_node *n, const cg_tensor *g) {
    const reduction *r = n->ctx;
    cg_accumulate_grad(n->inputs[0], expand_grad(n->inputs[0], r, g, 1.0f / (float)r->count));
}
const cg_op cg_op_sum = {"sum", sum_backward, "reduced dims"};
const cg_op cg_op_mean = {"mean", mean_backward, "reduced dims"};

static cg_tensor *sum_or_mean(cg_tensor *x, int ndims, const int *dims, bool keepdim,
                              const cg_op *op, bool mean) {
    if (!cg_check_arg(x, op->name, "input")) return NULL;
    reduction r;
    if (!plan_reduction(x, ndims, dims, keepdim, op->name, &r)) return NULL;
    cg_tensor *out = cg_empty(r.out_ndim, r.out_shape);
    double *acc = out ? cg_alloc_zeroed((size_t)out->numel * sizeof *acc) : NULL;
    if (!acc) return out ? cg_error(CG_ERR_MEMORY, "%s: out of memory", op->name) : NULL;
    reduce_sum(x, &r, acc); // double accumulation: long sums stay exact to float precision
    for (int64_t i = 0; i < out->numel; i++)
        out->data[i] = (float)(mean ? acc[i] / (double)r.count : acc[i]);
    cg_dealloc(acc);
    store_reduction(&r, cg_record(out, op, 1, &x));
    return out;
}

cg_tensor *cg_sum(cg_tensor *x, int ndims, const int *dims, bool keepdim) {
    return sum_or_mean(x, ndims, dims, keepdim, &cg_op_sum, false);
}
cg_tensor *cg_mean(cg_tensor *x, int ndims, const int *dims, bool keepdim) {
    return sum_or_mean(x, ndims, dims, keepdim, &cg_op_mean, true);
}

// ---- var ---------------------------------------------------------------------------------

// var = sum((x - mean)^2) / (count - correction); dx = g * 2 (x - mean) / (count - correction)
static void var_backward(cg_node *n, const cg_tensor *g) {
    const reduction *r = n->ctx;
    cg_tensor *x = n->inputs[0];
    const float *mean = n->saved[0]->data;
    float scale = 2.0f / (float)(r->count - r->correction);
    cg_tensor *dx = cg_empty_like(x);
    if (!dx) return;
    FOR_EACH_REDUCED(x, r, dx->data[i] = scale * g->data[off] * (x->data[i] - mean[off]));
    cg_accumulate_grad(x, dx);
}
const cg_op cg_op_var = {"var", var_backward, "mean, reduced dims"};

cg_tensor *cg_var(cg_tensor *x, int ndims, const int *dims, int correction, bool keepdim) {
    if (!cg_check_arg(x, "var", "input")) return NULL;
    reduction r;
    if (!plan_reduction(x, ndims, dims, keepdim, "var", &r)) return NULL;
    if (correction < 0) return cg_error(CG_ERR_ARG, "var: correction %d must be >= 0", correction);
    r.correction = correction;
    cg_tensor *out = cg_empty(r.out_ndim, r.out_shape);
    cg_tensor *mean = cg_empty(x->ndim, r.keep_shape);
    double *acc = out && mean ? cg_alloc_zeroed((size_t)out->numel * sizeof *acc) : NULL;
    if (!acc) return NULL;
    reduce_sum(x, &r, acc);
    for (int64_t i = 0; i < out->numel; i++) mean->data[i] = (float)(acc[i] / (double)r.count);
    memset(acc, 0, (size_t)out->numel * sizeof *acc);
    FOR_EACH_REDUCED(x, &r, {
        double dev = (double)x->data[i] - mean->data[off];
        acc[off] += dev * dev;
    });
    double denom = (double)(r.count - correction);
    for (int64_t i = 0; i < out->numel; i++)
        out->data[i] = denom > 0 ? (float)(acc[i] / denom) : NAN; // as torch: nan if too few
    cg_dealloc(acc);
    cg_node *n = cg_record(out, &cg_op_var, 1, &x);
    if (n) {
        store_reduction(&r, n);
        cg_node_save(n, 0, mean);
    } else {
        cg_free(mean);
    }
    return out;
}

// ---- max / min ---------------------------------------------------------------------------

// Gradient flows only to the selected element (saved as a flat input index per output).
static void select_backward(cg_node *n, const cg_tensor *g) {
    cg_tensor *x = n->inputs[0];
    const float *idx = n->saved[0]->data;
    cg_tensor *dx = cg_zeros_like(x);
    if (!dx) return;
    for (int64_t i = 0; i < g->numel; i++) dx->data[(int64_t)idx[i]] += g->data[i];
    cg_accumulate_grad(x, dx);
}
const cg_op cg_op_max = {"max", select_backward, "argmax indices"};
const cg_op cg_op_min = {"min", select_backward, "argmin indices"};

// values and/or indices of the max (sign +1) or min (sign -1) along one dim (or all).
static cg_tensor *select_extreme(cg_tensor *x, int dim, bool all, bool keepdim, int sign,
                                 bool want_indices, const char *name, const cg_op *op) {
    if (!cg_check_arg(x, name, "input")) return NULL;
    reduction r;
    if (!plan_reduction(x, all ? 0 : 1, all ? NULL : &dim, keepdim, name, &r)) return NULL;
    // As PyTorch: only an empty reduced dim has no extreme; max over dim 1 of [0, 3] is [0].
    if (all && x->numel == 0)
        return cg_error(CG_ERR_SHAPE, "%s: input of shape %s is empty", name,
                        cg_tensor_shape_str(x));
    if (!all && x->ndim > 0 && x->shape[cg_normalize_dim(dim, x->ndim, name)] == 0)
        return cg_error(CG_ERR_SHAPE,
                        "%s: input of shape %s is empty along dim %d (expected the reduced dim "
                        "to have a non-zero size)",
                        name, cg_tensor_shape_str(x), dim);
    cg_tensor *values = cg_empty(r.out_ndim, r.out_shape);
    cg_tensor *flat = cg_empty(r.out_ndim, r.out_shape); // flat input index of the winner
    if (!values || !flat) return NULL;
    int64_t reduced_stride = 1; // stride of `dim` in the input: to turn flat into dim index
    if (!all) {
        int d = cg_normalize_dim(dim, x->ndim, name);
        for (int k = d + 1; k < x->ndim; k++) reduced_stride *= x->shape[k];
    }
    for (int64_t i = 0; i < values->numel; i++) values->data[i] = NAN, flat->data[i] = -1;
    // First occurrence wins; NaN propagates as in PyTorch.
    FOR_EACH_REDUCED(x, &r, {
        float v = x->data[i], best = values->data[off];
        if (flat->data[off] < 0 || (!isnan(best) && (isnan(v) || sign * (v - best) > 0))) {
            values->data[off] = v;
            flat->data[off] = (float)i;
        }
    });
    if (want_indices) {
        for (int64_t i = 0; i < flat->numel; i++) {
            int64_t f = (int64_t)flat->data[i];
            flat->data[i] = all ? (float)f
                                : (float)((f / reduced_stride) %
                                          x->shape[cg_normalize_dim(dim, x->ndim, name)]);
        }
        cg_free(values);
        return flat;
    }
    cg_node *n = cg_record(values, op, 1, &x);
    if (n) {
        cg_node_save(n, 0, flat);
        store_reduction(&r, n); // read by graph export only (the backward reads flat)
    } else {
        cg_free(flat);
    }
    return values;
}

cg_tensor *cg_max(cg_tensor *x, int dim, bool keepdim) {
    return select_extreme(x, dim, false, keepdim, 1, false, "max", &cg_op_max);
}
cg_tensor *cg_min(cg_tensor *x, int dim, bool keepdim) {
    return select_extreme(x, dim, false, keepdim, -1, false, "min", &cg_op_min);
}
cg_tensor *cg_argmax(cg_tensor *x, int dim, bool keepdim) {
    return select_extreme(x, dim, false, keepdim, 1, true, "argmax", &cg_op_max);
}
cg_tensor *cg_argmin(cg_tensor *x, int dim, bool keepdim) {
    return select_extreme(x, dim, false, keepdim, -1, true, "argmin", &cg_op_min);
}
cg_tensor *cg_max_all(cg_tensor *x) {
    return select_extreme(x, 0, true, false, 1, false, "max", &cg_op_max);
}
cg_tensor *cg_min_all(cg_tensor *x) {
    return select_extreme(x, 0, true, false, -1, false, "min", &cg_op_min);
}
