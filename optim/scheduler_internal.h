// optim/scheduler_internal.h - the schedule object, shared by the files that define
// schedules (optim/scheduler.c: the engine, the chains and the first rules;
// optim/schedules.c: more rules). Not installed; users go through optim.h.
//
// A rule-based schedule is made by cg_scheduler_rule_new (which records every group's
// initial_lr, PyTorch's setdefault), its fields filled in by the constructor, and
// cg_scheduler_begin (PyTorch's _initial_step: last_epoch 0 and the rule applied once).
#ifndef CG_SCHEDULER_INTERNAL_H
#define CG_SCHEDULER_INTERNAL_H

#include "optimizer_internal.h"

// The lr at s->last_epoch (already advanced) for group s->group, from the current lr and
// the group's initial_lr; false with an error.
typedef bool (*cg_schedule_rule)(const cg_scheduler *s, double base_lr, double *lr);

typedef enum { RULE, PLATEAU, CHAINED, SEQUENTIAL } scheduler_kind;

struct cg_scheduler {
    scheduler_kind kind;
    const char *name; // PyTorch's class name, for messages
    cg_optimizer *opt;
    int group; // the parameter group `next` is working on
    int last_epoch;
    // RULE: the lr at last_epoch (already advanced) from the current lr and the group's
    // initial_lr; false with an error.
    cg_schedule_rule next;
    int step_size, t_max, total_iters; // StepLR, CosineAnnealingLR, LinearLR
    double gamma, eta_min, start_factor, end_factor;
    cg_one_cycle_lr_options cycle; // OneCycleLR, resolved
    cg_plateau_options plateau;    // ReduceLROnPlateau, resolved (optionals all set)
    double best;
    int bad_epochs, cooldown_left;
    int n;                   // CHAINED, SEQUENTIAL
    cg_scheduler **children; // owned
    int *milestones;         // SEQUENTIAL: n - 1 epochs; MultiStepLR: n_milestones (owned)
    int n_milestones;
    double factor, power; // ConstantLR, PolynomialLR
    cg_lr_lambda lambda;  // LambdaLR, MultiplicativeLR
    void *userdata;
    int t_0, t_mult;             // CosineAnnealingWarmRestarts
    cg_cyclic_lr_options cyclic; // CyclicLR, resolved (optionals all set)
    double base_lr, max_lr, step_ratio, total_size;
    bool closed_form; // next ignores the current lr: set_epoch needs no replay
    bool owned;       // a chain holds it (and frees it)
};

// A RULE schedule named `name` (PyTorch's class name) on opt; NULL with an error.
cg_scheduler *cg_scheduler_rule_new(cg_optimizer *opt, const char *name, cg_schedule_rule next);
// Its epoch 0 applied; returns s.
cg_scheduler *cg_scheduler_begin(cg_scheduler *s);

// An integer option that defaults to 5 (PyTorch's total_iters): false with
// "<name>: invalid total_iters=<v> (must be an integer)".
bool cg_schedule_iters(const char *name, cg_optional total_iters, int *out);

#endif
