// ops/activation_options.c - the options of the activations of ops/activations.def: resolved
// against PyTorch's defaults, checked, and printed as PyTorch's extra_repr, for the op
// (ops/unary.c) and its module (nn/activation.c) alike.
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../tensor/error.h"
#include "activations.h"

int cg_activation_resolve(const cg_activation_spec *spec, const char *who,
                          const cg_optional *options, float values[2]) {
    values[0] = values[1] = 0;
    for (int i = 0; i < spec->n_options; i++) {
        if (!options[i].set && isnan(spec->defaults[i])) {
            cg_error(CG_ERR_ARG, "%s: %s is required (CG_SET it)", who, spec->option_names[i]);
            return -1;
        }
        values[i] = (float)cg_optional_or(options[i], spec->defaults[i]);
    }
    if (spec->valid && !spec->valid(values[0], values[1])) {
        char repr[128];
        cg_activation_options_repr(spec, values, repr, sizeof repr);
        cg_error(CG_ERR_ARG, "%s: %s (%s)", who, spec->problem, repr);
        return -1;
    }
    return 0;
}

// A float as Python's repr prints it (1.0, 0.5, 1e-05, inf), or as %g prints it (1).
static void print_value(double v, cg_repr_kind kind, char *buf, size_t size) {
    snprintf(buf, size, "%g", v);
    switch (kind) {
    case CG_REPR_FLOAT:
    case CG_REPR_VALUE_ONLY:
        if (!strpbrk(buf, ".eni")) snprintf(buf + strlen(buf), size - strlen(buf), ".0");
        return;
    case CG_REPR_NUMBER:
        return;
    }
}

void cg_activation_options_repr(const cg_activation_spec *spec, const float values[2], char *buf,
                                size_t size) {
    buf[0] = '\0';
    for (int i = 0; i < spec->n_options; i++) {
        char value[48];
        print_value(values[i], spec->repr[i], value, sizeof value);
        size_t used = strlen(buf);
        bool named = spec->repr[i] != CG_REPR_VALUE_ONLY;
        snprintf(buf + used, size - used, "%s%s%s%s", i ? ", " : "",
                 named ? spec->option_names[i] : "", named ? "=" : "", value);
    }
}
