// ops/interpolate.c - F.interpolate and its backward: one separable resampling for every
// mode.
//
// Each spatial dim has a weight table (ops/interpolate_weights.c): output index o of that
// dim is sum_k weight[o][k] * input[index[o][k]]. The forward applies the tables one dim at
// a time, the last dim first (PyTorch's nested loops do the same sums in the same order:
// bilinear is w_h0 * (w_w0 * x00 + w_w1 * x01) + w_h1 * (...)); the backward applies the
// transposed tables in the reverse order. Modes differ only in their tables.
#include <string.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "interpolate_internal.h"

// One pass along a dim: src (outer, in, inner) -> dst (outer, out, inner), or for the
// adjoint dst (outer, out, inner) -> src (outer, in, inner), zeroed first.
typedef struct pass {
    const interp_axis *t;
    int64_t outer, inner;
    float *src, *dst;
} pass;

// forward: dst[a, o, :] = sum_k w[o][k] * src[a, index[o][k], :]
static void pass_forward(void *ctx, int64_t a0, int64_t a1) {
    const pass *ps = ctx;
    const interp_axis *t = ps->t;
    const int64_t inner = ps->inner;
    for (int64_t a = a0; a < a1; a++) {
        const float *s = ps->src + a * t->in * inner;
        float *d = ps->dst + a * t->out * inner;
        for (int64_t o = 0; o < t->out; o++) {
            const int64_t *idx = t->index + o * t->taps;
            const float *w = t->weight + o * t->taps;
            float *row = d + o * inner;
            for (int64_t i = 0; i < inner; i++) row[i] = w[0] * s[idx[0] * inner + i];
            for (int k = 1; k < t->taps; k++) {
                const float *in = s + idx[k] * inner;
                for (int64_t i = 0; i < inner; i++) row[i] += w[k] * in[i];
            }
        }
    }
}

// adjoint: src[a, index[o][k], :] += w[o][k] * dst[a, o, :]
static void pass_adjoint(void *ctx, int64_t a0, int64_t a1) {
    const pass *ps = ctx;
    const interp_axis *t = ps->t;
    const int64_t inner = ps->inner;
    for (int64_t a = a0; a < a1; a++) {
        float *s = ps->src + a * t->in * inner;
        const float *d = ps->dst + a * t->out * inner;
        memset(s, 0, (size_t)(t->in * inner) * sizeof(float));
        for (int64_t o = 0; o < t->out; o++)
            for (int k = 0; k < t->taps; k++) {
                float w = t->weight[o * t->taps + k], *in = s + t->index[o * t->taps + k] * inner;
                for (int64_t i = 0; i < inner; i++) in[i] += w * d[o * inner + i];
            }
    }
}

// The (outer, inner) of dim d while dims after d hold their output sizes and dims before
// it their input sizes (the shape between passes).
static void pass_shape(const interp_plan *p, int d, int64_t *outer, int64_t *inner) {
    *outer = p->planes;
    *inner = 1;
    for (int e = 0; e < d; e++) *outer *= p->in[e];
    for (int e = d + 1; e < p->dims; e++) *inner *= p->out[e];
}

// x (planes, in...) -> y (planes, out...), or with `adjoint` dy -> dx; the passes between
// go through temporaries. `serial`: every pass on the calling thread.
static bool resample(const interp_plan *p, const float *from, float *to, bool adjoint,
                     bool serial) {
    interp_axis tables[CG_INTERP_MAX_DIMS] = {{0}};
    float *buffer[CG_INTERP_MAX_DIMS] = {NULL};
    bool ok = true;
    for (int d = 0; d < p->dims && ok; d++) ok = cg_interp_axis_build(p, d, &tables[d]);
    const float *cur = from;
    for (int step = 0; step < p->dims && ok; step++) {
        int d = adjoint ? step : p->dims - 1 - step; // forward: last dim first
        int64_t outer, inner;
        pass_shape(p, d, &outer, &inner);
        int64_t n_in = outer * tables[d].in * inner, n_out = outer * tables[d].out * inner;
        float *next = to;
        if (step < p->dims - 1) {
            next = buffer[step] = cg_alloc((size_t)(adjoint ? n_in : n_out) * sizeof(float));
            if (!next) ok = false;
        }
        if (!ok) break;
        pass ps = {&tables[d], outer, inner, adjoint ? next : (float *)cur,
                   adjoint ? (float *)cur : next};
        int64_t work = (n_in + n_out) / (outer > 0 ? outer : 1) * tables[d].taps + 1;
        cg_range_fn fn = adjoint ? pass_adjoint : pass_forward;
        if (serial)
            fn(&ps, 0, outer);
        else
            cg_parallel_for(outer, CG_PARALLEL_MIN / work, fn, &ps);
        cur = next;
    }
    for (int d = 0; d < CG_INTERP_MAX_DIMS; d++) {
        cg_interp_axis_free(&tables[d]);
        cg_dealloc(buffer[d]);
    }
    return ok;
}

bool cg_interp_resample_serial(const interp_plan *p, const float *from, float *to) {
    return resample(p, from, to, false, true);
}

// y = resample(x): dx = the transposed passes of dy, first dim first
static void interpolate_backward(cg_node *n, const cg_tensor *grad) {
    cg_tensor *dx = cg_empty_like(n->inputs[0]);
    if (!dx || !resample(n->ctx, grad->data, dx->data, true, false)) return;
    cg_accumulate_grad(n->inputs[0], dx);
}
const cg_op cg_op_interpolate = {"interpolate", interpolate_backward, "sizes, mode"};

cg_tensor *cg_interpolate(cg_tensor *x, const cg_interpolate_options *options) {
    interp_plan p;
    if (!cg_interp_resolve("interpolate", x, options, &p)) return NULL;
    int64_t shape[5] = {x->shape[0], x->shape[1]};
    for (int d = 0; d < p.dims; d++) shape[2 + d] = p.out[d];
    cg_tensor *y = cg_empty(x->ndim, shape);
    if (!y || !resample(&p, x->data, y->data, false, false)) {
        cg_free(y);
        return NULL;
    }
    cg_node *n = cg_record(y, &cg_op_interpolate, 1, &x);
    if (n) cg_node_set_ctx(n, &p, sizeof p);
    return y;
}
