// ops/max_unpool.c - torch.nn.functional.max_unpool2d: the partial inverse of max_pool2d.
//
// Each input value goes to the flat position its index names in its output plane; all
// other outputs are zero. Backward gathers: dx[i] = dy[indices[i]].
#include <string.h>

#include "pool_internal.h"

// y[p, idx[p, i]] = x[p, i] (forward) or dx[p, i] = dy[p, idx[p, i]] (adjoint)
static void unpool_walk(const unpool_plan *u, const float *idx, float *x, float *y, bool adjoint) {
    for (int64_t p = 0; p < u->planes; p++)
        for (int64_t i = 0; i < u->in_plane; i++) {
            int64_t at = p * u->out_plane + (int64_t)idx[p * u->in_plane + i];
            if (adjoint)
                x[p * u->in_plane + i] = y[at];
            else
                y[at] = x[p * u->in_plane + i];
        }
}

static void max_unpool_backward(cg_node *n, const cg_tensor *grad) {
    cg_tensor *dx = cg_empty_like(n->inputs[0]);
    if (!dx) return;
    unpool_walk(n->ctx, n->saved[0]->data, dx->data, grad->data, true);
    cg_accumulate_grad(n->inputs[0], dx);
}
const cg_op cg_op_max_unpool2d = {"max_unpool2d", max_unpool_backward, "indices"};

// PyTorch's _unpool_output_size: (in - 1) * stride - 2 * padding + kernel by default; a
// requested size must lie in [default - stride, default + stride).
static bool unpool_size(const char *op, const cg_pool_options *r, int dim, int64_t in,
                        int requested, int64_t *out) {
    int64_t dflt = (in - 1) * r->stride_hw[dim] - 2 * r->padding_hw[dim] + r->kernel_size_hw[dim];
    *out = requested ? requested : dflt;
    if (*out <= 0 || (requested && (requested < dflt - r->stride_hw[dim] ||
                                    requested >= dflt + r->stride_hw[dim]))) {
        cg_error(CG_ERR_ARG,
                 "%s: output_size %lld of dim %d must be between %lld and %lld (the "
                 "default is %lld)",
                 op, (long long)*out, dim, (long long)(dflt - r->stride_hw[dim]),
                 (long long)(dflt + r->stride_hw[dim] - 1), (long long)dflt);
        return false;
    }
    return true;
}

static bool check_indices(const char *op, const cg_tensor *x, const cg_tensor *indices,
                          int64_t out_plane) {
    if (!cg_same_shape(x, indices)) {
        cg_error(CG_ERR_SHAPE, "%s: indices of shape %s do not match input of shape %s", op,
                 cg_tensor_shape_str(indices), cg_tensor_shape_str(x));
        return false;
    }
    for (int64_t i = 0; i < indices->numel; i++) {
        float v = indices->data[i];
        if (!(v >= 0 && v < (float)out_plane) || v != (float)(int64_t)v) {
            cg_error(CG_ERR_ARG,
                     "%s: found an invalid max index %g (output volumes are of size "
                     "%lld, input of shape %s)",
                     op, (double)v, (long long)out_plane, cg_tensor_shape_str(x));
            return false;
        }
    }
    return true;
}

cg_tensor *cg_max_unpool(const char *op, cg_tensor *x, cg_tensor *indices,
                         const cg_pool_options *options, int out_h, int out_w) {
    if (!cg_check_arg(x, op, "input") || !cg_check_arg(indices, op, "indices")) return NULL;
    cg_pool_options r;
    if (cg_pool_options_resolve(op, options, &r) < 0) return NULL;
    if (x->ndim != 3 && x->ndim != 4)
        return cg_error(CG_ERR_SHAPE, "%s: input must be (N, C, H, W) or (C, H, W), got %s", op,
                        cg_tensor_shape_str(x));
    int64_t H = x->shape[x->ndim - 2], W = x->shape[x->ndim - 1], OH, OW;
    if (out_h < 0 || out_w < 0)
        return cg_error(CG_ERR_ARG, "%s: output size (%d, %d) must not be negative", op, out_h,
                        out_w);
    if (!unpool_size(op, &r, 0, H, out_h, &OH) || !unpool_size(op, &r, 1, W, out_w, &OW))
        return NULL;
    if (!check_indices(op, x, indices, OH * OW)) return NULL;
    unpool_plan u = {H * W > 0 ? x->numel / (H * W) : 0,
                     H * W,
                     OH * OW,
                     {r.kernel_size_hw[0], r.kernel_size_hw[1]},
                     {r.stride_hw[0], r.stride_hw[1]},
                     {r.padding_hw[0], r.padding_hw[1]}};
    int64_t shape[4];
    memcpy(shape, x->shape, sizeof(int64_t) * (size_t)x->ndim);
    shape[x->ndim - 2] = OH;
    shape[x->ndim - 1] = OW;
    cg_tensor *y = cg_zeros(x->ndim, shape);
    if (!y) return NULL;
    unpool_walk(&u, indices->data, x->data, y->data, false);
    cg_node *n = cg_record(y, &cg_op_max_unpool2d, 1, &x);
    if (n) {
        cg_node_set_ctx(n, &u, sizeof u);
        cg_tensor *saved = cg_empty_like(indices); // the caller keeps its own
        if (saved) memcpy(saved->data, indices->data, (size_t)indices->numel * sizeof(float));
        cg_node_save(n, 0, saved);
    }
    return y;
}

cg_tensor *cg_max_unpool2d(cg_tensor *x, cg_tensor *indices, const cg_pool_options *options,
                           int out_h, int out_w) {
    return cg_max_unpool(cg_op_max_unpool2d.name, x, indices, options, out_h, out_w);
}
