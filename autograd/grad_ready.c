// autograd/grad_ready.c - telling a listener when a leaf's gradient is final during backward.
//
// Data-parallel training (dist/) starts averaging a parameter's gradient while backward is
// still busy with earlier layers. For that it must know when no node left in this backward
// will add to the parameter's .grad: that is after the last node (in backward order) that
// has the leaf as an input. The plan lists, per node, the leaves it finishes.
#include <stdlib.h>

#include "../tensor/alloc.h"
#include "autograd.h"
#include "grad_ready_internal.h"

static cg_grad_ready_fn ready_fn;
static void *ready_ctx;

void cg_set_grad_ready_hook(cg_grad_ready_fn fn, void *ctx) {
    ready_fn = fn;
    ready_ctx = ctx;
}

void cg_grad_ready_leaf(cg_tensor *leaf) {
    if (ready_fn && leaf && leaf->requires_grad && !leaf->node) ready_fn(leaf, ready_ctx);
}

typedef struct ready_entry {
    cg_tensor *leaf;
    int64_t node; // index in the topological order; backward runs it from n-1 down to 0
} ready_entry;

static int by_leaf_then_node(const void *a, const void *b) {
    const ready_entry *x = a, *y = b;
    if (x->leaf != y->leaf) return (uintptr_t)x->leaf < (uintptr_t)y->leaf ? -1 : 1;
    return (x->node > y->node) - (x->node < y->node);
}
static int by_node_descending(const void *a, const void *b) {
    const ready_entry *x = a, *y = b;
    return (x->node < y->node) - (x->node > y->node);
}

cg_grad_ready_plan cg_grad_ready_plan_build(cg_node *const *order, int64_t n) {
    cg_grad_ready_plan plan = {NULL, 0, 0};
    if (!ready_fn || n == 0) return plan;
    ready_entry *e = cg_alloc((size_t)n * CG_MAX_OP_INPUTS * sizeof *e);
    if (!e) return plan;
    int64_t count = 0;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < order[i]->n_inputs; k++) {
            cg_tensor *in = order[i]->inputs[k];
            if (in && in->requires_grad && !in->node) e[count++] = (ready_entry){in, i};
        }
    // Per leaf keep the smallest node index: the last of its consumers that backward runs.
    qsort(e, (size_t)count, sizeof *e, by_leaf_then_node);
    int64_t kept = 0;
    for (int64_t i = 0; i < count; i++)
        if (i == 0 || e[i].leaf != e[i - 1].leaf) e[kept++] = e[i];
    qsort(e, (size_t)kept, sizeof *e, by_node_descending);
    plan.entries = e;
    plan.count = kept;
    return plan;
}

void cg_grad_ready_after(cg_grad_ready_plan *plan, int64_t node) {
    ready_entry *e = plan->entries;
    while (plan->next < plan->count && e[plan->next].node >= node)
        cg_grad_ready_leaf(e[plan->next++].leaf);
}

void cg_grad_ready_plan_free(cg_grad_ready_plan *plan) {
    cg_dealloc(plan->entries);
    plan->entries = NULL;
}
