// nn/pool1d.c - nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d over ops/pool1d.h, printed
// as PyTorch prints them (MaxPool1d with ints, AvgPool1d with 1-tuples).
#include <stdio.h>

#include "layers_internal.h"
#include "resize.h"

typedef enum { MAX, AVG, ADAPTIVE } pool1d_kind;

typedef struct pool1d_config {
    pool1d_kind kind;
    cg_pool_options o; // MAX, AVG
    int output_size;   // ADAPTIVE
} pool1d_config;

static cg_tensor *pool1d_forward(cg_module *m, cg_tensor *x) {
    const pool1d_config *c = m->impl;
    if (c->kind == ADAPTIVE) return cg_adaptive_avg_pool1d(x, c->output_size);
    return (c->kind == MAX ? cg_max_pool1d : cg_avg_pool1d)(x, &c->o);
}

static void pool1d_describe(const cg_module *m, char *buf, size_t size) {
    const pool1d_config *c = m->impl;
    int k = c->o.kernel_size, s = c->o.stride ? c->o.stride : k, p = c->o.padding;
    int d = c->o.dilation ? c->o.dilation : 1;
    if (c->kind == ADAPTIVE)
        snprintf(buf, size, "AdaptiveAvgPool1d(output_size=%d)", c->output_size);
    else if (c->kind == MAX)
        snprintf(buf, size,
                 "MaxPool1d(kernel_size=%d, stride=%d, padding=%d, dilation=%d, ceil_mode=%s)", k,
                 s, p, d, c->o.ceil_mode ? "True" : "False");
    else
        snprintf(buf, size, "AvgPool1d(kernel_size=(%d,), stride=(%d,), padding=(%d,))", k, s, p);
}

static const cg_module_class max_class = {
    .name = "MaxPool1d", .forward = pool1d_forward, .describe = pool1d_describe};
static const cg_module_class avg_class = {
    .name = "AvgPool1d", .forward = pool1d_forward, .describe = pool1d_describe};
static const cg_module_class adaptive_class = {
    .name = "AdaptiveAvgPool1d", .forward = pool1d_forward, .describe = pool1d_describe};

static cg_module *pool1d(const cg_module_class *cls, pool1d_kind kind,
                         const cg_pool_options *options) {
    if (!options || options->kernel_size <= 0)
        return cg_error(CG_ERR_ARG, "%s: kernel_size %d must be > 0", cls->name,
                        options ? options->kernel_size : 0);
    pool1d_config c = {.kind = kind, .o = *options};
    return cg_module_with_config(cls, &c, sizeof c);
}

cg_module *cg_MaxPool1d(const cg_pool_options *options) {
    return pool1d(&max_class, MAX, options);
}
cg_module *cg_AvgPool1d(const cg_pool_options *options) {
    return pool1d(&avg_class, AVG, options);
}
cg_module *cg_AdaptiveAvgPool1d(int output_size) {
    if (output_size <= 0)
        return cg_error(CG_ERR_ARG, "AdaptiveAvgPool1d: output_size %d must be > 0", output_size);
    pool1d_config c = {.kind = ADAPTIVE, .output_size = output_size};
    return cg_module_with_config(&adaptive_class, &c, sizeof c);
}
