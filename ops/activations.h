// ops/activations.h - the pointwise activations of torch.nn.functional, one line each in
// ops/activations.def, which is their documentation: PyTorch's name, options with defaults,
// forward and derivative. Every line declares
//
//   cg_tensor *cg_<name>(cg_tensor *x);                                  no options, or
//   cg_tensor *cg_<name>(cg_tensor *x, const cg_<name>_options *options); with options,
//   typedef struct cg_<name>_options { cg_optional <field>[, <field>]; } cg_<name>_options;
//
// x: any shape; the result has x's shape, y = f(x) elementwise, differentiable in x.
// Options follow tensor/options.h: NULL (or unset fields) are PyTorch's defaults and
// `CG_SET(v)` sets a field. Refused options give "<name>: <problem> (<field>=<value>, ...)".
//
// For example (docs/API.md lists every line with its options):
//   F.silu(x)                        cg_silu(x)
//   F.elu(x, alpha=0.5)              cg_elu(x, &(cg_elu_options){.alpha = CG_SET(0.5)})
//   F.hardtanh(x, -2.0, 2.0)         cg_hardtanh(x, &(cg_hardtanh_options){.min_val = CG_SET(-2),
//                                                                          .max_val = CG_SET(2)})
//   nn.Threshold(0.1, 20.0)          cg_Threshold(&(cg_threshold_options){.threshold = CG_SET(0.1),
//                                                                         .value = CG_SET(20)})
// Each line of the table gives its options' defaults (PyTorch's) and the values it refuses.
// The modules (nn/activations.h) are cg_<Name>(options) with the same options struct.
#ifndef CG_OPS_ACTIVATIONS_H
#define CG_OPS_ACTIVATIONS_H

#include <math.h>
#include <stddef.h>

#include "../tensor/options.h"
#include "../tensor/tensor.h"

// The default of an option PyTorch requires (nn.Threshold's threshold and value).
#define CG_REQUIRED NAN

// How an option is printed in a module's repr: "name=" and the value as Python prints a float
// (1.0), or as a plain number (1) where PyTorch's default is an int (nn.Softplus's beta and
// threshold), or the float alone where PyTorch's extra_repr prints just the value
// (nn.Softshrink(0.5)).
typedef enum cg_repr_kind { CG_REPR_FLOAT, CG_REPR_NUMBER, CG_REPR_VALUE_ONLY } cg_repr_kind;

// One line of ops/activations.def as data: how its options are resolved, checked and printed.
// The op and its module share it (cg_activation_<name>).
typedef struct cg_activation_spec {
    const char *name;        // "hardtanh", the op
    const char *module_name; // "Hardtanh", the module
    int n_options;           // 0, 1 or 2
    const char *option_names[2];
    double defaults[2]; // CG_REQUIRED: no default
    cg_repr_kind repr[2];
    bool (*valid)(float a, float b); // NULL: any values
    const char *problem;             // what is wrong when !valid
} cg_activation_spec;

// The option values (spec->n_options of them) from `options` (set fields) and the defaults,
// into values[2] (unused entries 0). 0, or -1 with a CG_ERR_ARG naming `who` for a missing
// required option or values the spec refuses.
int cg_activation_resolve(const cg_activation_spec *spec, const char *who,
                          const cg_optional *options, float values[2]);
// The options as PyTorch's extra_repr prints them ("min_val=-1.0, max_val=1.0"; "" for none).
void cg_activation_options_repr(const cg_activation_spec *spec, const float values[2], char *buf,
                                size_t size);

// The declarations of every line of ops/activations.def.
#define ACTIVATION(name, Name, ...)                                                                \
    extern const cg_activation_spec cg_activation_##name;                                          \
    cg_tensor *cg_##name(cg_tensor *x);
#define ACTIVATION_1(name, Name, field, ...)                                                       \
    typedef struct cg_##name##_options {                                                           \
        cg_optional field;                                                                         \
    } cg_##name##_options;                                                                         \
    extern const cg_activation_spec cg_activation_##name;                                          \
    cg_tensor *cg_##name(cg_tensor *x, const cg_##name##_options *options);
#define ACTIVATION_2(name, Name, field_a, default_a, repr_a, field_b, ...)                         \
    typedef struct cg_##name##_options {                                                           \
        cg_optional field_a, field_b;                                                              \
    } cg_##name##_options;                                                                         \
    extern const cg_activation_spec cg_activation_##name;                                          \
    cg_tensor *cg_##name(cg_tensor *x, const cg_##name##_options *options);
#include "activations.def"
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2

// F.prelu(x, weight): y = x where x > 0, else weight[c] * x with c the index along dim 1.
// weight (1) or (C) with C = x's size of dim 1 (0-D and 1-D inputs: C = 1); differentiable in
// x and weight. The module is cg_PReLU (nn/activations.h).
cg_tensor *cg_prelu(cg_tensor *x, cg_tensor *weight);

#endif
