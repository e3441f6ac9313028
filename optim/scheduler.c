// optim/scheduler.c - learning-rate schedules as torch.optim.lr_scheduler (1.13) steps them
// when step() is called without an epoch: the recursive ("chainable") form that updates the
// current lr, in double precision like Python; plus ReduceLROnPlateau and the two chains.
//
// A schedule is one `next` rule: the lr for last_epoch given the current lr and the group's
// base lr (its initial_lr), applied to every parameter group in turn (s->group says which,
// for rules that read more of the group). Creating one is PyTorch's _initial_step
// (last_epoch 0, lr = next(lr)); SequentialLR restarts a schedule at a milestone from the
// base lr, which equals PyTorch's closed form at epoch 0 for every schedule here.
// cg_scheduler_set_epoch replays that recursion rather than using closed forms, so a run resumed at
// epoch e gets bit for bit the lr of an uninterrupted one; rules that are closed forms in
// PyTorch too (closed_form: LambdaLR, CosineAnnealingWarmRestarts, CyclicLR, OneCycleLR)
// jump straight to the epoch.
#include <math.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/checked.h"
#include "scheduler_internal.h"

// ---- rules --------------------------------------------------------------------------------

// StepLR.get_lr(): multiply by gamma every step_size epochs.
static bool step_lr_next(const cg_scheduler *s, double base_lr, double *lr) {
    (void)base_lr;
    if (s->last_epoch != 0 && s->last_epoch % s->step_size == 0) *lr *= s->gamma;
    return true;
}

static bool exponential_next(const cg_scheduler *s, double base_lr, double *lr) {
    (void)base_lr;
    if (s->last_epoch != 0) *lr *= s->gamma;
    return true;
}

// CosineAnnealingLR.get_lr(): the ratio of consecutive points of
// eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / t_max)) / 2, with PyTorch's special
// case at the start of each rising half period, where that ratio would divide by zero.
static bool cosine_next(const cg_scheduler *s, double base_lr, double *lr) {
    const double pi = 3.14159265358979323846;
    int e = s->last_epoch, t = s->t_max;
    if (e == 0) return true;
    if ((e - 1 - t) % (2 * t) == 0)
        *lr += (base_lr - s->eta_min) * (1 - cos(pi / t)) / 2;
    else
        *lr = (1 + cos(pi * e / t)) / (1 + cos(pi * (e - 1) / t)) * (*lr - s->eta_min) + s->eta_min;
    return true;
}

// LinearLR.get_lr(): start_factor at epoch 0, then the ratio of consecutive factors.
static bool linear_next(const cg_scheduler *s, double base_lr, double *lr) {
    (void)base_lr;
    int e = s->last_epoch, n = s->total_iters;
    double a = s->start_factor, b = s->end_factor;
    if (e == 0)
        *lr *= a;
    else if (e <= n)
        *lr *= 1.0 + (b - a) / (n * a + (e - 1) * (b - a));
    return true;
}

static double anneal(bool linear, double from, double to, double pct) {
    const double pi = 3.14159265358979323846;
    return linear ? (to - from) * pct + from : to + (from - to) / 2.0 * (cos(pi * pct) + 1);
}

// OneCycleLR.get_lr(): not chainable; the phase holding step last_epoch, annealed from its
// start lr to its end lr (the group's initial_lr, max_lr, min_lr; cosine or linear), and
// the momentum the opposite way.
static bool one_cycle_next(const cg_scheduler *s, double base_lr, double *lr) {
    const cg_one_cycle_lr_options *o = &s->cycle;
    int step = s->last_epoch, total = o->total_steps;
    if (step > total) {
        cg_error(CG_ERR_ARG,
                 "OneCycleLR: tried to step %d times, but total_steps is %d (steps past the "
                 "cycle are an error, as PyTorch)",
                 step, total);
        return false;
    }
    const cg_param_group *group = &s->opt->groups[s->group];
    double initial = base_lr, max_lr = group->max_lr, min_lr = group->min_lr;
    double pct_start = o->pct_start.value, lo = o->base_momentum.value, hi = o->max_momentum.value;
    // Per phase: where it ends, and lr / momentum at its start and end.
    double ends[3], lr_from[3], lr_to[3], m_from[3], m_to[3];
    int phases = o->three_phase ? 3 : 2;
    ends[0] = pct_start * total - 1, lr_from[0] = initial, lr_to[0] = max_lr;
    m_from[0] = hi, m_to[0] = lo;
    if (o->three_phase) {
        ends[1] = 2 * pct_start * total - 2, lr_from[1] = max_lr, lr_to[1] = initial;
        ends[2] = total - 1, lr_from[2] = initial, lr_to[2] = min_lr;
        m_from[1] = lo, m_to[1] = hi, m_from[2] = m_to[2] = hi;
    } else {
        ends[1] = total - 1, lr_from[1] = max_lr, lr_to[1] = min_lr;
        m_from[1] = lo, m_to[1] = hi;
    }
    double start = 0;
    for (int i = 0; i < phases; i++) {
        if (step <= ends[i] || i == phases - 1) {
            double pct = (step - start) / (ends[i] - start);
            *lr = anneal(o->anneal_linear, lr_from[i], lr_to[i], pct);
            double *m = o->no_cycle_momentum ? NULL : cg_group_momentum(s->opt, s->group);
            if (m) *m = anneal(o->anneal_linear, m_from[i], m_to[i], pct);
            break;
        }
        start = ends[i];
    }
    return true;
}

// ---- creation -------------------------------------------------------------------------------

static cg_scheduler *scheduler_new(cg_optimizer *opt, scheduler_kind kind, const char *name) {
    if (!opt) return cg_error(CG_ERR_ARG, "%s: optimizer is NULL", name);
    cg_scheduler *s = cg_alloc_zeroed(sizeof *s);
    if (!s) return NULL;
    for (int g = 0; g < opt->n_groups; g++) { // PyTorch: setdefault('initial_lr', lr)
        cg_param_group *group = &opt->groups[g];
        if (!group->has_initial_lr) group->initial_lr = group->lr, group->has_initial_lr = true;
    }
    s->kind = kind;
    s->name = name;
    s->opt = opt;
    return s;
}

// The rule at the current last_epoch, on every group; false with an error. A group added
// after the schedules has no initial_lr and is left alone, as PyTorch's zip over base_lrs.
static bool apply_rule(cg_scheduler *s) {
    for (s->group = 0; s->group < s->opt->n_groups; s->group++) {
        cg_param_group *group = &s->opt->groups[s->group];
        if (group->has_initial_lr && !s->next(s, group->initial_lr, &group->lr)) return false;
    }
    return true;
}

// Every group back to its initial lr (SequentialLR, replays).
static void rewind_lrs(cg_optimizer *opt) {
    for (int g = 0; g < opt->n_groups; g++)
        if (opt->groups[g].has_initial_lr) opt->groups[g].lr = opt->groups[g].initial_lr;
}

cg_scheduler *cg_scheduler_begin(cg_scheduler *s) {
    s->last_epoch = 0;
    if (s->kind == RULE) apply_rule(s);
    return s;
}

cg_scheduler *cg_scheduler_rule_new(cg_optimizer *opt, const char *name, cg_schedule_rule next) {
    cg_scheduler *s = scheduler_new(opt, RULE, name);
    if (s) s->next = next;
    return s;
}

cg_scheduler *cg_step_lr(cg_optimizer *opt, int step_size, float gamma) {
    if (step_size <= 0)
        return cg_error(CG_ERR_ARG, "StepLR: invalid step_size=%d (must be > 0)", step_size);
    if (!(gamma >= 0))
        return cg_error(CG_ERR_ARG, "StepLR: invalid gamma=%g (must be >= 0)", gamma);
    cg_scheduler *s = cg_scheduler_rule_new(opt, "StepLR", step_lr_next);
    if (!s) return NULL;
    s->step_size = step_size;
    s->gamma = gamma;
    return cg_scheduler_begin(s);
}

cg_scheduler *cg_exponential_lr(cg_optimizer *opt, double gamma) {
    if (!(gamma >= 0))
        return cg_error(CG_ERR_ARG, "ExponentialLR: invalid gamma=%g (must be >= 0)", gamma);
    cg_scheduler *s = cg_scheduler_rule_new(opt, "ExponentialLR", exponential_next);
    if (!s) return NULL;
    s->gamma = gamma;
    return cg_scheduler_begin(s);
}

cg_scheduler *cg_cosine_annealing_lr(cg_optimizer *opt, int t_max, float eta_min) {
    if (t_max <= 0)
        return cg_error(CG_ERR_ARG, "CosineAnnealingLR: invalid t_max=%d (must be > 0)", t_max);
    if (!(eta_min >= 0))
        return cg_error(CG_ERR_ARG, "CosineAnnealingLR: invalid eta_min=%g (must be >= 0)",
                        eta_min);
    cg_scheduler *s = cg_scheduler_rule_new(opt, "CosineAnnealingLR", cosine_next);
    if (!s) return NULL;
    s->t_max = t_max;
    s->eta_min = eta_min;
    return cg_scheduler_begin(s);
}

cg_scheduler *cg_linear_lr(cg_optimizer *opt, const cg_linear_lr_options *options) {
    static const cg_linear_lr_options defaults = {0};
    const cg_linear_lr_options *o = options ? options : &defaults;
    double a = o->start_factor != 0 ? o->start_factor : 1.0 / 3;
    double b = cg_optional_or(o->end_factor, 1.0);
    int n;
    if (!(a > 0 && a <= 1))
        return cg_error(CG_ERR_ARG, "LinearLR: invalid start_factor=%g (must be in (0, 1])", a);
    if (!(b >= 0 && b <= 1))
        return cg_error(CG_ERR_ARG, "LinearLR: invalid end_factor=%g (must be in [0, 1])", b);
    if (!cg_schedule_iters("LinearLR", o->total_iters, &n)) return NULL;
    cg_scheduler *s = cg_scheduler_rule_new(opt, "LinearLR", linear_next);
    if (!s) return NULL;
    s->start_factor = a, s->end_factor = b, s->total_iters = n;
    return cg_scheduler_begin(s);
}

cg_scheduler *cg_one_cycle_lr(cg_optimizer *opt, const cg_one_cycle_lr_options *options) {
    cg_one_cycle_lr_options o = options ? *options : (cg_one_cycle_lr_options){0};
    int64_t total = 0;
    if (o.total_steps == 0 && o.epochs > 0 && o.steps_per_epoch > 0) {
        if (cg_mul_overflows(o.epochs, o.steps_per_epoch, &total) || total > INT32_MAX)
            return cg_error(CG_ERR_ARG,
                            "OneCycleLR: epochs=%d x steps_per_epoch=%d overflows the step count",
                            o.epochs, o.steps_per_epoch);
        o.total_steps = (int)total;
    }
    if (!(o.max_lr > 0) || o.total_steps <= 0)
        return cg_error(CG_ERR_ARG,
                        "OneCycleLR: max_lr (> 0) and total_steps (> 0) are required (got "
                        "max_lr=%g, total_steps=%d)",
                        o.max_lr, o.total_steps);
    o.pct_start = cg_opt(cg_optional_or(o.pct_start, 0.3));
    o.base_momentum = cg_opt(cg_optional_or(o.base_momentum, 0.85));
    o.max_momentum = cg_opt(cg_optional_or(o.max_momentum, 0.95));
    if (!o.no_cycle_momentum && opt && !opt->cls->momentum)
        return cg_error(CG_ERR_ARG,
                        "OneCycleLR: cycling momentum needs an optimizer with a momentum or "
                        "betas option (SGD, RMSprop, Adam, ...), not %s; set "
                        ".no_cycle_momentum = true",
                        opt->cls->name);
    if (o.div_factor == 0) o.div_factor = 25;
    if (o.final_div_factor == 0) o.final_div_factor = 1e4;
    if (!(o.pct_start.value >= 0 && o.pct_start.value <= 1))
        return cg_error(CG_ERR_ARG, "OneCycleLR: invalid pct_start=%g (must be in [0, 1])",
                        o.pct_start.value);
    if (!(o.div_factor > 0) || !(o.final_div_factor > 0))
        return cg_error(CG_ERR_ARG,
                        "OneCycleLR: invalid div_factor=%g or final_div_factor=%g "
                        "(must be > 0)",
                        o.div_factor, o.final_div_factor);
    // PyTorch divides by each phase's length: a zero-length one raises ZeroDivisionError.
    double p = o.pct_start.value, t = o.total_steps;
    double ends[3] = {p * t - 1, o.three_phase ? 2 * p * t - 2 : t - 1, t - 1};
    for (int i = 0; i < (o.three_phase ? 3 : 2); i++)
        if (ends[i] == (i ? ends[i - 1] : 0))
            return cg_error(CG_ERR_ARG,
                            "OneCycleLR: phase %d of the cycle has zero length (pct_start=%g, "
                            "total_steps=%d%s); change pct_start or total_steps",
                            i + 1, p, o.total_steps, o.three_phase ? ", three_phase" : "");
    cg_scheduler *s = cg_scheduler_rule_new(opt, "OneCycleLR", one_cycle_next);
    if (!s) return NULL;
    s->closed_form = true;
    s->cycle = o;
    for (int g = 0; g < opt->n_groups; g++) { // as PyTorch's constructor, in every group
        cg_param_group *group = &opt->groups[g];
        group->initial_lr = o.max_lr / o.div_factor, group->has_initial_lr = true;
        group->max_lr = o.max_lr;
        group->min_lr = group->initial_lr / o.final_div_factor;
        double *m = o.no_cycle_momentum ? NULL : cg_group_momentum(opt, g);
        if (m) *m = o.max_momentum.value;
    }
    return cg_scheduler_begin(s);
}

cg_scheduler *cg_reduce_lr_on_plateau(cg_optimizer *opt, const cg_plateau_options *options) {
    static const cg_plateau_options defaults = {0};
    cg_plateau_options o = options ? *options : defaults;
    o.factor = cg_opt(cg_optional_or(o.factor, 0.1));
    o.patience = cg_opt(cg_optional_or(o.patience, 10));
    o.threshold = cg_opt(cg_optional_or(o.threshold, 1e-4));
    o.eps = cg_opt(cg_optional_or(o.eps, 1e-8));
    const char *name = "ReduceLROnPlateau";
    if (!(o.factor.value >= 0 && o.factor.value < 1))
        return cg_error(CG_ERR_ARG, "%s: invalid factor=%g (must be < 1)", name, o.factor.value);
    if (!(o.patience.value >= 0) || o.cooldown < 0 || !(o.min_lr >= 0))
        return cg_error(CG_ERR_ARG,
                        "%s: invalid patience=%g, cooldown=%d or min_lr=%g (must be "
                        ">= 0)",
                        name, o.patience.value, o.cooldown, o.min_lr);
    cg_scheduler *s = scheduler_new(opt, PLATEAU, name);
    if (!s) return NULL;
    s->plateau = o;
    s->best = o.mode_max ? -INFINITY : INFINITY;
    return s;
}

// ---- chains -------------------------------------------------------------------------------

// A chain owns its parts: one given twice, or one another chain already owns, would be
// stepped twice and freed twice.
static bool chain_parts_distinct(const char *name, int n, cg_scheduler **children) {
    for (int i = 0; i < n; i++) {
        if (children[i]->owned) {
            cg_error(CG_ERR_ARG, "%s: schedule %d (%s) already belongs to a chain", name, i,
                     children[i]->name);
            return false;
        }
        for (int j = 0; j < i; j++)
            if (children[j] == children[i]) {
                cg_error(CG_ERR_ARG,
                         "%s: schedule %d (%s) is the same as schedule %d: pass each "
                         "schedule once",
                         name, i, children[i]->name, j);
                return false;
            }
    }
    return true;
}

// On a failed chain: each part freed once, except those another chain owns.
static void free_unowned(int n, cg_scheduler **children) {
    for (int i = 0; children && i < n; i++) {
        bool seen = false;
        for (int j = 0; j < i; j++) seen = seen || children[j] == children[i];
        if (!seen && children[i] && !children[i]->owned) cg_scheduler_free(children[i]);
    }
}

static cg_scheduler *chain_new(scheduler_kind kind, const char *name, int n,
                               cg_scheduler **children, const int *milestones) {
    bool ok = n > 0 && children;
    for (int i = 0; ok && i < n; i++) ok = children[i] && children[i]->kind != PLATEAU;
    for (int i = 0; ok && i < n; i++) ok = children[i]->opt == children[0]->opt;
    if (!ok)
        cg_error(CG_ERR_ARG,
                 "%s: needs n > 0 schedules, none NULL or ReduceLROnPlateau, "
                 "all on one optimizer",
                 name);
    ok = ok && chain_parts_distinct(name, n, children);
    for (int i = 0; ok && kind == SEQUENTIAL && i < n - 1; i++) {
        ok = milestones && milestones[i] > (i ? milestones[i - 1] : 0);
        if (!ok)
            cg_error(CG_ERR_ARG, "%s: milestones must be %d increasing epochs > 0", name, n - 1);
    }
    cg_scheduler *s = ok ? scheduler_new(children[0]->opt, kind, name) : NULL;
    if (s) s->children = cg_alloc((size_t)n * sizeof *s->children);
    if (s && kind == SEQUENTIAL && n > 1) s->milestones = cg_alloc((size_t)(n - 1) * sizeof(int));
    if (!s || !s->children || (kind == SEQUENTIAL && n > 1 && !s->milestones)) {
        free_unowned(n, children);
        if (s) cg_dealloc(s->children), cg_dealloc(s->milestones), cg_dealloc(s);
        return NULL;
    }
    s->n = n;
    memcpy(s->children, children, (size_t)n * sizeof *children);
    for (int i = 0; i < n; i++) children[i]->owned = true;
    if (s->milestones) memcpy(s->milestones, milestones, (size_t)(n - 1) * sizeof(int));
    return s;
}

cg_scheduler *cg_chained_scheduler(int n, cg_scheduler **schedules) {
    return chain_new(CHAINED, "ChainedScheduler", n, schedules, NULL);
}

// SequentialLR's constructor: back to the initial lr, then only the first schedule's
// epoch 0.
static cg_scheduler *sequential_begin(cg_scheduler *s) {
    s->last_epoch = 0;
    rewind_lrs(s->opt);
    cg_scheduler_begin(s->children[0]);
    return s;
}

cg_scheduler *cg_sequential_lr(int n, cg_scheduler **schedules, const int *milestones) {
    cg_scheduler *s = chain_new(SEQUENTIAL, "SequentialLR", n, schedules, milestones);
    return s ? sequential_begin(s) : NULL;
}

// ---- stepping -------------------------------------------------------------------------------

static int sequential_step(cg_scheduler *s) {
    int e = ++s->last_epoch, i = 0;
    while (i < s->n - 1 && s->milestones[i] <= e) i++; // bisect_right
    cg_scheduler *child = s->children[i];
    if (i > 0 && s->milestones[i - 1] == e) { // PyTorch's step(0): restart from the base lr
        child->last_epoch = 0;
        rewind_lrs(s->opt);
        return apply_rule(child) ? 0 : -1;
    }
    return cg_scheduler_step(child);
}

// ReduceLROnPlateau.step(metric).
static void plateau_step(cg_scheduler *s, double metric) {
    const cg_plateau_options *o = &s->plateau;
    double t = o->threshold.value, best = s->best;
    bool better = o->mode_max ? metric > (o->threshold_abs ? best + t : best * (1 + t))
                              : metric < (o->threshold_abs ? best - t : best * (1 - t));
    s->last_epoch++;
    if (better) {
        s->best = metric;
        s->bad_epochs = 0;
    } else {
        s->bad_epochs++;
    }
    if (s->cooldown_left > 0) {
        s->cooldown_left--;
        s->bad_epochs = 0;
    }
    if (s->bad_epochs > o->patience.value) {
        for (int g = 0; g < s->opt->n_groups; g++) {
            double old = s->opt->groups[g].lr, lr = fmax(old * o->factor.value, o->min_lr);
            if (old - lr > o->eps.value) s->opt->groups[g].lr = lr;
        }
        s->cooldown_left = o->cooldown;
        s->bad_epochs = 0;
    }
}

int cg_scheduler_step(cg_scheduler *s) {
    if (!cg_check_ptr(s, "scheduler_step", "s")) return -1;
    switch (s->kind) {
    case RULE:
        s->last_epoch++;
        return apply_rule(s) ? 0 : -1;
    case CHAINED:
        s->last_epoch++;
        for (int i = 0; i < s->n; i++)
            if (cg_scheduler_step(s->children[i]) != 0) return -1;
        return 0;
    case SEQUENTIAL:
        return sequential_step(s);
    case PLATEAU:
        break;
    }
    cg_error(CG_ERR_ARG, "ReduceLROnPlateau: step needs the metric: call "
                         "cg_scheduler_step_metric(s, metric)");
    return -1;
}

int cg_scheduler_step_metric(cg_scheduler *s, double metric) {
    if (!cg_check_ptr(s, "scheduler_step_metric", "s")) return -1;
    if (s->kind != PLATEAU) {
        cg_error(CG_ERR_ARG,
                 "%s: cg_scheduler_step_metric is for ReduceLROnPlateau; call "
                 "cg_scheduler_step",
                 s->name);
        return -1;
    }
    plateau_step(s, metric);
    return 0;
}

int cg_scheduler_epoch(const cg_scheduler *s) {
    return cg_check_ptr(s, "scheduler_epoch", "s") ? s->last_epoch : -1;
}

int cg_scheduler_set_epoch(cg_scheduler *s, int epoch) {
    if (!cg_check_ptr(s, "scheduler_set_epoch", "s")) return -1;
    if (epoch < 0) {
        cg_error(CG_ERR_ARG, "%s: invalid epoch %d (must be >= 0)", s->name, epoch);
        return -1;
    }
    if (s->kind == PLATEAU) {
        s->last_epoch = epoch;
        return 0;
    }
    if (s->kind == RULE && s->closed_form) { // the lr at epoch, from nothing but epoch
        s->last_epoch = epoch;
        return apply_rule(s) ? 0 : -1;
    }
    if (epoch > CG_SCHEDULER_MAX_REPLAY) {
        cg_error(CG_ERR_ARG,
                 "%s: set_epoch(%d) would replay %d steps of the recursive form (at most %d, "
                 "CG_SCHEDULER_MAX_REPLAY); set the lr yourself (cg_optimizer_set_lr)",
                 s->name, epoch, epoch, CG_SCHEDULER_MAX_REPLAY);
        return -1;
    }
    rewind_lrs(s->opt);
    if (s->kind == SEQUENTIAL) {
        sequential_begin(s);
    } else if (s->kind == CHAINED) {
        s->last_epoch = 0;
        for (int i = 0; i < s->n; i++) cg_scheduler_begin(s->children[i]);
    } else {
        cg_scheduler_begin(s);
    }
    while (s->last_epoch < epoch)
        if (cg_scheduler_step(s) != 0) return -1;
    return 0;
}

void cg_scheduler_free(cg_scheduler *s) {
    if (!s) return;
    for (int i = 0; i < s->n; i++) cg_scheduler_free(s->children[i]);
    cg_dealloc(s->children);
    cg_dealloc(s->milestones);
    cg_dealloc(s);
}
