// nn/smooth_activation.c - the activation modules that are not lines of ops/activations.def:
// GELU (an enum option) and the normalising Softmax, LogSoftmax, Softmin (a dim). One class
// per module, one forward that reads the config, one repr printed as PyTorch's.
#include <stdio.h>

#include "activations.h"
#include "layers_internal.h"

// X(kind, PyTorch class name)
// clang-format off
#define ACTIVATIONS(X)                                                                             \
    X(GELU, "GELU") X(SOFTMAX, "Softmax") X(LOG_SOFTMAX, "LogSoftmax") X(SOFTMIN, "Softmin")
// clang-format on

#define KIND(kind, name) kind,
typedef enum { ACTIVATIONS(KIND) } activation_kind;
#undef KIND

typedef struct activation_config {
    activation_kind kind;
    cg_gelu_approximate approximate; // GELU
    int dim;                         // Softmax, LogSoftmax, Softmin
} activation_config;

static cg_tensor *activation_forward(cg_module *m, cg_tensor *x) {
    const activation_config *c = m->impl;
    switch (c->kind) {
    case GELU:
        return cg_gelu(x, c->approximate);
    case SOFTMAX:
        return cg_softmax(x, c->dim);
    case LOG_SOFTMAX:
        return cg_log_softmax(x, c->dim);
    case SOFTMIN:
        return cg_softmin(x, c->dim);
    }
    return cg_error(CG_ERR_STATE, "%s: corrupt module", m->cls->name);
}

static void activation_describe(const cg_module *m, char *buf, size_t size) {
    const activation_config *c = m->impl;
    switch (c->kind) {
    case GELU:
        snprintf(buf, size, "GELU(approximate='%s')",
                 c->approximate == CG_GELU_TANH ? "tanh" : "none");
        return;
    case SOFTMAX:
    case LOG_SOFTMAX:
    case SOFTMIN:
        snprintf(buf, size, "%s(dim=%d)", m->cls->name, c->dim);
        return;
    }
}

#define CLASS(kind, label)                                                                         \
    [kind] = {.name = label, .forward = activation_forward, .describe = activation_describe},
static const cg_module_class classes[] = {ACTIVATIONS(CLASS)};
#undef CLASS

static cg_module *activation(activation_config c) {
    return cg_module_with_config(&classes[c.kind], &c, sizeof c);
}

cg_module *cg_GELU(cg_gelu_approximate approximate) {
    if (approximate != CG_GELU_NONE && approximate != CG_GELU_TANH)
        return cg_error(CG_ERR_ARG, "GELU: unknown approximate %d (CG_GELU_NONE or CG_GELU_TANH)",
                        (int)approximate);
    return activation((activation_config){.kind = GELU, .approximate = approximate});
}
cg_module *cg_Softmax(int dim) {
    return activation((activation_config){.kind = SOFTMAX, .dim = dim});
}
cg_module *cg_LogSoftmax(int dim) {
    return activation((activation_config){.kind = LOG_SOFTMAX, .dim = dim});
}
cg_module *cg_Softmin(int dim) {
    return activation((activation_config){.kind = SOFTMIN, .dim = dim});
}
