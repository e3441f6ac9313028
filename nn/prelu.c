// nn/prelu.c - the PReLU module (torch.nn.PReLU) over cg_prelu (ops/prelu.c): one learnable
// slope per channel (or one for all), "weight", filled with init as PyTorch does.
#include <stdio.h>

#include "activations.h"
#include "layers_internal.h"

typedef struct prelu_config {
    int num_parameters;
} prelu_config;

static cg_tensor *prelu_module_forward(cg_module *m, cg_tensor *x) {
    return cg_prelu(x, cg_module_param(m, "weight"));
}
static void prelu_describe(const cg_module *m, char *buf, size_t size) {
    const prelu_config *c = m->impl;
    snprintf(buf, size, "PReLU(num_parameters=%d)", c->num_parameters);
}
static const cg_module_class prelu_class = {
    .name = "PReLU", .forward = prelu_module_forward, .describe = prelu_describe};

cg_module *cg_PReLU(const cg_prelu_options *options) {
    int n = options && options->num_parameters ? options->num_parameters : 1;
    double init = cg_optional_or(options ? options->init : (cg_optional){0}, 0.25);
    if (n < 0) return cg_error(CG_ERR_ARG, "PReLU: num_parameters must be positive, got %d", n);
    prelu_config c = {n};
    cg_module *m = cg_module_with_config(&prelu_class, &c, sizeof c);
    if (!m) return NULL;
    if (!cg_module_add_param(m, "weight", cg_full(CG_SHAPE(n), (float)init))) {
        cg_module_free(m);
        return NULL;
    }
    return m;
}
