// optim/sgd.c - torch.optim.SGD: weight decay, momentum with dampening, Nesterov.
//
// Per element, as torch 1.13's _single_tensor_sgd:
//   g = grad + weight_decay * p
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

// param, grad, buf: n floats; buf NULL without momentum.
static void sgd_update(const cg_sgd_options *o, float lr, bool first, float *p, const float *grad,
                       float *buf, int64_t n) {
    const float wd = o->weight_decay, momentum = o->momentum;
    const float keep = (float)(1.0 - (double)o->dampening);
#pragma omp parallel for num_threads(cg_num_threads()) if (n > CG_OPTIM_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        float g = grad[i];
        if (wd != 0) g = g + wd * p[i];
        if (buf) {
            float b = first ? g : buf[i] * momentum + keep * g;
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
    sgd_update(&opt->u.sgd, (float)opt->lr, first, p->data, p->grad->data, buf, p->numel);
}

static const cg_optimizer_class sgd_class = {"SGD", sgd_step, sgd_state_names};

static bool sgd_options_valid(const cg_sgd_options *o) {
    if (!o) {
        cg_error(CG_ERR_ARG, "SGD: options is NULL");
        return false;
    }
    if (!(o->momentum >= 0)) {
        cg_error(CG_ERR_ARG, "SGD: invalid momentum=%g (must be >= 0)", o->momentum);
        return false;
    }
    if (!(o->weight_decay >= 0)) {
        cg_error(CG_ERR_ARG, "SGD: invalid weight_decay=%g (must be >= 0)", o->weight_decay);
        return false;
    }
    if (o->nesterov && (o->momentum <= 0 || o->dampening != 0)) {
        cg_error(CG_ERR_ARG,
                 "SGD: nesterov requires momentum > 0 and dampening = 0 (got momentum=%g, "
                 "dampening=%g)",
                 o->momentum, o->dampening);
        return false;
    }
    return true;
}

cg_optimizer *cg_sgd(int n_params, cg_tensor *const *params, const cg_sgd_options *options) {
    if (!sgd_options_valid(options)) return NULL;
    cg_optimizer *opt = cg_optimizer_new(&sgd_class, n_params, params, options->lr);
    if (!opt) return NULL;
    opt->u.sgd = *options;
    if (cg_optimizer_init_state(opt) != 0) {
        cg_optimizer_free(opt);
        return NULL;
    }
    return opt;
}

cg_optimizer *cg_sgd_for(cg_module *model, const cg_sgd_options *options) {
    if (!model) return cg_error(CG_ERR_ARG, "SGD: model is NULL");
    int n;
    cg_tensor **params = cg_optimizer_module_params(model, &n);
    cg_optimizer *opt = cg_sgd(n, params, options);
    cg_dealloc(params);
    return opt;
}
