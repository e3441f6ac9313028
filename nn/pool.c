// nn/pool.c - MaxPool2d, AvgPool2d, MaxUnpool2d, AdaptiveAvgPool2d and AdaptiveMaxPool2d
// modules over the pooling ops (ops/pool.c, ops/max_pool.c, ops/avg_pool.c).
#include <stdio.h>

#include "../tensor/alloc.h"
#include "layers.h"
#include "layers_internal.h"

typedef struct pool_config {
    cg_pool_options options; // resolved: every value in the _hw fields
    int output_size[2];      // adaptive (CG_NONE: the input's size)
} pool_config;

static cg_tensor *max_pool_module_forward(cg_module *m, cg_tensor *x) {
    return cg_max_pool2d(x, &((const pool_config *)m->impl)->options);
}
static cg_tensor *avg_pool_module_forward(cg_module *m, cg_tensor *x) {
    return cg_avg_pool2d(x, &((const pool_config *)m->impl)->options);
}
static cg_tensor *adaptive_avg_module_forward(cg_module *m, cg_tensor *x) {
    const pool_config *c = m->impl;
    return cg_adaptive_avg_pool2d(x, c->output_size[0], c->output_size[1]);
}
static cg_tensor *adaptive_max_module_forward(cg_module *m, cg_tensor *x) {
    const pool_config *c = m->impl;
    return cg_adaptive_max_pool2d(x, c->output_size[0], c->output_size[1]);
}
static cg_tensor *unpool_module_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    (void)x;
    return cg_error(CG_ERR_ARG, "MaxUnpool2d: forward needs the indices of the max pooling: "
                                "call cg_MaxUnpool2d_forward(module, x, indices, 0, 0)");
}

static const char *tuple_of(cg_tuple_style style, const int pair[2]) {
    const int64_t v[2] = {pair[0], pair[1]};
    return cg_tuple_str(style, 2, v);
}
// "kernel_size=2, stride=2, padding=0" (PyTorch prints the ints or tuples it was given)
static void describe_window(const cg_pool_options *o, cg_tuple_style style, char *buf,
                            size_t size) {
    snprintf(buf, size, "kernel_size=%s, stride=%s, padding=%s", tuple_of(style, o->kernel_size_hw),
             tuple_of(style, o->stride_hw), tuple_of(style, o->padding_hw));
}
static void max_pool_describe(const cg_module *m, char *buf, size_t size) {
    const cg_pool_options *o = &((const pool_config *)m->impl)->options;
    char window[128];
    describe_window(o, CG_TUPLE_COMPACT, window, sizeof window);
    snprintf(buf, size, "MaxPool2d(%s, dilation=%s, ceil_mode=%s)", window,
             tuple_of(CG_TUPLE_COMPACT, o->dilation_hw), o->ceil_mode ? "True" : "False");
}
static void avg_pool_describe(const cg_module *m, char *buf, size_t size) {
    const cg_pool_options *o = &((const pool_config *)m->impl)->options;
    char window[128];
    describe_window(o, CG_TUPLE_COMPACT, window, sizeof window);
    // PyTorch's AvgPool2d repr shows only these three, whatever the other options are.
    snprintf(buf, size, "AvgPool2d(%s)", window);
}
static void unpool_describe(const cg_module *m, char *buf, size_t size) {
    char window[128]; // MaxUnpool2d stores its arguments as pairs
    describe_window(&((const pool_config *)m->impl)->options, CG_TUPLE_PYTHON, window,
                    sizeof window);
    snprintf(buf, size, "MaxUnpool2d(%s)", window);
}
// Always a tuple: the constructor takes (out_h, out_w), like nn.AdaptiveAvgPool2d((h, w)).
static void adaptive_describe(const cg_module *m, char *buf, size_t size) {
    const pool_config *c = m->impl;
    char dims[2][16];
    for (int i = 0; i < 2; i++)
        if (c->output_size[i] == CG_NONE)
            snprintf(dims[i], sizeof dims[i], "None");
        else
            snprintf(dims[i], sizeof dims[i], "%d", c->output_size[i]);
    snprintf(buf, size, "%s(output_size=(%s, %s))", m->cls->name, dims[0], dims[1]);
}

static const cg_module_class max_pool_class = {
    .name = "MaxPool2d", .forward = max_pool_module_forward, .describe = max_pool_describe};
static const cg_module_class avg_pool_class = {
    .name = "AvgPool2d", .forward = avg_pool_module_forward, .describe = avg_pool_describe};
static const cg_module_class unpool_class = {
    .name = "MaxUnpool2d", .forward = unpool_module_forward, .describe = unpool_describe};
static const cg_module_class adaptive_avg_class = {.name = "AdaptiveAvgPool2d",
                                                   .forward = adaptive_avg_module_forward,
                                                   .describe = adaptive_describe};
static const cg_module_class adaptive_max_class = {.name = "AdaptiveMaxPool2d",
                                                   .forward = adaptive_max_module_forward,
                                                   .describe = adaptive_describe};

// `average`: the module takes exclude_pad and divisor_override but no dilation; the max
// modules the other way round (MaxUnpool2d takes neither).
static cg_module *pool_module(const cg_module_class *cls, const cg_pool_options *options,
                              bool average) {
    pool_config c = {0};
    if (cg_pool_options_resolve(cls->name, options, &c.options) < 0) return NULL;
    const cg_pool_options *r = &c.options;
    if (!average && (r->exclude_pad || r->divisor_override))
        return cg_error(CG_ERR_ARG, "%s: exclude_pad and divisor_override are AvgPool2d options",
                        cls->name);
    if ((average || cls == &unpool_class) && (r->dilation_hw[0] != 1 || r->dilation_hw[1] != 1))
        return cg_error(CG_ERR_ARG, "%s: takes no dilation (got dilation (%d, %d))", cls->name,
                        r->dilation_hw[0], r->dilation_hw[1]);
    return cg_module_with_config(cls, &c, sizeof c);
}

const cg_pool_options *cg_max_pool_module_options(const cg_module *m) {
    return m && m->cls == &max_pool_class ? &((const pool_config *)m->impl)->options : NULL;
}

cg_module *cg_MaxPool2d(const cg_pool_options *options) {
    return pool_module(&max_pool_class, options, false);
}
cg_module *cg_AvgPool2d(const cg_pool_options *options) {
    return pool_module(&avg_pool_class, options, true);
}
cg_module *cg_MaxUnpool2d(const cg_pool_options *options) {
    return pool_module(&unpool_class, options, false);
}
cg_tensor *cg_MaxUnpool2d_forward(cg_module *m, cg_tensor *x, cg_tensor *indices, int out_h,
                                  int out_w) {
    if (!m || m->cls != &unpool_class)
        return cg_error(CG_ERR_ARG, "MaxUnpool2d_forward: module is not a MaxUnpool2d");
    return cg_max_unpool2d(x, indices, &((const pool_config *)m->impl)->options, out_h, out_w);
}

cg_tensor *cg_max_pool_forward_with_indices(cg_module *m, cg_tensor *x, cg_tensor **indices) {
    if (!indices) return cg_error(CG_ERR_ARG, "max_pool_forward_with_indices: 'indices' is NULL");
    *indices = NULL;
    if (m && cg_pool1d_is_max(m)) return cg_pool1d_forward_with_indices(m, x, indices);
    if (!m || (m->cls != &max_pool_class && m->cls != &adaptive_max_class))
        return cg_error(CG_ERR_ARG,
                        "max_pool_forward_with_indices: module %s is not a MaxPool1d, "
                        "MaxPool2d, AdaptiveMaxPool1d or AdaptiveMaxPool2d",
                        m ? m->cls->name : "NULL");
    const pool_config *c = m->impl;
    if (m->cls == &max_pool_class) return cg_max_pool2d_with_indices(x, &c->options, indices);
    return cg_adaptive_max_pool2d_with_indices(x, c->output_size[0], c->output_size[1], indices);
}

static cg_module *adaptive_module(const cg_module_class *cls, int out_h, int out_w) {
    if ((out_h <= 0 && out_h != CG_NONE) || (out_w <= 0 && out_w != CG_NONE))
        return cg_error(CG_ERR_ARG,
                        "%s: output size (%d, %d) must be positive, or CG_NONE to keep the "
                        "input's size",
                        cls->name, out_h, out_w);
    pool_config c = {.output_size = {out_h, out_w}};
    return cg_module_with_config(cls, &c, sizeof c);
}
cg_module *cg_AdaptiveAvgPool2d(int out_h, int out_w) {
    return adaptive_module(&adaptive_avg_class, out_h, out_w);
}
cg_module *cg_AdaptiveMaxPool2d(int out_h, int out_w) {
    return adaptive_module(&adaptive_max_class, out_h, out_w);
}
