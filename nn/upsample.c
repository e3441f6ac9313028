// nn/upsample.c - nn.Upsample: the interpolate options and PyTorch's repr.
#include <stdio.h>

#include "layers_internal.h"
#include "resize.h"

static cg_tensor *upsample_forward(cg_module *m, cg_tensor *x) {
    return cg_interpolate(x, m->impl);
}

// A pair as Python prints an int or float tuple; a scalar alone.
static void print_values(char *buf, size_t size, double scalar, const double pair[2],
                         bool as_float) {
    const char *f = as_float ? "%.1f" : "%.0f";
    char a[32], b[32];
    bool is_pair = pair[0] || pair[1];
    snprintf(a, sizeof a, f, is_pair ? pair[0] : scalar);
    snprintf(b, sizeof b, f, pair[1]);
    if (is_pair)
        snprintf(buf, size, "(%s, %s)", a, b);
    else
        snprintf(buf, size, "%s", a);
}

static void upsample_describe(const cg_module *m, char *buf, size_t size) {
    const cg_interpolate_options *o = m->impl;
    char values[80];
    bool by_scale = o->scale_factor || o->scale_factor_hw[0] || o->scale_factor_hw[1];
    if (by_scale)
        print_values(values, sizeof values, o->scale_factor, o->scale_factor_hw, true);
    else
        print_values(values, sizeof values, o->size, (double[]){o->size_hw[0], o->size_hw[1]},
                     false);
    snprintf(buf, size, "Upsample(%s=%s, mode=%s)", by_scale ? "scale_factor" : "size", values,
             o->mode == CG_INTERPOLATE_BILINEAR ? "bilinear" : "nearest");
}

static const cg_module_class upsample_class = {
    .name = "Upsample", .forward = upsample_forward, .describe = upsample_describe};

cg_module *cg_Upsample(const cg_interpolate_options *options) {
    if (!options) return cg_error(CG_ERR_ARG, "Upsample: give size or scale_factor (options NULL)");
    return cg_module_with_config(&upsample_class, options, sizeof *options);
}
