// optim/adam.c - torch.optim.Adam and AdamW: one update with a flag for decoupled decay.
//
// Per element, as torch 1.13's _single_tensor_adam / _single_tensor_adamw (step t >= 1):
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
    if (!opt->u.adam.options.amsgrad) return 3;
    names[MAX_EXP_AVG_SQ] = "max_exp_avg_sq";
    return 4;
}

// The scalars of one update, in float as PyTorch's kernels receive them.
typedef struct adam_scalars {
    float beta1, beta2, one_minus_beta1, one_minus_beta2, eps;
    float weight_decay; // coupled (Adam): added to the gradient
    float decay;        // decoupled (AdamW): p *= decay
    float neg_step_size, bias_correction2_sqrt;
} adam_scalars;

// p, grad, m, v, v_max (NULL unless amsgrad): n floats.
static void adam_update(const adam_scalars *s, float *p, const float *grad, float *m, float *v,
                        float *v_max, int64_t n) {
#pragma omp parallel for num_threads(cg_num_threads()) if (n > CG_OPTIM_PARALLEL_MIN)
    for (int64_t i = 0; i < n; i++) {
        float param = p[i] * s->decay;
        float g = grad[i];
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
    const cg_adam_options *o = &opt->u.adam.options;
    bool decoupled = opt->u.adam.decoupled;
    double step = state[STEP]->data[0] += 1;
    double bias_correction1 = 1 - pow(o->beta1, step);
    double bias_correction2 = 1 - pow(o->beta2, step);
    adam_scalars s = {
        .beta1 = o->beta1,
        .beta2 = o->beta2,
        .one_minus_beta1 = (float)(1 - (double)o->beta1),
        .one_minus_beta2 = (float)(1 - (double)o->beta2),
        .eps = o->eps,
        .weight_decay = decoupled ? 0.0f : o->weight_decay,
        .decay = decoupled ? (float)(1 - opt->lr * o->weight_decay) : 1.0f,
        .neg_step_size = (float)(-opt->lr / bias_correction1),
        .bias_correction2_sqrt = (float)sqrt(bias_correction2),
    };
    float *v_max = o->amsgrad ? state[MAX_EXP_AVG_SQ]->data : NULL;
    adam_update(&s, p->data, p->grad->data, state[EXP_AVG]->data, state[EXP_AVG_SQ]->data, v_max,
                p->numel);
}

static const cg_optimizer_class adam_class = {"Adam", adam_step, adam_state_names};
static const cg_optimizer_class adamw_class = {"AdamW", adam_step, adam_state_names};

// Fill PyTorch's defaults into zero fields and validate; false with an error otherwise.
static bool adam_options_resolve(const char *name, bool decoupled, const cg_adam_options *in,
                                 cg_adam_options *out) {
    if (!in) {
        cg_error(CG_ERR_ARG, "%s: options is NULL", name);
        return false;
    }
    *out = *in;
    if (out->beta1 == 0) out->beta1 = 0.9f;
    if (out->beta2 == 0) out->beta2 = 0.999f;
    if (out->eps == 0) out->eps = 1e-8f;
    if (decoupled && out->weight_decay == 0 && !out->weight_decay_set) out->weight_decay = 0.01f;
    const float betas[2] = {out->beta1, out->beta2};
    for (int i = 0; i < 2; i++) {
        if (!(betas[i] >= 0 && betas[i] < 1)) {
            cg_error(CG_ERR_ARG, "%s: invalid beta%d=%g (must be in [0, 1))", name, i + 1,
                     betas[i]);
            return false;
        }
    }
    if (!(out->eps >= 0)) {
        cg_error(CG_ERR_ARG, "%s: invalid eps=%g (must be >= 0)", name, out->eps);
        return false;
    }
    if (!(out->weight_decay >= 0)) {
        cg_error(CG_ERR_ARG, "%s: invalid weight_decay=%g (must be >= 0)", name, out->weight_decay);
        return false;
    }
    return true;
}

static cg_optimizer *adam_new(const cg_optimizer_class *cls, bool decoupled, int n_params,
                              cg_tensor *const *params, const cg_adam_options *options) {
    cg_adam_options resolved;
    if (!adam_options_resolve(cls->name, decoupled, options, &resolved)) return NULL;
    cg_optimizer *opt = cg_optimizer_new(cls, n_params, params, resolved.lr);
    if (!opt) return NULL;
    opt->u.adam.options = resolved;
    opt->u.adam.decoupled = decoupled;
    if (cg_optimizer_init_state(opt) != 0) {
        cg_optimizer_free(opt);
        return NULL;
    }
    return opt;
}

cg_optimizer *cg_adam(int n_params, cg_tensor *const *params, const cg_adam_options *options) {
    return adam_new(&adam_class, false, n_params, params, options);
}
cg_optimizer *cg_adamw(int n_params, cg_tensor *const *params, const cg_adam_options *options) {
    return adam_new(&adamw_class, true, n_params, params, options);
}

static cg_optimizer *adam_for(const cg_optimizer_class *cls, bool decoupled, cg_module *model,
                              const cg_adam_options *options) {
    if (!model) return cg_error(CG_ERR_ARG, "%s: model is NULL", cls->name);
    int n;
    cg_tensor **params = cg_optimizer_module_params(model, &n);
    cg_optimizer *opt = adam_new(cls, decoupled, n, params, options);
    cg_dealloc(params);
    return opt;
}
cg_optimizer *cg_adam_for(cg_module *model, const cg_adam_options *options) {
    return adam_for(&adam_class, false, model, options);
}
cg_optimizer *cg_adamw_for(cg_module *model, const cg_adam_options *options) {
    return adam_for(&adamw_class, true, model, options);
}
