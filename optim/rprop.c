// optim/rprop.c - torch.optim.Rprop (resilient backpropagation): etas, step sizes, maximize.
//
// Per element, as torch 1.13's _single_tensor_rprop:
//   g = maximize ? -grad : grad
//   f = eta_plus if g * prev > 0, eta_minus if < 0, else 1
//   step_size = clamp(step_size * f, step_size_min, step_size_max)
//   g = 0 where f == eta_minus (the sign flipped: no move, and no flip next time)
//   p = p - sign(g) * step_size;  prev = g
// step_size starts at the group's lr when the state is created, as PyTorch.
#include "../kernels/simd_clones.h"
#include "../tensor/parallel.h"
#include "optimizer_internal.h"

typedef struct rprop_config {
    double eta_minus, eta_plus, step_size_min, step_size_max;
    bool maximize;
} rprop_config;

enum { STEP, PREV, STEP_SIZE };
static const cg_optim_key rprop_keys[] = {{"step", true}, {"prev", false}, {"step_size", false}};

static void rprop_init(const void *config, double lr, cg_optim_param *p) {
    (void)config;
    for (int64_t i = 0; p->state[STEP_SIZE] && i < p->numel; i++)
        p->state[STEP_SIZE][i] = (float)lr;
}

typedef struct rprop_update {
    float sign, eta_minus, eta_plus, lo, hi;
    cg_optim_param *p;
} rprop_update;

static float sign_of(float x) {
    return (float)((x > 0) - (x < 0));
}

// A copy of the update's scalars in a local: read through ctx, every store to the arrays
// could change them, and GCC would reload them per element instead of vectorising.
CG_SIMD_CLONES static void rprop_range(void *ctx, int64_t begin, int64_t end) {
    const rprop_update local = *(const rprop_update *)ctx, *u = &local;
    float *p = u->p->param, *prev = u->p->state[PREV], *size = u->p->state[STEP_SIZE];
    const float *grad = u->p->grad;
    for (int64_t i = begin; i < end; i++) {
        float g = u->sign * grad[i], s = sign_of(g * prev[i]);
        float f = s > 0 ? u->eta_plus : s < 0 ? u->eta_minus : 1.0f;
        float stepped = size[i] * f;
        size[i] = stepped < u->lo ? u->lo : stepped > u->hi ? u->hi : stepped;
        if (f == u->eta_minus) g = 0;
        p[i] = p[i] + -1.0f * sign_of(g) * size[i];
        prev[i] = g;
    }
}

static void rprop_step(const void *config, double lr, cg_optim_param *p) {
    (void)lr; // only the starting step size
    const rprop_config *o = config;
    p->state[STEP][0] += 1;
    rprop_update u = {
        .sign = o->maximize ? -1.0f : 1.0f,
        .eta_minus = (float)o->eta_minus,
        .eta_plus = (float)o->eta_plus,
        .lo = (float)o->step_size_min,
        .hi = (float)o->step_size_max,
        .p = p,
    };
    cg_parallel_for(p->numel, CG_PARALLEL_MIN, rprop_range, &u);
}

static bool rprop_resolve(const void *options, void *config, double *lr) {
    const cg_rprop_options *o = options;
    rprop_config *c = config;
    *lr = cg_optional_or(o->lr, 1e-2);
    *c = (rprop_config){
        .eta_minus = cg_optional_or(o->etas[0], 0.5),
        .eta_plus = cg_optional_or(o->etas[1], 1.2),
        .step_size_min = cg_optional_or(o->step_sizes[0], 1e-6),
        .step_size_max = cg_optional_or(o->step_sizes[1], 50),
        .maximize = o->maximize,
    };
    if (c->eta_minus > 0 && c->eta_minus < 1 && c->eta_plus > 1) return true;
    cg_error(CG_ERR_ARG, "Rprop: invalid etas=(%g, %g) (must be 0 < etas[0] < 1 < etas[1])",
             c->eta_minus, c->eta_plus);
    return false;
}

static const cg_optim_field rprop_fields[] = {
    CG_OPTIM_FIELD(cg_rprop_options, "lr", lr),
    CG_OPTIM_FIELD(cg_rprop_options, "eta_minus", etas[0]),
    CG_OPTIM_FIELD(cg_rprop_options, "eta_plus", etas[1]),
    CG_OPTIM_FIELD(cg_rprop_options, "step_size_min", step_sizes[0]),
    CG_OPTIM_FIELD(cg_rprop_options, "step_size_max", step_sizes[1]),
    CG_OPTIM_FLAG(cg_rprop_options, maximize),
};

const cg_optimizer_class cg_rprop_class = {
    .name = "Rprop",
    .options_size = sizeof(cg_rprop_options),
    .config_size = sizeof(rprop_config),
    .fields = rprop_fields,
    .n_fields = CG_OPTIM_COUNT(rprop_fields),
    .resolve = rprop_resolve,
    .keys = rprop_keys,
    .n_keys = CG_OPTIM_COUNT(rprop_keys),
    .init = rprop_init,
    .step = rprop_step,
};
