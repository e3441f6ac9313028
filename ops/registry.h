// ops/registry.h - the table of every differentiable op, built from ops/ops.def.
// Tests walk it (every op has a gradcheck case); graph export and tools look ops up by name.
#ifndef CG_REGISTRY_H
#define CG_REGISTRY_H

#include "../autograd/op.h"

int cg_op_count(void);
const cg_op *cg_op_at(int i);
const cg_op *cg_op_find(const char *name);

#endif
