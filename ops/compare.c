// ops/compare.c - comparisons: 1.0 where true, 0.0 where false; not differentiable.
#include "../autograd/op.h"
#include "math.h"

typedef enum { EQ, NE, LT, LE, GT, GE } compare_kind;

static float compare(compare_kind k, float a, float b) {
    switch (k) {
    case EQ:
        return a == b;
    case NE:
        return a != b;
    case LT:
        return a < b;
    case LE:
        return a <= b;
    case GT:
        return a > b;
    case GE:
        return a >= b;
    }
    return 0;
}

static cg_tensor *compare_tensors(compare_kind k, const char *op, cg_tensor *a, cg_tensor *b) {
    if (!cg_check_arg(a, op, "a") || !cg_check_arg(b, op, "b")) return NULL;
    int ndim;
    int64_t shape[CG_MAX_DIMS], sa[CG_MAX_DIMS], sb[CG_MAX_DIMS], index[CG_MAX_DIMS] = {0};
    if (!cg_broadcast_shapes(a->ndim, a->shape, b->ndim, b->shape, &ndim, shape, op)) return NULL;
    cg_tensor *out = cg_empty(ndim, shape);
    if (!out) return NULL;
    cg_broadcast_strides(a->ndim, a->shape, ndim, shape, sa);
    cg_broadcast_strides(b->ndim, b->shape, ndim, shape, sb);
    int64_t ia = 0, ib = 0;
    for (int64_t i = 0; i < out->numel; i++) {
        out->data[i] = compare(k, a->data[ia], b->data[ib]);
        for (int d = ndim - 1; d >= 0; d--) {
            ia += sa[d];
            ib += sb[d];
            if (++index[d] < shape[d]) break;
            ia -= sa[d] * shape[d]; // bounded: the allocated output's shape
            ib -= sb[d] * shape[d]; // bounded: the allocated output's shape
            index[d] = 0;
        }
    }
    return out;
}

static cg_tensor *compare_scalar(compare_kind k, const char *op, cg_tensor *a, float s) {
    if (!cg_check_arg(a, op, "a")) return NULL;
    cg_tensor *out = cg_empty_like(a);
    if (!out) return NULL;
    for (int64_t i = 0; i < a->numel; i++) out->data[i] = compare(k, a->data[i], s);
    return out;
}

cg_tensor *cg_eq(cg_tensor *a, cg_tensor *b) {
    return compare_tensors(EQ, "eq", a, b);
}
cg_tensor *cg_ne(cg_tensor *a, cg_tensor *b) {
    return compare_tensors(NE, "ne", a, b);
}
cg_tensor *cg_lt(cg_tensor *a, cg_tensor *b) {
    return compare_tensors(LT, "lt", a, b);
}
cg_tensor *cg_le(cg_tensor *a, cg_tensor *b) {
    return compare_tensors(LE, "le", a, b);
}
cg_tensor *cg_gt(cg_tensor *a, cg_tensor *b) {
    return compare_tensors(GT, "gt", a, b);
}
cg_tensor *cg_ge(cg_tensor *a, cg_tensor *b) {
    return compare_tensors(GE, "ge", a, b);
}
cg_tensor *cg_gt_scalar(cg_tensor *a, float s) {
    return compare_scalar(GT, "gt", a, s);
}
cg_tensor *cg_lt_scalar(cg_tensor *a, float s) {
    return compare_scalar(LT, "lt", a, s);
}
cg_tensor *cg_eq_scalar(cg_tensor *a, float s) {
    return compare_scalar(EQ, "eq", a, s);
}
