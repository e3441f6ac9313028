// autograd/autograd_internal.h - glue between tensors, scopes and graph nodes.
#ifndef CG_AUTOGRAD_INTERNAL_H
#define CG_AUTOGRAD_INTERNAL_H

#include "op.h"

// Put a new tensor in the innermost open scope (no-op when none is open).
void cg_scope_adopt(cg_tensor *t);
// Take a tensor out of the scope that holds it (no-op when in none).
void cg_scope_remove(cg_tensor *t);
// Free what a node saved for backward (keeps the node itself).
void cg_node_release(cg_node *n);
// Free a node and everything it owns.
void cg_node_free(cg_node *n);

#endif
