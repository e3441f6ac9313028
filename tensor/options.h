// tensor/options.h - the one rule every options struct of cgrad follows.
//
//  1. NULL, or a zero-initialised struct, means PyTorch's defaults for every field.
//  2. Spatial options have a scalar field for the square case and a pair field for
//     (height, width): `.padding = 1` is PyTorch's padding=1 and `.padding_hw = {1, 0}` is
//     padding=(1, 0). A pair field with any non-zero entry is used as given; otherwise the
//     scalar is used for both (0 there meaning PyTorch's default). 1-D ops read the scalars.
//  3. A field for which 0 is a legal PyTorch value but not PyTorch's default (Adam's betas,
//     BatchNorm's momentum, Dropout's p, ...) is a cg_optional: unset means the default and
//     CG_SET(v) means v, so `.betas = {CG_SET(0.0), CG_SET(0.99)}` is betas=(0.0, 0.99). A
//     bare number there does not compile, so a default can never be a value in disguise.
//  4. Booleans are named so that false is PyTorch's default (`no_bias`, `ceil_mode`).
#ifndef CG_OPTIONS_H
#define CG_OPTIONS_H

#include <stdbool.h>

typedef struct cg_optional {
    bool set;
    double value;
} cg_optional;

// In an initializer: `.momentum = CG_SET(0.0)`. In an assignment: `o.momentum = cg_opt(0.0)`.
#define CG_SET(v)                                                                                  \
    { true, (v) }
static inline cg_optional cg_opt(double v) {
    return (cg_optional){true, v};
}
// The value to use: v's if set, else PyTorch's default.
static inline double cg_optional_or(cg_optional v, double pytorch_default) {
    return v.set ? v.value : pytorch_default;
}

// Rule 2, the one resolver of spatial options: `hw` if it has a non-zero entry, else
// (scalar, scalar) if scalar is non-zero, else (dflt_h, dflt_w). Writes out[2] (required:
// an error if NULL); hw NULL is the all-zero pair.
void cg_option_hw(int scalar, const int hw[2], int dflt_h, int dflt_w, int out[2]);

#endif
