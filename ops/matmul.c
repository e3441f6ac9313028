// ops/matmul.c - torch.matmul on top of cg_gemm.
//
// Every case is reduced to a batch of (m,k) x (k,n) products: a 1-D left operand is a
// (1,k) matrix, a 1-D right operand a (k,1) matrix, and batch dims broadcast. Forward,
// and both gradients, are then one loop over the batch calling cg_gemm with transpose
// flags: dA = G B^T, dB = A^T G (beta = 1 sums over broadcast batch entries).
#include <string.h>

#include <stdio.h>

#include "../tensor/checked.h"
#include "../autograd/op.h"
#include "../kernels/gemm.h"
#include "math.h"

typedef struct matmul_plan {
    int64_t m, k, n;
    int batch_ndim;
    int64_t batch_shape[CG_MAX_DIMS];
    int64_t a_stride[CG_MAX_DIMS], b_stride[CG_MAX_DIMS]; // in matrices, 0 if broadcast
    int64_t batch;                                        // product of batch_shape
} matmul_plan;

static bool plan_matmul(const cg_tensor *a, const cg_tensor *b, matmul_plan *p, int *out_ndim,
                        int64_t *out_shape) {
    if (a->ndim == 0 || b->ndim == 0) {
        cg_error(CG_ERR_SHAPE, "matmul: both arguments need at least 1 dim, got %s and %s",
                 cg_tensor_shape_str(a), cg_tensor_shape_str(b));
        return false;
    }
    p->m = a->ndim == 1 ? 1 : a->shape[a->ndim - 2];
    p->k = a->shape[a->ndim - 1];
    int64_t kb = b->ndim == 1 ? b->shape[0] : b->shape[b->ndim - 2];
    p->n = b->ndim == 1 ? 1 : b->shape[b->ndim - 1];
    if (p->k != kb) {
        cg_error(CG_ERR_SHAPE, "matmul: cannot multiply %s by %s: inner dims %lld != %lld",
                 cg_tensor_shape_str(a), cg_tensor_shape_str(b), (long long)p->k, (long long)kb);
        return false;
    }
    int na = a->ndim > 2 ? a->ndim - 2 : 0, nb = b->ndim > 2 ? b->ndim - 2 : 0;
    char op[160]; // the batch dims alone do not say which operands failed: name them all
    snprintf(op, sizeof op, "matmul of %s and %s", cg_tensor_shape_str(a), cg_tensor_shape_str(b));
    if (!cg_broadcast_shapes(na, a->shape, nb, b->shape, &p->batch_ndim, p->batch_shape, op))
        return false;
    cg_broadcast_strides(na, a->shape, p->batch_ndim, p->batch_shape, p->a_stride);
    cg_broadcast_strides(nb, b->shape, p->batch_ndim, p->batch_shape, p->b_stride);
    p->batch = 1;
    *out_ndim = 0;
    for (int i = 0; i < p->batch_ndim; i++) {
        p->batch *= p->batch_shape[i];
        out_shape[(*out_ndim)++] = p->batch_shape[i];
    }
    if (a->ndim > 1) out_shape[(*out_ndim)++] = p->m;
    if (b->ndim > 1) out_shape[(*out_ndim)++] = p->n;
    return true;
}

// Matrix index into a and b for batch entry i.
static void batch_offsets(const matmul_plan *p, int64_t i, int64_t *ia, int64_t *ib) {
    *ia = *ib = 0;
    for (int d = p->batch_ndim - 1; d >= 0; d--) {
        int64_t idx = i % p->batch_shape[d];
        i /= p->batch_shape[d];
        *ia += idx * p->a_stride[d];
        *ib += idx * p->b_stride[d];
    }
}

// The gradient buffer of input x, whose matrices hold `matrix` floats. Unless x was
// broadcast over the batch, every batch entry writes its own matrix once, so the buffer
// needs no zero fill (beta 0); a broadcast one sums the entries that share it (beta 1).
static cg_tensor *gradient_buffer(const cg_tensor *x, int64_t matrix, int64_t batch, float *beta) {
    bool written_once = x->numel == matrix * batch;
    *beta = written_once ? 0.0f : 1.0f;
    return written_once ? cg_empty_like(x) : cg_zeros_like(x);
}

static void matmul_backward(cg_node *n, const cg_tensor *g) {
    const matmul_plan *p = n->ctx;
    cg_tensor *a = n->inputs[0], *b = n->inputs[1];
    int64_t mk = p->m * p->k, kn = p->k * p->n, mn = p->m * p->n;
    float beta_a = 1.0f, beta_b = 1.0f;
    cg_tensor *da = cg_needs_grad(n, 0) ? gradient_buffer(a, mk, p->batch, &beta_a) : NULL;
    cg_tensor *db = cg_needs_grad(n, 1) ? gradient_buffer(b, kn, p->batch, &beta_b) : NULL;
    for (int64_t i = 0; i < p->batch; i++) {
        int64_t ia, ib;
        batch_offsets(p, i, &ia, &ib);
        const float *gi = g->data + i * mn;
        if (da) // dA (m,k) += G (m,n) * B^T
            cg_gemm(false, true, p->m, p->k, p->n, 1.0f, gi, p->n, b->data + ib * kn, p->n, beta_a,
                    da->data + ia * mk, p->k);
        if (db) // dB (k,n) += A^T * G
            cg_gemm(true, false, p->k, p->n, p->m, 1.0f, a->data + ia * mk, p->k, gi, p->n, beta_b,
                    db->data + ib * kn, p->n);
    }
    if (da) cg_accumulate_grad(a, da);
    if (db) cg_accumulate_grad(b, db);
}
const cg_op cg_op_matmul = {"matmul", matmul_backward, "both inputs"};

cg_tensor *cg_matmul(cg_tensor *a, cg_tensor *b) {
    if (!cg_check_arg(a, "matmul", "a") || !cg_check_arg(b, "matmul", "b")) return NULL;
    matmul_plan p;
    int ndim;
    int64_t shape[CG_MAX_DIMS + 2];
    if (!plan_matmul(a, b, &p, &ndim, shape)) return NULL;
    if (ndim > CG_MAX_DIMS)
        return cg_error(CG_ERR_SHAPE, "matmul: result would have %d dims", ndim);
    cg_tensor *out = cg_empty_for("matmul", "output shape", ndim, shape);
    if (!out) return NULL;
    int64_t mk = p.m * p.k, kn = p.k * p.n, mn = p.m * p.n;
    for (int64_t i = 0; i < p.batch; i++) {
        int64_t ia, ib;
        batch_offsets(&p, i, &ia, &ib);
        cg_gemm(false, false, p.m, p.n, p.k, 1.0f, a->data + ia * mk, p.k, b->data + ib * kn, p.n,
                0.0f, out->data + i * mn, p.n);
    }
    cg_node *n = cg_record(out, &cg_op_matmul, 2, (cg_tensor *[]){a, b});
    if (n) cg_node_set_ctx(n, &p, sizeof p);
    return out;
}
