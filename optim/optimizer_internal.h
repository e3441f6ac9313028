// optim/optimizer_internal.h - the optimizer's groups and state, shared by optim/*.c (not
// installed; io/ and users go through optim.h).
//
// Parameters are numbered across groups in the order they were added (PyTorch's
// state_dict numbering); parameter i belongs to group group_of[i]. Its state buffer for key
// k of the class is state[i * CG_OPTIM_MAX_KEYS + k]: NULL until the key is first in use
// (created at a step, or by cg_optimizer_state for loading), outside any scope, owned by
// the optimizer.
#ifndef CG_OPTIMIZER_INTERNAL_H
#define CG_OPTIMIZER_INTERNAL_H

#include "optim.h"

// One of torch.optim's param_groups.
typedef struct cg_param_group {
    double lr; // double like PyTorch's, so schedules recur identically
    // The keys schedules read and write: "initial_lr" (set by the first schedule attached,
    // or by OneCycleLR), OneCycleLR's "max_lr" and "min_lr".
    bool has_initial_lr;
    double initial_lr, max_lr, min_lr;
    void *config; // the class's resolved config, cls->config_size bytes
} cg_param_group;

// The capacities of the optimizer's growable arrays (tensor/array.h).
typedef struct cg_optimizer_capacity {
    int64_t groups, params, anchors, group_of, state;
} cg_optimizer_capacity;

struct cg_optimizer {
    const cg_optimizer_class *cls;
    void *defaults; // the constructor's options (cls->options_size bytes): PyTorch's defaults
    int n_groups;
    cg_param_group *groups;
    int n_params;
    cg_tensor **params; // the tensors are not owned
    // A detached view of each parameter (owned): it keeps the parameter's storage counted,
    // so a storage count of 1 means the parameter itself was freed (see params_alive).
    cg_tensor **anchors;
    int *group_of;
    cg_tensor **state; // n_params * CG_OPTIM_MAX_KEYS
    cg_optimizer_capacity capacity;
};

// false with an error naming `op` if a parameter was freed while the optimizer holds it
// (checked without touching the freed tensor). Every entry point that reads parameters
// calls it first.
bool cg_optimizer_params_alive(const cg_optimizer *opt, const char *op);

// The momentum a schedule may cycle in group g (NULL: the class has none).
double *cg_group_momentum(cg_optimizer *opt, int g);

// Validation of one option value: false with "<optimizer>: invalid <name>=<v> (must be
// <rule>)" unless ok.
bool cg_optim_check(const char *optimizer, const char *name, double v, bool ok, const char *rule);
// The same for values that must all be >= 0:
//   CG_OPTIM_NONNEGATIVE("SGD", {"momentum", m}, {"weight_decay", wd})
typedef struct cg_optim_value {
    const char *name;
    double value;
} cg_optim_value;
bool cg_optim_nonnegative(const char *optimizer, const cg_optim_value *values, int n);
#define CG_OPTIM_NONNEGATIVE(optimizer, ...)                                                       \
    cg_optim_nonnegative(                                                                          \
        optimizer, (const cg_optim_value[]){__VA_ARGS__},                                          \
        (int)(sizeof((const cg_optim_value[]){__VA_ARGS__}) / sizeof(cg_optim_value)))

// The options Adam's family shares (Adam, AdamW, Adamax, NAdam, RAdam), resolved as PyTorch
// does: betas (default 0.9, 0.999; each in [0, 1)), eps (default 1e-8) and weight_decay
// (default: the class's), both >= 0. Each class's config holds one as `common`.
typedef struct cg_adam_common {
    double beta1, beta2, eps, weight_decay;
} cg_adam_common;
// The values from the options (unset: the defaults above) into *out, then PyTorch's checks:
// false with an error naming `optimizer` and the field.
bool cg_adam_common_resolve(const char *optimizer, const cg_optional betas[2], cg_optional eps,
                            cg_optional weight_decay, double default_weight_decay,
                            cg_adam_common *out);

// Those values in float, as PyTorch's kernels receive them, with the complements the moment
// updates use (m = beta1 * m + (1 - beta1) * g).
typedef struct cg_adam_floats {
    float beta1, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay;
} cg_adam_floats;
cg_adam_floats cg_adam_floats_of(const cg_adam_common *c);

// A field table entry: CG_OPTIM_FIELD(cg_sgd_options, "momentum", momentum) for a
// cg_optional, CG_OPTIM_FLAG(cg_sgd_options, nesterov) for a bool.
#define CG_OPTIM_FIELD(type, name, member)                                                         \
    { name, offsetof(type, member), false }
#define CG_OPTIM_FLAG(type, member)                                                                \
    { #member, offsetof(type, member), true }
#define CG_OPTIM_COUNT(array) ((int)(sizeof(array) / sizeof *(array)))

#endif
