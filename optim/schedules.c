// optim/schedules.c - MultiStepLR, ConstantLR, PolynomialLR, LambdaLR and MultiplicativeLR:
// rules in PyTorch 1.13's recursive (get_lr) form over the engine of optim/scheduler.c.
#include <math.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "scheduler_internal.h"

bool cg_schedule_iters(const char *name, cg_optional total_iters, int *out) {
    double v = cg_optional_or(total_iters, 5);
    if (!(v == floor(v) && fabs(v) <= INT32_MAX)) {
        cg_error(CG_ERR_ARG, "%s: invalid total_iters=%g (must be an integer)", name, v);
        return false;
    }
    *out = (int)v;
    return true;
}

// ---- MultiStepLR ------------------------------------------------------------------------

// gamma to the number of times last_epoch is a milestone.
static bool multi_step_next(const cg_scheduler *s, double base_lr, double *lr) {
    (void)base_lr;
    int count = 0;
    for (int i = 0; i < s->n_milestones; i++) count += s->milestones[i] == s->last_epoch;
    if (count) *lr *= pow(s->gamma, count);
    return true;
}

cg_scheduler *cg_multi_step_lr(cg_optimizer *opt, int n, const int *milestones, double gamma) {
    if (n < 0 || (n > 0 && !milestones))
        return cg_error(CG_ERR_ARG, "MultiStepLR: invalid milestones (n=%d, %s)", n,
                        milestones ? "n must be >= 0" : "milestones is NULL");
    if (!(gamma >= 0))
        return cg_error(CG_ERR_ARG, "MultiStepLR: invalid gamma=%g (must be >= 0)", gamma);
    cg_scheduler *s = cg_scheduler_rule_new(opt, "MultiStepLR", multi_step_next);
    if (!s) return NULL;
    if (n > 0 && !(s->milestones = cg_alloc((size_t)n * sizeof(int)))) {
        cg_scheduler_free(s);
        return NULL;
    }
    if (n > 0) memcpy(s->milestones, milestones, (size_t)n * sizeof(int));
    s->n_milestones = n, s->gamma = gamma;
    return cg_scheduler_begin(s);
}

// ---- ConstantLR ---------------------------------------------------------------------------

// times factor at epoch 0, divided by it again at total_iters.
static bool constant_next(const cg_scheduler *s, double base_lr, double *lr) {
    (void)base_lr;
    if (s->last_epoch == 0) {
        *lr *= s->factor;
    } else if (s->last_epoch == s->total_iters) {
        if (s->factor == 0) {
            cg_error(CG_ERR_ARG,
                     "ConstantLR: factor=0 cannot be undone at total_iters=%d (PyTorch: "
                     "ZeroDivisionError)",
                     s->total_iters);
            return false;
        }
        *lr *= 1.0 / s->factor;
    }
    return true;
}

cg_scheduler *cg_constant_lr(cg_optimizer *opt, const cg_constant_lr_options *options) {
    const cg_constant_lr_options o = options ? *options : (cg_constant_lr_options){0};
    double factor = cg_optional_or(o.factor, 1.0 / 3);
    int n;
    if (!(factor >= 0 && factor <= 1))
        return cg_error(CG_ERR_ARG, "ConstantLR: invalid factor=%g (must be in [0, 1])", factor);
    if (!cg_schedule_iters("ConstantLR", o.total_iters, &n)) return NULL;
    cg_scheduler *s = cg_scheduler_rule_new(opt, "ConstantLR", constant_next);
    if (!s) return NULL;
    s->factor = factor, s->total_iters = n;
    return cg_scheduler_begin(s);
}

// ---- PolynomialLR ------------------------------------------------------------------------

// The ratio of consecutive (1 - epoch / total_iters)^power, up to total_iters.
static bool polynomial_next(const cg_scheduler *s, double base_lr, double *lr) {
    (void)base_lr;
    int e = s->last_epoch;
    double n = s->total_iters;
    if (e == 0 || e > s->total_iters) return true;
    double ratio = (1.0 - e / n) / (1.0 - (e - 1) / n);
    if (ratio == 0 && s->power < 0) {
        cg_error(CG_ERR_ARG,
                 "PolynomialLR: power=%g < 0 at total_iters=%d raises 0 to a negative power "
                 "(PyTorch: ZeroDivisionError)",
                 s->power, s->total_iters);
        return false;
    }
    *lr *= pow(ratio, s->power);
    return true;
}

cg_scheduler *cg_polynomial_lr(cg_optimizer *opt, const cg_polynomial_lr_options *options) {
    const cg_polynomial_lr_options o = options ? *options : (cg_polynomial_lr_options){0};
    double power = cg_optional_or(o.power, 1.0);
    int n;
    if (!isfinite(power))
        return cg_error(CG_ERR_ARG, "PolynomialLR: invalid power=%g (must be finite)", power);
    if (!cg_schedule_iters("PolynomialLR", o.total_iters, &n)) return NULL;
    cg_scheduler *s = cg_scheduler_rule_new(opt, "PolynomialLR", polynomial_next);
    if (!s) return NULL;
    s->power = power, s->total_iters = n;
    return cg_scheduler_begin(s);
}

// ---- LambdaLR, MultiplicativeLR ------------------------------------------------------------

static bool lambda_next(const cg_scheduler *s, double base_lr, double *lr) {
    *lr = base_lr * s->lambda(s->last_epoch, s->group, s->userdata);
    return true;
}

static bool multiplicative_next(const cg_scheduler *s, double base_lr, double *lr) {
    (void)base_lr;
    if (s->last_epoch > 0) *lr *= s->lambda(s->last_epoch, s->group, s->userdata);
    return true;
}

static cg_scheduler *callback_new(cg_optimizer *opt, const char *name, cg_schedule_rule next,
                                  cg_lr_lambda fn, void *userdata) {
    if (!fn) return cg_error(CG_ERR_ARG, "%s: lr_lambda is NULL", name);
    cg_scheduler *s = cg_scheduler_rule_new(opt, name, next);
    if (!s) return NULL;
    s->lambda = fn, s->userdata = userdata;
    return cg_scheduler_begin(s);
}

cg_scheduler *cg_lambda_lr(cg_optimizer *opt, cg_lr_lambda fn, void *userdata) {
    cg_scheduler *s = callback_new(opt, "LambdaLR", lambda_next, fn, userdata);
    if (s) s->closed_form = true;
    return s;
}

cg_scheduler *cg_multiplicative_lr(cg_optimizer *opt, cg_lr_lambda fn, void *userdata) {
    return callback_new(opt, "MultiplicativeLR", multiplicative_next, fn, userdata);
}
