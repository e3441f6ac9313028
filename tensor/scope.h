// tensor/scope.h - who frees a tensor: scopes, and tensors that belong to nobody yet.
//
// Ownership is a tensor-layer idea: a tensor is in at most one scope (a doubly linked list
// per open scope), and freeing it unlinks it. The autograd layer above only reads this.
#ifndef CG_SCOPE_H
#define CG_SCOPE_H

#include "tensor.h"

// ---- scopes: who frees intermediates ---------------------------------------------
// Everything created between cg_scope_begin() and cg_scope_end() - op outputs, grads of
// intermediates, temporaries - is freed by cg_scope_end(), except tensors passed to
// cg_keep(), which move to the enclosing scope (or to the caller if there is none).
// A kept tensor is detached from the graph (its producers are about to be freed).
// Typical training step:
//   cg_scope_begin();
//   cg_tensor *loss = cg_cross_entropy(cg_module_forward(model, x), y, ...);
//   cg_backward(loss);
//   float l = cg_item(loss);
//   cg_scope_end();           // frees activations; parameters and their grads live on
// Scopes are per thread: a tensor goes into the innermost scope of the thread that made it.
void cg_scope_begin(void);
void cg_scope_end(void);
cg_tensor *cg_keep(cg_tensor *t);
int cg_scope_depth(void);

// ---- for op authors -----------------------------------------------------------------
// An unscoped tensor (owned by nobody until given to a node, a module or a tensor).
cg_tensor *cg_empty_unscoped(int ndim, const int64_t *shape);
// Take t out of its scope (the caller becomes responsible for it). NULL is fine.
void cg_unscope(cg_tensor *t);

#endif
