// optim/cyclic.c - the schedules that come back up: CosineAnnealingWarmRestarts and
// CyclicLR, in PyTorch 1.13's closed forms (neither is chainable there either).
#include <math.h>
#include <string.h>

#include "scheduler_internal.h"

// ---- CosineAnnealingWarmRestarts ---------------------------------------------------------

// eta_min + (base_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2, where T_cur and T_i are
// the integers PyTorch's step() keeps: the epochs into the current period and its length.
static bool warm_restarts_next(const cg_scheduler *s, double base_lr, double *lr) {
    const double pi = 3.14159265358979323846;
    int64_t e = s->last_epoch, start = 0, t_i = s->t_0;
    if (s->t_mult == 1) {
        start = e - e % t_i;
    } else {
        while (e >= start + t_i) start += t_i, t_i *= s->t_mult; // t_i <= e * t_mult: no overflow
    }
    double t_cur = (double)(e - start);
    *lr = s->eta_min + (base_lr - s->eta_min) * (1 + cos(pi * t_cur / (double)t_i)) / 2;
    return true;
}

cg_scheduler *cg_cosine_annealing_warm_restarts(cg_optimizer *opt, int t_0,
                                                const cg_warm_restarts_options *options) {
    const cg_warm_restarts_options o = options ? *options : (cg_warm_restarts_options){0};
    int t_mult = o.t_mult ? o.t_mult : 1;
    const char *name = "CosineAnnealingWarmRestarts";
    if (t_0 <= 0) return cg_error(CG_ERR_ARG, "%s: invalid T_0=%d (must be > 0)", name, t_0);
    if (t_mult < 1)
        return cg_error(CG_ERR_ARG, "%s: invalid T_mult=%d (must be >= 1)", name, t_mult);
    if (!isfinite(o.eta_min))
        return cg_error(CG_ERR_ARG, "%s: invalid eta_min=%g (must be finite)", name, o.eta_min);
    cg_scheduler *s = cg_scheduler_rule_new(opt, name, warm_restarts_next);
    if (!s) return NULL;
    s->t_0 = t_0, s->t_mult = t_mult, s->eta_min = o.eta_min, s->closed_form = true;
    return cg_scheduler_begin(s);
}

// ---- CyclicLR -------------------------------------------------------------------------------

// The amplitude's scale: of the cycle (triangular, triangular2) or of the step (exp_range).
static double cyclic_scale(const cg_cyclic_lr_options *o, double cycle, int step) {
    switch (o->mode) {
    case CG_CYCLIC_TRIANGULAR:
        return 1.0;
    case CG_CYCLIC_TRIANGULAR2:
        return 1 / pow(2.0, cycle - 1);
    case CG_CYCLIC_EXP_RANGE:
        return pow(o->gamma.value, step);
    }
    return 1.0;
}

// CyclicLR.get_lr(): where in its cycle the step is, the lr up from base_lr and the
// momentum down from max_momentum by the same fraction of their ranges.
static bool cyclic_next(const cg_scheduler *s, double base_lr, double *lr) {
    (void)base_lr; // CyclicLR's own base_lr, not the group's initial_lr
    const cg_cyclic_lr_options *o = &s->cyclic;
    int e = s->last_epoch;
    double cycle = floor(1 + e / s->total_size);
    double x = 1. + e / s->total_size - cycle;
    double f = x <= s->step_ratio ? x / s->step_ratio : (x - 1) / (s->step_ratio - 1);
    double scale = cyclic_scale(o, cycle, e);
    *lr = s->base_lr + (s->max_lr - s->base_lr) * f * scale;
    double *m = o->no_cycle_momentum ? NULL : cg_group_momentum(s->opt, s->group);
    if (m) {
        double lo = o->base_momentum.value, hi = o->max_momentum.value;
        *m = hi - (hi - lo) * f * scale;
    }
    return true;
}

static bool has_momentum_option(const cg_optimizer_class *cls) {
    for (int i = 0; i < cls->n_fields; i++)
        if (!strcmp(cls->fields[i].name, "momentum")) return true;
    return false;
}

// Defaults filled in and checked; false with an error.
static bool cyclic_resolve(const cg_optimizer *opt, double base_lr, double max_lr,
                           cg_cyclic_lr_options *o) {
    const char *name = "CyclicLR";
    o->step_size_up = cg_opt(cg_optional_or(o->step_size_up, 2000));
    o->step_size_down = cg_opt(cg_optional_or(o->step_size_down, o->step_size_up.value));
    o->gamma = cg_opt(cg_optional_or(o->gamma, 1.0));
    o->base_momentum = cg_opt(cg_optional_or(o->base_momentum, 0.8));
    o->max_momentum = cg_opt(cg_optional_or(o->max_momentum, 0.9));
    double up = o->step_size_up.value, down = o->step_size_down.value;
    const char *bad = !(isfinite(base_lr) && isfinite(max_lr)) ? "base_lr and max_lr"
                      : !(up > 0 && isfinite(up))              ? "step_size_up (> 0)"
                      : !(down >= 0 && isfinite(down))         ? "step_size_down (>= 0)"
                      : !isfinite(o->gamma.value)              ? "gamma"
                      : !(isfinite(o->base_momentum.value) && isfinite(o->max_momentum.value))
                          ? "base_momentum and max_momentum"
                      : !(o->mode >= CG_CYCLIC_TRIANGULAR && o->mode <= CG_CYCLIC_EXP_RANGE)
                          ? "mode (triangular, triangular2 or exp_range)"
                          : NULL;
    if (bad) {
        cg_error(CG_ERR_ARG,
                 "%s: invalid %s (got base_lr=%g, max_lr=%g, step_size_up=%g, "
                 "step_size_down=%g, gamma=%g, mode=%d)",
                 name, bad, base_lr, max_lr, up, down, o->gamma.value, (int)o->mode);
        return false;
    }
    if (!o->no_cycle_momentum && opt && !has_momentum_option(opt->cls)) {
        cg_error(CG_ERR_ARG,
                 "%s: cycling momentum needs an optimizer with a momentum option (SGD, "
                 "RMSprop), not %s; set .no_cycle_momentum = true",
                 name, opt->cls->name);
        return false;
    }
    return true;
}

cg_scheduler *cg_cyclic_lr(cg_optimizer *opt, double base_lr, double max_lr,
                           const cg_cyclic_lr_options *options) {
    cg_cyclic_lr_options o = options ? *options : (cg_cyclic_lr_options){0};
    if (!opt) return cg_error(CG_ERR_ARG, "CyclicLR: optimizer is NULL");
    if (!cyclic_resolve(opt, base_lr, max_lr, &o)) return NULL;
    for (int g = 0; g < opt->n_groups; g++) { // as PyTorch's constructor, before initial_lr
        opt->groups[g].lr = base_lr;
        double *m = o.no_cycle_momentum ? NULL : cg_group_momentum(opt, g);
        if (m) *m = o.base_momentum.value;
    }
    cg_scheduler *s = cg_scheduler_rule_new(opt, "CyclicLR", cyclic_next);
    if (!s) return NULL;
    s->cyclic = o, s->base_lr = base_lr, s->max_lr = max_lr, s->closed_form = true;
    s->total_size = o.step_size_up.value + o.step_size_down.value;
    s->step_ratio = o.step_size_up.value / s->total_size;
    return cg_scheduler_begin(s);
}
