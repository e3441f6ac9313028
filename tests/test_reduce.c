// tests/test_reduce.c - sum/mean/var, max/min/argmax/argmin and softmax/log_softmax against
// PyTorch (tests/fixtures/tensor_ops.txt): forward values and gradients over all dims, single
// dims, several dims and negative dims, with and without keepdim; softmax at +-1000.
#include <math.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "tensor_ops.txt"

// The case's "dims" param as ints; returns the count (0: no param, i.e. every dim).
static int case_dims(const cg_fixture_case *c, int *dims) {
    double values[CG_MAX_DIMS];
    int n = cg_fixture_params(c, "dims", values, CG_MAX_DIMS);
    assert_true(n <= CG_MAX_DIMS);
    for (int i = 0; i < n; i++) dims[i] = (int)values[i];
    return n;
}

static bool keepdim(const cg_fixture_case *c) {
    return cg_fixture_param(c, "keepdim", 0) != 0;
}

static int int_param(const cg_fixture_case *c, const char *key) {
    if (!cg_fixture_has(c, key)) fail_msg("%s: missing param %s", cg_fixture_case_name(c), key);
    return (int)cg_fixture_param(c, key, 0);
}

static cg_tensor *run_sum(cg_tensor **in, const cg_fixture_case *c) {
    int dims[CG_MAX_DIMS];
    int n = case_dims(c, dims);
    return cg_sum(in[0], n, n ? dims : NULL, keepdim(c));
}
static cg_tensor *run_mean(cg_tensor **in, const cg_fixture_case *c) {
    int dims[CG_MAX_DIMS];
    int n = case_dims(c, dims);
    return cg_mean(in[0], n, n ? dims : NULL, keepdim(c));
}
static cg_tensor *run_var(cg_tensor **in, const cg_fixture_case *c) {
    int dims[CG_MAX_DIMS];
    int n = case_dims(c, dims);
    return cg_var(in[0], n, n ? dims : NULL, int_param(c, "correction"), keepdim(c));
}
static cg_tensor *run_max(cg_tensor **in, const cg_fixture_case *c) {
    return cg_max(in[0], int_param(c, "dim"), keepdim(c));
}
static cg_tensor *run_min(cg_tensor **in, const cg_fixture_case *c) {
    return cg_min(in[0], int_param(c, "dim"), keepdim(c));
}
static cg_tensor *run_argmax(cg_tensor **in, const cg_fixture_case *c) {
    return cg_argmax(in[0], int_param(c, "dim"), keepdim(c));
}
static cg_tensor *run_argmin(cg_tensor **in, const cg_fixture_case *c) {
    return cg_argmin(in[0], int_param(c, "dim"), keepdim(c));
}
static cg_tensor *run_max_all(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_max_all(in[0]);
}
static cg_tensor *run_min_all(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_min_all(in[0]);
}
static cg_tensor *run_softmax(cg_tensor **in, const cg_fixture_case *c) {
    return cg_softmax(in[0], int_param(c, "dim"));
}
static cg_tensor *run_log_softmax(cg_tensor **in, const cg_fixture_case *c) {
    return cg_log_softmax(in[0], int_param(c, "dim"));
}

// Sums of 24 float32 values: summation order differs from PyTorch's (pairwise/vectorised),
// so allow a few ulp of the largest partial sum (inputs are ~N(0,1): 1e-5 absolute).
static const cg_test_tolerance SUM_TOL = {1e-5, 1e-5, 1e-4, 1e-5};
// log_softmax at +-1000: the outputs near 0 are differences of numbers near 1000 in PyTorch
// too; 1e-4 absolute is ~1 ulp at 1000.
static const cg_test_tolerance LARGE_TOL = {1e-5, 1e-4, 1e-4, 1e-5};

static const cg_test_op OPS[] = {
    {"sum", FIXTURE, 1, {"x"}, run_sum, &SUM_TOL},
    {"mean", FIXTURE, 1, {"x"}, run_mean, &SUM_TOL},
    {"var", FIXTURE, 1, {"x"}, run_var, &SUM_TOL},
    {"max", FIXTURE, 1, {"x"}, run_max, NULL},
    {"min", FIXTURE, 1, {"x"}, run_min, NULL},
    {"argmax", FIXTURE, 1, {"x"}, run_argmax, NULL},
    {"argmin", FIXTURE, 1, {"x"}, run_argmin, NULL},
    {"max_all", FIXTURE, 1, {"x"}, run_max_all, NULL},
    {"min_all", FIXTURE, 1, {"x"}, run_min_all, NULL},
    {"softmax", FIXTURE, 1, {"x"}, run_softmax, NULL},
    {"log_softmax", FIXTURE, 1, {"x"}, run_log_softmax, &LARGE_TOL},
};

// ---- invariants beyond the reference values ------------------------------------------------

// softmax rows sum to 1 and stay finite for logits that overflow exp() in float32.
static void test_softmax_rows_sum_to_one(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_test_tensor(CG_SHAPE(3, 4), (float[]){1000, 1001, 999, 998, -1000, -1001,
                                                            -999, -998, 88, 89, 90, 1e-3f});
    cg_tensor *s = cg_softmax(x, 1);
    cg_tensor *rows = cg_sum(s, CG_DIMS(1), false);
    cg_assert_close(rows, cg_ones(CG_SHAPE(3)), 1e-6, 1e-6, "softmax row sums");
    cg_tensor *ls = cg_log_softmax(x, -1);
    for (int64_t i = 0; i < ls->numel; i++) assert_true(isfinite(ls->data[i]));
    cg_assert_close(cg_exp(ls), s, 1e-5, 1e-7, "exp(log_softmax) vs softmax");
    cg_scope_end();
}

// The gradient of max goes to the first maximum only when there are ties (documented in
// tensor/math.h), and argmax returns the first index of a tie, as PyTorch on CPU.
static void test_max_ties_first(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x =
        cg_requires_grad(cg_test_tensor(CG_SHAPE(2, 3), (float[]){1, 3, 3, 2, 2, 0}), true);
    cg_tensor *m = cg_max(x, 1, false);
    cg_assert_close(m, cg_test_tensor(CG_SHAPE(2), (float[]){3, 2}), 0, 0, "max values");
    cg_assert_close(cg_argmax(x, 1, false), cg_test_tensor(CG_SHAPE(2), (float[]){1, 0}), 0, 0,
                    "argmax first tie");
    cg_assert_close(cg_argmin(x, 1, true), cg_test_tensor(CG_SHAPE(2, 1), (float[]){0, 2}), 0, 0,
                    "argmin");
    assert_int_equal(cg_backward(cg_sum(m, CG_ALL_DIMS, false)), 0);
    cg_assert_close(x->grad, cg_test_tensor(CG_SHAPE(2, 3), (float[]){0, 1, 0, 1, 0, 0}), 0, 0,
                    "grad of max goes to first maximum");
    cg_scope_end();
}

// Mean over several dims equals sum / count; var equals the two-pass definition in double.
static void test_mean_var_definitions(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(3, 5, 7), NULL);
    cg_tensor *mean = cg_mean(x, CG_DIMS(0, 2), false);
    cg_tensor *sum = cg_sum(x, CG_DIMS(2, 0), false);
    cg_assert_close(mean, cg_div_scalar(sum, 21), 1e-5, 1e-6, "mean = sum / 21");
    cg_tensor *var = cg_var(x, CG_DIMS(-1), 1, true);
    assert_int_equal(var->ndim, 3);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 5; j++) {
            double m = 0, ss = 0;
            for (int k = 0; k < 7; k++) m += cg_get(x, CG_SHAPE(i, j, k));
            m /= 7;
            for (int k = 0; k < 7; k++) {
                double d = cg_get(x, CG_SHAPE(i, j, k)) - m;
                ss += d * d;
            }
            assert_float_equal(cg_get(var, CG_SHAPE(i, j, 0)), ss / 6, 1e-5 * (1 + ss / 6));
        }
    }
    // A constant has variance exactly 0, never a tiny negative number.
    cg_tensor *c = cg_full(CG_SHAPE(4, 3), 1e3f + 0.1f);
    cg_tensor *vc = cg_var(c, CG_ALL_DIMS, 0, false);
    assert_true(cg_item(vc) >= 0 && cg_item(vc) < 1e-6);
    cg_scope_end();
}

// Large inputs (parallel softmax path: outer * inner > 256; long sums) against double loops.
static void test_large_against_double(void **state) {
    (void)state;
    cg_scope_begin();
    const int64_t outer = 3, n = 70, inner = 200;
    cg_tensor *x = cg_requires_grad(cg_normal(CG_SHAPE(outer, n, inner), 0, 3, NULL), true);
    cg_tensor *s = cg_softmax(x, 1);
    cg_tensor *sum = cg_sum(x, CG_DIMS(1), false);
    cg_tensor *expected = cg_empty(CG_SHAPE(outer, n, inner));
    cg_tensor *expected_sum = cg_empty(CG_SHAPE(outer, inner));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double m = -INFINITY, z = 0, acc = 0;
            for (int64_t k = 0; k < n; k++) m = fmax(m, x->data[(o * n + k) * inner + i]);
            for (int64_t k = 0; k < n; k++) z += exp(x->data[(o * n + k) * inner + i] - m);
            for (int64_t k = 0; k < n; k++) {
                float v = x->data[(o * n + k) * inner + i];
                expected->data[(o * n + k) * inner + i] = (float)(exp(v - m) / z);
                acc += v;
            }
            expected_sum->data[o * inner + i] = (float)acc;
        }
    cg_assert_close(s, expected, 1e-5, 1e-7, "softmax large");
    cg_assert_close(sum, expected_sum, 1e-5, 1e-4, "sum of 70 values");
    // softmax backward: dx = y * (g - sum_k g_k y_k)
    cg_tensor *g = cg_randn(CG_SHAPE(outer, n, inner), NULL);
    assert_int_equal(cg_backward_ex(s, g, false), 0);
    cg_tensor *dx = cg_empty(CG_SHAPE(outer, n, inner));
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double dot = 0;
            for (int64_t k = 0; k < n; k++) {
                int64_t at = (o * n + k) * inner + i;
                dot += (double)g->data[at] * expected->data[at];
            }
            for (int64_t k = 0; k < n; k++) {
                int64_t at = (o * n + k) * inner + i;
                dx->data[at] = (float)(expected->data[at] * (g->data[at] - dot));
            }
        }
    cg_assert_close(x->grad, dx, 1e-4, 1e-6, "softmax grad large");
    // mean over everything of 100k values
    cg_tensor *big = cg_uniform(CG_SHAPE(100000), 0, 1, NULL);
    double acc = 0;
    for (int64_t i = 0; i < big->numel; i++) acc += big->data[i];
    assert_float_equal(cg_item(cg_mean(big, CG_ALL_DIMS, false)), acc / 1e5, 1e-5);
    cg_scope_end();
}

// Empty inputs: sum is 0 (as torch), max has no answer and is an error.
static void test_empty_reductions(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *e = cg_zeros(CG_SHAPE(0, 3));
    cg_tensor *s = cg_sum(e, CG_DIMS(0), false);
    assert_non_null(s);
    cg_assert_close(s, cg_zeros(CG_SHAPE(3)), 0, 0, "sum over an empty dim");
    assert_null(cg_max(e, 0, false));
    cg_test_expect_error(CG_ERR_SHAPE, "max");
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_softmax_rows_sum_to_one, cg_test_teardown),
        cmocka_unit_test_teardown(test_max_ties_first, cg_test_teardown),
        cmocka_unit_test_teardown(test_mean_var_definitions, cg_test_teardown),
        cmocka_unit_test_teardown(test_large_against_double, cg_test_teardown),
        cmocka_unit_test_teardown(test_empty_reductions, cg_test_teardown),
    };
    return CG_TEST_RUN("reduce", OPS, extra, 7);
}
