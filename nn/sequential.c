// nn/sequential.c - torch.nn.Sequential: children "0", "1", ... run in order.
#include <stdio.h>

#include "layers.h"

static cg_tensor *sequential_forward(cg_module *m, cg_tensor *x) {
    for (int i = 0; i < m->n_children && x; i++) x = cg_module_forward(m->children[i], x);
    return x;
}

// Printed by cg_module_print from its children.
static const cg_module_class sequential_class = {"Sequential", sequential_forward, NULL, NULL};

// Takes ownership of every module, also on failure: a NULL entry (a constructor that
// failed) makes it free the others and return NULL.
cg_module *cg_Sequential(int n, cg_module *const *modules) {
    if (n < 0 || (n > 0 && !modules))
        return cg_error(CG_ERR_ARG, "Sequential: %d modules at %p", n, (const void *)modules);
    int missing = -1;
    for (int i = 0; i < n && missing < 0; i++)
        if (!modules[i]) missing = i;
    cg_module *m = missing < 0 ? cg_module_new(&sequential_class, NULL, 0) : NULL;
    int added = 0;
    for (; m && added < n; added++) {
        char name[16];
        snprintf(name, sizeof name, "%d", added);
        if (!cg_module_add_child(m, name, modules[added])) break;
    }
    if (m && added == n) return m;
    for (int i = m ? added : 0; i < n; i++) cg_module_free(modules[i]);
    cg_module_free(m);
    if (missing >= 0)
        cg_error(CG_ERR_ARG, "Sequential: module %d is NULL (its constructor failed)", missing);
    return NULL;
}
