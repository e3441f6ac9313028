// ops/view.c - reshape-like views (sharing storage) and layout copies.
//
// cgrad tensors are always contiguous, so a view is a new header over the same storage at
// some offset: reshape/view/flatten/squeeze/unsqueeze/detach, and narrow along the first
// non-trivial dim. permute, transpose, cat and narrow elsewhere copy.
#include <string.h>

#include "../autograd/op.h"
#include "../tensor/checked.h"
#include "../tensor/tensor_internal.h"
#include "op_ctx_internal.h"
#include "view.h"

// Same elements in the same order: the gradient is g's data as is.
static void reshape_backward(cg_node *n, const cg_tensor *g) {
    cg_accumulate_grad_data(n->inputs[0], g->data);
}
const cg_op cg_op_reshape = {"reshape", reshape_backward, "nothing"};

static cg_tensor *reshape_view(cg_tensor *t, int ndim, const int64_t *shape) {
    cg_tensor *v = cg_tensor_view_of(t, ndim, shape, 0);
    if (v) cg_record(v, &cg_op_reshape, 1, &t);
    return v;
}

cg_tensor *cg_reshape(cg_tensor *t, int ndim, const int64_t *shape) {
    if (!cg_check_arg(t, "reshape", "input")) return NULL;
    if (ndim < 0 || ndim > CG_MAX_DIMS)
        return cg_error(CG_ERR_SHAPE, "reshape: %d dims requested (max %d)", ndim, CG_MAX_DIMS);
    if (ndim > 0 && !shape)
        return cg_error(CG_ERR_ARG, "reshape: argument 'shape' is NULL for %d dims", ndim);
    int64_t resolved[CG_MAX_DIMS], known = 1;
    int infer = -1;
    for (int i = 0; i < ndim; i++) {
        resolved[i] = shape[i];
        if (shape[i] == -1 && infer < 0)
            infer = i;
        else if (shape[i] < 0)
            return cg_error(CG_ERR_SHAPE, "reshape: invalid shape %s for input of shape %s",
                            cg_shape_str(ndim, shape), cg_tensor_shape_str(t));
    }
    // [7, 7905747460161236407] wraps to 1 element: the product is checked.
    if (!cg_shape_numel("reshape", "shape", ndim, shape, &known)) return NULL;
    if (infer >= 0) {
        if (known == 0 || t->numel % known != 0)
            return cg_error(CG_ERR_SHAPE,
                            "reshape: shape %s is invalid for input of shape %s "
                            "(%lld elements)",
                            cg_shape_str(ndim, shape), cg_tensor_shape_str(t), (long long)t->numel);
        resolved[infer] = t->numel / known;
        known *= resolved[infer];
    }
    if (known != t->numel)
        return cg_error(CG_ERR_SHAPE,
                        "reshape: shape %s is invalid for input of shape %s "
                        "(%lld elements)",
                        cg_shape_str(ndim, shape), cg_tensor_shape_str(t), (long long)t->numel);
    return reshape_view(t, ndim, resolved);
}

cg_tensor *cg_view(cg_tensor *t, int ndim, const int64_t *shape) {
    return cg_reshape(t, ndim, shape);
}

cg_tensor *cg_flatten(cg_tensor *t, int start_dim, int end_dim) {
    if (!cg_check_arg(t, "flatten", "input")) return NULL;
    if (t->ndim == 0) return reshape_view(t, CG_SHAPE(1));
    int s = cg_normalize_dim(start_dim, t->ndim, "flatten");
    int e = s < 0 ? -1 : cg_normalize_dim(end_dim, t->ndim, "flatten");
    if (e < 0) return NULL;
    if (s > e)
        return cg_error(CG_ERR_ARG, "flatten: start_dim %d comes after end_dim %d", start_dim,
                        end_dim);
    int64_t shape[CG_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < s; i++) shape[nd++] = t->shape[i];
    shape[nd] = 1;
    for (int i = s; i <= e; i++) shape[nd] *= t->shape[i];
    nd++;
    for (int i = e + 1; i < t->ndim; i++) shape[nd++] = t->shape[i];
    return reshape_view(t, nd, shape);
}

cg_tensor *cg_squeeze(cg_tensor *t, int dim) {
    if (!cg_check_arg(t, "squeeze", "input")) return NULL;
    int d = cg_normalize_dim(dim, t->ndim, "squeeze");
    if (d < 0) return NULL;
    int64_t shape[CG_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < t->ndim; i++)
        if (i != d || t->shape[i] != 1) shape[nd++] = t->shape[i];
    return reshape_view(t, nd, shape);
}

cg_tensor *cg_squeeze_all(cg_tensor *t) {
    if (!cg_check_arg(t, "squeeze", "input")) return NULL;
    int64_t shape[CG_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i < t->ndim; i++)
        if (t->shape[i] != 1) shape[nd++] = t->shape[i];
    return reshape_view(t, nd, shape);
}

cg_tensor *cg_unsqueeze(cg_tensor *t, int dim) {
    if (!cg_check_arg(t, "unsqueeze", "input")) return NULL;
    if (t->ndim == CG_MAX_DIMS)
        return cg_error(CG_ERR_SHAPE, "unsqueeze: input of shape %s already has %d dims",
                        cg_tensor_shape_str(t), CG_MAX_DIMS);
    int d = cg_normalize_dim(dim, t->ndim + 1, "unsqueeze");
    if (d < 0) return NULL;
    int64_t shape[CG_MAX_DIMS];
    int nd = 0;
    for (int i = 0; i <= t->ndim; i++) {
        if (i == d) shape[nd++] = 1;
        if (i < t->ndim) shape[nd++] = t->shape[i];
    }
    return reshape_view(t, nd, shape);
}

cg_tensor *cg_detach(cg_tensor *t) {
    if (!cg_check_arg(t, "detach", "input")) return NULL;
    return cg_tensor_view_of(t, t->ndim, t->shape, 0);
}

// ---- narrow: rows [start, start+len) of one dim --------------------------------------------

// The input seen as (outer, size, inner) around the narrowed dim (narrow_plan,
// op_ctx_internal.h).

static void narrow_backward(cg_node *n, const cg_tensor *g) {
    const narrow_plan *p = n->ctx;
    cg_tensor *dx = cg_grad_buffer(n->inputs[0]);
    if (!dx) return;
    int64_t block = p->length * p->inner;
    for (int64_t o = 0; o < p->outer; o++) {
        float *dst = dx->data + (o * p->size + p->start) * p->inner;
        const float *src = g->data + o * block;
        for (int64_t j = 0; j < block; j++) dst[j] += src[j];
    }
}
const cg_op cg_op_narrow = {"narrow", narrow_backward, "offsets"};

cg_tensor *cg_narrow(cg_tensor *t, int dim, int64_t start, int64_t length) {
    if (!cg_check_arg(t, "narrow", "input")) return NULL;
    int d = cg_normalize_dim(dim, t->ndim, "narrow");
    if (d < 0) return NULL;
    if (t->ndim == 0) return cg_error(CG_ERR_SHAPE, "narrow: cannot narrow a 0-d tensor");
    if (start < 0) start += t->shape[d];
    if (start < 0 || length < 0 || start + length > t->shape[d])
        return cg_error(CG_ERR_ARG, "narrow: rows [%lld, %lld) out of range for dim %d of shape %s",
                        (long long)start, (long long)(start + length), dim, cg_tensor_shape_str(t));
    narrow_plan p = {1, t->shape[d], 1, start, length};
    for (int i = 0; i < d; i++) p.outer *= t->shape[i];
    for (int i = d + 1; i < t->ndim; i++) p.inner *= t->shape[i];
    int64_t shape[CG_MAX_DIMS];
    memcpy(shape, t->shape, sizeof shape);
    shape[d] = length;
    cg_tensor *out;
    if (p.outer == 1) { // contiguous rows: share storage, as PyTorch's slicing does
        out = cg_tensor_view_of(t, t->ndim, shape, start * p.inner);
    } else {
        out = cg_empty(t->ndim, shape);
        if (!out) return NULL;
        int64_t block = length * p.inner;
        for (int64_t o = 0; o < p.outer; o++)
            memcpy(out->data + o * block, t->data + (o * p.size + start) * p.inner,
                   (size_t)block * sizeof(float));
    }
    cg_node *n = out ? cg_record(out, &cg_op_narrow, 1, &t) : NULL;
    if (n) cg_node_set_ctx(n, &p, sizeof p);
    return out;
}

cg_tensor *cg_slice(cg_tensor *t, int64_t start, int64_t end) {
    if (!cg_check_arg(t, "slice", "input")) return NULL;
    return cg_narrow(t, 0, start, end - start);
}

// ---- permute / transpose (copies) ----------------------------------------------------------

// out[i] = in[src(i)] where out dim k is input dim perm[k].
static void permute_copy(const cg_tensor *in, const int *perm, float *out) {
    int nd = in->ndim;
    int64_t in_strides[CG_MAX_DIMS], stride[CG_MAX_DIMS], shape[CG_MAX_DIMS],
        index[CG_MAX_DIMS] = {0};
    cg_contiguous_strides(nd, in->shape, in_strides);
    for (int k = 0; k < nd; k++) {
        stride[k] = in_strides[perm[k]];
        shape[k] = in->shape[perm[k]];
    }
    int64_t src = 0;
    for (int64_t i = 0; i < in->numel; i++) {
        out[i] = in->data[src];
        for (int k = nd - 1; k >= 0; k--) {
            src += stride[k];
            if (++index[k] < shape[k]) break;
            src -= stride[k] * shape[k]; // bounded: a live tensor's shape
            index[k] = 0;
        }
    }
}

// What permute saves: the permutation (op_ctx_internal.h).
static void permute_backward(cg_node *n, const cg_tensor *g) {
    const permutation *p = n->ctx;
    int nd = g->ndim, inverse[CG_MAX_DIMS];
    for (int k = 0; k < nd; k++) inverse[p->perm[k]] = k;
    cg_tensor *dx = cg_empty_like(n->inputs[0]);
    if (!dx) return;
    permute_copy(g, inverse, dx->data);
    cg_accumulate_grad_data(n->inputs[0], dx->data);
}
const cg_op cg_op_permute = {"permute", permute_backward, "permutation"};

cg_tensor *cg_permute(cg_tensor *t, const int *dims) {
    if (!cg_check_arg(t, "permute", "input")) return NULL;
    if (!dims && t->ndim > 0)
        return cg_error(CG_ERR_ARG, "permute: dims is NULL for input of shape %s",
                        cg_tensor_shape_str(t));
    permutation p = {{0}};
    int *perm = p.perm;
    bool seen[CG_MAX_DIMS] = {false};
    int64_t shape[CG_MAX_DIMS];
    for (int k = 0; k < t->ndim; k++) {
        int d = cg_normalize_dim(dims[k], t->ndim, "permute");
        if (d < 0) return NULL;
        if (seen[d])
            return cg_error(CG_ERR_ARG, "permute: dim %d repeated for input of shape %s", dims[k],
                            cg_tensor_shape_str(t));
        seen[d] = true;
        perm[k] = d;
        shape[k] = t->shape[d];
    }
    cg_tensor *out = cg_empty(t->ndim, shape);
    if (!out) return NULL;
    permute_copy(t, perm, out->data);
    cg_node *n = cg_record(out, &cg_op_permute, 1, &t);
    if (n) cg_node_set_ctx(n, &p, sizeof p);
    return out;
}

cg_tensor *cg_transpose(cg_tensor *t, int dim0, int dim1) {
    if (!cg_check_arg(t, "transpose", "input")) return NULL;
    int a = cg_normalize_dim(dim0, t->ndim, "transpose");
    int b = a < 0 ? -1 : cg_normalize_dim(dim1, t->ndim, "transpose");
    if (b < 0) return NULL;
    if (t->ndim == 0) return cg_copy(t);
    int perm[CG_MAX_DIMS];
    for (int k = 0; k < t->ndim; k++) perm[k] = k;
    perm[a] = b;
    perm[b] = a;
    return cg_permute(t, perm);
}

// ---- copy and cat ----------------------------------------------------------------------------

static void copy_backward(cg_node *n, const cg_tensor *g) {
    cg_accumulate_grad(n->inputs[0], g);
}
const cg_op cg_op_copy = {"copy", copy_backward, "nothing"};

cg_tensor *cg_copy(cg_tensor *t) {
    if (!cg_check_arg(t, "copy", "input")) return NULL;
    cg_tensor *out = cg_empty_like(t);
    if (!out) return NULL;
    memcpy(out->data, t->data, (size_t)t->numel * sizeof(float));
    cg_record(out, &cg_op_copy, 1, &t);
    return out;
}

// Each input is a block of (outer, size_i * inner) in the output; ctx holds the dim.
static void cat_backward(cg_node *n, const cg_tensor *g) {
    int d = *(const int *)n->ctx;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < d; i++) outer *= g->shape[i];
    for (int i = d + 1; i < g->ndim; i++) inner *= g->shape[i];
    int64_t row = g->shape[d] * inner, col = 0;
    for (int k = 0; k < n->n_inputs; k++) {
        cg_tensor *in = n->inputs[k];
        int64_t w = in->shape[d] * inner;
        if (in->requires_grad) {
            cg_tensor *dx = cg_grad_buffer(in);
            for (int64_t o = 0; dx && o < outer; o++)
                for (int64_t j = 0; j < w; j++) dx->data[o * w + j] += g->data[o * row + col + j];
        }
        col += w;
    }
}
const cg_op cg_op_cat = {"cat", cat_backward, "dim"};

cg_tensor *cg_cat(int count, cg_tensor *const *ts, int dim) {
    if (count < 1 || !ts) return cg_error(CG_ERR_ARG, "cat: expected at least one tensor");
    for (int k = 0; k < count; k++)
        if (!cg_check_arg(ts[k], "cat", "tensors")) return NULL;
    int d = cg_normalize_dim(dim, ts[0]->ndim, "cat");
    if (d < 0) return NULL;
    if (ts[0]->ndim == 0)
        return cg_error(CG_ERR_SHAPE, "cat: zero-dimensional tensors cannot be "
                                      "concatenated");
    int64_t shape[CG_MAX_DIMS];
    memcpy(shape, ts[0]->shape, sizeof shape);
    shape[d] = 0;
    for (int k = 0; k < count; k++) {
        bool fits = ts[k]->ndim == ts[0]->ndim;
        for (int i = 0; fits && i < ts[0]->ndim; i++)
            fits = i == d || ts[k]->shape[i] == ts[0]->shape[i];
        if (!fits)
            return cg_error(CG_ERR_SHAPE,
                            "cat: tensor %d has shape %s, expected %s except in dim %d", k,
                            cg_tensor_shape_str(ts[k]), cg_tensor_shape_str(ts[0]), dim);
        shape[d] += ts[k]->shape[d];
    }
    cg_tensor *out = cg_empty_for("cat", "output shape", ts[0]->ndim, shape);
    if (!out) return NULL;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < d; i++) outer *= shape[i];             // bounded: the allocated output
    for (int i = d + 1; i < out->ndim; i++) inner *= shape[i]; // bounded: the allocated output
    int64_t row = shape[d] * inner, col = 0;
    for (int k = 0; k < count; k++) {
        int64_t w = ts[k]->shape[d] * inner;
        for (int64_t o = 0; o < outer; o++)
            memcpy(out->data + o * row + col, ts[k]->data + o * w, (size_t)w * sizeof(float));
        col += w;
    }
    // The registry keeps up to CG_MAX_OP_INPUTS inputs; longer lists are recorded pairwise.
    if (count <= CG_MAX_OP_INPUTS) {
        cg_node *n = cg_record(out, &cg_op_cat, count, ts);
        if (n) cg_node_set_ctx(n, &d, sizeof d);
        return out;
    }
    cg_free(out);
    cg_tensor *head = cg_cat(CG_MAX_OP_INPUTS, ts, d);
    cg_tensor *pair[2] = {head, cg_cat(count - CG_MAX_OP_INPUTS, ts + CG_MAX_OP_INPUTS, d)};
    return cg_cat(2, pair, d);
}
