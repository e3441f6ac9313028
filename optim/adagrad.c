// optim/adagrad.c - torch.optim.Adagrad: lr decay, weight decay, initial accumulator value,
// maximize.
//
// Per element, as torch 1.13's _single_tensor_adagrad (step t >= 1):
//   g = maximize ? -grad : grad;  g = g + weight_decay * p
//   clr = lr / (1 + (t - 1) * lr_decay)          (in double, as PyTorch's Python)
//   sum = sum + g * g
//   p = p - clr * g / (sqrt(sum) + eps)
// PyTorch fills "sum" with initial_accumulator_value when the optimizer is built; cgrad
// when the state buffer is created (first update, or cg_optimizer_state), which is the same
// for every use that can observe it.
#include <math.h>

#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct adagrad_config {
    double lr_decay, weight_decay, initial_accumulator_value, eps;
    bool maximize;
} adagrad_config;

enum { STEP, SUM };
static const cg_optim_key adagrad_keys[] = {{"step", true}, {"sum", false}};

static void adagrad_init(const void *config, double lr, cg_optim_param *p) {
    (void)lr;
    float start = (float)((const adagrad_config *)config)->initial_accumulator_value;
    for (int64_t i = 0; p->state[SUM] && i < p->numel; i++) p->state[SUM][i] = start;
}

// One update: param, grad, sum (n floats each) and the scalars.
typedef struct adagrad_update {
    float neg_clr, sign, wd, eps;
    float *param, *sum;
    const float *grad;
} adagrad_update;

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void adagrad_range(void *ctx, int64_t begin, int64_t end) {
    const adagrad_update local = *(const adagrad_update *)ctx, *u = &local;
    float *param = u->param, *sum = u->sum;
    const float *grad = u->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = u->sign * grad[i];
        if (u->wd != 0) g = g + u->wd * param[i];
        sum[i] = sum[i] + g * g;
        param[i] = param[i] + u->neg_clr * g / (sqrtf(sum[i]) + u->eps);
    }
}

static void adagrad_step(const void *config, double lr, cg_optim_param *p) {
    const adagrad_config *o = config;
    double step = p->state[STEP][0] += 1;
    adagrad_update u = {.neg_clr = (float)(-lr / (1 + (step - 1) * o->lr_decay)),
                        .sign = o->maximize ? -1.0f : 1.0f,
                        .wd = (float)o->weight_decay,
                        .eps = (float)o->eps,
                        .param = p->param,
                        .sum = p->state[SUM],
                        .grad = p->grad};
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, adagrad_range, &u);
}

static bool adagrad_resolve(const void *options, void *config, double *lr) {
    const cg_adagrad_options *o = options;
    adagrad_config *c = config;
    *lr = cg_optional_or(o->lr, 1e-2);
    *c = (adagrad_config){
        .lr_decay = cg_optional_or(o->lr_decay, 0),
        .weight_decay = cg_optional_or(o->weight_decay, 0),
        .initial_accumulator_value = cg_optional_or(o->initial_accumulator_value, 0),
        .eps = cg_optional_or(o->eps, 1e-10),
        .maximize = o->maximize,
    };
    return CG_OPTIM_NONNEGATIVE(
        "Adagrad", {"lr_decay", c->lr_decay}, {"weight_decay", c->weight_decay},
        {"initial_accumulator_value", c->initial_accumulator_value}, {"eps", c->eps});
}

static const cg_optim_field adagrad_fields[] = {
    CG_OPTIM_FIELD(cg_adagrad_options, "lr", lr),
    CG_OPTIM_FIELD(cg_adagrad_options, "lr_decay", lr_decay),
    CG_OPTIM_FIELD(cg_adagrad_options, "weight_decay", weight_decay),
    CG_OPTIM_FIELD(cg_adagrad_options, "initial_accumulator_value", initial_accumulator_value),
    CG_OPTIM_FIELD(cg_adagrad_options, "eps", eps),
    CG_OPTIM_FLAG(cg_adagrad_options, maximize),
};

const cg_optimizer_class cg_adagrad_class = {
    .name = "Adagrad",
    .options_size = sizeof(cg_adagrad_options),
    .config_size = sizeof(adagrad_config),
    .fields = adagrad_fields,
    .n_fields = CG_OPTIM_COUNT(adagrad_fields),
    .resolve = adagrad_resolve,
    .keys = adagrad_keys,
    .n_keys = CG_OPTIM_COUNT(adagrad_keys),
    .init = adagrad_init,
    .step = adagrad_step,
};
