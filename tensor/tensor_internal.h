// tensor/tensor_internal.h - helpers shared by the files of cgrad's library (not installed).
#ifndef CG_TENSOR_INTERNAL_H
#define CG_TENSOR_INTERNAL_H

#include "tensor.h"

// A new tensor (in the current scope) sharing t's storage, starting `offset` elements in.
cg_tensor *cg_tensor_view_of(cg_tensor *t, int ndim, const int64_t *shape, int64_t offset);

// Row-major strides of a shape, in elements.
static inline void cg_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i]; // bounded: a live tensor's shape
    }
}

// How many tensors exist (created and not yet freed), in the whole process.
int64_t cg_live_tensor_count(void);

// Free t's values but keep the tensor (its shape, grad, node and place in a scope): t->data
// becomes NULL. Only when t holds the only reference to its storage; returns whether it did.
bool cg_tensor_release_data(cg_tensor *t);

// ---- scopes (tensor/scope.c) --------------------------------------------------------------
// Put a new tensor in the innermost open scope (no-op when none is open).
void cg_scope_adopt(cg_tensor *t);
// Take a tensor out of the scope that holds it (no-op when in none).
void cg_scope_remove(cg_tensor *t);
// Whether t belongs to the innermost open scope (a temporary of the code running now).
bool cg_scope_is_innermost(const cg_tensor *t);

// ---- the graph node a tensor may point at -------------------------------------------------
// The tensor layer does not know what a node is; the layer that creates nodes (autograd)
// registers how to free one and how to name it, and freeing, detaching or printing a tensor
// goes through these hooks.
typedef struct cg_node_hooks {
    void (*destroy)(struct cg_node *node);
    const char *(*name)(const struct cg_node *node); // the op's name, for grad_fn=<...>
} cg_node_hooks;
void cg_set_node_hooks(const cg_node_hooks *hooks);
// Free t's node (if any) and make t a leaf that does not require grad.
void cg_tensor_drop_node(cg_tensor *t);
// The name of the op that made t, or NULL for a leaf.
const char *cg_tensor_node_name(const cg_tensor *t);

#endif
