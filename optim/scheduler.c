// optim/scheduler.c - StepLR and CosineAnnealingLR, stepping the optimizer's lr as
// torch.optim.lr_scheduler does when step() is called without an epoch: the recursive
// ("chainable") form that updates the current lr, in double precision like Python.
//
// cg_scheduler_set_epoch replays that recursion from the base lr rather than using the
// closed form, so a run resumed at epoch e gets bit for bit the lr of an uninterrupted one.
#include <math.h>

#include "../tensor/alloc.h"
#include "optimizer_internal.h"

typedef enum { STEP_LR, COSINE_ANNEALING_LR } scheduler_kind;

struct cg_scheduler {
    scheduler_kind kind;
    cg_optimizer *opt;
    double base_lr; // the optimizer's lr when the scheduler was created (initial_lr)
    int last_epoch;
    int step_size; // StepLR
    double gamma;
    int t_max; // CosineAnnealingLR
    double eta_min;
};

// StepLR.get_lr(): multiply by gamma every step_size epochs.
static double step_lr_next(const cg_scheduler *s, double lr) {
    if (s->last_epoch == 0 || s->last_epoch % s->step_size != 0) return lr;
    return lr * s->gamma;
}

// CosineAnnealingLR.get_lr(): the ratio of consecutive points of
// eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2, with PyTorch's special
// case at the start of each rising half period, where that ratio would divide by zero.
static double cosine_lr_next(const cg_scheduler *s, double lr) {
    const double pi = 3.14159265358979323846;
    int e = s->last_epoch, t = s->t_max;
    if (e == 0) return lr;
    if ((e - 1 - t) % (2 * t) == 0) return lr + (s->base_lr - s->eta_min) * (1 - cos(pi / t)) / 2;
    return (1 + cos(pi * e / t)) / (1 + cos(pi * (e - 1) / t)) * (lr - s->eta_min) + s->eta_min;
}

static cg_scheduler *scheduler_new(cg_optimizer *opt, scheduler_kind kind, const char *name) {
    if (!opt) return cg_error(CG_ERR_ARG, "%s: optimizer is NULL", name);
    cg_scheduler *s = cg_alloc_zeroed(sizeof *s);
    if (!s) return NULL;
    s->kind = kind;
    s->opt = opt;
    s->base_lr = opt->lr;
    return s;
}

cg_scheduler *cg_step_lr(cg_optimizer *opt, int step_size, float gamma) {
    if (step_size <= 0)
        return cg_error(CG_ERR_ARG, "StepLR: invalid step_size=%d (must be > 0)", step_size);
    if (!(gamma >= 0))
        return cg_error(CG_ERR_ARG, "StepLR: invalid gamma=%g (must be >= 0)", gamma);
    cg_scheduler *s = scheduler_new(opt, STEP_LR, "StepLR");
    if (!s) return NULL;
    s->step_size = step_size;
    s->gamma = gamma;
    return s;
}

cg_scheduler *cg_cosine_annealing_lr(cg_optimizer *opt, int t_max, float eta_min) {
    if (t_max <= 0)
        return cg_error(CG_ERR_ARG, "CosineAnnealingLR: invalid t_max=%d (must be > 0)", t_max);
    if (!(eta_min >= 0))
        return cg_error(CG_ERR_ARG, "CosineAnnealingLR: invalid eta_min=%g (must be >= 0)",
                        eta_min);
    cg_scheduler *s = scheduler_new(opt, COSINE_ANNEALING_LR, "CosineAnnealingLR");
    if (!s) return NULL;
    s->t_max = t_max;
    s->eta_min = eta_min;
    return s;
}

void cg_scheduler_step(cg_scheduler *s) {
    if (!s) return;
    s->last_epoch++;
    double lr = s->opt->lr;
    s->opt->lr = s->kind == STEP_LR ? step_lr_next(s, lr) : cosine_lr_next(s, lr);
}

int cg_scheduler_epoch(const cg_scheduler *s) {
    return s ? s->last_epoch : 0;
}

void cg_scheduler_set_epoch(cg_scheduler *s, int epoch) {
    if (!s) return;
    if (epoch < 0) {
        cg_error(CG_ERR_ARG, "scheduler: invalid epoch %d (must be >= 0)", epoch);
        return;
    }
    s->last_epoch = 0;
    s->opt->lr = s->base_lr;
    while (s->last_epoch < epoch) cg_scheduler_step(s);
}

void cg_scheduler_free(cg_scheduler *s) {
    cg_dealloc(s);
}
