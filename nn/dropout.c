// nn/dropout.c - the Dropout module over cg_dropout (ops/dropout.c).
#include <stdio.h>

#include "layers.h"
#include "layers_internal.h"

typedef struct dropout_config {
    float p;
} dropout_config;

static cg_tensor *dropout_module_forward(cg_module *m, cg_tensor *x) {
    const dropout_config *c = m->impl;
    return cg_dropout(x, c->p, m->training);
}
static void dropout_describe(const cg_module *m, char *buf, size_t size) {
    const dropout_config *c = m->impl;
    snprintf(buf, size, "Dropout(p=%g, inplace=False)", (double)c->p);
}
static const cg_module_class dropout_class = {
    .name = "Dropout", .forward = dropout_module_forward, .describe = dropout_describe};

cg_module *cg_Dropout(const cg_dropout_options *options) {
    double p = cg_optional_or(options ? options->p : (cg_optional){0}, 0.5);
    if (!(p >= 0.0 && p <= 1.0))
        return cg_error(CG_ERR_ARG, "Dropout: probability p = %g is not in [0, 1]", (double)p);
    dropout_config c = {(float)p};
    return cg_module_with_config(&dropout_class, &c, sizeof c);
}
