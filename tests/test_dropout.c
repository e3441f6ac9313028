// tests/test_dropout.c - channel dropout (dropout1d, dropout2d) and alpha dropout, checked by
// invariants, since their masks are random: every channel of every sample is dropped or kept
// whole, kept values scaled by 1/(1-p), the keep rate within 5 standard deviations of 1-p,
// alpha dropout's two values and the mean and variance it keeps; the gradient is the mask;
// eval mode and p = 0 give x itself, p = 1 zeros; PyTorch 1.13's rank rules, warnings and
// errors; the modules' reprs. Gradchecks: tests/support/op_cases.def.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

typedef cg_tensor *(*dropout_fn)(cg_tensor *x, float p, bool training);

// Positive values away from 0, so a kept element is never mistaken for a dropped one.
static cg_tensor *positive_leaf(int ndim, const int64_t *shape) {
    cg_tensor *x = cg_rand(ndim, shape, NULL);
    for (int64_t i = 0; i < x->numel; i++) x->data[i] += 0.5f;
    return cg_requires_grad(x, true);
}

// y = fn(x, p) in training: `groups` runs of numel / groups elements, each all zero or all
// x / (1 - p); the kept fraction near 1 - p; dx = g / (1 - p) on kept runs, 0 elsewhere.
static void check_groups(dropout_fn fn, int ndim, const int64_t *shape, int64_t groups, float p,
                         const char *what) {
    cg_scope_begin();
    cg_tensor *x = positive_leaf(ndim, shape);
    cg_tensor *y = fn(x, p, true);
    assert_non_null(y);
    int64_t inner = x->numel / groups, kept = 0;
    float scale = 1.0f / (1.0f - p);
    for (int64_t grp = 0; grp < groups; grp++) {
        bool keep = y->data[grp * inner] != 0;
        kept += keep;
        for (int64_t i = grp * inner; i < (grp + 1) * inner; i++) {
            float want = keep ? x->data[i] * scale : 0.0f;
            if (fabsf(y->data[i] - want) > 1e-6f * fabsf(want))
                fail_msg("%s: element %lld is %g, expected %g (group %lld %s)", what, (long long)i,
                         y->data[i], want, (long long)grp, keep ? "kept" : "dropped");
        }
    }
    double rate = (double)kept / groups, sigma = sqrt(p * (1.0 - p) / groups);
    if (fabs(rate - (1 - p)) > 5 * sigma)
        fail_msg("%s: kept %.4f of %lld groups, expected %.4f +- %.4f", what, rate,
                 (long long)groups, 1 - p, 5 * sigma);
    cg_tensor *g = cg_randn(ndim, shape, NULL);
    assert_int_equal(cg_backward_ex(y, g, false), 0);
    for (int64_t i = 0; i < x->numel; i++) {
        float want = y->data[i] != 0 ? g->data[i] * scale : 0.0f;
        if (fabsf(x->grad->data[i] - want) > 1e-6f * fabsf(want))
            fail_msg("%s: gradient %lld is %g, expected %g", what, (long long)i, x->grad->data[i],
                     want);
    }
    cg_scope_end();
}

static void test_channel_masks(void **state) {
    (void)state;
    check_groups(cg_dropout1d, CG_SHAPE(8, 50, 6), 8 * 50, 0.3f, "dropout1d (N, C, L)");
    check_groups(cg_dropout1d, CG_SHAPE(400, 5), 400, 0.6f, "dropout1d unbatched (C, L)");
    check_groups(cg_dropout2d, CG_SHAPE(8, 50, 3, 4), 8 * 50, 0.5f, "dropout2d (N, C, H, W)");
    // PyTorch 1.13: 3-D is (N, C, L), 2-D (N, C) drops single elements, 5-D drops (H, W, D)
    check_groups(cg_dropout2d, CG_SHAPE(8, 50, 5), 8 * 50, 0.2f, "dropout2d 3-D");
    check_groups(cg_dropout2d, CG_SHAPE(20, 30), 600, 0.4f, "dropout2d 2-D");
    check_groups(cg_dropout2d, CG_SHAPE(4, 60, 2, 2, 3), 240, 0.5f, "dropout2d 5-D");
    check_groups(cg_dropout, CG_SHAPE(30, 40), 1200, 0.25f, "dropout");
}

// Eval mode and p = 0 return x itself; p = 1 zeros with a zero gradient.
static void test_identity_and_zeros(void **state) {
    (void)state;
    dropout_fn fns[] = {cg_dropout1d, cg_dropout2d, cg_alpha_dropout};
    cg_scope_begin();
    for (int k = 0; k < 3; k++) {
        cg_tensor *x = positive_leaf(CG_SHAPE(2, 3, 4));
        assert_ptr_equal(fns[k](x, 0.5f, false), x);
        assert_ptr_equal(fns[k](x, 0.0f, true), x);
        cg_tensor *y = fns[k](x, 1.0f, true);
        cg_assert_close(y, cg_zeros(CG_SHAPE(2, 3, 4)), 0, 0, "p = 1");
        assert_int_equal(cg_backward_ex(y, cg_ones(CG_SHAPE(2, 3, 4)), false), 0);
        cg_assert_close(x->grad, cg_zeros(CG_SHAPE(2, 3, 4)), 0, 0, "gradient of p = 1");
    }
    cg_scope_end();
}

// Alpha dropout: each element is a x + alpha a p (kept) or alpha a (p - 1) (dropped); on a
// standard normal input the output keeps mean 0 and variance 1; the gradient is a where kept.
static void test_alpha_dropout(void **state) {
    (void)state;
    const double alpha = 1.7580993408473766;
    const float ps[] = {0.1f, 0.5f};
    for (int k = 0; k < 2; k++) {
        float p = ps[k];
        double a = 1.0 / sqrt((alpha * alpha * p + 1) * (1 - p));
        float dropped = (float)(alpha * a * (p - 1)), shift = (float)(alpha * a * p);
        cg_scope_begin();
        int64_t n = 200000;
        cg_tensor *x = cg_requires_grad(cg_randn(CG_SHAPE(n), NULL), true);
        cg_tensor *y = cg_alpha_dropout(x, p, true);
        assert_non_null(y);
        int64_t kept = 0;
        double sum = 0, sum2 = 0;
        for (int64_t i = 0; i < n; i++) {
            float keep_value = (float)a * x->data[i] + shift;
            bool keep = fabsf(y->data[i] - dropped) > 1e-6f;
            kept += keep;
            if (keep && fabsf(y->data[i] - keep_value) > 1e-5f * (1 + fabsf(keep_value)))
                fail_msg("alpha_dropout: element %lld is %g, neither %g nor %g", (long long)i,
                         y->data[i], keep_value, dropped);
            sum += y->data[i];
            sum2 += (double)y->data[i] * y->data[i];
        }
        double rate = (double)kept / n, sigma = sqrt(p * (1.0 - p) / n);
        assert_true(fabs(rate - (1 - p)) < 5 * sigma);
        double mean = sum / n, var = sum2 / n - mean * mean;
        assert_float_equal(mean, 0, 0.02);
        assert_float_equal(var, 1, 0.03);
        cg_tensor *g = cg_randn(CG_SHAPE(n), NULL);
        assert_int_equal(cg_backward_ex(y, g, false), 0);
        for (int64_t i = 0; i < n; i++) {
            float want = fabsf(y->data[i] - dropped) > 1e-6f ? g->data[i] * (float)a : 0.0f;
            assert_float_equal(x->grad->data[i], want, 1e-6f * (1 + fabsf(want)));
        }
        cg_scope_end();
    }
}

// Warnings as PyTorch 1.13's: dropout2d on a 3-D input, and on ranks other than 3 and 4.
static char last_warning[1024];
static int n_warnings;
static void capture_warning(const char *message, void *userdata) {
    (void)userdata;
    snprintf(last_warning, sizeof last_warning, "%s", message);
    n_warnings++;
}

static void expect_warning(const char *substring, int count) {
    assert_int_equal(n_warnings, count);
    if (count && !strstr(last_warning, substring))
        fail_msg("warning '%s' does not contain '%s'", last_warning, substring);
    n_warnings = 0;
    last_warning[0] = '\0';
}

static void test_ranks_warnings_and_errors(void **state) {
    (void)state;
    cg_set_warning_handler(capture_warning, NULL);
    cg_scope_begin();
    cg_tensor *x1 = cg_randn(CG_SHAPE(6), NULL), *x3 = cg_randn(CG_SHAPE(2, 3, 4), NULL);
    cg_tensor *x4 = cg_randn(CG_SHAPE(2, 3, 2, 2), NULL), *x2 = cg_randn(CG_SHAPE(3, 4), NULL);
    assert_non_null(cg_dropout2d(x4, 0.5f, true));
    expect_warning("", 0);
    assert_non_null(cg_dropout2d(x3, 0.5f, true));
    expect_warning("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise "
                   "1D dropout behavior is desired",
                   1);
    assert_non_null(cg_dropout2d(x2, 0.5f, false));
    expect_warning("dropout2d: Received a 2-D input to dropout2d, which is deprecated", 1);
    assert_null(cg_dropout2d(x1, 0.5f, true));
    expect_warning("Received a 1-D input to dropout2d", 1);
    cg_test_expect_error(CG_ERR_SHAPE, "dropout2d: Feature dropout requires at least 2 "
                                       "dimensions in the input, got a 1D input");
    assert_ptr_equal(cg_dropout2d(x1, 0.5f, false), x1); // eval: nothing to drop
    expect_warning("Received a 1-D input", 1);
    assert_null(cg_dropout1d(x4, 0.5f, true));
    cg_test_expect_error(CG_ERR_SHAPE, "dropout1d: Expected 2D or 3D input, but received a 4D");
    assert_null(cg_dropout1d(x1, 0.5f, false));
    cg_test_expect_error(CG_ERR_SHAPE, "dropout1d: Expected 2D or 3D input, but received a 1D");
    assert_null(cg_dropout1d(x3, 1.5f, true));
    cg_test_expect_error(CG_ERR_ARG, "dropout1d: probability p = 1.5 is not in [0, 1]");
    assert_null(cg_dropout2d(x4, -0.5f, false));
    cg_test_expect_error(CG_ERR_ARG, "dropout2d: probability p = -0.5 is not in [0, 1]");
    assert_null(cg_alpha_dropout(x4, NAN, true));
    cg_test_expect_error(CG_ERR_ARG, "alpha_dropout: probability p = nan is not in [0, 1]");
    assert_null(cg_alpha_dropout(NULL, 0.5f, true));
    cg_test_expect_error(CG_ERR_ARG, "alpha_dropout");
    cg_scope_end();
    cg_set_warning_handler(NULL, NULL);
    expect_warning("", 0);
}

// The modules: PyTorch's reprs, their op in training, x itself in eval mode, p checked.
static void test_modules(void **state) {
    (void)state;
    const cg_dropout_options p3 = {.p = CG_SET(0.3)};
    cg_module *d1 = cg_Dropout1d(NULL), *d2 = cg_Dropout2d(&p3), *ad = cg_AlphaDropout(NULL);
    assert_string_equal(cg_test_describe(d1), "Dropout1d(p=0.5, inplace=False)");
    assert_string_equal(cg_test_describe(d2), "Dropout2d(p=0.3, inplace=False)");
    assert_string_equal(cg_test_describe(ad), "AlphaDropout(p=0.5, inplace=False)");
    cg_scope_begin();
    cg_tensor *x = positive_leaf(CG_SHAPE(4, 6, 3, 3));
    cg_manual_seed(7);
    cg_tensor *expected = cg_dropout2d(x, 0.3f, true);
    cg_manual_seed(7);
    cg_assert_close(cg_module_forward(d2, x), expected, 0, 0, "Dropout2d in training");
    cg_module_eval(d1);
    cg_module_eval(d2);
    cg_module_eval(ad);
    cg_tensor *x3 = positive_leaf(CG_SHAPE(2, 3, 4));
    assert_ptr_equal(cg_module_forward(d1, x3), x3);
    assert_ptr_equal(cg_module_forward(d2, x), x);
    assert_ptr_equal(cg_module_forward(ad, x), x);
    cg_scope_end();
    cg_module_free(d1);
    cg_module_free(d2);
    cg_module_free(ad);
    assert_null(cg_AlphaDropout(&(cg_dropout_options){.p = CG_SET(-0.1)}));
    cg_test_expect_error(CG_ERR_ARG, "AlphaDropout: probability p = -0.1 is not in [0, 1]");
    assert_null(cg_Dropout2d(&(cg_dropout_options){.p = CG_SET(1.5)}));
    cg_test_expect_error(CG_ERR_ARG, "Dropout2d: probability p = 1.5");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_channel_masks, cg_test_teardown),
        cmocka_unit_test_teardown(test_identity_and_zeros, cg_test_teardown),
        cmocka_unit_test_teardown(test_alpha_dropout, cg_test_teardown),
        cmocka_unit_test_teardown(test_ranks_warnings_and_errors, cg_test_teardown),
        cmocka_unit_test_teardown(test_modules, cg_test_teardown),
    };
    cg_test_capture_errors();
    cg_manual_seed(31);
    return cmocka_run_group_tests_name("dropout", tests, NULL, NULL);
}
