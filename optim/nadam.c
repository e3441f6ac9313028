// optim/nadam.c - torch.optim.NAdam (Adam with Nesterov momentum): weight decay, momentum
// decay.
//
// Per element, as torch 1.13's _single_tensor_nadam (step t >= 1; no maximize in 1.13):
//   g = grad + weight_decay * p
//   mu_t = beta1 * (1 - 0.5 * 0.96^(t * momentum_decay)), mu_t+1 likewise (in double)
//   mu_product = mu_product * mu_t                  (a float32 tensor, as PyTorch's state)
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   denom = sqrt(v / (1 - beta2^t)) + eps
//   p = p - lr * (1 - mu_t) / (1 - mu_product) * g / denom
//   p = p - lr * mu_t+1 / (1 - mu_product * mu_t+1) * m / denom
#include <math.h>

#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct nadam_config {
    double beta1, beta2, eps, weight_decay, momentum_decay;
} nadam_config;

enum { STEP, MU_PRODUCT, EXP_AVG, EXP_AVG_SQ };
static const cg_optim_key nadam_keys[] = {
    {"step", true}, {"mu_product", true}, {"exp_avg", false}, {"exp_avg_sq", false}};

static void nadam_init(const void *config, double lr, cg_optim_param *p) {
    (void)config, (void)lr;
    if (p->state[MU_PRODUCT]) p->state[MU_PRODUCT][0] = 1.0f;
}

typedef struct nadam_update {
    float beta1, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay;
    float bias_correction2, grad_step, avg_step; // the two addcdiv values
    cg_optim_param *p;
} nadam_update;

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void nadam_range(void *ctx, int64_t begin, int64_t end) {
    const nadam_update local = *(const nadam_update *)ctx, *u = &local;
    float *p = u->p->param, *m = u->p->state[EXP_AVG], *v = u->p->state[EXP_AVG_SQ];
    const float *grad = u->p->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = grad[i];
        if (u->weight_decay != 0) g = g + u->weight_decay * p[i];
        m[i] = m[i] * u->beta1 + u->one_minus_beta1 * g;
        v[i] = v[i] * u->beta2 + u->one_minus_beta2 * g * g;
        float denom = sqrtf(v[i] / u->bias_correction2) + u->eps;
        p[i] = p[i] + u->grad_step * g / denom;
        p[i] = p[i] + u->avg_step * m[i] / denom;
    }
}

static void nadam_step(const void *config, double lr, cg_optim_param *p) {
    const nadam_config *o = config;
    double step = p->state[STEP][0] += 1;
    double mu = o->beta1 * (1. - 0.5 * pow(0.96, step * o->momentum_decay));
    double mu_next = o->beta1 * (1. - 0.5 * pow(0.96, (step + 1) * o->momentum_decay));
    float *mu_product = p->state[MU_PRODUCT];
    mu_product[0] = mu_product[0] * (float)mu;
    float mu_product_next = mu_product[0] * (float)mu * (float)mu_next;
    nadam_update u = {
        .beta1 = (float)o->beta1,
        .one_minus_beta1 = (float)(1 - o->beta1),
        .beta2 = (float)o->beta2,
        .one_minus_beta2 = (float)(1 - o->beta2),
        .eps = (float)o->eps,
        .weight_decay = (float)o->weight_decay,
        .bias_correction2 = (float)(1 - pow(o->beta2, step)),
        .grad_step = (float)(-lr * (1. - mu) / (1. - (double)mu_product[0])),
        .avg_step = (float)(-lr * mu_next / (1. - (double)mu_product_next)),
        .p = p,
    };
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, nadam_range, &u);
}

static double *nadam_beta1(void *config) {
    return &((nadam_config *)config)->beta1;
}

static bool nadam_resolve(const void *options, void *config, double *lr) {
    const cg_nadam_options *o = options;
    nadam_config *c = config;
    *lr = cg_optional_or(o->lr, 2e-3);
    *c = (nadam_config){
        .beta1 = cg_optional_or(o->betas[0], 0.9),
        .beta2 = cg_optional_or(o->betas[1], 0.999),
        .eps = cg_optional_or(o->eps, 1e-8),
        .weight_decay = cg_optional_or(o->weight_decay, 0),
        .momentum_decay = cg_optional_or(o->momentum_decay, 4e-3),
    };
    const char *name = "NAdam";
    return cg_optim_check(name, "beta1", c->beta1, c->beta1 >= 0 && c->beta1 < 1, "in [0, 1)") &&
           cg_optim_check(name, "beta2", c->beta2, c->beta2 >= 0 && c->beta2 < 1, "in [0, 1)") &&
           CG_OPTIM_NONNEGATIVE(name, {"eps", c->eps}, {"weight_decay", c->weight_decay},
                                {"momentum_decay", c->momentum_decay});
}

static const cg_optim_field nadam_fields[] = {
    CG_OPTIM_FIELD(cg_nadam_options, "lr", lr),
    CG_OPTIM_FIELD(cg_nadam_options, "beta1", betas[0]),
    CG_OPTIM_FIELD(cg_nadam_options, "beta2", betas[1]),
    CG_OPTIM_FIELD(cg_nadam_options, "eps", eps),
    CG_OPTIM_FIELD(cg_nadam_options, "weight_decay", weight_decay),
    CG_OPTIM_FIELD(cg_nadam_options, "momentum_decay", momentum_decay),
};

const cg_optimizer_class cg_nadam_class = {
    .name = "NAdam",
    .options_size = sizeof(cg_nadam_options),
    .config_size = sizeof(nadam_config),
    .fields = nadam_fields,
    .n_fields = CG_OPTIM_COUNT(nadam_fields),
    .resolve = nadam_resolve,
    .keys = nadam_keys,
    .n_keys = CG_OPTIM_COUNT(nadam_keys),
    .init = nadam_init,
    .step = nadam_step,
    .momentum = nadam_beta1,
};
