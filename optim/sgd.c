// optim/sgd.c - torch.optim.SGD: weight decay, momentum with dampening, Nesterov, maximize.
//
// Per element, as torch 1.13's _single_tensor_sgd:
//   g = maximize ? -grad : grad
//   g = g + weight_decay * p
//   buf = g on the first step (PyTorch clones d_p: no dampening), else
//   buf = momentum * buf + (1 - dampening) * g
//   g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

enum { MOMENTUM_BUFFER, STEP };

static int sgd_state_names(const cg_optimizer *opt, const char **names) {
    if (opt->u.sgd.momentum == 0) return 0; // PyTorch keeps no buffer either
    names[MOMENTUM_BUFFER] = "momentum_buffer";
    names[STEP] = "step"; // 0: the buffer does not exist yet (PyTorch's None)
    return 2;
}

// One update: param, grad, buf (n floats; buf NULL without momentum) and the scalars.
typedef struct sgd_update {
    const cg_sgd_config *o;
    float lr;
    bool first;
    float *p, *buf;
    const float *grad;
} sgd_update;

static void sgd_range(void *ctx, int64_t begin, int64_t end) {
    const sgd_update *u = ctx;
    const cg_sgd_config *o = u->o;
    const float wd = (float)o->weight_decay, momentum = (float)o->momentum;
    const float keep = (float)(1.0 - o->dampening);
    const float sign = o->maximize ? -1.0f : 1.0f, lr = u->lr;
    float *p = u->p, *buf = u->buf;
    const float *grad = u->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = sign * grad[i];
        if (wd != 0) g = g + wd * p[i];
        if (buf) {
            float b = u->first ? g : buf[i] * momentum + keep * g;
            buf[i] = b;
            g = o->nesterov ? g + momentum * b : b;
        }
        p[i] = p[i] - lr * g;
    }
}

static void sgd_step(cg_optimizer *opt, cg_tensor *p, cg_tensor **state) {
    float *buf = NULL;
    bool first = false;
    if (state) {
        buf = state[MOMENTUM_BUFFER]->data;
        first = state[STEP]->data[0] == 0;
        state[STEP]->data[0] += 1;
    }
    sgd_update u = {&opt->u.sgd, (float)opt->lr, first, p->data, buf, p->grad->data};
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, sgd_range, &u);
}

// Only with momentum: without, SGD keeps no buffer to cycle.
static double *sgd_momentum(cg_optimizer *opt) {
    return opt->u.sgd.momentum > 0 ? &opt->u.sgd.momentum : NULL;
}

static const cg_optimizer_class sgd_class = {"SGD", sgd_step, sgd_state_names, NULL, sgd_momentum};

static bool sgd_resolve(const cg_sgd_options *o, cg_sgd_config *c) {
    if (!o || !o->lr.set) {
        cg_error(CG_ERR_ARG, "SGD: lr is required (PyTorch's SGD has no default): pass "
                             "&(cg_sgd_options){.lr = CG_SET(0.1)}");
        return false;
    }
    *c = (cg_sgd_config){o->momentum, o->dampening, o->weight_decay, o->nesterov, o->maximize};
    if (!CG_OPTIM_NONNEGATIVE("SGD", {"momentum", c->momentum}, {"weight_decay", c->weight_decay}))
        return false;
    if (c->nesterov && (c->momentum <= 0 || c->dampening != 0)) {
        cg_error(CG_ERR_ARG,
                 "SGD: nesterov requires momentum > 0 and dampening = 0 (got momentum=%g, "
                 "dampening=%g)",
                 c->momentum, c->dampening);
        return false;
    }
    return true;
}

cg_optimizer *cg_sgd(int n_params, cg_tensor *const *params, const cg_sgd_options *options) {
    cg_sgd_config c;
    if (!sgd_resolve(options, &c)) return NULL;
    return cg_optimizer_make(&sgd_class, n_params, params, options->lr.value, &c, sizeof c);
}

cg_optimizer *cg_sgd_for(cg_module *model, const cg_sgd_options *options) {
    CG_OPTIMIZER_FOR("SGD", model, cg_sgd(n, params, options));
}
