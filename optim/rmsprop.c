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

#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

enum { STEP, SQUARE_AVG };

// PyTorch's order: step, square_avg, momentum_buffer (momentum > 0), grad_avg (centered).
static int rmsprop_state_names(const cg_optimizer *opt, const char **names) {
    int n = 0;
    names[n++] = "step";
    names[n++] = "square_avg";
    if (opt->u.rmsprop.momentum > 0) names[n++] = "momentum_buffer";
    if (opt->u.rmsprop.centered) names[n++] = "grad_avg";
    return n;
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

static void rmsprop_range(void *ctx, int64_t begin, int64_t end) {
    const rmsprop_update *u = ctx;
    const rmsprop_scalars *s = u->s;
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

static void rmsprop_step(cg_optimizer *opt, cg_tensor *p, cg_tensor **state) {
    const cg_rmsprop_config *o = &opt->u.rmsprop;
    state[STEP]->data[0] += 1;
    int k = SQUARE_AVG + 1;
    float *buf = o->momentum > 0 ? state[k++]->data : NULL;
    float *m = o->centered ? state[k]->data : NULL;
    rmsprop_scalars s = {
        .sign = o->maximize ? -1.0f : 1.0f,
        .alpha = (float)o->alpha,
        .one_minus_alpha = (float)(1 - o->alpha),
        .eps = (float)o->eps,
        .weight_decay = (float)o->weight_decay,
        .momentum = (float)o->momentum,
        .neg_lr = (float)-opt->lr,
    };
    rmsprop_update u = {&s, p->data, state[SQUARE_AVG]->data, m, buf, p->grad->data};
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, rmsprop_range, &u);
}

static double *rmsprop_momentum(cg_optimizer *opt) {
    return opt->u.rmsprop.momentum > 0 ? &opt->u.rmsprop.momentum : NULL;
}

static const cg_optimizer_class rmsprop_class = {"RMSprop", rmsprop_step, rmsprop_state_names, NULL,
                                                 rmsprop_momentum};

cg_optimizer *cg_rmsprop(int n_params, cg_tensor *const *params,
                         const cg_rmsprop_options *options) {
    static const cg_rmsprop_options defaults = {0};
    const cg_rmsprop_options *o = options ? options : &defaults;
    cg_rmsprop_config c = {
        .alpha = cg_optional_or(o->alpha, 0.99),
        .eps = cg_optional_or(o->eps, 1e-8),
        .weight_decay = o->weight_decay,
        .momentum = o->momentum,
        .centered = o->centered,
        .maximize = o->maximize,
    };
    if (!CG_OPTIM_NONNEGATIVE("RMSprop", {"alpha", c.alpha}, {"eps", c.eps},
                              {"momentum", c.momentum}, {"weight_decay", c.weight_decay}))
        return NULL;
    return cg_optimizer_make(&rmsprop_class, n_params, params, cg_optional_or(o->lr, 1e-2), &c,
                             sizeof c);
}

cg_optimizer *cg_rmsprop_for(cg_module *model, const cg_rmsprop_options *options) {
    CG_OPTIMIZER_FOR("RMSprop", model, cg_rmsprop(n, params, options));
}
