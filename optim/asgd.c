// optim/asgd.c - torch.optim.ASGD (averaged SGD): weight decay, maximize.
//
// Per element, as torch 1.13's _single_tensor_asgd (step t >= 1; eta and mu are float32
// 0-d tensors in PyTorch's state, so they are rounded to float after every step):
//   g = maximize ? -grad : grad;  g = g + weight_decay * p
//   p = p * (1 - lambd * eta);  p = p - eta * g
//   ax = mu == 1 ? p : ax + (p - ax) * mu
//   eta = lr / (1 + lambd * lr * t)^alpha;  mu = 1 / max(1, t - t0)   (in double)
#include <math.h>

#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct asgd_config {
    double lambd, alpha, t0, weight_decay;
    bool maximize;
} asgd_config;

enum { STEP, ETA, MU, AX };
static const cg_optim_key asgd_keys[] = {
    {"step", true}, {"eta", true}, {"mu", true}, {"ax", false}};

// PyTorch: eta = torch.tensor(lr), mu = torch.tensor(1.) when the state is created.
static void asgd_init(const void *config, double lr, cg_optim_param *p) {
    (void)config;
    if (p->state[ETA]) p->state[ETA][0] = (float)lr;
    if (p->state[MU]) p->state[MU][0] = 1.0f;
}

typedef struct asgd_update {
    float sign, weight_decay, decay, neg_eta, mu;
    cg_optim_param *p;
} asgd_update;

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void asgd_range(void *ctx, int64_t begin, int64_t end) {
    const asgd_update local = *(const asgd_update *)ctx, *u = &local;
    float *p = u->p->param, *ax = u->p->state[AX];
    const float *grad = u->p->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = u->sign * grad[i];
        if (u->weight_decay != 0) g = g + u->weight_decay * p[i];
        p[i] = p[i] * u->decay;
        p[i] = p[i] + u->neg_eta * g;
        ax[i] = u->mu != 1 ? ax[i] + (p[i] - ax[i]) * u->mu : p[i];
    }
}

static void asgd_step(const void *config, double lr, cg_optim_param *p) {
    const asgd_config *o = config;
    double step = p->state[STEP][0] += 1, eta = p->state[ETA][0];
    asgd_update u = {
        .sign = o->maximize ? -1.0f : 1.0f,
        .weight_decay = (float)o->weight_decay,
        .decay = (float)(1 - o->lambd * eta),
        .neg_eta = (float)-eta,
        .mu = p->state[MU][0],
        .p = p,
    };
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, asgd_range, &u);
    p->state[ETA][0] = (float)(lr / pow(1 + o->lambd * lr * step, o->alpha));
    p->state[MU][0] = (float)(1 / fmax(1, step - o->t0));
}

static bool asgd_resolve(const void *options, void *config, double *lr) {
    const cg_asgd_options *o = options;
    asgd_config *c = config;
    *lr = cg_optional_or(o->lr, 1e-2);
    *c = (asgd_config){
        .lambd = cg_optional_or(o->lambd, 1e-4),
        .alpha = cg_optional_or(o->alpha, 0.75),
        .t0 = cg_optional_or(o->t0, 1e6),
        .weight_decay = cg_optional_or(o->weight_decay, 0),
        .maximize = o->maximize,
    };
    return CG_OPTIM_NONNEGATIVE("ASGD", {"weight_decay", c->weight_decay});
}

static const cg_optim_field asgd_fields[] = {
    CG_OPTIM_FIELD(cg_asgd_options, "lr", lr),
    CG_OPTIM_FIELD(cg_asgd_options, "lambd", lambd),
    CG_OPTIM_FIELD(cg_asgd_options, "alpha", alpha),
    CG_OPTIM_FIELD(cg_asgd_options, "t0", t0),
    CG_OPTIM_FIELD(cg_asgd_options, "weight_decay", weight_decay),
    CG_OPTIM_FLAG(cg_asgd_options, maximize),
};

const cg_optimizer_class cg_asgd_class = {
    .name = "ASGD",
    .options_size = sizeof(cg_asgd_options),
    .config_size = sizeof(asgd_config),
    .fields = asgd_fields,
    .n_fields = CG_OPTIM_COUNT(asgd_fields),
    .resolve = asgd_resolve,
    .keys = asgd_keys,
    .n_keys = CG_OPTIM_COUNT(asgd_keys),
    .init = asgd_init,
    .step = asgd_step,
};
