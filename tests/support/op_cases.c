// tests/support/op_cases.c - runs the cases of op_cases.def (see op_cases.h).
#include "op_cases.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testing.h"

// How the values of one input are drawn.
typedef enum domain {
    ANY,      // N(0, 1)
    POSITIVE, // U(0.5, 2)
    NONZERO,  // +-U(0.5, 2): away from the kink of abs/relu and the pole of 1/x
    DISTINCT, // no two values within 0.2: max/min have a unique, stable winner
    PROB,     // U(0.05, 0.95), requires grad (a probability target)
    NO_GRAD,  // N(0, 1), does not require grad (where's condition)
    MASK,     // 0/1 values, no grad
} domain;

typedef struct op_case {
    const char *name;
    cg_gradcheck_fn fn;
    int n;
    int ndim[3];
    int64_t shape[3][4];
    domain dom[3];
    float avoid[2]; // kinks of the function (clamp bounds...): values near them are moved
} op_case;

// ---- helpers for cases that need more than one expression ------------------------------------

// Fresh running statistics every call, so each evaluation sees the same function.
static cg_tensor *batch_norm(cg_tensor **in, bool training) {
    cg_tensor *rm = cg_full(CG_SHAPE(in[0]->shape[1]), 0.2f);
    cg_tensor *rv = cg_full(CG_SHAPE(in[0]->shape[1]), 1.5f);
    return cg_batch_norm2d(in[0], rm, rv, in[1], in[2], training, 0.1f, 1e-5f);
}
static cg_tensor *batch_norm_relu(cg_tensor **in, bool training) {
    cg_tensor *rm = cg_full(CG_SHAPE(in[0]->shape[1]), 0.2f);
    cg_tensor *rv = cg_full(CG_SHAPE(in[0]->shape[1]), 1.5f);
    return cg_batch_norm_relu(in[0], rm, rv, in[1], in[2], training, 0.1f, 1e-5f);
}
// Instance norm with given per-channel statistics (eval mode of a tracking InstanceNorm2d).
static cg_tensor *instance_norm_eval(cg_tensor **in) {
    cg_tensor *rm = cg_full(CG_SHAPE(in[0]->shape[1]), -0.3f);
    cg_tensor *rv = cg_full(CG_SHAPE(in[0]->shape[1]), 0.7f);
    return cg_instance_norm(in[0], 2, rm, rv, in[1], in[2], false, 0.1f, 1e-5f);
}
// The same mask every call: the generator is reseeded.
static cg_tensor *seeded_dropout(cg_tensor *x) {
    cg_manual_seed(99);
    return cg_dropout(x, 0.4f, true);
}
// The same masks every call: the generator is reseeded before the dropout.
#define seeded(call) (cg_manual_seed(99), call)
// A view whose result is used twice, so gradients of views accumulate.
static cg_tensor *view_used_twice(cg_tensor *x) {
    cg_tensor *v = cg_reshape(x, CG_SHAPE(2, 6));
    cg_tensor *t = cg_transpose(x, 0, 1);
    return cg_add(cg_mul(v, v), cg_reshape(cg_tanh(t), CG_SHAPE(2, 6)));
}
// x (1, 2, 3, 2) put back where a 2x2 max pooling of a fixed (1, 2, 6, 4) plane found its
// maxima, so the indices are valid and distinct.
static cg_tensor *unpool_fixed(cg_tensor *x) {
    const cg_pool_options k2 = {.kernel_size = 2};
    cg_tensor *plane = cg_zeros(CG_SHAPE(1, 2, 6, 4)), *indices = NULL;
    for (int64_t i = 0; i < plane->numel; i++) plane->data[i] = (float)((i * 7) % 48);
    cg_max_pool2d_with_indices(plane, &k2, &indices);
    return cg_max_unpool2d(x, indices, &k2, 0, 0);
}
// Class indices, as the class losses take them.
#define CLASSES(...)                                                                               \
    cg_from_data(CG_SHAPE(sizeof((float[]){__VA_ARGS__}) / sizeof(float)), (float[]){__VA_ARGS__})

// ---- the table: one function and one entry per line of op_cases.def -------------------------

#define GC(name, expr, ...)                                                                        \
    static cg_tensor *gc_##name(cg_tensor **in, void *ctx) {                                       \
        (void)ctx;                                                                                 \
        return expr;                                                                               \
    }
#include "op_cases.def"
#undef GC

static const op_case CASES[] = {
#define GC(id, expr, ...) {.name = #id, .fn = gc_##id, __VA_ARGS__},
#include "op_cases.def"
#undef GC
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

// ---- running them ---------------------------------------------------------------------------

static cg_tensor *make_input(int ndim, const int64_t *shape, domain dom) {
    cg_tensor *t = cg_randn(ndim, shape, NULL);
    for (int64_t i = 0; i < t->numel; i++) {
        float u = 0.5f + 1.5f * cg_rng_uniform(NULL);
        if (dom == POSITIVE) t->data[i] = u;
        if (dom == NONZERO) t->data[i] = t->data[i] < 0 ? -u : u;
        if (dom == MASK) t->data[i] = t->data[i] > 0 ? 1.0f : 0.0f;
        if (dom == PROB) t->data[i] = 0.05f + 0.9f * cg_rng_uniform(NULL);
    }
    if (dom == DISTINCT) { // a shuffled ladder 0.3 apart, plus noise < 0.1
        cg_tensor *perm = cg_randperm(t->numel, NULL);
        for (int64_t i = 0; i < t->numel; i++)
            t->data[i] = 0.3f * (perm->data[i] - (float)t->numel / 2) + 0.1f * cg_rng_uniform(NULL);
    }
    if (dom != NO_GRAD && dom != MASK) cg_requires_grad(t, true);
    return t;
}

// Move values within 0.05 of a kink (where the gradient jumps) 0.1 away from it.
static void avoid_kinks(cg_tensor *t, const float *kinks) {
    for (int64_t i = 0; i < t->numel; i++)
        for (int k = 0; k < 2; k++) {
            float *v = &t->data[i], at = kinks[k];
            if (fabsf(*v - at) < 0.05f) *v = *v < at ? at - 0.1f : at + 0.1f;
        }
}

// Names of the ops recorded in the graph behind t (depth-first), appended to seen[].
static void collect_ops(const cg_tensor *t, const char **seen, int *n_seen, int max) {
    if (!t || !t->node) return;
    const char *name = t->node->op->name;
    bool known = false;
    for (int i = 0; i < *n_seen; i++) known |= strcmp(seen[i], name) == 0;
    if (!known && *n_seen < max) seen[(*n_seen)++] = name;
    for (int i = 0; i < t->node->n_inputs; i++) collect_ops(t->node->inputs[i], seen, n_seen, max);
}

// FNV-1a of the case's name: each case draws its inputs from a generator seeded by its own
// name, so adding or moving a case never changes another case's inputs.
static uint64_t name_seed(const char *name) {
    uint64_t h = 1469598103934665603u;
    for (; *name; name++) h = (h ^ (uint8_t)*name) * 1099511628211u;
    return h;
}

void cg_test_gradcheck_all_ops(void) {
    enum { MAX_SEEN = 256 };
    const char *seen[MAX_SEEN];
    int n_seen = 0;
    for (int c = 0; c < N_CASES; c++) {
        const op_case *gc = &CASES[c];
        cg_manual_seed(name_seed(gc->name));
        cg_scope_begin();
        cg_tensor *inputs[3];
        for (int i = 0; i < gc->n; i++)
            inputs[i] = make_input(gc->ndim[i], gc->shape[i], gc->dom[i]);
        if (gc->avoid[0] || gc->avoid[1]) avoid_kinks(inputs[0], gc->avoid);
        cg_test_gradcheck(gc->fn, NULL, gc->n, inputs, gc->name);
        collect_ops(gc->fn(inputs, NULL), seen, &n_seen, MAX_SEEN);
        cg_scope_end();
    }
    // Every differentiable op of the registry must have been recorded; all missing ones are
    // named at once.
    char missing[1024] = "";
    for (int i = 0; i < cg_op_count(); i++) {
        const cg_op *op = cg_op_at(i);
        bool found = false;
        for (int k = 0; k < n_seen; k++) found |= strcmp(seen[k], op->name) == 0;
        if (!found && op->backward && strlen(missing) + strlen(op->name) + 3 < sizeof missing)
            strcat(strcat(missing, " "), op->name);
    }
    if (missing[0])
        fail_msg("ops of ops/ops.def without a gradcheck case:%s (add a GC(...) line that "
                 "records each to tests/support/op_cases.def)",
                 missing);
}
