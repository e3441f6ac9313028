// optim/optim.h - optimizers and learning-rate schedules, with torch.optim's update rules.
//
// An optimizer holds parameter groups (torch.optim's param_groups): each group has its
// parameters (not owned), its lr (a double, like PyTorch's Python float) and its resolved
// options. Per-parameter state (owned) lives in flat float buffers. cg_optimizer_step()
// applies one update from the parameters' .grad; parameters whose grad is NULL are skipped,
// as in PyTorch.
//
// An optimizer is data: a cg_optimizer_class (below) names its options, its state keys and
// its step function over flat buffers. The built-ins are instances listed once in
// optim/optimizers.def; a user defines another one the same way in their own .c file and
// builds it with cg_optimizer_new(): it then works with every schedule, with clipping and
// with checkpoints.
#ifndef CG_OPTIM_H
#define CG_OPTIM_H

#include <stddef.h>

#include "../nn/module.h"
#include "../tensor/options.h"
#include "../tensor/tensor.h"

typedef struct cg_optimizer cg_optimizer;

// ---- an optimizer class ---------------------------------------------------------------------

#define CG_OPTIM_MAX_KEYS 4 // per-parameter state buffers of one optimizer, at most

// One field of an options struct, so that generic code (parameter groups, tests, config
// files) can read and set it by PyTorch's name. Every field is a cg_optional or a bool.
typedef struct cg_optim_field {
    const char *name; // PyTorch's spelling; "beta1"/"beta2" for betas[0]/betas[1]
    size_t offset;    // offsetof(options struct, field)
    bool is_bool;
} cg_optim_field;

// One per-parameter state buffer: PyTorch's state_dict key, and whether it is one float
// (a 0-d tensor, e.g. "step") or shaped like the parameter.
typedef struct cg_optim_key {
    const char *name;
    bool scalar;
} cg_optim_key;

// What a step (or init) function gets for one parameter: numel floats each, the state in
// the class's key order (NULL where the key is not in use under this group's config).
typedef struct cg_optim_param {
    float *param;
    const float *grad;
    int64_t numel;
    float *state[CG_OPTIM_MAX_KEYS];
} cg_optim_param;

typedef struct cg_optimizer_class {
    const char *name;             // PyTorch's class name ("SGD", "AdamW"), for messages
    size_t options_size;          // sizeof its options struct (cg_<name>_options)
    size_t config_size;           // sizeof its resolved config (per group)
    const cg_optim_field *fields; // the options struct's fields, n_fields of them
    int n_fields;
    // Options (never NULL here: unset fields mean PyTorch's defaults) to config: defaults
    // filled in and checked, the lr out; false with an error "<Name>: invalid ...".
    bool (*resolve)(const void *options, void *config, double *lr);
    const cg_optim_key *keys; // the state keys in PyTorch's order, n_keys of them
    int n_keys;
    // Whether state key k is in use under config (NULL: all are). Checked at every step, so
    // a key a schedule switches on (SGD's momentum cycled by OneCycleLR) starts then.
    bool (*uses)(const void *config, int key);
    // Fill a parameter's state when it is created (buffers arrive zeroed; NULL: zeros).
    void (*init)(const void *config, double lr, cg_optim_param *p);
    // One update of one parameter with the group's config and lr.
    void (*step)(const void *config, double lr, cg_optim_param *p);
    // Where in config the momentum a schedule may cycle lives (SGD's momentum, Adam's
    // beta1; NULL: it has none, and OneCycleLR needs .no_cycle_momentum).
    double *(*momentum)(void *config);
} cg_optimizer_class;

// The built-ins: optim/optimizers.def declares, for each, its options struct
// cg_<id>_options, its class cg_<id>_class and the constructors
//   cg_optimizer *cg_<id>(int n_params, cg_tensor *const *params, const cg_<opts>_options *);
//   cg_optimizer *cg_<id>_for(cg_module *model, const cg_<opts>_options *);  // all params
// Options follow tensor/options.h: NULL or {0} is PyTorch's defaults, every number is a
// cg_optional (`.lr = CG_SET(0.01)`, `.momentum = CG_SET(0.9)`, `.betas = {CG_SET(0.0),
// CG_SET(0.99)}`) so that a parameter group can set any of them to 0.
#define CG_OPTIONS(id, ...)                                                                        \
    typedef struct cg_##id##_options {                                                             \
        __VA_ARGS__                                                                                \
    } cg_##id##_options;
#define CG_OPTIMIZER(id, opts)                                                                     \
    extern const cg_optimizer_class cg_##id##_class;                                               \
    cg_optimizer *cg_##id(int n_params, cg_tensor *const *params,                                  \
                          const cg_##opts##_options *options);                                     \
    cg_optimizer *cg_##id##_for(cg_module *model, const cg_##opts##_options *options);
#include "optimizers.def"
#undef CG_OPTIONS
#undef CG_OPTIMIZER

// The built-in classes in table order (NULL past the end), and one by its PyTorch name,
// case-insensitively ("adamw", "SGD"; NULL if there is none).
const cg_optimizer_class *cg_optimizer_builtin(int i);
const cg_optimizer_class *cg_optimizer_class_named(const char *name);

// A user's optimizer (tests/test_optim_classes.c defines "Signum" this way):
//   typedef struct my_options { cg_optional lr, momentum; } my_options;
//   static const cg_optim_field my_fields[] = {{"lr", offsetof(my_options, lr), false}, ...};
//   static const cg_optim_key my_keys[] = {{"momentum_buffer", false}};
//   static const cg_optimizer_class my_class = {.name = "Mine", .options_size =
//       sizeof(my_options), .config_size = sizeof(my_config), .fields = my_fields, .n_fields
//       = 2, .resolve = my_resolve, .keys = my_keys, .n_keys = 1, .step = my_step};
//   cg_optimizer *opt = cg_optimizer_new(&my_class, n, params, &(my_options){...});
// Any class over params (copied; the tensors are not): options points to the class's
// options struct (NULL: PyTorch's defaults). Parameters must be distinct leaf tensors
// (a non-leaf is refused, as PyTorch's "can't optimize a non-leaf Tensor").
cg_optimizer *cg_optimizer_new(const cg_optimizer_class *cls, int n_params,
                               cg_tensor *const *params, const void *options);
// All parameters of a module (named_parameters() order).
cg_optimizer *cg_optimizer_for(const cg_optimizer_class *cls, cg_module *model,
                               const void *options);
// Set the option `name` (a field of cls, e.g. "momentum", "beta2", "amsgrad") in an options
// struct of cls: bools take value != 0. 0, or -1 with an error for an unknown name.
int cg_optim_set_option(const cg_optimizer_class *cls, void *options, const char *name,
                        double value);

// ---- parameter groups -----------------------------------------------------------------------
// torch.optim's add_param_group: a new group over params (none may already be in the
// optimizer) with options of the optimizer's type; what it leaves unset (a cg_optional not
// set, a bool false) comes from the constructor's options (PyTorch's self.defaults). The
// constructor's group is group 0. Returns the group's index, or -1 with an error.
//   cg_optimizer_add_param_group(opt, 1, &bias, &(cg_sgd_options){.lr = CG_SET(0.01)});
int cg_optimizer_add_param_group(cg_optimizer *opt, int n_params, cg_tensor *const *params,
                                 const void *options);
int cg_optimizer_n_groups(const cg_optimizer *opt);               // -1 with an error if opt is NULL
double cg_optimizer_group_lr(const cg_optimizer *opt, int group); // NAN + error: no such group
int cg_optimizer_set_group_lr(cg_optimizer *opt, int group, double lr); // 0 or -1
// Group 0's lr, and setting every group's lr (0 or -1 with an error).
double cg_optimizer_lr(const cg_optimizer *opt);
int cg_optimizer_set_lr(cg_optimizer *opt, double lr);
// Group 0's momentum a schedule may cycle: SGD's / RMSprop's momentum, beta1 (NAN: none).
double cg_optimizer_momentum(const cg_optimizer *opt);
const cg_optimizer_class *cg_optimizer_get_class(const cg_optimizer *opt);

// The AdamW recipe: the module's parameters in two groups, group 0 those with ndim >= 2
// (weights of Linear / Conv, embeddings) with the options' weight_decay, group 1 those with
// ndim <= 1 (biases, norm weights and biases) with weight_decay 0.
cg_optimizer *cg_adamw_for_recipe(cg_module *model, const cg_adam_options *options);

// One update of every parameter that has a grad; 0, or -1 with an error (a grad of the
// wrong shape; a parameter freed while the optimizer holds it, which this, zero_grad,
// clipping and cg_optimizer_state refuse without touching the freed tensor).
int cg_optimizer_step(cg_optimizer *opt);
void cg_optimizer_zero_grad(cg_optimizer *opt);
void cg_optimizer_free(cg_optimizer *opt);

// The optimizer's state as named tensors, for checkpoints: names "<param index>.<key>"
// like PyTorch's state_dict()["state"] ("0.momentum_buffer", "3.exp_avg_sq"; parameters
// numbered across groups in order), every key in use under its group's config, "step" and
// other scalars as 0-d tensors. The tensors are the live state (load writes into them);
// missing buffers are created so a fresh optimizer can be loaded. SGD's "step" is cgrad's:
// 0 means the momentum buffer does not exist yet (PyTorch's None); when loading a PyTorch
// SGD state set it to 1. Free the list (not the tensors) with cg_tensor_list_free.
cg_tensor_list cg_optimizer_state(cg_optimizer *opt);

// ---- learning-rate schedules ----------------------------------------------------------
// As torch.optim.lr_scheduler: call cg_scheduler_step once per epoch (OneCycleLR: once per
// batch), after cg_optimizer_step. A schedule acts on every parameter group, from that
// group's initial_lr (its lr when the first schedule was attached; OneCycleLR sets it).
// Creating a schedule applies its epoch-0 lr at once, as PyTorch's constructors do
// (LinearLR starts at lr * start_factor, OneCycleLR at max_lr / div_factor). Several
// schedules may drive one optimizer: each multiplies the lr the previous one left
// (PyTorch's "chainable" form).
typedef struct cg_scheduler cg_scheduler;
cg_scheduler *cg_step_lr(cg_optimizer *opt, int step_size, float gamma); // StepLR
cg_scheduler *cg_cosine_annealing_lr(cg_optimizer *opt, int t_max,
                                     float eta_min);              // CosineAnnealingLR
cg_scheduler *cg_exponential_lr(cg_optimizer *opt, double gamma); // ExponentialLR

// LinearLR (warmup): the lr factor goes linearly from start_factor (default 1/3, in (0, 1])
// to end_factor (default 1, in [0, 1]) over total_iters (default 5; any integer: with 0
// or less the lr stays start_factor * lr, as in PyTorch's recursive form) steps.
typedef struct cg_linear_lr_options {
    double start_factor;
    cg_optional end_factor;
    cg_optional total_iters; // .total_iters = CG_SET(0) is PyTorch's total_iters=0
} cg_linear_lr_options;
cg_scheduler *cg_linear_lr(cg_optimizer *opt, const cg_linear_lr_options *options);

// MultiStepLR: the lr times gamma at each of the n milestones (epochs; copied; a milestone
// listed k times multiplies by gamma^k, as PyTorch's Counter). gamma >= 0 (PyTorch's default
// is 0.1). n >= 0.
cg_scheduler *cg_multi_step_lr(cg_optimizer *opt, int n, const int *milestones, double gamma);

// ConstantLR: the lr times factor (default 1/3, in [0, 1]) until epoch total_iters
// (default 5, any integer), then the lr itself. factor 0 cannot be undone at total_iters:
// that step is an error (PyTorch: ZeroDivisionError).
typedef struct cg_constant_lr_options {
    cg_optional factor, total_iters;
} cg_constant_lr_options;
cg_scheduler *cg_constant_lr(cg_optimizer *opt, const cg_constant_lr_options *options);

// PolynomialLR: lr = base_lr * (1 - epoch / total_iters)^power up to total_iters (default 5,
// any integer), then constant; power defaults to 1 (any number; a negative power makes
// the step to total_iters an error, as PyTorch's 0.0 ** -p).
typedef struct cg_polynomial_lr_options {
    cg_optional total_iters, power;
} cg_polynomial_lr_options;
cg_scheduler *cg_polynomial_lr(cg_optimizer *opt, const cg_polynomial_lr_options *options);

// LambdaLR and MultiplicativeLR with a C callback for PyTorch's lr_lambda: it gets the epoch,
// the parameter group (PyTorch's list of lambdas, one per group) and userdata.
//   LambdaLR: lr = initial_lr * fn(epoch)   MultiplicativeLR: lr *= fn(epoch) for epoch > 0
// cg_scheduler_set_epoch calls fn again for every epoch it replays: keep it a function of
// its arguments.
typedef double (*cg_lr_lambda)(int epoch, int group, void *userdata);
cg_scheduler *cg_lambda_lr(cg_optimizer *opt, cg_lr_lambda fn, void *userdata);
cg_scheduler *cg_multiplicative_lr(cg_optimizer *opt, cg_lr_lambda fn, void *userdata);

// CosineAnnealingWarmRestarts(T_0, T_mult=1, eta_min=0): cosine from the group's initial_lr
// down towards eta_min (any finite number) over T_i epochs, then a restart; T_0 > 0 and each
// period T_mult (default 1, >= 1) times the one before. A closed form, so set_epoch is
// cheap.
typedef struct cg_warm_restarts_options {
    int t_mult; // 0: 1
    double eta_min;
} cg_warm_restarts_options;
cg_scheduler *cg_cosine_annealing_warm_restarts(cg_optimizer *opt, int t_0,
                                                const cg_warm_restarts_options *options);

// CyclicLR(base_lr, max_lr): every group's lr (set to base_lr at once, as PyTorch) cycles
// between base_lr and max_lr, rising over step_size_up steps (default 2000, > 0; fractions
// allowed, as PyTorch's float) and falling over step_size_down (default step_size_up,
// >= 0). Modes: triangular (the default), triangular2 (the amplitude halves every cycle),
// exp_range (scaled by gamma^step, gamma default 1). It also cycles the momentum the
// other way, between base_momentum (0.8) and max_momentum (0.9), of optimizers with a
// momentum option (SGD, RMSprop; PyTorch refuses others, as cgrad):
// .no_cycle_momentum = true is cycle_momentum=False. Step it once per batch.
typedef enum cg_cyclic_mode {
    CG_CYCLIC_TRIANGULAR = 0,
    CG_CYCLIC_TRIANGULAR2,
    CG_CYCLIC_EXP_RANGE,
} cg_cyclic_mode;
typedef struct cg_cyclic_lr_options {
    cg_optional step_size_up, step_size_down;
    cg_cyclic_mode mode;
    cg_optional gamma;
    bool no_cycle_momentum;
    cg_optional base_momentum, max_momentum;
} cg_cyclic_lr_options;
cg_scheduler *cg_cyclic_lr(cg_optimizer *opt, double base_lr, double max_lr,
                           const cg_cyclic_lr_options *options);

// OneCycleLR: max_lr (> 0) and total_steps (> 0; or epochs * steps_per_epoch, as PyTorch)
// are required; pct_start 0.3, cosine annealing (anneal_linear: PyTorch's
// anneal_strategy='linear'), div_factor 25, final_div_factor 1e4. Like PyTorch it writes
// initial_lr (max_lr / div_factor), max_lr and min_lr into every group, where later
// schedules (CosineAnnealingLR, SequentialLR, ...) read them. It also cycles the momentum
// the other way, between max_momentum (0.95) and base_momentum (0.85): SGD's and RMSprop's
// momentum (even if it was 0, as PyTorch) or beta1; no_cycle_momentum is PyTorch's
// cycle_momentum=False (needed for Adagrad, Adadelta). A phase of zero length (e.g.
// pct_start * total_steps == 1, where PyTorch divides by zero) is refused. Stepping past
// total_steps is an error, as PyTorch.
typedef struct cg_one_cycle_lr_options {
    double max_lr;
    int total_steps;
    int epochs, steps_per_epoch; // used when total_steps is 0
    cg_optional pct_start;
    bool anneal_linear, three_phase;
    double div_factor, final_div_factor;
    bool no_cycle_momentum;
    cg_optional base_momentum, max_momentum;
} cg_one_cycle_lr_options;
cg_scheduler *cg_one_cycle_lr(cg_optimizer *opt, const cg_one_cycle_lr_options *options);

// ReduceLROnPlateau: step with cg_scheduler_step_metric(s, validation_metric). Defaults:
// mode 'min' (mode_max: 'max'), factor 0.1 (in [0, 1)), patience 10, threshold 1e-4
// relative (threshold_abs: 'abs'), cooldown 0, min_lr 0, eps 1e-8.
typedef struct cg_plateau_options {
    bool mode_max;
    cg_optional factor, patience, threshold;
    bool threshold_abs;
    int cooldown;
    double min_lr;
    cg_optional eps;
} cg_plateau_options;
cg_scheduler *cg_reduce_lr_on_plateau(cg_optimizer *opt, const cg_plateau_options *options);

// Chains, which take ownership of the n schedules (all on the same optimizer; not
// ReduceLROnPlateau; each given once and not already in a chain, else an error); on error
// they free them too (each once, and none another chain owns).
// ChainedScheduler: every step steps all of them, in order.
cg_scheduler *cg_chained_scheduler(int n, cg_scheduler **schedules);
// SequentialLR: schedule i runs from milestones[i-1] (0 for the first) to milestones[i],
// each restarting from the groups' initial lr; milestones are n - 1 increasing epochs.
cg_scheduler *cg_sequential_lr(int n, cg_scheduler **schedules, const int *milestones);

// 0, or -1 with an error (OneCycleLR past total_steps; ReduceLROnPlateau, which needs
// cg_scheduler_step_metric).
int cg_scheduler_step(cg_scheduler *s);
int cg_scheduler_step_metric(cg_scheduler *s, double metric); // ReduceLROnPlateau only
int cg_scheduler_epoch(const cg_scheduler *s); // last_epoch, for checkpoints (-1: s NULL)
// Restores the lr for that epoch by replaying the schedule from the groups' initial lr, so
// a resumed run gets exactly the uninterrupted lr. Schedules that PyTorch computes in closed
// form too (LambdaLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR) jump there at
// once; the others replay at most CG_SCHEDULER_MAX_REPLAY epochs (a fraction of a second;
// beyond it an error, not a minutes-long loop). ReduceLROnPlateau depends on the metrics
// it saw: it restores the epoch count only (the lr comes from the checkpoint,
// cg_checkpoint_load). 0, or -1 with an error (epoch < 0, the limit, a step that fails).
#define CG_SCHEDULER_MAX_REPLAY (1 << 26)
int cg_scheduler_set_epoch(cg_scheduler *s, int epoch);
void cg_scheduler_free(cg_scheduler *s);

// ---- gradient clipping (torch.nn.utils) --------------------------------------------------
// clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False).
typedef struct cg_clip_grad_norm_options {
    cg_optional norm_type;   // 2 (Euclidean); INFINITY for the max norm; any p > 0
    bool error_if_nonfinite; // a NaN / inf total is an error (nothing is scaled)
} cg_clip_grad_norm_options;
// The norm of all gradients together (as if concatenated); if it exceeds max_norm every
// gradient is scaled by max_norm / (total + 1e-6). Returns the total norm before clipping
// (NAN/inf passes through unless error_if_nonfinite), or -1 with an error. Parameters
// without a grad are skipped.
double cg_clip_grad_norm(int n_params, cg_tensor *const *params, double max_norm,
                         const cg_clip_grad_norm_options *options);
// clip_grad_value_: clamp every gradient element into [-clip_value, clip_value]. 0 or -1.
int cg_clip_grad_value(int n_params, cg_tensor *const *params, double clip_value);
// The same over all of an optimizer's parameters (the usual call between backward and step).
double cg_optimizer_clip_grad_norm(cg_optimizer *opt, double max_norm,
                                   const cg_clip_grad_norm_options *options);
int cg_optimizer_clip_grad_value(cg_optimizer *opt, double clip_value);

#endif
