// tests/test_schedules.c - ExponentialLR, LinearLR, OneCycleLR, ReduceLROnPlateau,
// ChainedScheduler and SequentialLR against PyTorch's lr sequences (tests/fixtures/optim.txt
// "lr/" cases, 12 epochs each, rtol 1e-5); cg_scheduler_set_epoch replaying each exactly;
// clip_grad_norm_ / clip_grad_value_ against PyTorch ("clip/" cases); and the errors.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "optim.txt"

static cg_fixture *fx;

static double num(const cg_fixture_case *c, const char *key) {
    return cg_fixture_param(c, key, 0);
}

static cg_scheduler *linear(cg_optimizer *o, const cg_fixture_case *c) {
    cg_linear_lr_options lo = {num(c, "start_factor"), cg_fixture_optional(c, "end_factor"),
                               cg_fixture_optional(c, "total_iters")};
    return cg_linear_lr(o, &lo);
}

// SGD (with the case's "sgd_momentum"), or Adam if the case says "adam".
static cg_optimizer *case_optimizer(const cg_fixture_case *c, cg_tensor *w) {
    if (num(c, "adam") != 0) return cg_adam(1, &w, &(cg_adam_options){.lr = CG_SET(num(c, "lr"))});
    cg_sgd_options so = {.lr = CG_SET(num(c, "lr")), .momentum = CG_SET(num(c, "sgd_momentum"))};
    return cg_sgd(1, &w, &so);
}

// The schedule(s) a case describes, built as tests/fixtures/gen_optim.py built them.
static cg_scheduler *case_schedule(const char *name, const cg_fixture_case *c, cg_optimizer *o) {
    if (strcmp(name, "lr/exponential") == 0) return cg_exponential_lr(o, num(c, "gamma"));
    if (strncmp(name, "lr/linear", 9) == 0) return linear(o, c);
    if (strncmp(name, "lr/one_cycle", 12) == 0) {
        cg_one_cycle_lr_options oc = {
            .max_lr = num(c, "max_lr"),
            .total_steps = (int)num(c, "total_steps"),
            .pct_start = cg_fixture_optional(c, "pct_start"),
            .anneal_linear = num(c, "anneal_linear") != 0,
            .three_phase = num(c, "three_phase") != 0,
            .div_factor = num(c, "div_factor"),
            .final_div_factor = num(c, "final_div_factor"),
            .no_cycle_momentum = num(c, "no_cycle_momentum") != 0,
            .base_momentum = cg_fixture_optional(c, "base_momentum"),
            .max_momentum = cg_fixture_optional(c, "max_momentum"),
        };
        return cg_one_cycle_lr(o, &oc);
    }
    if (strncmp(name, "lr/plateau", 10) == 0) {
        cg_plateau_options po = {
            .mode_max = num(c, "mode_max") != 0,
            .factor = cg_fixture_optional(c, "factor"),
            .patience = cg_fixture_optional(c, "patience"),
            .threshold = cg_fixture_optional(c, "threshold"),
            .threshold_abs = num(c, "threshold_abs") != 0,
            .cooldown = (int)num(c, "cooldown"),
            .min_lr = num(c, "min_lr"),
        };
        return cg_reduce_lr_on_plateau(o, &po);
    }
    if (strcmp(name, "lr/chained") == 0) {
        cg_scheduler *parts[2] = {linear(o, c), cg_exponential_lr(o, num(c, "gamma"))};
        return cg_chained_scheduler(2, parts);
    }
    if (strcmp(name, "lr/sequential") == 0) {
        cg_scheduler *parts[2] = {linear(o, c), cg_cosine_annealing_lr(o, (int)num(c, "T_max"),
                                                                       (float)num(c, "eta_min"))};
        return cg_sequential_lr(2, parts, (int[]){(int)num(c, "milestones")});
    }
    assert_string_equal(name, "lr/sequential3");
    cg_scheduler *parts[3] = {cg_exponential_lr(o, num(c, "gamma")),
                              cg_step_lr(o, (int)num(c, "step_size"), (float)num(c, "gamma")),
                              linear(o, c)};
    double m[2];
    assert_int_equal(cg_fixture_params(c, "milestones", m, 2), 2);
    return cg_sequential_lr(3, parts, (int[]){(int)m[0], (int)m[1]});
}

static void test_lr_sequences(void **state) {
    (void)state;
    int cases = 0;
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        const char *name = cg_fixture_case_name(c);
        if (strncmp(name, "lr/", 3) != 0) continue;
        cg_tensor *w = cg_zeros(CG_SHAPE(1));
        cg_optimizer *o = case_optimizer(c, w), *replay_opt = case_optimizer(c, w);
        cg_scheduler *s = case_schedule(name, c, o), *replay = case_schedule(name, c, replay_opt);
        if (!s || !replay) fail_msg("%s: %s", name, cg_test_last_message());
        const cg_tensor *expected = cg_fixture_tensor(c, "lr");
        const cg_tensor *metrics = cg_fixture_tensor(c, "metrics");
        const cg_tensor *momentum = cg_fixture_tensor(c, "momentum");
        assert_non_null(expected);
        cg_tensor *lrs = cg_zeros(CG_SHAPE(expected->numel));
        for (int e = 0; e < expected->numel; e++) {
            int rc = e == 0    ? 0
                     : metrics ? cg_scheduler_step_metric(s, metrics->data[e - 1])
                               : cg_scheduler_step(s);
            assert_int_equal(rc, 0);
            lrs->data[e] = cg_optimizer_lr(o);
            if (momentum && fabs(cg_optimizer_momentum(o) - momentum->data[e]) > 1e-6)
                fail_msg("%s: momentum %g after %d steps, PyTorch %g", name,
                         cg_optimizer_momentum(o), e, momentum->data[e]);
            if (metrics) continue; // the plateau depends on what it saw: no replay
            cg_scheduler_set_epoch(replay, e);
            if (cg_optimizer_lr(replay_opt) != cg_optimizer_lr(o))
                fail_msg("%s: set_epoch(%d) gives %g, stepping %g", name, e,
                         cg_optimizer_lr(replay_opt), cg_optimizer_lr(o));
        }
        cg_assert_close(lrs, expected, 1e-5, 1e-9, name);
        cg_free(lrs);
        cg_scheduler_free(s);
        cg_scheduler_free(replay);
        cg_optimizer_free(o);
        cg_optimizer_free(replay_opt);
        cg_free(w);
        cases++;
    }
    assert_int_equal(cases, 14);
}

static void test_clipping(void **state) {
    (void)state;
    const cg_fixture_case *data = cg_fixture_find(fx, "data");
    int cases = 0;
    char key[32];
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        const char *name = cg_fixture_case_name(c);
        if (strncmp(name, "clip/", 5) != 0) continue;
        cg_tensor *params[3];
        for (int i = 0; i < 3; i++) {
            snprintf(key, sizeof key, "p%d", i);
            params[i] = cg_test_copy_leaf(cg_fixture_tensor(data, key), true);
            snprintf(key, sizeof key, "g0_%d", i);
            params[i]->grad = cg_mul_scalar(cg_fixture_tensor(data, key), 3.0f);
            cg_unscope(params[i]->grad);
        }
        if (cg_fixture_has(c, "clip_value")) {
            assert_int_equal(cg_clip_grad_value(3, params, num(c, "clip_value")), 0);
        } else {
            double total = cg_clip_grad_norm(
                3, params, num(c, "max_norm"),
                &(cg_clip_grad_norm_options){.norm_type = cg_fixture_optional(c, "norm_type")});
            float expected = cg_fixture_tensor(c, "total_norm")->data[0];
            if (fabs(total - expected) > 1e-5 * fabs(expected))
                fail_msg("%s: total norm %.9g, PyTorch %.9g", name, total, expected);
        }
        for (int i = 0; i < 3; i++) {
            snprintf(key, sizeof key, "g%d", i);
            cg_assert_close(params[i]->grad, cg_fixture_tensor(c, key), 1e-5, 1e-7, name);
            cg_free(params[i]);
        }
        cases++;
    }
    assert_int_equal(cases, 6);
}

// NaN gradients pass through clip_grad_value_ (torch.clamp keeps NaN) and make the total
// norm NaN; parameters without a grad are skipped.
static void test_clipping_edges(void **state) {
    (void)state;
    cg_tensor *a = cg_requires_grad(cg_zeros(CG_SHAPE(3)), true);
    cg_tensor *b = cg_requires_grad(cg_zeros(CG_SHAPE(2)), true);
    a->grad = cg_test_tensor(CG_SHAPE(3), (float[]){3, -4, NAN});
    cg_unscope(a->grad);
    cg_tensor *both[2] = {a, b};
    assert_int_equal(cg_clip_grad_value(2, both, 1.0), 0);
    assert_true(a->grad->data[0] == 1 && a->grad->data[1] == -1 && isnan(a->grad->data[2]));
    assert_true(isnan(cg_clip_grad_norm(2, both, 1.0, NULL)));
    a->grad->data[2] = 0;
    a->grad->data[0] = 3, a->grad->data[1] = -4;
    assert_float_equal(
        cg_clip_grad_norm(2, both, 10.0, &(cg_clip_grad_norm_options){.norm_type = CG_SET(2.0)}),
        5.0, 1e-6);
    assert_true(a->grad->data[0] == 3); // below max_norm: unchanged
    assert_float_equal(
        cg_clip_grad_norm(2, both, 1.0,
                          &(cg_clip_grad_norm_options){.norm_type = CG_SET(INFINITY)}),
        4.0, 1e-6);
    assert_float_equal(a->grad->data[1], -1.0, 1e-5);

    assert_true(cg_clip_grad_norm(2, both, 1.0,
                                  &(cg_clip_grad_norm_options){.norm_type = CG_SET(0.0)}) == -1);
    cg_test_expect_error(CG_ERR_ARG, "clip_grad_norm: invalid norm_type=0");
    assert_true(cg_clip_grad_norm(2, both, -1.0, NULL) == -1);
    cg_test_expect_error(CG_ERR_ARG, "clip_grad_norm: invalid max_norm=-1");
    assert_int_equal(cg_clip_grad_value(2, both, -0.5), -1);
    cg_test_expect_error(CG_ERR_ARG, "clip_grad_value: invalid clip_value=-0.5");
    cg_tensor *with_null[2] = {a, NULL};
    assert_int_equal(cg_clip_grad_value(2, with_null, 1), -1);
    cg_test_expect_error(CG_ERR_ARG, "clip_grad_value: parameter 1 is NULL");
    cg_optimizer *o = cg_sgd(2, both, &(cg_sgd_options){.lr = CG_SET(0.1)});
    assert_float_equal(cg_optimizer_clip_grad_norm(o, 100.0, NULL), 1.25, 1e-5); // [0.75, -1, 0]
    assert_int_equal(cg_optimizer_clip_grad_value(o, 0.5), 0);
    assert_float_equal(a->grad->data[1], -0.5, 1e-6);
    assert_true(cg_optimizer_clip_grad_norm(NULL, 1, NULL) == -1);
    cg_test_expect_error(CG_ERR_ARG, "clip_grad_norm: optimizer is NULL");
    cg_optimizer_free(o);
    cg_free(a);
    cg_free(b);
}

static void test_schedule_errors(void **state) {
    (void)state;
    cg_tensor *w = cg_zeros(CG_SHAPE(1));
    cg_optimizer *o = cg_sgd(1, &w, &(cg_sgd_options){.lr = CG_SET(0.1)});
    assert_null(cg_linear_lr(o, &(cg_linear_lr_options){.start_factor = 1.5}));
    cg_test_expect_error(CG_ERR_ARG, "LinearLR: invalid start_factor=1.5 (must be in (0, 1])");
    assert_null(cg_linear_lr(o, &(cg_linear_lr_options){.end_factor = CG_SET(-0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "LinearLR: invalid end_factor=-0.1");
    assert_null(cg_exponential_lr(o, -1));
    cg_test_expect_error(CG_ERR_ARG, "ExponentialLR: invalid gamma=-1");
    assert_null(cg_one_cycle_lr(o, &(cg_one_cycle_lr_options){.max_lr = 0.1}));
    cg_test_expect_error(CG_ERR_ARG, "OneCycleLR: max_lr (> 0) and total_steps (> 0) are required");
    assert_null(cg_one_cycle_lr(o, &(cg_one_cycle_lr_options){.max_lr = 0.1,
                                                              .total_steps = 4,
                                                              .pct_start = CG_SET(1.5),
                                                              .no_cycle_momentum = true}));
    cg_test_expect_error(CG_ERR_ARG, "OneCycleLR: invalid pct_start=1.5");
    assert_null(cg_reduce_lr_on_plateau(o, &(cg_plateau_options){.factor = CG_SET(1.0)}));
    cg_test_expect_error(CG_ERR_ARG, "ReduceLROnPlateau: invalid factor=1 (must be < 1)");

    // OneCycleLR refuses to step past total_steps, as PyTorch.
    assert_null(cg_one_cycle_lr(o, &(cg_one_cycle_lr_options){.max_lr = 0.1, .total_steps = -2}));
    cg_test_expect_error(CG_ERR_ARG, "OneCycleLR: max_lr (> 0) and total_steps (> 0)");
    // total_steps = epochs * steps_per_epoch, as PyTorch.
    cg_scheduler *cycle = cg_one_cycle_lr(
        o, &(cg_one_cycle_lr_options){
               .max_lr = 0.1, .epochs = 1, .steps_per_epoch = 2, .no_cycle_momentum = true});
    assert_int_equal(cg_scheduler_step(cycle), 0);
    assert_int_equal(cg_scheduler_step(cycle), 0);
    assert_int_equal(cg_scheduler_step(cycle), -1);
    cg_test_expect_error(CG_ERR_ARG, "OneCycleLR: tried to step 3 times, but total_steps is 2");
    cg_scheduler_free(cycle);

    // Adagrad has no momentum to cycle (PyTorch raises too); SGD's lr 0 is legal.
    cg_optimizer *adagrad = cg_adagrad(1, &w, NULL);
    // SGD without momentum has one to cycle: PyTorch's SGD has 'momentum' in its defaults.
    assert_true(isnan(cg_optimizer_momentum(adagrad)) && cg_optimizer_momentum(o) == 0);
    assert_null(
        cg_one_cycle_lr(adagrad, &(cg_one_cycle_lr_options){.max_lr = 1, .total_steps = 3}));
    cg_test_expect_error(CG_ERR_ARG, "not Adagrad; set .no_cycle_momentum = true");
    cg_optimizer_free(adagrad);
    cg_optimizer *frozen =
        cg_sgd(1, &w, &(cg_sgd_options){.lr = CG_SET(0.0), .momentum = CG_SET(0.5)});
    assert_non_null(frozen);
    assert_true(cg_optimizer_lr(frozen) == 0 && cg_optimizer_momentum(frozen) == 0.5);
    cg_optimizer_free(frozen);

    cg_scheduler *plateau = cg_reduce_lr_on_plateau(o, NULL);
    assert_int_equal(cg_scheduler_step(plateau), -1);
    cg_test_expect_error(CG_ERR_ARG, "ReduceLROnPlateau: step needs the metric");
    cg_scheduler *step = cg_step_lr(o, 2, 0.5f);
    assert_int_equal(cg_scheduler_step_metric(step, 1.0), -1);
    cg_test_expect_error(CG_ERR_ARG, "StepLR: cg_scheduler_step_metric is for ReduceLROnPlateau");
    // A chain refuses a plateau (and frees what it was given).
    assert_null(cg_chained_scheduler(2, (cg_scheduler *[]){step, plateau}));
    cg_test_expect_error(CG_ERR_ARG, "ChainedScheduler: needs n > 0 schedules");
    cg_scheduler *parts[2] = {cg_exponential_lr(o, 0.5), cg_exponential_lr(o, 0.9)};
    assert_null(cg_sequential_lr(2, parts, (int[]){0}));
    cg_test_expect_error(CG_ERR_ARG, "SequentialLR: milestones must be 1 increasing epochs > 0");
    assert_null(cg_chained_scheduler(0, NULL));
    cg_test_expect_error(CG_ERR_ARG, "ChainedScheduler");
    cg_optimizer_free(o);
    cg_free(w);
}

#define TEST(f) CG_TEST_NO_LEAKS(f)

int main(void) {
    const struct CMUnitTest tests[] = {
        TEST(test_lr_sequences),
        TEST(test_clipping),
        TEST(test_clipping_edges),
        TEST(test_schedule_errors),
    };
    cg_test_capture_errors();
    return cg_test_run_with_fixture("schedules", tests, CG_COUNT(tests), FIXTURE, &fx);
}
