// tests/test_elementwise.c - binary/unary elementwise ops, comparisons and where against
// PyTorch (tests/fixtures/tensor_ops.txt, made by gen_tensor_ops.py): forward values and
// gradients for a fixed upstream gradient, including every broadcasting corner case.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "tensor_ops.txt"

static float param(const cg_fixture_case *c, const char *key) {
    if (!cg_fixture_has(c, key)) fail_msg("%s: missing param %s", cg_fixture_case_name(c), key);
    return (float)cg_fixture_param(c, key, 0);
}

// ---- binary ------------------------------------------------------------------------------
static cg_tensor *run_add(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_add(in[0], in[1]);
}
static cg_tensor *run_sub(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_sub(in[0], in[1]);
}
static cg_tensor *run_mul(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_mul(in[0], in[1]);
}
static cg_tensor *run_div(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_div(in[0], in[1]);
}

// ---- scalar forms --------------------------------------------------------------------------
static cg_tensor *run_add_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_add_scalar(in[0], param(c, "s"));
}
static cg_tensor *run_sub_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_sub_scalar(in[0], param(c, "s"));
}
static cg_tensor *run_rsub_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_rsub_scalar(param(c, "s"), in[0]);
}
static cg_tensor *run_mul_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_mul_scalar(in[0], param(c, "s"));
}
static cg_tensor *run_div_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_div_scalar(in[0], param(c, "s"));
}
static cg_tensor *run_rdiv_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_rdiv_scalar(param(c, "s"), in[0]);
}

// ---- unary ---------------------------------------------------------------------------------
static cg_tensor *run_neg(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_neg(in[0]);
}
static cg_tensor *run_exp(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_exp(in[0]);
}
static cg_tensor *run_log(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_log(in[0]);
}
static cg_tensor *run_sqrt(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_sqrt(in[0]);
}
static cg_tensor *run_abs(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_abs(in[0]);
}
static cg_tensor *run_pow(cg_tensor **in, const cg_fixture_case *c) {
    return cg_pow(in[0], param(c, "exponent"));
}
static cg_tensor *run_clamp(cg_tensor **in, const cg_fixture_case *c) {
    return cg_clamp(in[0], param(c, "min"), param(c, "max"));
}
static cg_tensor *run_relu(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_relu(in[0]);
}
static cg_tensor *run_leaky_relu(cg_tensor **in, const cg_fixture_case *c) {
    return cg_leaky_relu(in[0],
                         &(cg_leaky_relu_options){.negative_slope = cg_opt(param(c, "slope"))});
}
static cg_tensor *run_sigmoid(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_sigmoid(in[0]);
}
static cg_tensor *run_tanh(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_tanh(in[0]);
}

// ---- comparisons and where -------------------------------------------------------------------
static cg_tensor *run_eq(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_eq(in[0], in[1]);
}
static cg_tensor *run_ne(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_ne(in[0], in[1]);
}
static cg_tensor *run_lt(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_lt(in[0], in[1]);
}
static cg_tensor *run_le(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_le(in[0], in[1]);
}
static cg_tensor *run_gt(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_gt(in[0], in[1]);
}
static cg_tensor *run_ge(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_ge(in[0], in[1]);
}
static cg_tensor *run_gt_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_gt_scalar(in[0], param(c, "s"));
}
static cg_tensor *run_lt_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_lt_scalar(in[0], param(c, "s"));
}
static cg_tensor *run_eq_scalar(cg_tensor **in, const cg_fixture_case *c) {
    return cg_eq_scalar(in[0], param(c, "s"));
}
static cg_tensor *run_where(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_where(in[0], in[1], in[2]);
}

// exp/log/pow/sigmoid/tanh go through libm (expf, logf, powf) here and through SLEEF-style
// vectorised code in PyTorch; both are within a few ulp, so 1e-5 relative is still far
// tighter than any real bug, and the defaults are kept for them.
static const cg_test_op OPS[] = {
    {"add", FIXTURE, 2, {"a", "b"}, run_add, NULL},
    {"sub", FIXTURE, 2, {"a", "b"}, run_sub, NULL},
    {"mul", FIXTURE, 2, {"a", "b"}, run_mul, NULL},
    {"div", FIXTURE, 2, {"a", "b"}, run_div, NULL},
    {"add_scalar", FIXTURE, 1, {"a"}, run_add_scalar, NULL},
    {"sub_scalar", FIXTURE, 1, {"a"}, run_sub_scalar, NULL},
    {"rsub_scalar", FIXTURE, 1, {"a"}, run_rsub_scalar, NULL},
    {"mul_scalar", FIXTURE, 1, {"a"}, run_mul_scalar, NULL},
    {"div_scalar", FIXTURE, 1, {"a"}, run_div_scalar, NULL},
    {"rdiv_scalar", FIXTURE, 1, {"a"}, run_rdiv_scalar, NULL},
    {"neg", FIXTURE, 1, {"x"}, run_neg, NULL},
    {"exp", FIXTURE, 1, {"x"}, run_exp, NULL},
    {"log", FIXTURE, 1, {"x"}, run_log, NULL},
    {"sqrt", FIXTURE, 1, {"x"}, run_sqrt, NULL},
    {"abs", FIXTURE, 1, {"x"}, run_abs, NULL},
    {"pow", FIXTURE, 1, {"x"}, run_pow, NULL},
    {"clamp", FIXTURE, 1, {"x"}, run_clamp, NULL},
    {"relu", FIXTURE, 1, {"x"}, run_relu, NULL},
    {"leaky_relu", FIXTURE, 1, {"x"}, run_leaky_relu, NULL},
    {"sigmoid", FIXTURE, 1, {"x"}, run_sigmoid, NULL},
    {"tanh", FIXTURE, 1, {"x"}, run_tanh, NULL},
    {"eq", FIXTURE, 2, {"a", "b"}, run_eq, NULL},
    {"ne", FIXTURE, 2, {"a", "b"}, run_ne, NULL},
    {"lt", FIXTURE, 2, {"a", "b"}, run_lt, NULL},
    {"le", FIXTURE, 2, {"a", "b"}, run_le, NULL},
    {"gt", FIXTURE, 2, {"a", "b"}, run_gt, NULL},
    {"ge", FIXTURE, 2, {"a", "b"}, run_ge, NULL},
    {"gt_scalar", FIXTURE, 1, {"a"}, run_gt_scalar, NULL},
    {"lt_scalar", FIXTURE, 1, {"a"}, run_lt_scalar, NULL},
    {"eq_scalar", FIXTURE, 1, {"a"}, run_eq_scalar, NULL},
    {"where", FIXTURE, 3, {"cond", "a", "b"}, run_where, NULL},
};

// ---- behaviour not covered by the reference values -----------------------------------------

// A tensor used twice in one expression gets both contributions: d(x*x)/dx = 2x.
static void test_same_input_twice(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_requires_grad(cg_test_tensor(CG_SHAPE(3), (float[]){1.5f, -2, 0.25f}), true);
    cg_tensor *y = cg_sum(cg_add(cg_mul(x, x), x), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(y), 0);
    cg_tensor *expected = cg_test_tensor(CG_SHAPE(3), (float[]){4, -3, 1.5f});
    cg_assert_close(x->grad, expected, 1e-6, 1e-6, "d(x*x + x)/dx");
    cg_scope_end();
}

// Comparisons produce exactly 0.0 / 1.0 and never require grad.
static void test_comparison_not_differentiable(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *a = cg_requires_grad(cg_test_tensor(CG_SHAPE(3), (float[]){1, 2, 3}), true);
    cg_tensor *b = cg_test_tensor(CG_SHAPE(3), (float[]){3, 2, 1});
    cg_tensor *m = cg_gt(a, b);
    assert_non_null(m);
    assert_false(m->requires_grad);
    assert_null(m->node);
    cg_assert_close(m, cg_test_tensor(CG_SHAPE(3), (float[]){0, 0, 1}), 0, 0, "a > b");
    cg_scope_end();
}

// where with a condition computed from the data (masking): the gradient of the unselected
// branch is exactly zero.
static void test_where_mask_gradient(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_requires_grad(cg_test_tensor(CG_SHAPE(4), (float[]){-2, -1, 1, 2}), true);
    cg_tensor *zero = cg_zeros(CG_SHAPE(1));
    cg_tensor *y = cg_where(cg_gt_scalar(x, 0), cg_mul(x, x), zero);
    assert_int_equal(cg_backward(cg_sum(y, CG_ALL_DIMS, false)), 0);
    cg_assert_close(x->grad, cg_test_tensor(CG_SHAPE(4), (float[]){0, 0, 2, 4}), 0, 1e-6,
                    "grad of where(x > 0, x*x, 0)");
    cg_scope_end();
}

// Elementwise ops keep every IEEE special value PyTorch keeps.
static void test_special_values(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_test_tensor(CG_SHAPE(3), (float[]){0, -1, INFINITY});
    cg_tensor *l = cg_log(x);
    assert_non_null(l);
    assert_true(isinf(l->data[0]) && l->data[0] < 0); // log(0) = -inf
    assert_true(isnan(l->data[1]));                   // log(-1) = nan
    assert_true(isinf(l->data[2]) && l->data[2] > 0);
    cg_tensor *big = cg_test_tensor(CG_SHAPE(2), (float[]){100, -100});
    cg_tensor *s = cg_sigmoid(big); // no overflow to nan for large |x|
    cg_assert_close(s, cg_test_tensor(CG_SHAPE(2), (float[]){1, 0}), 0, 1e-30, "sigmoid(+-100)");
    cg_tensor *e = cg_exp(big);
    assert_true(isinf(e->data[0]));
    assert_true(e->data[1] >= 0 && e->data[1] < 1e-30f);
    // ReLU as torch.relu (clamp_min) and threshold_backward: NaN passes forward and passes
    // the gradient back, -0 stays -0 and gets none. PyTorch 1.13 on
    // [nan, -0., 0., -1., 2., inf, -inf] with a gradient of ones: forward
    // [nan, -0., 0., 0., 2., inf, 0.], gradient [1., 0., 0., 0., 1., 1., 0.].
    cg_tensor *r = cg_requires_grad(
        cg_test_tensor(CG_SHAPE(7), (float[]){NAN, -0.0f, 0, -1, 2, INFINITY, -INFINITY}), true);
    cg_tensor *ry = cg_relu(r);
    assert_non_null(ry);
    assert_true(isnan(ry->data[0]));
    assert_true(ry->data[1] == 0 && signbit(ry->data[1]));
    const float want_y[] = {0, 0, 2, INFINITY, 0}, want_g[] = {1, 0, 0, 0, 1, 1, 0};
    for (int i = 2; i < 7; i++) assert_true(ry->data[i] == want_y[i - 2]);
    assert_int_equal(cg_backward_ex(ry, cg_ones(CG_SHAPE(7)), false), 0);
    for (int i = 0; i < 7; i++) assert_true(r->grad->data[i] == want_g[i]);
    cg_scope_end();
}

// Sizes above the OpenMP threshold (2^16 elements) take the parallel path: same results as a
// plain loop, for a broadcast binary op, a unary op and the gradient of the broadcast input.
static void test_large_parallel_path(void **state) {
    (void)state;
    cg_scope_begin();
    const int64_t rows = 300, cols = 401;
    cg_tensor *a = cg_requires_grad(cg_randn(CG_SHAPE(rows, cols), NULL), true);
    cg_tensor *b = cg_requires_grad(cg_randn(CG_SHAPE(cols), NULL), true);
    cg_tensor *y = cg_tanh(cg_mul(a, b));
    cg_tensor *expected = cg_empty(CG_SHAPE(rows, cols));
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            expected->data[i * cols + j] = tanhf(a->data[i * cols + j] * b->data[j]);
    cg_assert_close(y, expected, 1e-5, 1e-6, "tanh(a * b) large");
    cg_tensor *g = cg_randn(CG_SHAPE(rows, cols), NULL);
    assert_int_equal(cg_backward_ex(y, g, false), 0);
    // db_j = sum_i g_ij (1 - y_ij^2) a_ij, accumulated in double
    cg_tensor *db = cg_empty(CG_SHAPE(cols));
    for (int64_t j = 0; j < cols; j++) {
        double acc = 0;
        for (int64_t i = 0; i < rows; i++) {
            double yy = expected->data[i * cols + j];
            acc += (double)g->data[i * cols + j] * (1 - yy * yy) * a->data[i * cols + j];
        }
        db->data[j] = (float)acc;
    }
    cg_assert_close(b->grad, db, 1e-4, 1e-4, "grad of broadcast b, large");
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_same_input_twice, cg_test_teardown),
        cmocka_unit_test_teardown(test_comparison_not_differentiable, cg_test_teardown),
        cmocka_unit_test_teardown(test_where_mask_gradient, cg_test_teardown),
        cmocka_unit_test_teardown(test_special_values, cg_test_teardown),
        cmocka_unit_test_teardown(test_large_parallel_path, cg_test_teardown),
    };
    return CG_TEST_RUN("elementwise", OPS, extra, 17);
}
