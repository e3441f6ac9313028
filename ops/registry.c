// ops/registry.c - the table of every op, built from ops/ops.def.
#include <string.h>

#include "registry.h"

#define CG_OP(name) extern const cg_op cg_op_##name;
#include "ops.def"
#undef CG_OP

static const cg_op *const all_ops[] = {
#define CG_OP(name) &cg_op_##name,
#include "ops.def"
#undef CG_OP
};

int cg_op_count(void) {
    return (int)(sizeof all_ops / sizeof all_ops[0]);
}
const cg_op *cg_op_at(int i) {
    return i >= 0 && i < cg_op_count() ? all_ops[i] : NULL;
}

const cg_op *cg_op_find(const char *name) {
    if (!cg_check_ptr(name, "op_find", "name")) return NULL;
    for (int i = 0; i < cg_op_count(); i++)
        if (strcmp(all_ops[i]->name, name) == 0) return all_ops[i];
    return NULL;
}
