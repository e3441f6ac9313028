// optim/radam.c - torch.optim.RAdam (Adam with the variance rectified): weight decay.
//
// Per element, as torch 1.13's _single_tensor_radam (step t >= 1; no maximize in 1.13):
//   g = grad + weight_decay * p
//   m = beta1 * m + (1 - beta1) * g;  v = beta2 * v + (1 - beta2) * g * g
//   rho_inf = 2 / (1 - beta2) - 1;  rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)  (double)
//   rho_t > 5: p = p - m / (1 - beta1^t) * lr * sqrt(1 - beta2^t) / (sqrt(v) + eps) * rect
//              rect = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
//   else:      p = p - m / (1 - beta1^t) * lr
// in PyTorch's order of float operations (the scalar over the tensor is reciprocal * scalar).
#include <math.h>

#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct radam_config {
    double beta1, beta2, eps, weight_decay;
} radam_config;

enum { STEP, EXP_AVG, EXP_AVG_SQ };
static const cg_optim_key radam_keys[] = {
    {"step", true}, {"exp_avg", false}, {"exp_avg_sq", false}};

typedef struct radam_update {
    float beta1, one_minus_beta1, beta2, one_minus_beta2, eps, weight_decay;
    float bias_correction1, lr, bias_correction2_sqrt, rect;
    bool rectified; // rho_t > 5
    cg_optim_param *p;
} radam_update;

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void radam_range(void *ctx, int64_t begin, int64_t end) {
    const radam_update local = *(const radam_update *)ctx, *u = &local;
    float *p = u->p->param, *m = u->p->state[EXP_AVG], *v = u->p->state[EXP_AVG_SQ];
    const float *grad = u->p->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = grad[i];
        if (u->weight_decay != 0) g = g + u->weight_decay * p[i];
        m[i] = m[i] * u->beta1 + u->one_minus_beta1 * g;
        v[i] = v[i] * u->beta2 + u->one_minus_beta2 * g * g;
        float corrected = m[i] / u->bias_correction1;
        if (u->rectified) {
            float adaptive_lr = 1.0f / (sqrtf(v[i]) + u->eps) * u->bias_correction2_sqrt;
            p[i] = p[i] + -1.0f * (corrected * u->lr * adaptive_lr * u->rect);
        } else {
            p[i] = p[i] + -1.0f * (corrected * u->lr);
        }
    }
}

static void radam_step(const void *config, double lr, cg_optim_param *p) {
    const radam_config *o = config;
    double step = p->state[STEP][0] += 1;
    double bias_correction1 = 1 - pow(o->beta1, step), bias_correction2 = 1 - pow(o->beta2, step);
    double rho_inf = 2 / (1 - o->beta2) - 1;
    double rho_t = rho_inf - 2 * step * pow(o->beta2, step) / bias_correction2;
    double rect =
        rho_t > 5.
            ? sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            : 0;
    radam_update u = {
        .beta1 = (float)o->beta1,
        .one_minus_beta1 = (float)(1 - o->beta1),
        .beta2 = (float)o->beta2,
        .one_minus_beta2 = (float)(1 - o->beta2),
        .eps = (float)o->eps,
        .weight_decay = (float)o->weight_decay,
        .bias_correction1 = (float)bias_correction1,
        .lr = (float)lr,
        .bias_correction2_sqrt = (float)sqrt(bias_correction2),
        .rect = (float)rect,
        .rectified = rho_t > 5.,
        .p = p,
    };
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, radam_range, &u);
}

static double *radam_beta1(void *config) {
    return &((radam_config *)config)->beta1;
}

static bool radam_resolve(const void *options, void *config, double *lr) {
    const cg_radam_options *o = options;
    radam_config *c = config;
    *lr = cg_optional_or(o->lr, 1e-3);
    *c = (radam_config){
        .beta1 = cg_optional_or(o->betas[0], 0.9),
        .beta2 = cg_optional_or(o->betas[1], 0.999),
        .eps = cg_optional_or(o->eps, 1e-8),
        .weight_decay = cg_optional_or(o->weight_decay, 0),
    };
    const char *name = "RAdam";
    return cg_optim_check(name, "beta1", c->beta1, c->beta1 >= 0 && c->beta1 < 1, "in [0, 1)") &&
           cg_optim_check(name, "beta2", c->beta2, c->beta2 >= 0 && c->beta2 < 1, "in [0, 1)") &&
           CG_OPTIM_NONNEGATIVE(name, {"eps", c->eps}, {"weight_decay", c->weight_decay});
}

static const cg_optim_field radam_fields[] = {
    CG_OPTIM_FIELD(cg_radam_options, "lr", lr),
    CG_OPTIM_FIELD(cg_radam_options, "beta1", betas[0]),
    CG_OPTIM_FIELD(cg_radam_options, "beta2", betas[1]),
    CG_OPTIM_FIELD(cg_radam_options, "eps", eps),
    CG_OPTIM_FIELD(cg_radam_options, "weight_decay", weight_decay),
};

const cg_optimizer_class cg_radam_class = {
    .name = "RAdam",
    .options_size = sizeof(cg_radam_options),
    .config_size = sizeof(radam_config),
    .fields = radam_fields,
    .n_fields = CG_OPTIM_COUNT(radam_fields),
    .resolve = radam_resolve,
    .keys = radam_keys,
    .n_keys = CG_OPTIM_COUNT(radam_keys),
    .step = radam_step,
    .momentum = radam_beta1,
};
