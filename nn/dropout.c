// nn/dropout.c - the dropout modules (nn.Dropout, Dropout1d, Dropout2d, AlphaDropout) over
// ops/dropout.c: each holds p and runs its op with the module's training flag.
#include <stdio.h>

#include "layers.h"
#include "layers_internal.h"

// X(kind, PyTorch class name, op)
#define DROPOUTS(X)                                                                                \
    X(DROPOUT, "Dropout", cg_dropout)                                                              \
    X(DROPOUT1D, "Dropout1d", cg_dropout1d)                                                        \
    X(DROPOUT2D, "Dropout2d", cg_dropout2d)                                                        \
    X(ALPHA_DROPOUT, "AlphaDropout", cg_alpha_dropout)

#define KIND(kind, name, op) kind,
typedef enum { DROPOUTS(KIND) } dropout_kind;
#undef KIND

typedef struct dropout_config {
    dropout_kind kind;
    float p;
} dropout_config;

static cg_tensor *dropout_module_forward(cg_module *m, cg_tensor *x) {
    const dropout_config *c = m->impl;
    switch (c->kind) {
#define CASE(kind, name, op)                                                                       \
    case kind:                                                                                     \
        return op(x, c->p, m->training);
        DROPOUTS(CASE)
#undef CASE
    }
    return cg_error(CG_ERR_STATE, "%s: corrupt module", m->cls->name);
}
static void dropout_describe(const cg_module *m, char *buf, size_t size) {
    const dropout_config *c = m->impl;
    snprintf(buf, size, "%s(p=%g, inplace=False)", m->cls->name, (double)c->p);
}

#define CLASS(kind, label, op)                                                                     \
    [kind] = {.name = label, .forward = dropout_module_forward, .describe = dropout_describe},
static const cg_module_class classes[] = {DROPOUTS(CLASS)};
#undef CLASS

static cg_module *dropout_module(dropout_kind kind, const cg_dropout_options *options) {
    double p = cg_optional_or(options ? options->p : (cg_optional){0}, 0.5);
    if (!(p >= 0.0 && p <= 1.0))
        return cg_error(CG_ERR_ARG, "%s: probability p = %g is not in [0, 1]", classes[kind].name,
                        p);
    dropout_config c = {kind, (float)p};
    return cg_module_with_config(&classes[kind], &c, sizeof c);
}

cg_module *cg_Dropout(const cg_dropout_options *options) {
    return dropout_module(DROPOUT, options);
}
cg_module *cg_Dropout1d(const cg_dropout_options *options) {
    return dropout_module(DROPOUT1D, options);
}
cg_module *cg_Dropout2d(const cg_dropout_options *options) {
    return dropout_module(DROPOUT2D, options);
}
cg_module *cg_AlphaDropout(const cg_dropout_options *options) {
    return dropout_module(ALPHA_DROPOUT, options);
}
