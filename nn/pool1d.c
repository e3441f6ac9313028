// nn/pool1d.c - nn.MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d and
// MaxUnpool1d over ops/pool1d.h, printed as PyTorch prints them (MaxPool1d with ints,
// AvgPool1d and MaxUnpool1d with 1-tuples).
#include <stdio.h>

#include "layers.h"
#include "layers_internal.h"
#include "resize.h"

typedef enum { MAX, AVG, ADAPTIVE_AVG, ADAPTIVE_MAX, UNPOOL } pool1d_kind;

typedef struct pool1d_config {
    pool1d_kind kind;
    cg_pool_options o; // MAX, AVG, UNPOOL
    int output_size;   // ADAPTIVE_*
} pool1d_config;

static cg_tensor *pool1d_forward(cg_module *m, cg_tensor *x) {
    const pool1d_config *c = m->impl;
    switch (c->kind) {
    case MAX:
        return cg_max_pool1d(x, &c->o);
    case AVG:
        return cg_avg_pool1d(x, &c->o);
    case ADAPTIVE_AVG:
        return cg_adaptive_avg_pool1d(x, c->output_size);
    case ADAPTIVE_MAX:
        return cg_adaptive_max_pool1d(x, c->output_size);
    case UNPOOL:
        return cg_error(CG_ERR_ARG, "MaxUnpool1d: forward needs the indices of the max pooling: "
                                    "call cg_MaxUnpool1d_forward(module, x, indices, 0)");
    }
    return NULL;
}

static void pool1d_describe(const cg_module *m, char *buf, size_t size) {
    const pool1d_config *c = m->impl;
    int k = c->o.kernel_size, s = c->o.stride ? c->o.stride : k, p = c->o.padding;
    int d = c->o.dilation ? c->o.dilation : 1;
    switch (c->kind) {
    case MAX:
        snprintf(buf, size,
                 "MaxPool1d(kernel_size=%d, stride=%d, padding=%d, dilation=%d, ceil_mode=%s)", k,
                 s, p, d, c->o.ceil_mode ? "True" : "False");
        return;
    case AVG:
    case UNPOOL:
        snprintf(buf, size, "%s(kernel_size=(%d,), stride=(%d,), padding=(%d,))", m->cls->name, k,
                 s, p);
        return;
    case ADAPTIVE_AVG:
    case ADAPTIVE_MAX:
        snprintf(buf, size, "%s(output_size=%d)", m->cls->name, c->output_size);
        return;
    }
}

static const cg_module_class max_class = {
    .name = "MaxPool1d", .forward = pool1d_forward, .describe = pool1d_describe};
static const cg_module_class avg_class = {
    .name = "AvgPool1d", .forward = pool1d_forward, .describe = pool1d_describe};
static const cg_module_class adaptive_avg_class = {
    .name = "AdaptiveAvgPool1d", .forward = pool1d_forward, .describe = pool1d_describe};
static const cg_module_class adaptive_max_class = {
    .name = "AdaptiveMaxPool1d", .forward = pool1d_forward, .describe = pool1d_describe};
static const cg_module_class unpool_class = {
    .name = "MaxUnpool1d", .forward = pool1d_forward, .describe = pool1d_describe};

static cg_module *pool1d(const cg_module_class *cls, pool1d_kind kind,
                         const cg_pool_options *options) {
    if (!options || options->kernel_size <= 0)
        return cg_error(CG_ERR_ARG, "%s: kernel_size %d must be > 0", cls->name,
                        options ? options->kernel_size : 0);
    cg_pool_options resolved;
    if (cg_pool_options_resolve(cls->name, options, &resolved) < 0) return NULL;
    if (kind == UNPOOL && options->dilation > 1)
        return cg_error(CG_ERR_ARG, "MaxUnpool1d: takes no dilation (got %d)", options->dilation);
    pool1d_config c = {.kind = kind, .o = *options};
    return cg_module_with_config(cls, &c, sizeof c);
}

static cg_module *adaptive(const cg_module_class *cls, pool1d_kind kind, int output_size) {
    if (output_size <= 0)
        return cg_error(CG_ERR_ARG, "%s: output_size %d must be > 0", cls->name, output_size);
    pool1d_config c = {.kind = kind, .output_size = output_size};
    return cg_module_with_config(cls, &c, sizeof c);
}

const cg_pool_options *cg_max_pool1d_module_options(const cg_module *m) {
    return m && m->cls == &max_class ? &((const pool1d_config *)m->impl)->o : NULL;
}

cg_module *cg_MaxPool1d(const cg_pool_options *options) {
    return pool1d(&max_class, MAX, options);
}
cg_module *cg_AvgPool1d(const cg_pool_options *options) {
    return pool1d(&avg_class, AVG, options);
}
cg_module *cg_MaxUnpool1d(const cg_pool_options *options) {
    return pool1d(&unpool_class, UNPOOL, options);
}
cg_module *cg_AdaptiveAvgPool1d(int output_size) {
    return adaptive(&adaptive_avg_class, ADAPTIVE_AVG, output_size);
}
cg_module *cg_AdaptiveMaxPool1d(int output_size) {
    return adaptive(&adaptive_max_class, ADAPTIVE_MAX, output_size);
}

cg_tensor *cg_MaxUnpool1d_forward(cg_module *m, cg_tensor *x, cg_tensor *indices, int output_size) {
    if (!m || m->cls != &unpool_class)
        return cg_error(CG_ERR_ARG, "MaxUnpool1d_forward: module is not a MaxUnpool1d");
    return cg_max_unpool1d(x, indices, &((const pool1d_config *)m->impl)->o, output_size);
}

bool cg_pool1d_is_max(const cg_module *m) {
    return m->cls == &max_class || m->cls == &adaptive_max_class;
}
cg_tensor *cg_pool1d_forward_with_indices(cg_module *m, cg_tensor *x, cg_tensor **indices) {
    const pool1d_config *c = m->impl;
    if (m->cls == &max_class) return cg_max_pool1d_with_indices(x, &c->o, indices);
    return cg_adaptive_max_pool1d_with_indices(x, c->output_size, indices);
}
