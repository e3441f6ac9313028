// nn/linear.c - the Linear module (y = x W^T + b, ops/linear.c).
#include <stdio.h>

#include "../tensor/checked.h"
#include "../tensor/alloc.h"
#include "init.h"
#include "layers.h"

typedef struct linear_config {
    int in_features, out_features;
} linear_config;

static cg_tensor *linear_module_forward(cg_module *m, cg_tensor *x) {
    return cg_linear(x, cg_module_param(m, "weight"), cg_module_param(m, "bias"));
}

static void linear_describe(const cg_module *m, char *buf, size_t size) {
    const linear_config *c = m->impl;
    snprintf(buf, size, "Linear(in_features=%d, out_features=%d, bias=%s)", c->in_features,
             c->out_features, cg_module_param(m, "bias") ? "True" : "False");
}

static const cg_module_class linear_class = {
    .name = "Linear", .forward = linear_module_forward, .describe = linear_describe};

cg_module *cg_Linear(int in_features, int out_features, const cg_linear_options *options) {
    bool bias = !(options && options->no_bias);
    if (in_features < 0 || out_features < 0)
        return cg_error(CG_ERR_ARG, "Linear: in_features %d and out_features %d must be >= 0",
                        in_features, out_features);
    linear_config c = {.in_features = in_features, .out_features = out_features};
    cg_module *m = cg_module_new(&linear_class, &c, sizeof c);
    if (!m) return NULL;
    cg_tensor *w = cg_module_add_param(
        m, "weight", cg_empty_for("Linear", "weight shape", CG_SHAPE(out_features, in_features)));
    cg_tensor *b = bias ? cg_module_add_param(m, "bias", cg_empty(CG_SHAPE(out_features))) : NULL;
    if (!w || (bias && !b)) {
        cg_module_free(m);
        return NULL;
    }
    cg_init_default_(w, b, NULL);
    return m;
}
