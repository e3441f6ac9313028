// nn/upsample.c - nn.Upsample: the interpolate options, checked at construction, and
// PyTorch's repr.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers_internal.h"
#include "resize.h"

static cg_tensor *upsample_forward(cg_module *m, cg_tensor *x) {
    return cg_interpolate(x, m->impl);
}

// A float as Python's repr: the shortest round-trip form, with ".0" when it is integral.
static void python_float(char *buf, size_t size, double v) {
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(buf, size, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    if (!strpbrk(buf, ".e")) strncat(buf, ".0", size - strlen(buf) - 1);
}

// The value PyTorch stores: a scalar, or a tuple of n entries (floats or ints).
static void print_values(char *buf, size_t size, int n, const double *v, bool as_float) {
    char one[40];
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (as_float)
            python_float(one, sizeof one, v[i]);
        else
            snprintf(one, sizeof one, "%.0f", v[i]);
        size_t used = strlen(buf);
        snprintf(buf + used, size - used, "%s%s%s%s", i == 0 && n > 1 ? "(" : "", one,
                 i < n - 1 ? ", " : "", i == n - 1 && n > 1 ? ")" : "");
    }
}

static void upsample_describe(const cg_module *m, char *buf, size_t size) {
    const cg_interpolate_options *o = m->impl;
    const double *scales[3] = {&o->scale_factor, o->scale_factor_hw, o->scale_factor_dhw};
    double sizes[3][3] = {{o->size},
                          {o->size_hw[0], o->size_hw[1]},
                          {o->size_dhw[0], o->size_dhw[1], o->size_dhw[2]}};
    bool by_scale = o->scale_factor || o->scale_factor_hw[0] || o->scale_factor_hw[1] ||
                    o->scale_factor_dhw[0] || o->scale_factor_dhw[1] || o->scale_factor_dhw[2];
    int form = 0; // the scalar, the pair or the triple: the one that was given
    for (int f = 1; f < 3; f++)
        for (int i = 0; i <= f; i++)
            if (by_scale ? scales[f][i] != 0 : sizes[f][i] != 0) form = f;
    char values[128];
    print_values(values, sizeof values, form ? form + 1 : 1, by_scale ? scales[form] : sizes[form],
                 by_scale);
    snprintf(buf, size, "Upsample(%s=%s, mode=%s)", by_scale ? "scale_factor" : "size", values,
             cg_interpolate_mode_name(o->mode));
}

static const cg_module_class upsample_class = {
    .name = "Upsample", .forward = upsample_forward, .describe = upsample_describe};

cg_module *cg_Upsample(const cg_interpolate_options *options) {
    if (!cg_interpolate_options_check("Upsample", options)) return NULL;
    return cg_module_with_config(&upsample_class, options, sizeof *options);
}
