// autograd/grad_ready_internal.h - the engine's side of cg_set_grad_ready_hook.
#ifndef CG_GRAD_READY_INTERNAL_H
#define CG_GRAD_READY_INTERNAL_H

#include "op.h"

// Which leaves become final after which node of a backward pass (empty without a hook).
typedef struct cg_grad_ready_plan {
    void *entries;
    int64_t count, next;
} cg_grad_ready_plan;
cg_grad_ready_plan cg_grad_ready_plan_build(cg_node *const *order, int64_t n);
// Node `node` of the order has run (or was skipped): report the leaves it finished.
void cg_grad_ready_after(cg_grad_ready_plan *plan, int64_t node);
void cg_grad_ready_plan_free(cg_grad_ready_plan *plan);
// Report one leaf (backward called on a leaf itself).
void cg_grad_ready_leaf(cg_tensor *leaf);

#endif
