// tests/test_optim_classes.c - every optimizer of optim/optimizers.def against PyTorch
// (tests/fixtures/optim_classes.txt: 12 steps, options over their range, parameter groups,
// the final state), a byte-identical checkpoint resume for every class of the table (the
// list comes from the table, not from this file), an optimizer defined here as a user
// would (with schedules, clipping, groups and checkpoints), schedules on parameter groups
// after OneCycleLR, the AdamW recipe's groups, and the errors.
#include <ctype.h>
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "optim_case.h"
#include "testing.h"

#define FIXTURE  "optim_classes.txt"
#define N_PARAMS 3
#define RTOL     1e-5
#define ATOL     1e-6

static cg_fixture *fx;

static cg_tensor *case_tensor(const cg_fixture_case *c, const char *fmt, int a, int b) {
    char key[64];
    snprintf(key, sizeof key, fmt, a, b);
    cg_tensor *t = cg_fixture_tensor(c, key);
    if (!t) fail_msg("%s: no tensor %s", cg_fixture_case_name(c), key);
    return t;
}

// Fresh leaves holding the case's starting parameters.
static void make_params(const cg_fixture_case *c, cg_tensor **params) {
    for (int i = 0; i < N_PARAMS; i++)
        params[i] = cg_test_copy_leaf(case_tensor(c, "p%d", i, 0), true);
}

// Give the parameters step k's gradients (none for the case's designated one).
static void set_grads(const cg_fixture_case *c, cg_tensor **params, int k) {
    int none_step = (int)cg_fixture_param(c, "none_step", -1);
    int none_param = (int)cg_fixture_param(c, "none_param", -1);
    for (int i = 0; i < N_PARAMS; i++) {
        cg_free(params[i]->grad);
        params[i]->grad = NULL;
        if (k == none_step && i == none_param) continue;
        params[i]->grad = cg_test_copy_leaf(case_tensor(c, "g%d_%d", k, i), false);
    }
}

// Our state (named by the optimizer's parameter order) equals PyTorch's, entry by entry.
// SGD's "step" (cgrad's marker for "momentum buffer exists") has no PyTorch counterpart.
static void check_state(const cg_fixture_case *c, cg_optimizer *opt, const int *order) {
    const char *name = cg_fixture_case_name(c);
    bool sgd = strncmp(name, "sgd/", 4) == 0;
    cg_tensor_list list = cg_optimizer_state(opt);
    char key[96], what[160];
    for (int j = 0; j < list.count; j++) {
        int i;
        char state_key[64];
        assert_int_equal(sscanf(list.items[j].name, "%d.%63s", &i, state_key), 2);
        if (sgd && strcmp(state_key, "step") == 0) continue;
        snprintf(key, sizeof key, "state.%d.%s", order[i], state_key);
        cg_tensor *expected = cg_fixture_tensor(c, key);
        if (!expected) fail_msg("%s: state %s is not PyTorch's", name, list.items[j].name);
        snprintf(what, sizeof what, "%s %s", name, key);
        cg_assert_close(list.items[j].tensor, expected, RTOL, ATOL, what);
    }
    cg_tensor_list_free(&list);
}

static int count_prefix(const char *prefix, bool with_groups) {
    int n = 0;
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        n += strncmp(cg_fixture_case_name(c), prefix, strlen(prefix)) == 0 &&
             (!with_groups || cg_fixture_has(c, "groups"));
    }
    return n;
}

static void test_trajectories(void **state) {
    (void)state;
    char key[32], what[128];
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        if (!cg_test_case_class(c)) continue;
        const char *name = cg_fixture_case_name(c);
        cg_tensor *params[N_PARAMS];
        int order[N_PARAMS];
        make_params(c, params);
        cg_optimizer *opt = cg_test_case_optimizer(c, N_PARAMS, params, order);
        int steps = (int)cg_fixture_param(c, "steps", 0);
        assert_true(steps >= 10);
        for (int k = 0; k < steps; k++) {
            set_grads(c, params, k);
            assert_int_equal(cg_optimizer_step(opt), 0);
            for (int i = 0; i < N_PARAMS; i++) {
                snprintf(key, sizeof key, "p%d_%d", i, k);
                snprintf(what, sizeof what, "%s param %d after step %d", name, i, k);
                cg_assert_close(params[i], cg_fixture_tensor(c, key), RTOL, ATOL, what);
            }
        }
        check_state(c, opt, order);
        cg_optimizer_free(opt);
        for (int i = 0; i < N_PARAMS; i++) cg_free(params[i]);
    }
}

// Every class of the table has fixture cases, one of them with parameter groups: adding an
// optimizer without its fixture fails here.
static void test_every_class_has_cases(void **state) {
    (void)state;
    char prefix[40];
    for (int i = 0; cg_optimizer_builtin(i); i++) {
        const char *name = cg_optimizer_builtin(i)->name;
        size_t n = strlen(name);
        for (size_t j = 0; j <= n; j++) prefix[j] = (char)tolower((unsigned char)name[j]);
        strcat(prefix, "/");
        if (count_prefix(prefix, false) < 2 || count_prefix(prefix, true) < 1)
            fail_msg("%s: tests/fixtures/gen_optim_classes.py has no cases (or none with "
                     "groups) for it",
                     name);
    }
}

// ---- exact resume through a checkpoint, for every class ------------------------------------

static const cg_module_class HOLDER = {.name = "Holder"};
static const char *const PARAM_NAMES[N_PARAMS] = {"p0", "p1", "p2"}; // modules keep the pointer

// A module owning copies of the case's starting parameters, and its optimizer.
typedef struct run {
    cg_module *model;
    cg_tensor *params[N_PARAMS];
    cg_optimizer *opt;
} run;

static run new_run(const cg_fixture_case *c) {
    run r;
    r.model = cg_module_new(&HOLDER, NULL, 0);
    for (int i = 0; i < N_PARAMS; i++) {
        cg_module_add_param(r.model, PARAM_NAMES[i],
                            cg_test_copy_leaf(case_tensor(c, "p%d", i, 0), true));
        r.params[i] = cg_module_param(r.model, PARAM_NAMES[i]);
    }
    r.opt = cg_test_case_optimizer(c, N_PARAMS, r.params, NULL);
    return r;
}

static void run_steps(const cg_fixture_case *c, run *r, int from, int to) {
    for (int k = from; k < to; k++) {
        set_grads(c, r->params, k);
        assert_int_equal(cg_optimizer_step(r->opt), 0);
        // Change the lrs the way a schedule would, to awkward doubles a float cannot hold.
        for (int g = 0; g < cg_optimizer_n_groups(r->opt); g++)
            cg_optimizer_set_group_lr(r->opt, g, cg_optimizer_group_lr(r->opt, g) * 0.9137);
    }
}

static void free_run(run *r) {
    cg_optimizer_free(r->opt);
    cg_module_free(r->model);
}

// Save after k steps, load into a fresh run, continue both: every parameter, every state
// buffer and every group lr identical to the bit.
static void resume_case(const cg_fixture_case *c, int k) {
    char path[256], what[160];
    snprintf(path, sizeof path, "%s/optim_classes_resume.ckpt", CG_TEST_TMP_DIR);
    int steps = (int)cg_fixture_param(c, "steps", 0);
    run a = new_run(c), b = new_run(c);
    run_steps(c, &a, 0, k);
    cg_checkpoint_meta meta = {.epoch = 1, .global_step = k, .lr = cg_optimizer_lr(a.opt)};
    assert_int_equal(cg_checkpoint_save(path, a.model, a.opt, &meta), 0);
    if (cg_checkpoint_load(path, b.model, b.opt, NULL) != 0)
        fail_msg("%s: %s", cg_fixture_case_name(c), cg_test_last_message());
    run_steps(c, &a, k, steps);
    run_steps(c, &b, k, steps);
    for (int i = 0; i < N_PARAMS; i++) {
        snprintf(what, sizeof what, "%s resumed after %d steps: param %d", cg_fixture_case_name(c),
                 k, i);
        cg_assert_close(b.params[i], a.params[i], 0, 0, what);
    }
    for (int g = 0; g < cg_optimizer_n_groups(a.opt); g++)
        assert_true(cg_optimizer_group_lr(a.opt, g) == cg_optimizer_group_lr(b.opt, g));
    cg_tensor_list sa = cg_optimizer_state(a.opt), sb = cg_optimizer_state(b.opt);
    assert_int_equal(sa.count, sb.count);
    for (int j = 0; j < sa.count; j++) {
        assert_string_equal(sa.items[j].name, sb.items[j].name);
        assert_memory_equal(sa.items[j].tensor->data, sb.items[j].tensor->data,
                            (size_t)sa.items[j].tensor->numel * sizeof(float));
    }
    cg_tensor_list_free(&sa);
    cg_tensor_list_free(&sb);
    free_run(&a);
    free_run(&b);
}

static void test_resume_every_class(void **state) {
    (void)state;
    for (int i = 0; cg_optimizer_builtin(i); i++) {
        int resumed = 0;
        for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
            const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
            if (cg_test_case_class(c) != cg_optimizer_builtin(i)) continue;
            for (int k = 0; k <= 6; k += 3) resume_case(c, k);
            resumed++;
        }
        if (resumed == 0) fail_msg("%s: no case to resume", cg_optimizer_builtin(i)->name);
    }
}

// ---- an optimizer defined outside the library ----------------------------------------------

// Sign descent with momentum ("signum"), written as a user would in their own .c file:
//   buf = momentum * buf + (1 - momentum) * g;  p = p - lr * sign(buf)
typedef struct signum_options {
    cg_optional lr, momentum;
    bool maximize;
} signum_options;
typedef struct signum_config {
    double momentum;
    bool maximize;
} signum_config;

static bool signum_resolve(const void *options, void *config, double *lr) {
    const signum_options *o = options;
    signum_config *c = config;
    *lr = cg_optional_or(o->lr, 0.01);
    *c = (signum_config){cg_optional_or(o->momentum, 0.9), o->maximize};
    if (c->momentum >= 0 && c->momentum < 1) return true;
    cg_error(CG_ERR_ARG, "Signum: invalid momentum=%g", c->momentum);
    return false;
}

static void signum_step(const void *config, double lr, cg_optim_param *p) {
    const signum_config *c = config;
    float *buf = p->state[0], m = (float)c->momentum, sign = c->maximize ? -1.0f : 1.0f;
    for (int64_t i = 0; i < p->numel; i++) {
        buf[i] = m * buf[i] + (1 - m) * sign * p->grad[i];
        p->param[i] -= (float)lr * (float)((buf[i] > 0) - (buf[i] < 0));
    }
}

static double *signum_momentum(void *config) {
    return &((signum_config *)config)->momentum;
}

static const cg_optim_field signum_fields[] = {
    {"lr", offsetof(signum_options, lr), false},
    {"momentum", offsetof(signum_options, momentum), false},
    {"maximize", offsetof(signum_options, maximize), true},
};
static const cg_optim_key signum_keys[] = {{"momentum_buffer", false}};
static const cg_optimizer_class signum_class = {
    .name = "Signum",
    .options_size = sizeof(signum_options),
    .config_size = sizeof(signum_config),
    .fields = signum_fields,
    .n_fields = 3,
    .resolve = signum_resolve,
    .keys = signum_keys,
    .n_keys = 1,
    .step = signum_step,
    .momentum = signum_momentum,
};

// Two groups (the second with its own lr and momentum 0), StepLR on both, clipping, and a
// checkpoint in the middle that a fresh optimizer resumes from exactly.
static void test_user_defined_optimizer(void **state) {
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/optim_classes_user.ckpt", CG_TEST_TMP_DIR);
    const cg_fixture_case *c = cg_fixture_find(fx, "sgd/plain");
    assert_non_null(c);
    run r[2];
    cg_scheduler *s[2];
    for (int j = 0; j < 2; j++) {
        r[j] = new_run(c);
        cg_optimizer_free(r[j].opt);
        r[j].opt =
            cg_optimizer_new(&signum_class, 2, r[j].params, &(signum_options){.lr = CG_SET(0.1)});
        assert_non_null(r[j].opt);
        assert_int_equal(cg_optimizer_add_param_group(
                             r[j].opt, 1, r[j].params + 2,
                             &(signum_options){.lr = CG_SET(0.05), .momentum = CG_SET(0.0)}),
                         1);
        s[j] = cg_step_lr(r[j].opt, 2, 0.5f);
    }
    assert_true(cg_optimizer_momentum(r[0].opt) == 0.9);
    // The reference: the same rule written out here, on copies.
    cg_tensor *ref[N_PARAMS], *buf[N_PARAMS];
    for (int i = 0; i < N_PARAMS; i++) {
        ref[i] = cg_test_copy_leaf(r[0].params[i], false);
        buf[i] = cg_zeros_like(ref[i]);
    }
    for (int k = 0; k < 8; k++) {
        for (int j = 0; j < 2; j++) {
            if (k == 4 && j == 1) {
                assert_int_equal(cg_checkpoint_load(path, r[1].model, r[1].opt, NULL), 0);
                cg_scheduler_set_epoch(s[1], k);
            }
            if (k < 4 && j == 1) continue; // the second run starts from the checkpoint
            set_grads(c, r[j].params, k);
            double norm = cg_optimizer_clip_grad_norm(r[j].opt, 5.0, NULL);
            assert_true(norm > 0);
            assert_int_equal(cg_optimizer_step(r[j].opt), 0);
            assert_int_equal(cg_scheduler_step(s[j]), 0);
        }
        for (int i = 0; i < N_PARAMS; i++) {
            const cg_tensor *g = r[0].params[i]->grad; // clipped; NULL: skipped
            float m = i < 2 ? 0.9f : 0.0f;
            double lr = (i < 2 ? 0.1 : 0.05) * pow(0.5, k / 2);
            for (int64_t e = 0; g && e < ref[i]->numel; e++) {
                float *b = &buf[i]->data[e];
                *b = m * *b + (1 - m) * g->data[e];
                ref[i]->data[e] -= (float)lr * (float)((*b > 0) - (*b < 0));
            }
            cg_assert_close(r[0].params[i], ref[i], 0, 0, "Signum against its rule");
            if (k >= 4) cg_assert_close(r[1].params[i], r[0].params[i], 0, 0, "Signum resumed");
        }
        if (k == 3) {
            cg_checkpoint_meta meta = {.epoch = 1};
            assert_int_equal(cg_checkpoint_save(path, r[0].model, r[0].opt, &meta), 0);
        }
    }
    assert_true(cg_optimizer_group_lr(r[0].opt, 1) == 0.05 * 0.5 * 0.5 * 0.5 * 0.5);
    // OneCycleLR cycles the user's momentum too.
    cg_scheduler *cycle =
        cg_one_cycle_lr(r[0].opt, &(cg_one_cycle_lr_options){.max_lr = 1, .total_steps = 10});
    assert_non_null(cycle);
    assert_true(cg_optimizer_momentum(r[0].opt) == 0.95);
    cg_scheduler_free(cycle);
    for (int j = 0; j < 2; j++) {
        cg_scheduler_free(s[j]);
        free_run(&r[j]);
    }
    for (int i = 0; i < N_PARAMS; i++) cg_free(ref[i]), cg_free(buf[i]);
}

// ---- schedules on parameter groups -------------------------------------------------------

static cg_scheduler *one_cycle(cg_optimizer *o, double max_lr, int total, bool three_phase) {
    cg_one_cycle_lr_options oc = {
        .max_lr = max_lr, .total_steps = total, .three_phase = three_phase};
    return cg_one_cycle_lr(o, &oc);
}

// The schedule(s) a "sched/" case describes, as gen_optim_classes.py built them.
static cg_scheduler *case_schedule(const char *name, cg_optimizer *o) {
    if (strcmp(name, "sched/one_cycle_groups") == 0) return one_cycle(o, 0.4, 14, false);
    if (strcmp(name, "sched/one_cycle_momentum_zero") == 0) return one_cycle(o, 0.3, 14, true);
    if (strcmp(name, "sched/one_cycle_then_cosine") == 0) {
        cg_scheduler *parts[2] = {one_cycle(o, 0.5, 8, false), cg_cosine_annealing_lr(o, 4, 0)};
        return cg_sequential_lr(2, parts, (int[]){8});
    }
    if (strcmp(name, "sched/one_cycle_then_exponential") == 0) {
        cg_scheduler *parts[2] = {one_cycle(o, 0.5, 8, false), cg_exponential_lr(o, 0.7)};
        return cg_sequential_lr(2, parts, (int[]){8});
    }
    if (strcmp(name, "sched/one_cycle_chained_cosine") == 0) {
        cg_scheduler *parts[2] = {one_cycle(o, 0.5, 15, false), cg_cosine_annealing_lr(o, 5, 0)};
        return cg_chained_scheduler(2, parts);
    }
    if (strcmp(name, "sched/step_groups") == 0) return cg_step_lr(o, 3, 0.5f);
    assert_string_equal(name, "sched/cosine_groups");
    return cg_cosine_annealing_lr(o, 6, 0.001f);
}

static cg_optimizer *two_group_sgd(const cg_fixture_case *c, cg_tensor **w) {
    double m = cg_fixture_param(c, "momentum", 0);
    cg_sgd_options o = {.lr = CG_SET(cg_fixture_param(c, "lr0", 0)), .momentum = CG_SET(m)};
    cg_optimizer *opt = cg_sgd(1, &w[0], &o);
    cg_sgd_options o1 = {.lr = CG_SET(cg_fixture_param(c, "lr1", 0))};
    assert_int_equal(cg_optimizer_add_param_group(opt, 1, &w[1], &o1), 1);
    return opt;
}

static void test_schedules_on_groups(void **state) {
    (void)state;
    int cases = 0;
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        const char *name = cg_fixture_case_name(c);
        if (strncmp(name, "sched/", 6) != 0) continue;
        cg_tensor *w[2] = {cg_zeros(CG_SHAPE(1)), cg_zeros(CG_SHAPE(1))};
        cg_optimizer *o = two_group_sgd(c, w), *replay_opt = two_group_sgd(c, w);
        cg_scheduler *s = case_schedule(name, o), *replay = case_schedule(name, replay_opt);
        if (!s || !replay) fail_msg("%s: %s", name, cg_test_last_message());
        const cg_tensor *want[3] = {cg_fixture_tensor(c, "lr0"), cg_fixture_tensor(c, "lr1"),
                                    cg_fixture_tensor(c, "momentum0")};
        int epochs = (int)want[0]->numel;
        cg_tensor *got[3];
        for (int j = 0; j < 3; j++) got[j] = cg_zeros(CG_SHAPE(epochs));
        for (int e = 0; e < epochs; e++) {
            if (e) assert_int_equal(cg_scheduler_step(s), 0);
            got[0]->data[e] = (float)cg_optimizer_group_lr(o, 0);
            got[1]->data[e] = (float)cg_optimizer_group_lr(o, 1);
            got[2]->data[e] = (float)cg_optimizer_momentum(o);
            cg_scheduler_set_epoch(replay, e); // a resumed run: exactly the same lrs
            for (int g = 0; g < 2; g++)
                if (cg_optimizer_group_lr(replay_opt, g) != cg_optimizer_group_lr(o, g))
                    fail_msg("%s: group %d: set_epoch(%d) gives %.17g, stepping %.17g", name, g, e,
                             cg_optimizer_group_lr(replay_opt, g), cg_optimizer_group_lr(o, g));
        }
        const char *what[3] = {"lr group 0", "lr group 1", "momentum group 0"};
        char label[128];
        for (int j = 0; j < 3; j++) {
            snprintf(label, sizeof label, "%s %s", name, what[j]);
            cg_assert_close(got[j], want[j], 1e-6, 1e-9, label);
            cg_free(got[j]);
        }
        cg_scheduler_free(s);
        cg_scheduler_free(replay);
        cg_optimizer_free(o);
        cg_optimizer_free(replay_opt);
        cg_free(w[0]);
        cg_free(w[1]);
        cases++;
    }
    assert_int_equal(cases, count_prefix("sched/", false));
    assert_true(cases >= 7);
}

// A group added after a schedule was attached has no initial_lr: the schedule leaves it
// alone, as PyTorch's (its base_lrs do not include it); the others follow the schedule.
static void test_group_added_after_schedule(void **state) {
    (void)state;
    cg_tensor *w[2] = {cg_zeros(CG_SHAPE(1)), cg_zeros(CG_SHAPE(1))};
    cg_optimizer *o = cg_sgd(1, &w[0], &(cg_sgd_options){.lr = CG_SET(0.1)});
    cg_scheduler *s = cg_step_lr(o, 1, 0.5f);
    assert_int_equal(
        cg_optimizer_add_param_group(o, 1, &w[1], &(cg_sgd_options){.lr = CG_SET(0.3)}), 1);
    assert_int_equal(cg_scheduler_step(s), 0);
    assert_true(cg_optimizer_group_lr(o, 0) == 0.1 * 0.5);
    assert_true(cg_optimizer_group_lr(o, 1) == 0.3);
    cg_scheduler_free(s);
    cg_optimizer_free(o);
    cg_free(w[0]);
    cg_free(w[1]);
}

// ---- the AdamW recipe ---------------------------------------------------------------------

// Weights (ndim >= 2) decay, biases and norm parameters do not: with zero gradients AdamW
// only decays, p * (1 - lr * weight_decay), and only group 0.
static void test_adamw_recipe(void **state) {
    (void)state;
    cg_manual_seed(3);
    cg_module *model =
        cg_Sequential(2, (cg_module *[]){cg_Linear(4, 3, NULL), cg_BatchNorm1d(3, NULL)});
    cg_optimizer *opt = cg_adamw_for_recipe(
        model, &(cg_adam_options){.lr = CG_SET(0.1), .weight_decay = CG_SET(0.5)});
    assert_non_null(opt);
    assert_int_equal(cg_optimizer_n_groups(opt), 2);
    cg_tensor_list list = cg_module_named_parameters(model);
    cg_tensor *before[8];
    for (int i = 0; i < list.count; i++) {
        before[i] = cg_test_copy_leaf(list.items[i].tensor, false);
        list.items[i].tensor->grad = cg_zeros_like(list.items[i].tensor);
    }
    assert_int_equal(cg_optimizer_step(opt), 0);
    for (int i = 0; i < list.count; i++) {
        cg_tensor *p = list.items[i].tensor;
        float decay = p->ndim >= 2 ? (float)(1 - 0.1 * 0.5) : 1.0f;
        for (int64_t e = 0; e < p->numel; e++)
            assert_true(p->data[e] == before[i]->data[e] * decay);
        cg_free(before[i]);
    }
    cg_tensor_list_free(&list);
    cg_optimizer_free(opt);
    cg_module_free(model);
}

// ---- errors -----------------------------------------------------------------------------

static void test_errors(void **state) {
    (void)state;
    cg_tensor *w = cg_requires_grad(cg_zeros(CG_SHAPE(2)), true);
    cg_tensor *v = cg_requires_grad(cg_zeros(CG_SHAPE(3)), true);
    assert_null(cg_adadelta(1, &w, &(cg_adadelta_options){.rho = CG_SET(1.5)}));
    cg_test_expect_error(CG_ERR_ARG, "Adadelta: invalid rho=1.5 (must be in [0, 1])");
    assert_null(cg_adadelta(1, &w, &(cg_adadelta_options){.lr = CG_SET(-1)}));
    cg_test_expect_error(CG_ERR_ARG, "Adadelta: invalid learning rate lr=-1");
    assert_null(cg_nadam(1, &w, &(cg_nadam_options){.momentum_decay = CG_SET(-0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "NAdam: invalid momentum_decay=-0.1");
    assert_null(cg_radam(1, &w, &(cg_radam_options){.betas = {{0}, CG_SET(1.0)}}));
    cg_test_expect_error(CG_ERR_ARG, "RAdam: invalid beta2=1");
    assert_null(cg_adamax(1, &w, &(cg_adamax_options){.eps = CG_SET(-1e-8)}));
    cg_test_expect_error(CG_ERR_ARG, "Adamax: invalid eps");
    assert_null(cg_nadam_for(NULL, NULL));
    cg_test_expect_error(CG_ERR_ARG, "NAdam: model is NULL");

    // A non-leaf parameter is refused, as PyTorch's "can't optimize a non-leaf Tensor".
    cg_tensor *y = cg_mul_scalar(w, 2.0f);
    cg_unscope(y);
    assert_null(cg_sgd(1, &y, &(cg_sgd_options){.lr = CG_SET(0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "SGD: can't optimize a non-leaf tensor (parameter 0");
    cg_free(y);

    // A parameter freed while the optimizer holds it: refused without touching it (the
    // sanitizer build would report any read of the freed tensor).
    cg_tensor *gone = cg_requires_grad(cg_ones(CG_SHAPE(2, 2)), true);
    cg_optimizer *held = cg_adam(1, &gone, NULL);
    gone->grad = cg_ones(CG_SHAPE(2, 2));
    assert_int_equal(cg_optimizer_step(held), 0);
    cg_free(gone);
    assert_int_equal(cg_optimizer_step(held), -1);
    cg_test_expect_error(CG_ERR_ARG, "optimizer_step: Adam: parameter 0 (shape [2,2]) was freed "
                                     "while the optimizer still holds it");
    cg_optimizer_zero_grad(held);
    cg_test_expect_error(CG_ERR_ARG, "optimizer_zero_grad: Adam: parameter 0");
    assert_true(cg_optimizer_clip_grad_norm(held, 1, NULL) == -1);
    cg_test_expect_error(CG_ERR_ARG, "clip_grad_norm: Adam: parameter 0");
    cg_optimizer_free(held);

    // Parameter groups: a parameter in two groups, a bad group option, an unknown option.
    cg_optimizer *opt =
        cg_sgd(1, &w, &(cg_sgd_options){.lr = CG_SET(0.1), .momentum = CG_SET(0.9)});
    assert_int_equal(cg_optimizer_add_param_group(opt, 1, &w, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "SGD: parameter 0 appears in more than one group");
    assert_int_equal(cg_optimizer_add_param_group(opt, 2, (cg_tensor *[]){v, v}, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "SGD: parameter 1 appears twice in one group");
    assert_int_equal(cg_optimizer_add_param_group(
                         opt, 1, &v, &(cg_sgd_options){.dampening = CG_SET(0.5), .nesterov = true}),
                     -1);
    cg_test_expect_error(CG_ERR_ARG, "SGD: nesterov requires momentum > 0 and dampening = 0");
    assert_int_equal(cg_optimizer_n_groups(opt), 1);
    assert_int_equal(cg_optimizer_add_param_group(NULL, 1, &v, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "add_param_group: optimizer is NULL");
    // A group inherits what it does not set: momentum 0.9 and the constructor's lr.
    assert_int_equal(cg_optimizer_add_param_group(opt, 1, &v, NULL), 1);
    assert_true(cg_optimizer_group_lr(opt, 1) == 0.1);
    assert_int_equal(cg_optimizer_set_group_lr(opt, 2, 0.1), -1);
    cg_test_expect_error(CG_ERR_ARG, "SGD: no parameter group 2 (it has 2)");
    assert_true(isnan(cg_optimizer_group_lr(opt, 5)));
    cg_sgd_options o = {0};
    assert_int_equal(cg_optim_set_option(&cg_sgd_class, &o, "betas", 0.9), -1);
    cg_test_expect_error(CG_ERR_ARG, "SGD: no option named 'betas'");
    assert_true(cg_optimizer_class_named("rmsPROP") == &cg_rmsprop_class);
    assert_null(cg_optimizer_class_named("lamb"));

    // A checkpoint of a 2-group optimizer does not load into a 1-group one.
    char path[256];
    snprintf(path, sizeof path, "%s/optim_classes_groups.ckpt", CG_TEST_TMP_DIR);
    cg_module *m = cg_module_new(&HOLDER, NULL, 0);
    cg_module_add_param(m, "a", cg_zeros(CG_SHAPE(1)));
    cg_tensor *a = cg_module_param(m, "a");
    cg_optimizer *two = cg_adam(1, &a, NULL), *one = cg_adam(1, &a, NULL);
    cg_tensor *b = cg_zeros(CG_SHAPE(1));
    assert_int_equal(cg_optimizer_add_param_group(two, 1, &b, NULL), 1);
    cg_checkpoint_meta meta = {0};
    assert_int_equal(cg_checkpoint_save(path, m, two, &meta), 0);
    assert_int_equal(cg_checkpoint_load(path, m, one, NULL), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "checkpoint_load:");
    cg_optimizer_free(two);
    cg_optimizer_free(one);
    cg_free(b);
    cg_module_free(m);

    // OneCycleLR: a zero-length phase (PyTorch divides by zero), an overflowing step count,
    // and an optimizer without momentum.
    assert_null(cg_one_cycle_lr(
        opt,
        &(cg_one_cycle_lr_options){.max_lr = 0.1, .total_steps = 10, .pct_start = CG_SET(0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "OneCycleLR: phase 1 of the cycle has zero length "
                                     "(pct_start=0.1, total_steps=10)");
    assert_null(cg_one_cycle_lr(
        opt, &(cg_one_cycle_lr_options){
                 .max_lr = 0.1, .total_steps = 4, .pct_start = CG_SET(0.25), .three_phase = true}));
    cg_test_expect_error(CG_ERR_ARG, "phase 1 of the cycle has zero length");
    assert_null(cg_one_cycle_lr(
        opt,
        &(cg_one_cycle_lr_options){.max_lr = 0.1, .total_steps = 10, .pct_start = CG_SET(1.0)}));
    cg_test_expect_error(CG_ERR_ARG, "phase 2 of the cycle has zero length");
    assert_null(cg_one_cycle_lr(
        opt,
        &(cg_one_cycle_lr_options){.max_lr = 0.1, .epochs = 1 << 20, .steps_per_epoch = 1 << 12}));
    cg_test_expect_error(CG_ERR_ARG, "OneCycleLR: epochs=1048576 x steps_per_epoch=4096 overflows");
    cg_optimizer *adadelta = cg_adadelta(1, &w, NULL);
    assert_null(
        cg_one_cycle_lr(adadelta, &(cg_one_cycle_lr_options){.max_lr = 1, .total_steps = 5}));
    cg_test_expect_error(CG_ERR_ARG, "not Adadelta; set .no_cycle_momentum = true");
    cg_optimizer_free(adadelta);

    // clip_grad_norm's error_if_nonfinite: nothing is scaled.
    w->grad = cg_test_tensor(CG_SHAPE(2), (float[]){INFINITY, 1});
    cg_unscope(w->grad);
    cg_clip_grad_norm_options strict = {.error_if_nonfinite = true};
    assert_true(cg_optimizer_clip_grad_norm(opt, 1.0, &strict) == -1);
    cg_test_expect_error(CG_ERR_ARG, "clip_grad_norm: the total norm of order 2 of the gradients "
                                     "is inf");
    assert_true(w->grad->data[1] == 1);
    assert_true(isinf(cg_optimizer_clip_grad_norm(opt, 1.0, NULL))); // PyTorch's default
    cg_optimizer_free(opt);
    cg_free(w);
    cg_free(v);
}

#define TEST(f) CG_TEST_NO_LEAKS(f)

int main(void) {
    const struct CMUnitTest tests[] = {
        TEST(test_trajectories),
        TEST(test_every_class_has_cases),
        TEST(test_resume_every_class),
        TEST(test_user_defined_optimizer),
        TEST(test_schedules_on_groups),
        TEST(test_adamw_recipe),
        TEST(test_group_added_after_schedule),
        TEST(test_errors),
    };
    cg_test_capture_errors();
    return cg_test_run_with_fixture("optim_classes", tests, CG_COUNT(tests), FIXTURE, &fx);
}
