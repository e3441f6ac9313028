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

#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

enum { STEP, SUM };

static int adagrad_state_names(const cg_optimizer *opt, const char **names) {
    (void)opt;
    names[STEP] = "step";
    names[SUM] = "sum";
    return 2;
}

static float adagrad_state_start(const cg_optimizer *opt, int key) {
    return key == SUM ? (float)opt->u.adagrad.initial_accumulator_value : 0.0f;
}

// One update: param, grad, sum (n floats each) and the scalars.
typedef struct adagrad_update {
    float neg_clr, sign, wd, eps;
    float *param, *sum;
    const float *grad;
} adagrad_update;

static void adagrad_range(void *ctx, int64_t begin, int64_t end) {
    const adagrad_update *u = ctx;
    float *param = u->param, *sum = u->sum;
    const float *grad = u->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = u->sign * grad[i];
        if (u->wd != 0) g = g + u->wd * param[i];
        sum[i] = sum[i] + g * g;
        param[i] = param[i] + u->neg_clr * g / (sqrtf(sum[i]) + u->eps);
    }
}

static void adagrad_step(cg_optimizer *opt, cg_tensor *p, cg_tensor **state) {
    const cg_adagrad_config *o = &opt->u.adagrad;
    double step = state[STEP]->data[0] += 1;
    adagrad_update u = {.neg_clr = (float)(-opt->lr / (1 + (step - 1) * o->lr_decay)),
                        .sign = o->maximize ? -1.0f : 1.0f,
                        .wd = (float)o->weight_decay,
                        .eps = (float)o->eps,
                        .param = p->data,
                        .sum = state[SUM]->data,
                        .grad = p->grad->data};
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, adagrad_range, &u);
}

static const cg_optimizer_class adagrad_class = {"Adagrad", adagrad_step, adagrad_state_names,
                                                 adagrad_state_start, NULL};

cg_optimizer *cg_adagrad(int n_params, cg_tensor *const *params,
                         const cg_adagrad_options *options) {
    static const cg_adagrad_options defaults = {0};
    const cg_adagrad_options *o = options ? options : &defaults;
    cg_adagrad_config c = {
        .lr_decay = o->lr_decay,
        .weight_decay = o->weight_decay,
        .initial_accumulator_value = o->initial_accumulator_value,
        .eps = cg_optional_or(o->eps, 1e-10),
        .maximize = o->maximize,
    };
    if (!CG_OPTIM_NONNEGATIVE("Adagrad", {"lr_decay", c.lr_decay}, {"weight_decay", c.weight_decay},
                              {"initial_accumulator_value", c.initial_accumulator_value},
                              {"eps", c.eps}))
        return NULL;
    return cg_optimizer_make(&adagrad_class, n_params, params, cg_optional_or(o->lr, 1e-2), &c,
                             sizeof c);
}

cg_optimizer *cg_adagrad_for(cg_module *model, const cg_adagrad_options *options) {
    CG_OPTIMIZER_FOR("Adagrad", model, cg_adagrad(n, params, options));
}
