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

// ---- learning-rate schedules (call cg_scheduler_step once per epoch, as PyTorch) -------
typedef struct cg_scheduler cg_scheduler;
cg_scheduler *cg_step_lr(cg_optimizer *opt, int step_size, float gamma); // StepLR
cg_scheduler *cg_cosine_annealing_lr(cg_optimizer *opt, int t_max,
                                     float eta_min); // CosineAnnealingLR
void cg_scheduler_step(cg_scheduler *s);
int cg_scheduler_epoch(const cg_scheduler *s); // last_epoch, for checkpoints
// Restores the lr for that epoch by replaying the schedule from the lr the optimizer had
// when the scheduler was created, so a resumed run gets exactly the uninterrupted lr.
void cg_scheduler_set_epoch(cg_scheduler *s, int epoch);
void cg_scheduler_free(cg_scheduler *s);

#endif
