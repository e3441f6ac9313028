// io/module_dot.c - DOT export with module paths: the model's state dict gives every tensor
// its dotted name; those names are lent to the tensors while autograd/dot.c writes.
#include "../autograd/autograd.h"
#include "../tensor/alloc.h"
#include "module_dot.h"

// Lend the state dict's names to its tensors (saving theirs in `old`), or give them back.
static void swap_names(cg_tensor_list *sd, const char **old, bool lend) {
    for (int i = 0; i < sd->count; i++) {
        cg_tensor *t = sd->items[i].tensor;
        if (lend)
            old[i] = t->name, t->name = sd->items[i].name;
        else
            t->name = old[i];
    }
}

static int with_paths(const cg_module *model, const cg_tensor *t, FILE *out, const char *path) {
    if (!model) {
        cg_error(CG_ERR_ARG, "module_save_dot: model is NULL");
        return -1;
    }
    cg_tensor_list sd = cg_module_state_dict(model);
    if (sd.count < 0) return -1;
    const char **old = cg_alloc((size_t)(sd.count ? sd.count : 1) * sizeof *old);
    if (!old) {
        cg_tensor_list_free(&sd);
        return -1;
    }
    swap_names(&sd, old, true);
    int rc = out ? cg_graph_to_dot(t, out) : cg_graph_save_dot(t, path);
    swap_names(&sd, old, false);
    cg_dealloc(old);
    cg_tensor_list_free(&sd);
    return rc;
}

int cg_module_graph_to_dot(const cg_module *model, const cg_tensor *t, FILE *out) {
    if (!out) {
        cg_error(CG_ERR_ARG, "module_graph_to_dot: out is NULL");
        return -1;
    }
    return with_paths(model, t, out, NULL);
}

int cg_module_save_dot(const cg_module *model, const cg_tensor *t, const char *path) {
    return with_paths(model, t, NULL, path);
}
