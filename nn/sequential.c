// nn/sequential.c - torch.nn.Sequential (children run in order, named "0", "1", ... or as
// given) and torch.nn.ModuleList (children only).
#include <stdio.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "containers.h"
#include "layers.h"

// A child and the next may run as one fused op (Conv2d + ReLU, ReLU + MaxPool2d, BatchNorm1d/2d
// + ReLU): the same values and gradients, with one pass and one tensor fewer; or, in eval
// with no parameter gradient wanted, Conv2d + BatchNorm2d as one folded convolution (the
// same values up to rounding, docs/normalisation.md).
// Child i fuses with child i + 1 when they pair, unless child i + 1 pairs with child i + 2:
// then the later pair runs. A ReLU between a Conv2d and a MaxPool2d goes with the pooling:
// ReLU + MaxPool2d saves a full-size pass forward and backward, Conv2d + ReLU one forward.
static bool fuse_next(const cg_module *m, int i) {
    cg_module *const *c = m->children;
    int n = m->n_children;
    return i + 1 < n && cg_module_pairs(c[i], c[i + 1]) &&
           !(i + 2 < n && cg_module_pairs(c[i + 1], c[i + 2]));
}

// Each child's output is freed as soon as the next child has returned, when nothing can use
// it any more (cg_free_consumed: evaluation without a graph), so an evaluation pass holds
// about two activations at a time instead of every layer's; never x, nor the output.
static cg_tensor *sequential_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *h = x;
    for (int i = 0; i < m->n_children && h; i++) {
        bool pair = fuse_next(m, i);
        cg_tensor *next = pair ? cg_module_forward_pair(m->children[i], m->children[i + 1], h)
                               : cg_module_forward(m->children[i], h);
        i += pair;
        cg_free_consumed(h, x, next);
        h = next;
    }
    return h;
}
static cg_tensor *module_list_forward(cg_module *m, cg_tensor *x) {
    (void)x;
    return cg_error(CG_ERR_STATE, "%s has no forward: run its children", m->cls->name);
}

// Printed by cg_module_print from their children.
static const cg_module_class sequential_class = {.name = "Sequential",
                                                 .forward = sequential_forward};
static const cg_module_class module_list_class = {.name = "ModuleList",
                                                  .forward = module_list_forward};

// Whether names (NULL: indices) are usable child names; reports the first bad one.
static bool check_names(const char *cls, int n, const char *const *names) {
    for (int i = 0; names && i < n; i++) {
        bool ok = names[i] && names[i][0] && !strchr(names[i], '.');
        for (int k = 0; ok && k < i; k++) ok = strcmp(names[k], names[i]) != 0;
        if (!ok) {
            cg_error(CG_ERR_ARG, "%s: name %d \"%s\" is empty, holds a '.' or repeats a name", cls,
                     i, names[i] ? names[i] : "(null)");
            return false;
        }
    }
    return true;
}

// A container of class cls owning every module (also on failure).
static cg_module *container(const cg_module_class *cls, int n, const char *const *names,
                            cg_module *const *modules) {
    if (n < 0 || (n > 0 && !modules))
        return cg_error(CG_ERR_ARG, "%s: %d modules at %p", cls->name, n, (const void *)modules);
    int missing = -1;
    for (int i = 0; i < n && missing < 0; i++)
        if (!modules[i]) missing = i;
    bool named = check_names(cls->name, n, names);
    cg_module *m = missing < 0 && named ? cg_module_new(cls, NULL, 0) : NULL;
    int added = 0;
    for (; m && added < n; added++) {
        char index[16];
        snprintf(index, sizeof index, "%d", added);
        if (!cg_module_add_child(m, names ? names[added] : index, modules[added])) break;
    }
    if (m && added == n) return m;
    for (int i = m ? added : 0; i < n; i++) cg_module_free(modules[i]);
    cg_module_free(m);
    if (missing >= 0 && named)
        cg_error(CG_ERR_ARG, "%s: module %d is NULL (its constructor failed)", cls->name, missing);
    return NULL;
}

cg_module *cg_Sequential(int n, cg_module *const *modules) {
    return container(&sequential_class, n, NULL, modules);
}
cg_module *cg_Sequential_named(int n, const char *const *names, cg_module *const *modules) {
    if (n > 0 && !names) { // the container owns the modules also on failure
        for (int i = 0; modules && i < n; i++) cg_module_free(modules[i]);
        return cg_error(CG_ERR_ARG, "Sequential: names is NULL");
    }
    return container(&sequential_class, n, names, modules);
}
cg_module *cg_ModuleList(int n, cg_module *const *modules) {
    return container(&module_list_class, n, NULL, modules);
}

cg_module *cg_ModuleList_append(cg_module *list, cg_module *module) {
    if (!list || list->cls != &module_list_class || !module) {
        cg_module_free(module);
        return cg_error(CG_ERR_ARG, "ModuleList_append: %s",
                        !module ? "module is NULL" : "list is not a ModuleList");
    }
    char index[16];
    snprintf(index, sizeof index, "%d", list->n_children);
    if (!cg_module_add_child(list, index, module)) {
        cg_module_free(module);
        return NULL;
    }
    return module;
}
