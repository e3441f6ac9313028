// nn/smooth_activation.c - the modules of nn/activations.h. Each holds at most two numbers;
// one class per module, one forward that reads them, one repr printed as PyTorch's.
#include <stdio.h>
#include <string.h>

#include "activations.h"
#include "layers_internal.h"

// X(kind, PyTorch class name)
// clang-format off
#define ACTIVATIONS(X)                                                                             \
    X(GELU, "GELU") X(SILU, "SiLU") X(ELU, "ELU") X(SOFTPLUS, "Softplus")                          \
    X(HARDSWISH, "Hardswish") X(SOFTMAX, "Softmax") X(LOG_SOFTMAX, "LogSoftmax")
// clang-format on

#define KIND(kind, name) kind,
typedef enum { ACTIVATIONS(KIND) } activation_kind;
#undef KIND

typedef struct activation_config {
    activation_kind kind;
    cg_gelu_approximate approximate; // GELU
    float alpha;                     // ELU
    float beta, threshold;           // Softplus
    int dim;                         // Softmax, LogSoftmax
} activation_config;

static cg_tensor *activation_forward(cg_module *m, cg_tensor *x) {
    const activation_config *c = m->impl;
    switch (c->kind) {
    case GELU:
        return cg_gelu(x, c->approximate);
    case SILU:
        return cg_silu(x);
    case ELU:
        return cg_elu(x, c->alpha);
    case SOFTPLUS:
        return cg_softplus(x, c->beta, c->threshold);
    case HARDSWISH:
        return cg_hardswish(x);
    case SOFTMAX:
        return cg_softmax(x, c->dim);
    default:
        return cg_log_softmax(x, c->dim);
    }
}

// A float as Python's repr prints it: 1.0, 0.5, 1e-05.
static void py_float(double v, char *buf, size_t size) {
    snprintf(buf, size, "%g", v);
    if (!strpbrk(buf, ".eni")) snprintf(buf + strlen(buf), size - strlen(buf), ".0");
}

static void activation_describe(const cg_module *m, char *buf, size_t size) {
    const activation_config *c = m->impl;
    char alpha[32];
    py_float(c->alpha, alpha, sizeof alpha);
    if (c->kind == GELU)
        snprintf(buf, size, "GELU(approximate='%s')",
                 c->approximate == CG_GELU_TANH ? "tanh" : "none");
    else if (c->kind == ELU)
        snprintf(buf, size, "ELU(alpha=%s)", alpha);
    else if (c->kind == SOFTPLUS)
        snprintf(buf, size, "Softplus(beta=%g, threshold=%g)", (double)c->beta,
                 (double)c->threshold);
    else if (c->kind == SOFTMAX || c->kind == LOG_SOFTMAX)
        snprintf(buf, size, "%s(dim=%d)", m->cls->name, c->dim);
    else
        snprintf(buf, size, "%s()", m->cls->name);
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
cg_module *cg_SiLU(void) {
    return activation((activation_config){.kind = SILU});
}
cg_module *cg_ELU(float alpha) {
    return activation((activation_config){.kind = ELU, .alpha = alpha});
}
cg_module *cg_Softplus(float beta, float threshold) {
    if (!(beta != 0)) return cg_error(CG_ERR_ARG, "Softplus: beta must be non-zero, got %g", beta);
    return activation((activation_config){.kind = SOFTPLUS, .beta = beta, .threshold = threshold});
}
cg_module *cg_Hardswish(void) {
    return activation((activation_config){.kind = HARDSWISH});
}
cg_module *cg_Softmax(int dim) {
    return activation((activation_config){.kind = SOFTMAX, .dim = dim});
}
cg_module *cg_LogSoftmax(int dim) {
    return activation((activation_config){.kind = LOG_SOFTMAX, .dim = dim});
}
