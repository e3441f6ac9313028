// optim/optim.h - optimizers and learning-rate schedules, with torch.optim's update rules.
//
// An optimizer holds the parameter tensors it updates (not owned) and its per-parameter
// state (owned). cg_optimizer_step() applies one update from the parameters' .grad;
// parameters whose grad is NULL are skipped, as in PyTorch.
#ifndef CG_OPTIM_H
#define CG_OPTIM_H

#include "../nn/module.h"
#include "../tensor/options.h"
#include "../tensor/tensor.h"

typedef struct cg_optimizer cg_optimizer;

// Options follow tensor/options.h: NULL or {0} is PyTorch's defaults, and a field whose 0
// is legal but not the default is a cg_optional (`.lr = CG_SET(0.01)`,
// `.betas = {CG_SET(0.0), CG_SET(0.99)}`). Every optimizer's lr is written the same way.

// torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov, maximize=...).
// PyTorch's SGD has no default lr, so lr is required: leaving it unset is an error
// ("SGD: lr is required"); CG_SET(0.0) is a legal (frozen) lr.
typedef struct cg_sgd_options {
    cg_optional lr;
    double momentum, dampening, weight_decay; // default 0
    bool nesterov;                            // requires momentum > 0 and dampening == 0
    bool maximize;                            // ascend instead of descend
} cg_sgd_options;
// torch.optim.Adam / AdamW: lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight_decay 0 (Adam) or
// 1e-2 (AdamW; CG_SET(0.0) turns it off).
typedef struct cg_adam_options {
    cg_optional lr;
    cg_optional betas[2];
    cg_optional eps;
    cg_optional weight_decay;
    bool amsgrad, maximize;
} cg_adam_options;
// torch.optim.RMSprop: lr 1e-2, alpha 0.99, eps 1e-8, weight_decay 0, momentum 0.
typedef struct cg_rmsprop_options {
    cg_optional lr, alpha, eps;
    double weight_decay, momentum;
    bool centered, maximize;
} cg_rmsprop_options;
// torch.optim.Adagrad: lr 1e-2, lr_decay 0, weight_decay 0, initial_accumulator_value 0,
// eps 1e-10.
typedef struct cg_adagrad_options {
    cg_optional lr;
    double lr_decay, weight_decay, initial_accumulator_value;
    cg_optional eps;
    bool maximize;
} cg_adagrad_options;

// `params` is copied (the tensors are not); see cg_module_named_parameters().
cg_optimizer *cg_sgd(int n_params, cg_tensor *const *params, const cg_sgd_options *options);
cg_optimizer *cg_adam(int n_params, cg_tensor *const *params, const cg_adam_options *options);
cg_optimizer *cg_adamw(int n_params, cg_tensor *const *params, const cg_adam_options *options);
cg_optimizer *cg_rmsprop(int n_params, cg_tensor *const *params, const cg_rmsprop_options *options);
cg_optimizer *cg_adagrad(int n_params, cg_tensor *const *params, const cg_adagrad_options *options);
// Convenience: all parameters of a module.
cg_optimizer *cg_sgd_for(cg_module *model, const cg_sgd_options *options);
cg_optimizer *cg_adam_for(cg_module *model, const cg_adam_options *options);
cg_optimizer *cg_adamw_for(cg_module *model, const cg_adam_options *options);
cg_optimizer *cg_rmsprop_for(cg_module *model, const cg_rmsprop_options *options);
cg_optimizer *cg_adagrad_for(cg_module *model, const cg_adagrad_options *options);

int cg_optimizer_step(cg_optimizer *opt);
void cg_optimizer_zero_grad(cg_optimizer *opt);
float cg_optimizer_lr(const cg_optimizer *opt);
void cg_optimizer_set_lr(cg_optimizer *opt, float lr);
// The momentum a schedule may cycle: SGD's / RMSprop's momentum, Adam's beta1 (NAN: none).
double cg_optimizer_momentum(const cg_optimizer *opt);
void cg_optimizer_free(cg_optimizer *opt);

// The optimizer's state as named tensors, for checkpoints: names "<param index>.<key>"
// like PyTorch's state_dict()["state"] ("0.momentum_buffer", "3.exp_avg_sq") plus "step"
// entries as one-element tensors. The tensors are the live state (load writes into them);
// cg_optimizer_state creates missing state buffers so a fresh optimizer can be loaded.
// Keys: SGD with momentum "momentum_buffer" and "step" (cgrad's: step 0 means the buffer
// does not exist yet, PyTorch's None; when loading a PyTorch SGD state set it to 1), SGD
// without momentum none; Adam/AdamW "step", "exp_avg", "exp_avg_sq" (+ "max_exp_avg_sq"
// with amsgrad); RMSprop "step", "square_avg" (+ "momentum_buffer" with momentum, "grad_avg"
// when centered); Adagrad "step", "sum". Free the list (not the tensors) with cg_tensor_list_free.
cg_tensor_list cg_optimizer_state(cg_optimizer *opt);

// ---- learning-rate schedules ----------------------------------------------------------
// As torch.optim.lr_scheduler: call cg_scheduler_step once per epoch (OneCycleLR: once per
// batch), after cg_optimizer_step. Creating a schedule applies its epoch-0 lr at once, as
// PyTorch's constructors do (LinearLR starts at lr * start_factor, OneCycleLR at
// max_lr / div_factor). Several schedules may drive one optimizer: each multiplies the lr
// the previous one left (PyTorch's "chainable" form).
typedef struct cg_scheduler cg_scheduler;
cg_scheduler *cg_step_lr(cg_optimizer *opt, int step_size, float gamma); // StepLR
cg_scheduler *cg_cosine_annealing_lr(cg_optimizer *opt, int t_max,
                                     float eta_min);              // CosineAnnealingLR
cg_scheduler *cg_exponential_lr(cg_optimizer *opt, double gamma); // ExponentialLR

// LinearLR (warmup): the lr factor goes linearly from start_factor (default 1/3, in (0, 1])
// to end_factor (default 1, in [0, 1]) over total_iters (default 5) steps.
typedef struct cg_linear_lr_options {
    double start_factor;
    cg_optional end_factor;
    int total_iters;
} cg_linear_lr_options;
cg_scheduler *cg_linear_lr(cg_optimizer *opt, const cg_linear_lr_options *options);

// OneCycleLR: max_lr (> 0) and total_steps (> 0; or epochs * steps_per_epoch, as PyTorch)
// are required; pct_start 0.3, cosine annealing
// (anneal_linear: PyTorch's anneal_strategy='linear'), div_factor 25, final_div_factor
// 1e4. As PyTorch it also cycles the momentum the other way, between max_momentum (0.95)
// and base_momentum (0.85): SGD's and RMSprop's momentum (which must then be > 0) or
// Adam's beta1; no_cycle_momentum is PyTorch's cycle_momentum=False (needed for Adagrad).
// Stepping past total_steps is an error, as PyTorch.
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
// ReduceLROnPlateau); on error they free them too.
// ChainedScheduler: every step steps all of them, in order.
cg_scheduler *cg_chained_scheduler(int n, cg_scheduler **schedules);
// SequentialLR: schedule i runs from milestones[i-1] (0 for the first) to milestones[i],
// each restarting from the optimizer's initial lr; milestones are n - 1 increasing epochs.
cg_scheduler *cg_sequential_lr(int n, cg_scheduler **schedules, const int *milestones);

// 0, or -1 with an error (OneCycleLR past total_steps; ReduceLROnPlateau, which needs
// cg_scheduler_step_metric).
int cg_scheduler_step(cg_scheduler *s);
int cg_scheduler_step_metric(cg_scheduler *s, double metric); // ReduceLROnPlateau only
int cg_scheduler_epoch(const cg_scheduler *s);                // last_epoch, for checkpoints
// Restores the lr for that epoch by replaying the schedule from the lr the optimizer had
// when the first schedule was attached, so a resumed run gets exactly the uninterrupted
// lr. ReduceLROnPlateau depends on the metrics it saw: it restores the epoch count only (the
// lr comes from the checkpoint, cg_checkpoint_load).
void cg_scheduler_set_epoch(cg_scheduler *s, int epoch);
void cg_scheduler_free(cg_scheduler *s);

// ---- gradient clipping (torch.nn.utils) --------------------------------------------------
// clip_grad_norm_: the norm of all gradients together (as if concatenated) with norm_type p
// (2 for Euclidean, INFINITY for the max norm, any p > 0); if it exceeds max_norm every
// gradient is scaled by max_norm / (total + 1e-6). Returns the total norm before clipping
// (NAN/inf passes through, as PyTorch with error_if_nonfinite=False), or -1 with an error.
// Parameters without a grad are skipped.
double cg_clip_grad_norm(int n_params, cg_tensor *const *params, double max_norm, double norm_type);
// clip_grad_value_: clamp every gradient element into [-clip_value, clip_value]. 0 or -1.
int cg_clip_grad_value(int n_params, cg_tensor *const *params, double clip_value);
// The same over an optimizer's parameters (the usual call between backward and step).
double cg_optimizer_clip_grad_norm(cg_optimizer *opt, double max_norm, double norm_type);
int cg_optimizer_clip_grad_value(cg_optimizer *opt, double clip_value);

#endif
