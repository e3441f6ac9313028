// optim/rmsprop.c - torch.optim.RMSprop: weight decay, momentum, centered, maximize.
//
// Per element, as torch 1.13's _single_tensor_rmsprop:
//   g = maximize ? -grad : grad;  g = g + weight_decay * p
//   v = alpha * v + (1 - alpha) * g * g
//   centered: m = alpha * m + (1 - alpha) * g;  avg = sqrt(v - m * m) + eps
//   else:     avg = sqrt(v) + eps
//   momentum > 0: buf = momentum * buf + g / avg;  p = p - lr * buf
//   else:         p = p - lr * g / avg
#include <math.h>

#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct rmsprop_config {
    double alpha, eps, weight_decay, momentum;
    bool centered, maximize;
} rmsprop_config;

// PyTorch's order: step, square_avg, momentum_buffer (momentum > 0), grad_avg (centered).
enum { STEP, SQUARE_AVG, MOMENTUM_BUFFER, GRAD_AVG };
static const cg_optim_key rmsprop_keys[] = {
    {"step", true}, {"square_avg", false}, {"momentum_buffer", false}, {"grad_avg", false}};

static bool rmsprop_uses(const void *config, int key) {
    const rmsprop_config *c = config;
    return key == MOMENTUM_BUFFER ? c->momentum > 0 : key == GRAD_AVG ? c->centered : true;
}

typedef struct rmsprop_scalars {
    float sign, alpha, one_minus_alpha, eps, weight_decay, momentum, neg_lr;
} rmsprop_scalars;

// One update: p, grad, v, m (NULL unless centered), buf (NULL without momentum).
typedef struct rmsprop_update {
    const rmsprop_scalars *s;
    float *p, *v, *m, *buf;
    const float *grad;
} rmsprop_update;

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void rmsprop_range(void *ctx, int64_t begin, int64_t end) {
    const rmsprop_update local = *(const rmsprop_update *)ctx, *u = &local;
    const rmsprop_scalars scalars = *u->s, *s = &scalars;
    float *p = u->p, *v = u->v, *m = u->m, *buf = u->buf;
    const float *grad = u->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = s->sign * grad[i];
        if (s->weight_decay != 0) g = g + s->weight_decay * p[i];
        v[i] = v[i] * s->alpha + s->one_minus_alpha * g * g;
        float avg;
        if (m) {
            m[i] = m[i] * s->alpha + s->one_minus_alpha * g;
            avg = sqrtf(v[i] + -1.0f * m[i] * m[i]) + s->eps;
        } else {
            avg = sqrtf(v[i]) + s->eps;
        }
        if (buf) {
            buf[i] = buf[i] * s->momentum + g / avg;
            p[i] = p[i] + s->neg_lr * buf[i];
        } else {
            p[i] = p[i] + s->neg_lr * g / avg;
        }
    }
}

static void rmsprop_step(const void *config, double lr, cg_optim_param *p) {
    const rmsprop_config *o = config;
    p->state[STEP][0] += 1;
    rmsprop_scalars s = {
        .sign = o->maximize ? -1.0f : 1.0f,
        .alpha = (float)o->alpha,
        .one_minus_alpha = (float)(1 - o->alpha),
        .eps = (float)o->eps,
        .weight_decay = (float)o->weight_decay,
        .momentum = (float)o->momentum,
        .neg_lr = (float)-lr,
    };
    rmsprop_update u = {
        &s, p->param, p->state[SQUARE_AVG], p->state[GRAD_AVG], p->state[MOMENTUM_BUFFER], p->grad};
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, rmsprop_range, &u);
}

static double *rmsprop_momentum(void *config) {
    return &((rmsprop_config *)config)->momentum;
}

static bool rmsprop_resolve(const void *options, void *config, double *lr) {
    const cg_rmsprop_options *o = options;
    rmsprop_config *c = config;
    *lr = cg_optional_or(o->lr, 1e-2);
    *c = (rmsprop_config){
        .alpha = cg_optional_or(o->alpha, 0.99),
        .eps = cg_optional_or(o->eps, 1e-8),
        .weight_decay = cg_optional_or(o->weight_decay, 0),
        .momentum = cg_optional_or(o->momentum, 0),
        .centered = o->centered,
        .maximize = o->maximize,
    };
    return CG_OPTIM_NONNEGATIVE("RMSprop", {"alpha", c->alpha}, {"eps", c->eps},
                                {"momentum", c->momentum}, {"weight_decay", c->weight_decay});
}

static const cg_optim_field rmsprop_fields[] = {
    CG_OPTIM_FIELD(cg_rmsprop_options, "lr", lr),
    CG_OPTIM_FIELD(cg_rmsprop_options, "alpha", alpha),
    CG_OPTIM_FIELD(cg_rmsprop_options, "eps", eps),
    CG_OPTIM_FIELD(cg_rmsprop_options, "weight_decay", weight_decay),
    CG_OPTIM_FIELD(cg_rmsprop_options, "momentum", momentum),
    CG_OPTIM_FLAG(cg_rmsprop_options, centered),
    CG_OPTIM_FLAG(cg_rmsprop_options, maximize),
};

const cg_optimizer_class cg_rmsprop_class = {
    .name = "RMSprop",
    .options_size = sizeof(cg_rmsprop_options),
    .config_size = sizeof(rmsprop_config),
    .fields = rmsprop_fields,
    .n_fields = CG_OPTIM_COUNT(rmsprop_fields),
    .resolve = rmsprop_resolve,
    .keys = rmsprop_keys,
    .n_keys = CG_OPTIM_COUNT(rmsprop_keys),
    .uses = rmsprop_uses,
    .step = rmsprop_step,
    .momentum = rmsprop_momentum,
};
