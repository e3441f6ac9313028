// optim/adam.c - torch.optim.Adam and AdamW: one update with a flag for decoupled decay.
//
// Per element, as torch 1.13's _single_tensor_adam / _single_tensor_adamw (step t >= 1):
//   grad = maximize ? -grad : grad
//   AdamW: p = p * (1 - lr * weight_decay)        Adam: g = grad + weight_decay * p
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   v_max = max(v_max, v)                         (amsgrad; the denominator uses v_max)
//   denom = sqrt(v) / sqrt(1 - beta2^t) + eps
//   p = p - lr / (1 - beta1^t) * m / denom
// The bias corrections are computed in double from the float step count, as PyTorch does
// in Python.
#include <math.h>

#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

enum { STEP, EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ };

static int adam_state_names(const cg_optimizer *opt, const char **names) {
    names[STEP] = "step";
    names[EXP_AVG] = "exp_avg";
    names[EXP_AVG_SQ] = "exp_avg_sq";
    if (!opt->u.adam.amsgrad) return 3;
    names[MAX_EXP_AVG_SQ] = "max_exp_avg_sq";
    return 4;
}

// The scalars of one update, in float as PyTorch's kernels receive them.
typedef struct adam_scalars {
    float sign; // -1 for maximize
    float beta1, beta2, one_minus_beta1, one_minus_beta2, eps;
    float weight_decay; // coupled (Adam): added to the gradient
    float decay;        // decoupled (AdamW): p *= decay
    float neg_step_size, bias_correction2_sqrt;
} adam_scalars;

// One update: p, grad, m, v, v_max (NULL unless amsgrad), n floats each.
typedef struct adam_update {
    const adam_scalars *s;
    float *p, *m, *v, *v_max;
    const float *grad;
} adam_update;

static void adam_range(void *ctx, int64_t begin, int64_t end) {
    const adam_update *u = ctx;
    const adam_scalars *s = u->s;
    float *p = u->p, *m = u->m, *v = u->v, *v_max = u->v_max;
    const float *grad = u->grad;
    for (int64_t i = begin; i < end; i++) {
        float param = p[i] * s->decay;
        float g = s->sign * grad[i];
        if (s->weight_decay != 0) g = g + s->weight_decay * param;
        m[i] = m[i] * s->beta1 + s->one_minus_beta1 * g;
        v[i] = v[i] * s->beta2 + s->one_minus_beta2 * g * g;
        float second = v[i];
        if (v_max) second = v_max[i] = fmaxf(v_max[i], v[i]);
        float denom = sqrtf(second) / s->bias_correction2_sqrt + s->eps;
        p[i] = param + s->neg_step_size * m[i] / denom;
    }
}

static void adam_step(cg_optimizer *opt, cg_tensor *p, cg_tensor **state) {
    const cg_adam_config *o = &opt->u.adam;
    double step = state[STEP]->data[0] += 1;
    double bias_correction1 = 1 - pow(o->beta1, step);
    double bias_correction2 = 1 - pow(o->beta2, step);
    adam_scalars s = {
        .sign = o->maximize ? -1.0f : 1.0f,
        .beta1 = (float)o->beta1,
        .beta2 = (float)o->beta2,
        .one_minus_beta1 = (float)(1 - o->beta1),
        .one_minus_beta2 = (float)(1 - o->beta2),
        .eps = (float)o->eps,
        .weight_decay = o->decoupled ? 0.0f : (float)o->weight_decay,
        .decay = o->decoupled ? (float)(1 - opt->lr * o->weight_decay) : 1.0f,
        .neg_step_size = (float)(-opt->lr / bias_correction1),
        .bias_correction2_sqrt = (float)sqrt(bias_correction2),
    };
    float *v_max = o->amsgrad ? state[MAX_EXP_AVG_SQ]->data : NULL;
    adam_update u = {&s,    p->data,      state[EXP_AVG]->data, state[EXP_AVG_SQ]->data,
                     v_max, p->grad->data};
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, adam_range, &u);
}

static double *adam_beta1(cg_optimizer *opt) {
    return &opt->u.adam.beta1;
}

static const cg_optimizer_class adam_class = {"Adam", adam_step, adam_state_names, NULL,
                                              adam_beta1};
static const cg_optimizer_class adamw_class = {"AdamW", adam_step, adam_state_names, NULL,
                                               adam_beta1};

// PyTorch's defaults for unset fields, then its checks; false with an error.
static bool adam_resolve(const char *name, bool decoupled, const cg_adam_options *in,
                         cg_adam_config *c) {
    static const cg_adam_options defaults = {0};
    const cg_adam_options *o = in ? in : &defaults;
    *c = (cg_adam_config){
        .beta1 = cg_optional_or(o->betas[0], 0.9),
        .beta2 = cg_optional_or(o->betas[1], 0.999),
        .eps = cg_optional_or(o->eps, 1e-8),
        .weight_decay = cg_optional_or(o->weight_decay, decoupled ? 1e-2 : 0.0),
        .amsgrad = o->amsgrad,
        .maximize = o->maximize,
        .decoupled = decoupled,
    };
    return cg_optim_check(name, "beta1", c->beta1, c->beta1 >= 0 && c->beta1 < 1, "in [0, 1)") &&
           cg_optim_check(name, "beta2", c->beta2, c->beta2 >= 0 && c->beta2 < 1, "in [0, 1)") &&
           CG_OPTIM_NONNEGATIVE(name, {"eps", c->eps}, {"weight_decay", c->weight_decay});
}

static cg_optimizer *adam_new(const cg_optimizer_class *cls, bool decoupled, int n_params,
                              cg_tensor *const *params, const cg_adam_options *options) {
    cg_adam_config c;
    if (!adam_resolve(cls->name, decoupled, options, &c)) return NULL;
    double lr = cg_optional_or(options ? options->lr : (cg_optional){0}, 1e-3);
    return cg_optimizer_make(cls, n_params, params, lr, &c, sizeof c);
}

cg_optimizer *cg_adam(int n_params, cg_tensor *const *params, const cg_adam_options *options) {
    return adam_new(&adam_class, false, n_params, params, options);
}
cg_optimizer *cg_adamw(int n_params, cg_tensor *const *params, const cg_adam_options *options) {
    return adam_new(&adamw_class, true, n_params, params, options);
}

cg_optimizer *cg_adam_for(cg_module *model, const cg_adam_options *options) {
    CG_OPTIMIZER_FOR("Adam", model, cg_adam(n, params, options));
}
cg_optimizer *cg_adamw_for(cg_module *model, const cg_adam_options *options) {
    CG_OPTIMIZER_FOR("AdamW", model, cg_adamw(n, params, options));
}
