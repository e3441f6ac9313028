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
#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

// Resolved options, in double like PyTorch's Python scalars.
typedef struct adam_config {
    double beta1, beta2, eps, weight_decay;
    bool amsgrad, maximize, decoupled; // decoupled: AdamW
} adam_config;

enum { STEP, EXP_AVG, EXP_AVG_SQ, MAX_EXP_AVG_SQ };
static const cg_optim_key adam_keys[] = {
    {"step", true}, {"exp_avg", false}, {"exp_avg_sq", false}, {"max_exp_avg_sq", false}};

static bool adam_uses(const void *config, int key) {
    return key != MAX_EXP_AVG_SQ || ((const adam_config *)config)->amsgrad;
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

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void adam_range(void *ctx, int64_t begin, int64_t end) {
    const adam_update local = *(const adam_update *)ctx, *u = &local;
    const adam_scalars scalars = *u->s, *s = &scalars;
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

static void adam_step(const void *config, double lr, cg_optim_param *p) {
    const adam_config *o = config;
    double step = p->state[STEP][0] += 1;
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
        .decay = o->decoupled ? (float)(1 - lr * o->weight_decay) : 1.0f,
        .neg_step_size = (float)(-lr / bias_correction1),
        .bias_correction2_sqrt = (float)sqrt(bias_correction2),
    };
    adam_update u = {
        &s, p->param, p->state[EXP_AVG], p->state[EXP_AVG_SQ], p->state[MAX_EXP_AVG_SQ], p->grad};
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, adam_range, &u);
}

static double *adam_beta1(void *config) {
    return &((adam_config *)config)->beta1;
}

// PyTorch's defaults for unset fields, then its checks; false with an error.
static bool adam_resolve_as(const char *name, bool decoupled, const cg_adam_options *o,
                            adam_config *c, double *lr) {
    *lr = cg_optional_or(o->lr, 1e-3);
    *c = (adam_config){
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
static bool adam_resolve(const void *options, void *config, double *lr) {
    return adam_resolve_as("Adam", false, options, config, lr);
}
static bool adamw_resolve(const void *options, void *config, double *lr) {
    return adam_resolve_as("AdamW", true, options, config, lr);
}

static const cg_optim_field adam_fields[] = {
    CG_OPTIM_FIELD(cg_adam_options, "lr", lr),
    CG_OPTIM_FIELD(cg_adam_options, "beta1", betas[0]),
    CG_OPTIM_FIELD(cg_adam_options, "beta2", betas[1]),
    CG_OPTIM_FIELD(cg_adam_options, "eps", eps),
    CG_OPTIM_FIELD(cg_adam_options, "weight_decay", weight_decay),
    CG_OPTIM_FLAG(cg_adam_options, amsgrad),
    CG_OPTIM_FLAG(cg_adam_options, maximize),
};

#define ADAM_CLASS(class_name, resolve_fn)                                                         \
    {                                                                                              \
        .name = class_name, .options_size = sizeof(cg_adam_options),                               \
        .config_size = sizeof(adam_config), .fields = adam_fields,                                 \
        .n_fields = CG_OPTIM_COUNT(adam_fields), .resolve = resolve_fn, .keys = adam_keys,         \
        .n_keys = CG_OPTIM_COUNT(adam_keys), .uses = adam_uses, .step = adam_step,                 \
        .momentum = adam_beta1,                                                                    \
    }
const cg_optimizer_class cg_adam_class = ADAM_CLASS("Adam", adam_resolve);
const cg_optimizer_class cg_adamw_class = ADAM_CLASS("AdamW", adamw_resolve);

// The AdamW recipe: decay for ndim >= 2, none for biases and norm parameters (ndim <= 1).
cg_optimizer *cg_adamw_for_recipe(cg_module *model, const cg_adam_options *options) {
    if (!model) return cg_error(CG_ERR_ARG, "AdamW: model is NULL");
    cg_tensor_list list = cg_module_named_parameters(model);
    cg_tensor **params = cg_alloc((size_t)(list.count ? list.count : 1) * sizeof *params);
    int n_decay = 0, n_rest = 0;
    for (int i = 0; params && i < list.count; i++)
        if (list.items[i].tensor->ndim >= 2) params[n_decay++] = list.items[i].tensor;
    for (int i = 0; params && i < list.count; i++)
        if (list.items[i].tensor->ndim <= 1) params[n_decay + n_rest++] = list.items[i].tensor;
    cg_tensor_list_free(&list);
    cg_optimizer *opt = params ? cg_adamw(n_decay, params, options) : NULL;
    cg_adam_options no_decay = {.weight_decay = CG_SET(0.0)};
    if (opt && n_rest && cg_optimizer_add_param_group(opt, n_rest, params + n_decay, &no_decay) < 0)
        cg_optimizer_free(opt), opt = NULL;
    cg_dealloc(params);
    return opt;
}
