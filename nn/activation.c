// nn/activation.c - the modules of the pointwise activations (torch.nn.ReLU, nn.Hardtanh,
// ...: ReLU by hand, the others from ops/activations.def) and Flatten.
//
// The math and its backward live in ops/unary.c and ops/view.c; these modules only hold
// the arguments and print them as PyTorch does.
#include <stdio.h>

#include "../ops/activations.h"
#include "../ops/math.h"
#include "../ops/pool1d.h"
#include "../ops/view.h"
#include "layers.h"
#include "layers_internal.h"

static cg_tensor *relu_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    return cg_relu(x);
}
// ReLU then MaxPool2d or MaxPool1d: max_pool(relu(x)) in one op (ops/functional.h,
// ops/pool1d.h).
static bool relu_pairs_with(const cg_module *m, const cg_module *next) {
    (void)m;
    return cg_max_pool_module_options(next) || cg_max_pool1d_module_options(next);
}
static cg_tensor *relu_forward_pair(cg_module *m, cg_module *next, cg_tensor *x) {
    (void)m;
    const cg_pool_options *two_d = cg_max_pool_module_options(next);
    return two_d ? cg_relu_max_pool2d(x, two_d)
                 : cg_relu_max_pool1d(x, cg_max_pool1d_module_options(next));
}

// No describe prints "Name()".
static const cg_module_class relu_class = {.name = "ReLU",
                                           .forward = relu_forward,
                                           .pairs_with = relu_pairs_with,
                                           .forward_pair = relu_forward_pair};

bool cg_is_relu_module(const cg_module *m) {
    return m && m->cls == &relu_class;
}

cg_module *cg_ReLU(void) {
    return cg_module_new(&relu_class, NULL, 0);
}

// ---- the modules of ops/activations.def ------------------------------------------------------
// One class per line; the module holds its resolved option values and prints them with
// the op's spec, as PyTorch's extra_repr.

typedef struct activation_config {
    const cg_activation_spec *spec;
    float values[2];
} activation_config;

static void activation_describe(const cg_module *m, char *buf, size_t size) {
    const activation_config *c = m->impl;
    char options[128];
    cg_activation_options_repr(c->spec, c->values, options, sizeof options);
    snprintf(buf, size, "%s(%s)", m->cls->name, options);
}

// A module with the options resolved (and checked) as the op does, naming the module.
static cg_module *activation_module(const cg_module_class *cls, const cg_activation_spec *spec,
                                    const cg_optional *options) {
    activation_config c = {.spec = spec};
    if (cg_activation_resolve(spec, spec->module_name, options, c.values)) return NULL;
    return cg_module_with_config(cls, &c, sizeof c);
}

#define OPTION(options, field) (options ? options->field : (cg_optional){0})
#define ACTIVATION(op, Name, ...)                                                                  \
    static cg_tensor *op##_module_forward(cg_module *m, cg_tensor *x) {                            \
        (void)m;                                                                                   \
        return cg_##op(x);                                                                         \
    }                                                                                              \
    static const cg_module_class op##_class = {.name = #Name, .forward = op##_module_forward};     \
    cg_module *cg_##Name(void) {                                                                   \
        return cg_module_new(&op##_class, NULL, 0);                                                \
    }
#define ACTIVATION_MODULE(op, Name, ...)                                                           \
    static const cg_module_class op##_class = {                                                    \
        .name = #Name, .forward = op##_module_forward, .describe = activation_describe};           \
    cg_module *cg_##Name(const cg_##op##_options *options) {                                       \
        return activation_module(&op##_class, &cg_activation_##op, (cg_optional[]){__VA_ARGS__});  \
    }
#define ACTIVATION_1(op, Name, field, ...)                                                         \
    static cg_tensor *op##_module_forward(cg_module *m, cg_tensor *x) {                            \
        const activation_config *c = m->impl;                                                      \
        return cg_##op(x, &(cg_##op##_options){cg_opt(c->values[0])});                             \
    }                                                                                              \
    ACTIVATION_MODULE(op, Name, OPTION(options, field))
#define ACTIVATION_2(op, Name, field_a, default_a, repr_a, field_b, ...)                           \
    static cg_tensor *op##_module_forward(cg_module *m, cg_tensor *x) {                            \
        const activation_config *c = m->impl;                                                      \
        return cg_##op(x, &(cg_##op##_options){cg_opt(c->values[0]), cg_opt(c->values[1])});       \
    }                                                                                              \
    ACTIVATION_MODULE(op, Name, OPTION(options, field_a), OPTION(options, field_b))
#include "../ops/activations.def"
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2

// ---- Flatten --------------------------------------------------------------------------

typedef struct flatten_config {
    int start_dim, end_dim;
} flatten_config;

static cg_tensor *flatten_forward(cg_module *m, cg_tensor *x) {
    const flatten_config *c = m->impl;
    return cg_flatten(x, c->start_dim, c->end_dim);
}
static void flatten_describe(const cg_module *m, char *buf, size_t size) {
    const flatten_config *c = m->impl;
    snprintf(buf, size, "Flatten(start_dim=%d, end_dim=%d)", c->start_dim, c->end_dim);
}
static const cg_module_class flatten_class = {
    .name = "Flatten", .forward = flatten_forward, .describe = flatten_describe};

cg_module *cg_Flatten(int start_dim, int end_dim) {
    flatten_config c = {start_dim, end_dim};
    return cg_module_with_config(&flatten_class, &c, sizeof c);
}
