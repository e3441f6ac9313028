// tests/test_schedules_more.c - MultiStepLR, ConstantLR, PolynomialLR, LinearLR (total_iters
// 0 and drawn options), LambdaLR, MultiplicativeLR, CosineAnnealingWarmRestarts and CyclicLR
// (with its cycled momentum) against PyTorch's lr sequences
// (tests/fixtures/schedules.txt, made by gen_schedules.py: 40 epochs, rtol 1e-5); each one
// resumed with cg_scheduler_set_epoch gives byte-identical lrs; bad options and chains given
// one schedule twice are refused; set_epoch(INT_MAX) jumps (closed forms) or is refused.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

static cg_fixture *fx;

// The lambdas of gen_schedules.py, chosen by the case's "fn", with its "a" and "b".
typedef struct lambda_case {
    int fn;
    double a, b;
} lambda_case;

static double case_lambda(int e, int group, void *userdata) {
    const lambda_case *l = userdata;
    (void)group;
    switch (l->fn) {
    case 0:
        return pow(l->a, e);
    case 1:
        return 1.0 / (1.0 + l->a * e);
    case 2:
        return fmin(1.0, (e + 1) / l->a);
    default:
        return e % 2 ? l->a : l->b;
    }
}

// The schedule a case describes, built as gen_schedules.py built it.
static cg_scheduler *case_schedule(const cg_fixture_case *c, cg_optimizer *o, lambda_case *l) {
    const char *name = cg_fixture_case_name(c);
    if (!strncmp(name, "multistep/", 10)) {
        double m[8];
        int n = cg_fixture_params(c, "milestones", m, 8), ms[8];
        for (int i = 0; i < n; i++) ms[i] = (int)m[i];
        return cg_multi_step_lr(o, n, ms, cg_fixture_param(c, "gamma", 0));
    }
    if (!strncmp(name, "constant/", 9))
        return cg_constant_lr(o, &(cg_constant_lr_options){cg_fixture_optional(c, "factor"),
                                                           cg_fixture_optional(c, "total_iters")});
    if (!strncmp(name, "polynomial/", 11))
        return cg_polynomial_lr(o,
                                &(cg_polynomial_lr_options){cg_fixture_optional(c, "total_iters"),
                                                            cg_fixture_optional(c, "power")});
    if (!strncmp(name, "linear/", 7))
        return cg_linear_lr(o, &(cg_linear_lr_options){cg_fixture_param(c, "start_factor", 0),
                                                       cg_fixture_optional(c, "end_factor"),
                                                       cg_fixture_optional(c, "total_iters")});
    if (!strncmp(name, "warm/", 5))
        return cg_cosine_annealing_warm_restarts(
            o, (int)cg_fixture_param(c, "T_0", 0),
            &(cg_warm_restarts_options){(int)cg_fixture_param(c, "T_mult", 0),
                                        cg_fixture_param(c, "eta_min", 0)});
    if (!strncmp(name, "cyclic/", 7)) {
        cg_cyclic_lr_options co = {.step_size_up = cg_fixture_optional(c, "step_size_up"),
                                   .step_size_down = cg_fixture_optional(c, "step_size_down"),
                                   .mode = (cg_cyclic_mode)cg_fixture_param(c, "mode", 0),
                                   .gamma = cg_fixture_optional(c, "gamma"),
                                   .no_cycle_momentum = !cg_fixture_param(c, "cycle_momentum", 1),
                                   .base_momentum = cg_fixture_optional(c, "base_momentum"),
                                   .max_momentum = cg_fixture_optional(c, "max_momentum")};
        return cg_cyclic_lr(o, cg_fixture_param(c, "base_lr", 0), cg_fixture_param(c, "max_lr", 0),
                            &co);
    }
    *l = (lambda_case){(int)cg_fixture_param(c, "fn", 0), cg_fixture_param(c, "a", 0),
                       cg_fixture_param(c, "b", 0)};
    if (!strncmp(name, "lambda/", 7)) return cg_lambda_lr(o, case_lambda, l);
    assert_true(!strncmp(name, "multiplicative/", 15));
    return cg_multiplicative_lr(o, case_lambda, l);
}

static void test_lr_sequences(void **state) {
    (void)state;
    int cases = 0;
    for (int ci = 0; ci < cg_fixture_count(fx); ci++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, ci);
        const char *name = cg_fixture_case_name(c);
        cg_tensor *w = cg_zeros(CG_SHAPE(1));
        cg_sgd_options so = {.lr = CG_SET(cg_fixture_param(c, "lr", 0))};
        cg_optimizer *o = cg_sgd(1, &w, &so), *replay_opt = cg_sgd(1, &w, &so);
        lambda_case l, replay_l;
        cg_scheduler *s = case_schedule(c, o, &l),
                     *replay = case_schedule(c, replay_opt, &replay_l);
        if (!s || !replay) fail_msg("%s: %s", name, cg_test_last_message());
        const cg_tensor *expected = cg_fixture_tensor(c, "lr");
        const cg_tensor *momentum = cg_fixture_tensor(c, "momentum");
        assert_true(expected && expected->numel > 30);
        cg_tensor *lrs = cg_zeros(CG_SHAPE(expected->numel));
        for (int e = 0; e < expected->numel; e++) {
            assert_int_equal(e == 0 ? 0 : cg_scheduler_step(s), 0);
            lrs->data[e] = (float)cg_optimizer_lr(o);
            double m = cg_optimizer_momentum(o);
            if (momentum && fabs(m - momentum->data[e]) > 1e-6 * fmax(1, fabs(m)))
                fail_msg("%s: momentum %.9g after %d steps, PyTorch %.9g", name, m, e,
                         momentum->data[e]);
            // Resuming at epoch e: the very same double, not a close one.
            cg_scheduler_set_epoch(replay, e);
            if (cg_optimizer_lr(replay_opt) != cg_optimizer_lr(o) ||
                cg_optimizer_momentum(replay_opt) != m || cg_scheduler_epoch(replay) != e)
                fail_msg("%s: set_epoch(%d) gives %.17g, stepping %.17g", name, e,
                         cg_optimizer_lr(replay_opt), cg_optimizer_lr(o));
        }
        cg_assert_close(lrs, expected, 1e-5, 1e-12, name);
        cg_free(lrs);
        cg_scheduler_free(s), cg_scheduler_free(replay);
        cg_optimizer_free(o), cg_optimizer_free(replay_opt);
        cg_free(w);
        cases++;
    }
    assert_int_equal(cases, 43);
}

static double halve(int epoch, int group, void *userdata) {
    (void)epoch, (void)group, (void)userdata;
    return 0.5;
}

static void test_bad_options(void **state) {
    (void)state;
    cg_tensor *w = cg_zeros(CG_SHAPE(1));
    cg_optimizer *o = cg_sgd(1, &w, &(cg_sgd_options){.lr = CG_SET(0.1)});
    assert_null(cg_multi_step_lr(o, 2, NULL, 0.1));
    cg_test_expect_error(CG_ERR_ARG, "MultiStepLR: invalid milestones (n=2, milestones is NULL)");
    assert_null(cg_multi_step_lr(o, -1, (int[]){1}, 0.1));
    cg_test_expect_error(CG_ERR_ARG, "MultiStepLR: invalid milestones (n=-1");
    assert_null(cg_multi_step_lr(o, 1, (int[]){1}, -0.5));
    cg_test_expect_error(CG_ERR_ARG, "MultiStepLR: invalid gamma=-0.5 (must be >= 0)");
    // PyTorch: ValueError('Constant multiplicative factor expected to be between 0 and 1.')
    assert_null(cg_constant_lr(o, &(cg_constant_lr_options){.factor = CG_SET(1.5)}));
    cg_test_expect_error(CG_ERR_ARG, "ConstantLR: invalid factor=1.5 (must be in [0, 1])");
    assert_null(cg_constant_lr(o, &(cg_constant_lr_options){.factor = CG_SET(NAN)}));
    cg_test_expect_error(CG_ERR_ARG, "ConstantLR: invalid factor=nan");
    assert_null(cg_constant_lr(o, &(cg_constant_lr_options){.total_iters = CG_SET(2.5)}));
    cg_test_expect_error(CG_ERR_ARG, "ConstantLR: invalid total_iters=2.5 (must be an integer)");
    assert_null(cg_polynomial_lr(o, &(cg_polynomial_lr_options){.total_iters = CG_SET(1e12)}));
    cg_test_expect_error(CG_ERR_ARG, "PolynomialLR: invalid total_iters=1e+12");
    assert_null(cg_polynomial_lr(o, &(cg_polynomial_lr_options){.power = CG_SET(INFINITY)}));
    cg_test_expect_error(CG_ERR_ARG, "PolynomialLR: invalid power=inf (must be finite)");
    assert_null(cg_linear_lr(o, &(cg_linear_lr_options){.total_iters = CG_SET(0.5)}));
    cg_test_expect_error(CG_ERR_ARG, "LinearLR: invalid total_iters=0.5 (must be an integer)");
    assert_null(cg_lambda_lr(o, NULL, NULL));
    cg_test_expect_error(CG_ERR_ARG, "LambdaLR: lr_lambda is NULL");
    assert_null(cg_multiplicative_lr(o, NULL, NULL));
    cg_test_expect_error(CG_ERR_ARG, "MultiplicativeLR: lr_lambda is NULL");
    assert_null(cg_multi_step_lr(NULL, 0, NULL, 0.1));
    cg_test_expect_error(CG_ERR_ARG, "MultiStepLR: optimizer is NULL");

    // PyTorch: ValueError("Expected positive integer T_0 ...") / ("Expected integer T_mult >= 1").
    assert_null(cg_cosine_annealing_warm_restarts(o, 0, NULL));
    cg_test_expect_error(CG_ERR_ARG, "CosineAnnealingWarmRestarts: invalid T_0=0 (must be > 0)");
    assert_null(cg_cosine_annealing_warm_restarts(o, 2, &(cg_warm_restarts_options){.t_mult = -1}));
    cg_test_expect_error(CG_ERR_ARG, "CosineAnnealingWarmRestarts: invalid T_mult=-1");
    assert_null(cg_cyclic_lr(o, 0.1, 1, &(cg_cyclic_lr_options){.step_size_up = CG_SET(0.0)}));
    cg_test_expect_error(CG_ERR_ARG, "CyclicLR: invalid step_size_up (> 0) (got base_lr=0.1");
    assert_null(cg_cyclic_lr(o, 0.1, 1, &(cg_cyclic_lr_options){.step_size_down = CG_SET(-1.0)}));
    cg_test_expect_error(CG_ERR_ARG, "CyclicLR: invalid step_size_down (>= 0)");
    assert_null(cg_cyclic_lr(o, 0.1, 1, &(cg_cyclic_lr_options){.mode = (cg_cyclic_mode)7}));
    cg_test_expect_error(CG_ERR_ARG,
                         "CyclicLR: invalid mode (triangular, triangular2 or exp_range)");
    assert_null(cg_cyclic_lr(o, NAN, 1, NULL));
    cg_test_expect_error(CG_ERR_ARG, "CyclicLR: invalid base_lr and max_lr");
    // PyTorch: 'optimizer must support momentum with `cycle_momentum` option enabled'.
    cg_optimizer *adam = cg_adam(1, &w, NULL);
    assert_null(cg_cyclic_lr(adam, 0.1, 1, NULL));
    cg_test_expect_error(CG_ERR_ARG, "CyclicLR: cycling momentum needs an optimizer with a "
                                     "momentum option (SGD, RMSprop), not Adam");
    cg_scheduler *plain =
        cg_cyclic_lr(adam, 0.1, 1, &(cg_cyclic_lr_options){.no_cycle_momentum = true});
    assert_non_null(plain);
    cg_scheduler_free(plain);
    cg_optimizer_free(adam);

    // What PyTorch raises while stepping: ConstantLR undoing factor 0 (1.0 / 0), and
    // PolynomialLR's 0.0 ** negative power at total_iters (both ZeroDivisionError).
    cg_scheduler *zero = cg_constant_lr(
        o, &(cg_constant_lr_options){.factor = CG_SET(0.0), .total_iters = CG_SET(2)});
    assert_int_equal(cg_scheduler_step(zero), 0);
    assert_int_equal(cg_scheduler_step(zero), -1);
    cg_test_expect_error(CG_ERR_ARG, "ConstantLR: factor=0 cannot be undone at total_iters=2");
    cg_scheduler_free(zero);
    cg_optimizer_set_lr(o, 0.1);
    cg_scheduler *neg = cg_polynomial_lr(
        o, &(cg_polynomial_lr_options){.total_iters = CG_SET(1), .power = CG_SET(-1.0)});
    assert_int_equal(cg_scheduler_step(neg), -1);
    cg_test_expect_error(CG_ERR_ARG, "PolynomialLR: power=-1 < 0 at total_iters=1");
    cg_scheduler_free(neg);

    // A chain given the same schedule twice would step and free it twice: refused, and
    // the schedule freed once (the leak check of CG_TEST_NO_LEAKS sees the rest).
    cg_scheduler *once = cg_multiplicative_lr(o, halve, NULL);
    assert_null(cg_chained_scheduler(2, (cg_scheduler *[]){once, once}));
    cg_test_expect_error(CG_ERR_ARG,
                         "ChainedScheduler: schedule 1 (MultiplicativeLR) is the same as "
                         "schedule 0: pass each schedule once");
    once = cg_multiplicative_lr(o, halve, NULL);
    cg_scheduler *other = cg_exponential_lr(o, 0.9);
    assert_null(cg_sequential_lr(3, (cg_scheduler *[]){once, other, once}, (int[]){2, 4}));
    cg_test_expect_error(CG_ERR_ARG, "SequentialLR: schedule 2 (MultiplicativeLR) is the same");
    // One that a chain already owns is refused and left to that chain.
    once = cg_multiplicative_lr(o, halve, NULL);
    cg_scheduler *chain = cg_chained_scheduler(1, &once);
    assert_non_null(chain);
    assert_null(cg_chained_scheduler(2, (cg_scheduler *[]){cg_exponential_lr(o, 0.9), once}));
    cg_test_expect_error(CG_ERR_ARG,
                         "ChainedScheduler: schedule 1 (MultiplicativeLR) already belongs to a "
                         "chain");
    cg_scheduler_free(chain);
    cg_optimizer_free(o);
    cg_free(w);
}

static double decay(int epoch, int group, void *userdata) {
    (void)group, (void)userdata;
    return 1.0 / (1.0 + epoch);
}

// set_epoch(INT_MAX): closed forms jump there at once; recursive forms refuse to replay
// more than CG_SCHEDULER_MAX_REPLAY steps instead of looping for seconds.
static void test_set_epoch_limits(void **state) {
    (void)state;
    cg_tensor *w = cg_zeros(CG_SHAPE(1));
    cg_optimizer *o = cg_sgd(1, &w, &(cg_sgd_options){.lr = CG_SET(0.1)});
    cg_scheduler *lambda = cg_lambda_lr(o, decay, NULL);
    assert_int_equal(cg_scheduler_set_epoch(lambda, INT32_MAX), 0);
    assert_int_equal(cg_scheduler_epoch(lambda), INT32_MAX);
    assert_true(cg_optimizer_lr(o) == 0.1 * (1.0 / (1.0 + INT32_MAX)));
    cg_scheduler_free(lambda);
    cg_optimizer_set_lr(o, 0.1);
    cg_scheduler *warm =
        cg_cosine_annealing_warm_restarts(o, 3, &(cg_warm_restarts_options){.t_mult = 2});
    assert_int_equal(cg_scheduler_set_epoch(warm, INT32_MAX), 0);
    assert_true(cg_optimizer_lr(o) >= 0 && cg_optimizer_lr(o) <= 0.1);
    cg_scheduler_free(warm);
    cg_scheduler *cyclic = cg_cyclic_lr(o, 0.01, 0.1, NULL);
    assert_int_equal(cg_scheduler_set_epoch(cyclic, INT32_MAX), 0);
    cg_scheduler_free(cyclic);
    cg_optimizer_set_lr(o, 0.1);
    cg_scheduler *step = cg_step_lr(o, 1, 0.5f);
    assert_int_equal(cg_scheduler_set_epoch(step, INT32_MAX), -1);
    cg_test_expect_error(CG_ERR_ARG, "StepLR: set_epoch(2147483647) would replay 2147483647 "
                                     "steps of the recursive form (at most 67108864");
    assert_int_equal(cg_scheduler_set_epoch(step, -1), -1);
    cg_test_expect_error(CG_ERR_ARG, "StepLR: invalid epoch -1 (must be >= 0)");
    assert_int_equal(cg_scheduler_set_epoch(step, 3), 0);
    assert_true(cg_optimizer_lr(o) == 0.1 * 0.5 * 0.5 * 0.5);
    cg_scheduler_free(step);
    assert_int_equal(cg_scheduler_set_epoch(NULL, 1), -1);
    cg_test_expect_error(CG_ERR_ARG, "scheduler_set_epoch: argument 's' is NULL");
    cg_optimizer_free(o);
    cg_free(w);
}

#define TEST(f) CG_TEST_NO_LEAKS(f)

int main(void) {
    const struct CMUnitTest tests[] = {
        TEST(test_lr_sequences),
        TEST(test_bad_options),
        TEST(test_set_epoch_limits),
    };
    cg_test_capture_errors();
    return cg_test_run_with_fixture("schedules_more", tests, CG_COUNT(tests), "schedules.txt", &fx);
}
