// optim/optimizer_internal.h - what every optimizer shares: a small class table, the
// parameter list and per-parameter state tensors (not installed).
//
// State lives in opt->state[i * n_keys + k] for parameter i and key k (the class's
// state_names). Buffers are created on the parameter's first update (or by
// cg_optimizer_state for loading) outside any scope and are owned by the optimizer. Every
// optimizer with state keeps a one-element "step" tensor per parameter: 0 means "no
// update yet", which is how SGD tells a momentum buffer that does not exist yet (PyTorch's
// None) from a zero buffer, so a run restored from a checkpoint continues exactly.
#ifndef CG_OPTIMIZER_INTERNAL_H
#define CG_OPTIMIZER_INTERNAL_H

#include "optim.h"

#define CG_OPTIM_MAX_KEYS 4

typedef struct cg_optimizer_class {
    const char *name; // "SGD", "Adam", "AdamW", as PyTorch names them (for messages)
    // Update parameter p (index i) from p->grad with its state tensors (all allocated).
    void (*step)(cg_optimizer *opt, cg_tensor *p, cg_tensor **state);
    // The per-parameter state keys of this optimizer instance in PyTorch's order
    // ("step", "exp_avg", ...); returns how many (0: stateless, e.g. SGD without momentum).
    int (*state_names)(const cg_optimizer *opt, const char **names);
    // The value a new state buffer `key` starts with (NULL: every buffer starts at 0).
    float (*state_start)(const cg_optimizer *opt, int key);
    // Where the momentum a schedule may cycle lives (NULL: none, or not switched on).
    double *(*momentum)(cg_optimizer *opt);
} cg_optimizer_class;

// Resolved options (PyTorch's defaults filled in, validated), in double like PyTorch's
// Python scalars; each update casts them to float where PyTorch's kernels do.
typedef struct cg_sgd_config {
    double momentum, dampening, weight_decay;
    bool nesterov, maximize;
} cg_sgd_config;
typedef struct cg_adam_config {
    double beta1, beta2, eps, weight_decay;
    bool amsgrad, maximize, decoupled; // decoupled: AdamW
} cg_adam_config;
typedef struct cg_rmsprop_config {
    double alpha, eps, weight_decay, momentum;
    bool centered, maximize;
} cg_rmsprop_config;
typedef struct cg_adagrad_config {
    double lr_decay, weight_decay, initial_accumulator_value, eps;
    bool maximize;
} cg_adagrad_config;

struct cg_optimizer {
    const cg_optimizer_class *cls;
    double lr; // double like PyTorch's param_groups lr, so schedules recur identically
    // PyTorch's param_groups "initial_lr": the lr when the first schedule was attached.
    bool has_initial_lr;
    double initial_lr;
    int n_params;
    cg_tensor **params; // copied pointer list; the tensors are not owned
    int n_keys;         // state tensors per parameter
    const char *keys[CG_OPTIM_MAX_KEYS];
    cg_tensor **state; // n_params * n_keys, NULL until created
    union {
        cg_sgd_config sgd;
        cg_adam_config adam;
        cg_rmsprop_config rmsprop;
        cg_adagrad_config adagrad;
    } u;
};

// A new optimizer of class cls over params (copied); NULL with an error naming the class
// if the list is empty or holds NULL. The caller fills opt->u, then calls
// cg_optimizer_init_state().
cg_optimizer *cg_optimizer_new(const cg_optimizer_class *cls, int n_params,
                               cg_tensor *const *params, double lr);
// Ask the class for its state keys and allocate the (empty) state table; frees opt and
// returns NULL on failure, else returns opt.
cg_optimizer *cg_optimizer_init_state(cg_optimizer *opt);
// The index of state key `key` (e.g. "step"), or -1.
int cg_optimizer_key(const cg_optimizer *opt, const char *key);
// All parameters of a module as a pointer array (cg_alloc'd; free with cg_dealloc); NULL
// and n = 0 if it has none.
cg_tensor **cg_optimizer_module_params(cg_module *model, int *n);

// The body of every cg_<optimizer>_for: `make` is the constructor call over (n, params).
#define CG_OPTIMIZER_FOR(name, model, make)                                                        \
    do {                                                                                           \
        if (!(model)) return cg_error(CG_ERR_ARG, "%s: model is NULL", name);                      \
        int n;                                                                                     \
        cg_tensor **params = cg_optimizer_module_params(model, &n);                                \
        cg_optimizer *made = make;                                                                 \
        cg_dealloc(params);                                                                        \
        return made;                                                                               \
    } while (0)

// cg_optimizer_new, the resolved config (size bytes) copied into opt->u, then
// cg_optimizer_init_state: what every constructor ends with.
cg_optimizer *cg_optimizer_make(const cg_optimizer_class *cls, int n_params,
                                cg_tensor *const *params, double lr, const void *config,
                                size_t size);

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

#endif
