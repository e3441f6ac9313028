// optim/adamax.c - torch.optim.Adamax (Adam with the infinity norm): weight decay, maximize.
//
// Per element, as torch 1.13's _single_tensor_adamax (step t >= 1):
//   g = maximize ? -grad : grad;  g = g + weight_decay * p
//   m = beta1 * m + (1 - beta1) * g
//   u = max(beta2 * u, |g| + eps)                 (NaN propagates, as torch.amax)
//   p = p - lr / (1 - beta1^t) * m / u            (the step size in double, as Python)
#include <math.h>

#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct adamax_config {
    double beta1, beta2, eps, weight_decay;
    bool maximize;
} adamax_config;

enum { STEP, EXP_AVG, EXP_INF };
static const cg_optim_key adamax_keys[] = {{"step", true}, {"exp_avg", false}, {"exp_inf", false}};

typedef struct adamax_update {
    float sign, beta1, one_minus_beta1, beta2, eps, weight_decay, neg_clr;
    cg_optim_param *p;
} adamax_update;

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void adamax_range(void *ctx, int64_t begin, int64_t end) {
    const adamax_update local = *(const adamax_update *)ctx, *u = &local;
    float *p = u->p->param, *m = u->p->state[EXP_AVG], *inf = u->p->state[EXP_INF];
    const float *grad = u->p->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = u->sign * grad[i];
        if (u->weight_decay != 0) g = g + u->weight_decay * p[i];
        m[i] = m[i] * u->beta1 + u->one_minus_beta1 * g;
        float decayed = inf[i] * u->beta2, fresh = fabsf(g) + u->eps;
        inf[i] = isnan(decayed) || decayed > fresh ? decayed : fresh;
        p[i] = p[i] + u->neg_clr * m[i] / inf[i];
    }
}

static void adamax_step(const void *config, double lr, cg_optim_param *p) {
    const adamax_config *o = config;
    double step = p->state[STEP][0] += 1;
    adamax_update u = {
        .sign = o->maximize ? -1.0f : 1.0f,
        .beta1 = (float)o->beta1,
        .one_minus_beta1 = (float)(1 - o->beta1),
        .beta2 = (float)o->beta2,
        .eps = (float)o->eps,
        .weight_decay = (float)o->weight_decay,
        .neg_clr = (float)-(lr / (1 - pow(o->beta1, step))),
        .p = p,
    };
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, adamax_range, &u);
}

static double *adamax_beta1(void *config) {
    return &((adamax_config *)config)->beta1;
}

static bool adamax_resolve(const void *options, void *config, double *lr) {
    const cg_adamax_options *o = options;
    adamax_config *c = config;
    *lr = cg_optional_or(o->lr, 2e-3);
    *c = (adamax_config){
        .beta1 = cg_optional_or(o->betas[0], 0.9),
        .beta2 = cg_optional_or(o->betas[1], 0.999),
        .eps = cg_optional_or(o->eps, 1e-8),
        .weight_decay = cg_optional_or(o->weight_decay, 0),
        .maximize = o->maximize,
    };
    const char *name = "Adamax";
    return cg_optim_check(name, "beta1", c->beta1, c->beta1 >= 0 && c->beta1 < 1, "in [0, 1)") &&
           cg_optim_check(name, "beta2", c->beta2, c->beta2 >= 0 && c->beta2 < 1, "in [0, 1)") &&
           CG_OPTIM_NONNEGATIVE(name, {"eps", c->eps}, {"weight_decay", c->weight_decay});
}

static const cg_optim_field adamax_fields[] = {
    CG_OPTIM_FIELD(cg_adamax_options, "lr", lr),
    CG_OPTIM_FIELD(cg_adamax_options, "beta1", betas[0]),
    CG_OPTIM_FIELD(cg_adamax_options, "beta2", betas[1]),
    CG_OPTIM_FIELD(cg_adamax_options, "eps", eps),
    CG_OPTIM_FIELD(cg_adamax_options, "weight_decay", weight_decay),
    CG_OPTIM_FLAG(cg_adamax_options, maximize),
};

const cg_optimizer_class cg_adamax_class = {
    .name = "Adamax",
    .options_size = sizeof(cg_adamax_options),
    .config_size = sizeof(adamax_config),
    .fields = adamax_fields,
    .n_fields = CG_OPTIM_COUNT(adamax_fields),
    .resolve = adamax_resolve,
    .keys = adamax_keys,
    .n_keys = CG_OPTIM_COUNT(adamax_keys),
    .step = adamax_step,
    .momentum = adamax_beta1,
};
