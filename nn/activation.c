// nn/activation.c - modules wrapping elementwise activations and flatten (torch.nn.ReLU, ...).
//
// The math and its backward live in tensor/unary.c and tensor/view.c; these modules only hold
// the arguments and print them as PyTorch does.
#include <stdio.h>

#include "../ops/math.h"
#include "../ops/view.h"
#include "layers.h"
#include "layers_internal.h"

static cg_tensor *relu_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    return cg_relu(x);
}
static cg_tensor *sigmoid_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    return cg_sigmoid(x);
}
static cg_tensor *tanh_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    return cg_tanh(x);
}

// ReLU then MaxPool2d: max_pool2d(relu(x)) in one op (ops/functional.h).
static bool relu_pairs_with(const cg_module *m, const cg_module *next) {
    (void)m;
    return cg_max_pool_module_options(next) != NULL;
}
static cg_tensor *relu_forward_pair(cg_module *m, cg_module *next, cg_tensor *x) {
    (void)m;
    return cg_relu_max_pool2d(x, cg_max_pool_module_options(next));
}

// No describe prints "Name()".
static const cg_module_class relu_class = {.name = "ReLU",
                                           .forward = relu_forward,
                                           .pairs_with = relu_pairs_with,
                                           .forward_pair = relu_forward_pair};

bool cg_is_relu_module(const cg_module *m) {
    return m && m->cls == &relu_class;
}
static const cg_module_class sigmoid_class = {.name = "Sigmoid", .forward = sigmoid_forward};
static const cg_module_class tanh_class = {.name = "Tanh", .forward = tanh_forward};

cg_module *cg_ReLU(void) {
    return cg_module_new(&relu_class, NULL, 0);
}
cg_module *cg_Sigmoid(void) {
    return cg_module_new(&sigmoid_class, NULL, 0);
}
cg_module *cg_Tanh(void) {
    return cg_module_new(&tanh_class, NULL, 0);
}

// ---- LeakyReLU ------------------------------------------------------------------------

typedef struct leaky_relu_config {
    float negative_slope;
} leaky_relu_config;

static cg_tensor *leaky_relu_forward(cg_module *m, cg_tensor *x) {
    const leaky_relu_config *c = m->impl;
    return cg_leaky_relu(x, c->negative_slope);
}
static void leaky_relu_describe(const cg_module *m, char *buf, size_t size) {
    const leaky_relu_config *c = m->impl;
    snprintf(buf, size, "LeakyReLU(negative_slope=%g)", (double)c->negative_slope);
}
static const cg_module_class leaky_relu_class = {
    .name = "LeakyReLU", .forward = leaky_relu_forward, .describe = leaky_relu_describe};

cg_module *cg_LeakyReLU(const cg_leaky_relu_options *options) {
    cg_optional slope = options ? options->negative_slope : (cg_optional){0};
    leaky_relu_config c = {(float)cg_optional_or(slope, 0.01)};
    return cg_module_with_config(&leaky_relu_class, &c, sizeof c);
}

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
