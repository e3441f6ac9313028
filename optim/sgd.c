// optim/sgd.c - torch.optim.SGD: weight decay, momentum with dampening, Nesterov, maximize.
//
// Per element, as torch 1.13's _single_tensor_sgd:
//   g = maximize ? -grad : grad
//   g = g + weight_decay * p
//   buf = g on the first step (PyTorch clones d_p: no dampening), else
//   buf = momentum * buf + (1 - dampening) * g
//   g = nesterov ? g + momentum * buf : buf
//   p = p - lr * g
#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct sgd_config {
    double momentum, dampening, weight_decay;
    bool nesterov, maximize;
} sgd_config;

enum { MOMENTUM_BUFFER, STEP };
static const cg_optim_key sgd_keys[] = {
    {"momentum_buffer", false},
    {"step", true}, // cgrad's: 0 means the buffer does not exist yet (PyTorch's None)
};

// Only with momentum (which OneCycleLR may switch on): PyTorch keeps no buffer without.
static bool sgd_uses(const void *config, int key) {
    (void)key;
    return ((const sgd_config *)config)->momentum != 0;
}

// One update: the config, the lr, whether the buffer is new, and the buffers.
typedef struct sgd_update {
    const sgd_config *o;
    float lr;
    bool first;
    cg_optim_param *p;
} sgd_update;

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void sgd_range(void *ctx, int64_t begin, int64_t end) {
    const sgd_update local = *(const sgd_update *)ctx, *u = &local;
    const sgd_config config = *u->o, *o = &config;
    const float wd = (float)o->weight_decay, momentum = (float)o->momentum;
    const float keep = (float)(1.0 - o->dampening);
    const float sign = o->maximize ? -1.0f : 1.0f, lr = u->lr;
    float *p = u->p->param, *buf = u->p->state[MOMENTUM_BUFFER];
    const float *grad = u->p->grad;
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

static void sgd_step(const void *config, double lr, cg_optim_param *p) {
    bool first = false;
    if (p->state[STEP]) {
        first = p->state[STEP][0] == 0;
        p->state[STEP][0] += 1;
    }
    sgd_update u = {config, (float)lr, first, p};
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, sgd_range, &u);
}

static double *sgd_momentum(void *config) {
    return &((sgd_config *)config)->momentum;
}

static bool sgd_resolve(const void *options, void *config, double *lr) {
    const cg_sgd_options *o = options;
    if (!o->lr.set) {
        cg_error(CG_ERR_ARG, "SGD: lr is required (PyTorch's SGD has no default): pass "
                             "&(cg_sgd_options){.lr = CG_SET(0.1)}");
        return false;
    }
    sgd_config *c = config;
    *lr = o->lr.value;
    *c = (sgd_config){cg_optional_or(o->momentum, 0), cg_optional_or(o->dampening, 0),
                      cg_optional_or(o->weight_decay, 0), o->nesterov, o->maximize};
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

static const cg_optim_field sgd_fields[] = {
    CG_OPTIM_FIELD(cg_sgd_options, "lr", lr),
    CG_OPTIM_FIELD(cg_sgd_options, "momentum", momentum),
    CG_OPTIM_FIELD(cg_sgd_options, "dampening", dampening),
    CG_OPTIM_FIELD(cg_sgd_options, "weight_decay", weight_decay),
    CG_OPTIM_FLAG(cg_sgd_options, nesterov),
    CG_OPTIM_FLAG(cg_sgd_options, maximize),
};

const cg_optimizer_class cg_sgd_class = {
    .name = "SGD",
    .options_size = sizeof(cg_sgd_options),
    .config_size = sizeof(sgd_config),
    .fields = sgd_fields,
    .n_fields = CG_OPTIM_COUNT(sgd_fields),
    .resolve = sgd_resolve,
    .keys = sgd_keys,
    .n_keys = CG_OPTIM_COUNT(sgd_keys),
    .uses = sgd_uses,
    .step = sgd_step,
    .momentum = sgd_momentum,
};
