// tensor/shape.c - shapes: argument checks, PyTorch broadcasting, shapes in messages.
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "tensor_internal.h"

bool cg_check_arg(const cg_tensor *t, const char *op, const char *arg) {
    cg_alloc_set_op(op); // out-of-memory messages from here on name this op
    if (t && t->liveness == CG_TENSOR_LIVE) return true;
    if (t) {
        cg_error(CG_ERR_STATE,
                 "%s: argument '%s' is a freed tensor (used after cg_free, or after "
                 "cg_scope_end freed the scope that made it: cg_keep() moves a tensor out)",
                 op, arg);
        return false;
    }
    // A NULL from an earlier failure keeps that failure's message.
    if (cg_last_error() == CG_OK) cg_error(CG_ERR_ARG, "%s: argument '%s' is NULL", op, arg);
    return false;
}

int cg_normalize_dim(int dim, int ndim, const char *op) {
    int lo = ndim > 0 ? -ndim : -1, hi = ndim > 0 ? ndim - 1 : 0;
    if (dim < lo || dim > hi) {
        cg_error(CG_ERR_ARG, "%s: dim %d out of range for a %d-d tensor (expected %d..%d)", op, dim,
                 ndim, lo, hi);
        return -1;
    }
    return dim < 0 ? dim + (ndim > 0 ? ndim : 1) : dim;
}

bool cg_broadcast_shapes(int na, const int64_t *a, int nb, const int64_t *b, int *nout,
                         int64_t *out, const char *op) {
    int n = na > nb ? na : nb;
    for (int i = 0; i < n; i++) {
        int ia = na - n + i, ib = nb - n + i;
        int64_t sa = ia >= 0 ? a[ia] : 1, sb = ib >= 0 ? b[ib] : 1;
        if (sa != sb && sa != 1 && sb != 1) {
            cg_error(CG_ERR_SHAPE,
                     "%s: shapes %s and %s cannot be broadcast (dim %d: %lld vs %lld)", op,
                     cg_shape_str(na, a), cg_shape_str(nb, b), i, (long long)sa, (long long)sb);
            return false;
        }
        out[i] = sa == 1 ? sb : sa;
    }
    *nout = n;
    return true;
}

void cg_broadcast_strides(int n, const int64_t *shape, int nout, const int64_t *out,
                          int64_t *strides) {
    int64_t s = 1;
    for (int i = nout - 1; i >= 0; i--) {
        int k = n - nout + i;
        if (k >= 0 && shape[k] != 1) {
            strides[i] = s;
            s *= shape[k];
        } else {
            strides[i] = 0;
            if (k >= 0) s *= shape[k];
        }
        (void)out;
    }
}

// Sum over the dims where `shape` was broadcast: every element of g adds into the element
// of the result it was broadcast from.
cg_tensor *cg_sum_to_shape(const cg_tensor *g, int ndim, const int64_t *shape) {
    cg_tensor *r = cg_zeros(ndim, shape);
    if (!r) return NULL;
    int64_t strides[CG_MAX_DIMS], index[CG_MAX_DIMS] = {0};
    cg_broadcast_strides(ndim, shape, g->ndim, g->shape, strides);
    int64_t off = 0;
    for (int64_t i = 0; i < g->numel; i++) {
        r->data[off] += g->data[i];
        for (int d = g->ndim - 1; d >= 0; d--) { // odometer step
            off += strides[d];
            if (++index[d] < g->shape[d]) break;
            off -= strides[d] * g->shape[d];
            index[d] = 0;
        }
    }
    return r;
}

// Sixteen rotating thread-local buffers: one message may hold several tuples and shapes,
// and threads format their messages independently.
const char *cg_tuple_str(cg_tuple_style style, int n, const int64_t *v) {
    enum { SLOTS = 16, SIZE = 96 };
    static _Thread_local char ring[SLOTS][SIZE];
    static _Thread_local int next;
    char *buf = ring[next++ % SLOTS];
    bool all_equal = n > 0;
    for (int i = 1; i < n; i++) all_equal = all_equal && v[i] == v[0];
    if (style == CG_TUPLE_COMPACT && all_equal) {
        snprintf(buf, SIZE, "%lld", (long long)v[0]);
        return buf;
    }
    bool shape = style == CG_TUPLE_SHAPE;
    size_t len = 0;
    buf[len++] = shape ? '[' : '(';
    for (int i = 0; i < n && len < SIZE - 16; i++)
        len += (size_t)snprintf(buf + len, SIZE - len, "%s%lld",
                                i == 0  ? ""
                                : shape ? ","
                                        : ", ",
                                (long long)v[i]);
    snprintf(buf + len, SIZE - len, "%s", shape ? "]" : n == 1 ? ",)" : ")");
    return buf;
}

const char *cg_shape_str(int ndim, const int64_t *shape) {
    return cg_tuple_str(CG_TUPLE_SHAPE, ndim, shape);
}

const char *cg_tensor_shape_str(const cg_tensor *t) {
    return t ? cg_shape_str(t->ndim, t->shape) : "(null)";
}
