// nn/wrappers.c - Residual (x + fn(x)), Identity and Unflatten (nn/containers.h).
#include <stdio.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../tensor/checked.h"
#include "../ops/math.h"
#include "../ops/view.h"
#include "containers.h"
#include "layers_internal.h"

static cg_tensor *residual_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *fx = cg_module_forward(m->children[0], x);
    cg_tensor *y = fx ? cg_add(x, fx) : NULL;
    cg_free_consumed(fx, x, y); // evaluation: fx is dead once added
    return y;
}
static const cg_module_class residual_class = {.name = "Residual", .forward = residual_forward};

cg_module *cg_Residual(cg_module *fn) {
    if (!fn) return cg_error(CG_ERR_ARG, "Residual: fn is NULL (its constructor failed)");
    cg_module *m = cg_module_new(&residual_class, NULL, 0);
    if (!m || !cg_module_add_child(m, "fn", fn)) {
        cg_module_free(m);
        cg_module_free(fn);
        return NULL;
    }
    return m;
}

static cg_tensor *identity_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    return x;
}
static const cg_module_class identity_class = {.name = "Identity", .forward = identity_forward};

cg_module *cg_Identity(void) {
    return cg_module_new(&identity_class, NULL, 0);
}

// ---- Unflatten ------------------------------------------------------------------------------

typedef struct unflatten_config {
    int dim, ndim;
    int64_t sizes[CG_MAX_DIMS];
} unflatten_config;

// sizes hold at most one -1 (checked by cg_Unflatten), which cg_reshape infers.
static cg_tensor *unflatten_forward(cg_module *m, cg_tensor *x) {
    const unflatten_config *c = m->impl;
    int d = cg_normalize_dim(c->dim, x->ndim, "Unflatten");
    if (d < 0) return NULL;
    if (x->ndim - 1 + c->ndim > CG_MAX_DIMS)
        return cg_error(CG_ERR_SHAPE, "Unflatten: input %s would get more than %d dims",
                        cg_tensor_shape_str(x), CG_MAX_DIMS);
    int64_t shape[CG_MAX_DIMS], known = 1;
    bool infer = false;
    int n = 0;
    for (int k = 0; k < d; k++) shape[n++] = x->shape[k];
    for (int k = 0; k < c->ndim; k++) {
        shape[n++] = c->sizes[k];
        infer = infer || c->sizes[k] == -1;
    }
    if (!cg_shape_numel("Unflatten", "unflattened_size", c->ndim, c->sizes, &known)) return NULL;
    for (int k = d + 1; k < x->ndim; k++) shape[n++] = x->shape[k];
    bool fits = infer ? known > 0 && x->shape[d] % known == 0 : known == x->shape[d];
    if (!fits)
        return cg_error(CG_ERR_SHAPE, "Unflatten: dim %d of input %s (size %lld) cannot be %s",
                        c->dim, cg_tensor_shape_str(x), (long long)x->shape[d],
                        cg_shape_str(c->ndim, c->sizes));
    return cg_reshape(x, n, shape);
}

static void unflatten_describe(const cg_module *m, char *buf, size_t size) {
    const unflatten_config *c = m->impl;
    int used = snprintf(buf, size, "Unflatten(dim=%d, unflattened_size=(", c->dim);
    for (int k = 0; k < c->ndim && used > 0 && (size_t)used < size; k++)
        used += snprintf(buf + used, size - (size_t)used, k ? ", %lld" : "%lld",
                         (long long)c->sizes[k]);
    if (used > 0 && (size_t)used < size)
        snprintf(buf + used, size - (size_t)used, "%s))", c->ndim == 1 ? "," : "");
}
static const cg_module_class unflatten_class = {
    .name = "Unflatten", .forward = unflatten_forward, .describe = unflatten_describe};

cg_module *cg_Unflatten(int dim, int ndim, const int64_t *sizes) {
    int inferred = 0;
    bool ok = ndim >= 1 && ndim <= CG_MAX_DIMS && sizes;
    for (int k = 0; ok && k < ndim; k++) {
        inferred += sizes[k] == -1;
        ok = (sizes[k] > 0 || sizes[k] == -1) && inferred <= 1;
    }
    if (!ok)
        return cg_error(CG_ERR_ARG,
                        "Unflatten: unflattened_size must have 1 to %d sizes, each > 0 or one "
                        "-1 (got %d sizes)",
                        CG_MAX_DIMS, ndim);
    int64_t known;
    if (!cg_shape_numel("Unflatten", "unflattened_size", ndim, sizes, &known)) return NULL;
    unflatten_config c = {.dim = dim, .ndim = ndim};
    memcpy(c.sizes, sizes, (size_t)ndim * sizeof *sizes);
    return cg_module_with_config(&unflatten_class, &c, sizeof c);
}
