// optim/adadelta.c - torch.optim.Adadelta: weight decay, maximize.
//
// Per element, as torch 1.13's _single_tensor_adadelta:
//   g = maximize ? -grad : grad;  g = g + weight_decay * p
//   v = rho * v + (1 - rho) * g * g
//   delta = sqrt(u + eps) / sqrt(v + eps) * g
//   u = rho * u + (1 - rho) * delta * delta
//   p = p - lr * delta
#include <math.h>

#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct adadelta_config {
    double rho, eps, weight_decay;
    bool maximize;
} adadelta_config;

// PyTorch's state: step (a Python int), square_avg (v), acc_delta (u).
enum { STEP, SQUARE_AVG, ACC_DELTA };
static const cg_optim_key adadelta_keys[] = {
    {"step", true}, {"square_avg", false}, {"acc_delta", false}};

typedef struct adadelta_update {
    float sign, rho, one_minus_rho, eps, weight_decay, neg_lr;
    cg_optim_param *p;
} adadelta_update;

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void adadelta_range(void *ctx, int64_t begin, int64_t end) {
    const adadelta_update local = *(const adadelta_update *)ctx, *u = &local;
    float *p = u->p->param, *v = u->p->state[SQUARE_AVG], *acc = u->p->state[ACC_DELTA];
    const float *grad = u->p->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = u->sign * grad[i];
        if (u->weight_decay != 0) g = g + u->weight_decay * p[i];
        v[i] = v[i] * u->rho + u->one_minus_rho * g * g;
        float std = sqrtf(v[i] + u->eps);
        float delta = sqrtf(acc[i] + u->eps) / std * g;
        acc[i] = acc[i] * u->rho + u->one_minus_rho * delta * delta;
        p[i] = p[i] + u->neg_lr * delta;
    }
}

static void adadelta_step(const void *config, double lr, cg_optim_param *p) {
    const adadelta_config *o = config;
    p->state[STEP][0] += 1;
    adadelta_update u = {
        .sign = o->maximize ? -1.0f : 1.0f,
        .rho = (float)o->rho,
        .one_minus_rho = (float)(1 - o->rho),
        .eps = (float)o->eps,
        .weight_decay = (float)o->weight_decay,
        .neg_lr = (float)-lr,
        .p = p,
    };
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, adadelta_range, &u);
}

static bool adadelta_resolve(const void *options, void *config, double *lr) {
    const cg_adadelta_options *o = options;
    adadelta_config *c = config;
    *lr = cg_optional_or(o->lr, 1.0);
    *c = (adadelta_config){
        .rho = cg_optional_or(o->rho, 0.9),
        .eps = cg_optional_or(o->eps, 1e-6),
        .weight_decay = cg_optional_or(o->weight_decay, 0),
        .maximize = o->maximize,
    };
    return cg_optim_check("Adadelta", "rho", c->rho, c->rho >= 0 && c->rho <= 1, "in [0, 1]") &&
           CG_OPTIM_NONNEGATIVE("Adadelta", {"eps", c->eps}, {"weight_decay", c->weight_decay});
}

static const cg_optim_field adadelta_fields[] = {
    CG_OPTIM_FIELD(cg_adadelta_options, "lr", lr),
    CG_OPTIM_FIELD(cg_adadelta_options, "rho", rho),
    CG_OPTIM_FIELD(cg_adadelta_options, "eps", eps),
    CG_OPTIM_FIELD(cg_adadelta_options, "weight_decay", weight_decay),
    CG_OPTIM_FLAG(cg_adadelta_options, maximize),
};

const cg_optimizer_class cg_adadelta_class = {
    .name = "Adadelta",
    .options_size = sizeof(cg_adadelta_options),
    .config_size = sizeof(adadelta_config),
    .fields = adadelta_fields,
    .n_fields = CG_OPTIM_COUNT(adadelta_fields),
    .resolve = adadelta_resolve,
    .keys = adadelta_keys,
    .n_keys = CG_OPTIM_COUNT(adadelta_keys),
    .step = adadelta_step,
};
