// nn/pool.c - MaxPool2d, AvgPool2d and AdaptiveAvgPool2d modules over ops/pool.c.
#include <stdio.h>

#include "../tensor/alloc.h"
#include "layers.h"
#include "layers_internal.h"

typedef struct pool_config {
    cg_pool_options options; // resolved: every value in the _hw fields
    int output_size[2];      // adaptive
} pool_config;

static cg_tensor *max_pool_module_forward(cg_module *m, cg_tensor *x) {
    return cg_max_pool2d(x, &((const pool_config *)m->impl)->options);
}
static cg_tensor *avg_pool_module_forward(cg_module *m, cg_tensor *x) {
    return cg_avg_pool2d(x, &((const pool_config *)m->impl)->options);
}
static cg_tensor *adaptive_module_forward(cg_module *m, cg_tensor *x) {
    const pool_config *c = m->impl;
    return cg_adaptive_avg_pool2d(x, c->output_size[0], c->output_size[1]);
}

// "kernel_size=2, stride=2, padding=0"
static const char *compact(const int pair[2]) {
    const int64_t v[2] = {pair[0], pair[1]};
    return cg_tuple_str(CG_TUPLE_COMPACT, 2, v);
}
static void describe_window(const cg_pool_options *o, char *buf, size_t size) {
    snprintf(buf, size, "kernel_size=%s, stride=%s, padding=%s", compact(o->kernel_size_hw),
             compact(o->stride_hw), compact(o->padding_hw));
}
static void max_pool_describe(const cg_module *m, char *buf, size_t size) {
    const cg_pool_options *o = &((const pool_config *)m->impl)->options;
    char window[128];
    describe_window(o, window, sizeof window);
    snprintf(buf, size, "MaxPool2d(%s, dilation=1, ceil_mode=%s)", window,
             o->ceil_mode ? "True" : "False");
}
static void avg_pool_describe(const cg_module *m, char *buf, size_t size) {
    const cg_pool_options *o = &((const pool_config *)m->impl)->options;
    char window[128];
    describe_window(o, window, sizeof window);
    // PyTorch's AvgPool2d repr shows only these three, whatever ceil_mode is.
    snprintf(buf, size, "AvgPool2d(%s)", window);
}
static void adaptive_describe(const cg_module *m, char *buf, size_t size) {
    const pool_config *c = m->impl;
    // Always a tuple: the constructor takes (out_h, out_w), like nn.AdaptiveAvgPool2d((h, w)).
    snprintf(buf, size, "AdaptiveAvgPool2d(output_size=(%d, %d))", c->output_size[0],
             c->output_size[1]);
}

static const cg_module_class max_pool_class = {"MaxPool2d", max_pool_module_forward, NULL,
                                               max_pool_describe};
static const cg_module_class avg_pool_class = {"AvgPool2d", avg_pool_module_forward, NULL,
                                               avg_pool_describe};
static const cg_module_class adaptive_class = {"AdaptiveAvgPool2d", adaptive_module_forward, NULL,
                                               adaptive_describe};

static cg_module *pool_module(const cg_module_class *cls, const char *name,
                              const cg_pool_options *options) {
    pool_config c = {0};
    if (cg_pool_options_resolve(name, options, &c.options) < 0) return NULL;
    return cg_module_with_config(cls, &c, sizeof c);
}

cg_module *cg_MaxPool2d(const cg_pool_options *options) {
    return pool_module(&max_pool_class, "MaxPool2d", options);
}
cg_module *cg_AvgPool2d(const cg_pool_options *options) {
    return pool_module(&avg_pool_class, "AvgPool2d", options);
}
cg_module *cg_AdaptiveAvgPool2d(int out_h, int out_w) {
    if (out_h <= 0 || out_w <= 0)
        return cg_error(CG_ERR_ARG, "AdaptiveAvgPool2d: output size (%d, %d) must be positive",
                        out_h, out_w);
    pool_config c = {.output_size = {out_h, out_w}};
    return cg_module_with_config(&adaptive_class, &c, sizeof c);
}
