// tests/test_pool.c - the pooling options beyond the basics: max_pool2d dilation and
// indices, max_pool2d(relu(x)) as one op, max_unpool2d, avg_pool2d exclude_pad
// (count_include_pad=False) and divisor_override, CG_NONE in adaptive output sizes,
// adaptive_max_pool2d. Each against
// PyTorch (tests/fixtures/pool.txt from gen_pool.py: output, indices and gradient), by
// finite differences, and with its argument errors.
#include <math.h>
#include <string.h>

#include "support/testing.h"

#define FIXTURE "pool.txt"

static int param_at(const cg_fixture_case *c, const char *key, int i) {
    double v[4];
    int n = cg_fixture_params(c, key, v, 4);
    if (n <= i) fail_msg("%s: param %s has no entry %d", cg_fixture_case_name(c), key, i);
    return (int)v[i];
}

static cg_pool_options case_options(const cg_fixture_case *c) {
    return (cg_pool_options){
        .kernel_size_hw = {param_at(c, "kernel", 0), param_at(c, "kernel", 1)},
        .stride_hw = {param_at(c, "stride", 0), param_at(c, "stride", 1)},
        .padding_hw = {param_at(c, "padding", 0), param_at(c, "padding", 1)},
        .dilation_hw = {param_at(c, "dilation", 0), param_at(c, "dilation", 1)},
        .ceil_mode = param_at(c, "ceil_mode", 0) != 0,
        .exclude_pad = param_at(c, "exclude_pad", 0) != 0,
        .divisor_override = param_at(c, "divisor", 0)};
}

// The indices a max pool returned must be PyTorch's.
static void check_indices(const cg_fixture_case *c, const cg_tensor *indices) {
    cg_assert_close(indices, cg_fixture_tensor(c, "indices_out"), 0, 0, "indices");
}

static cg_tensor *run_max_pool(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_options(c);
    cg_tensor *indices = NULL;
    cg_tensor *y = cg_max_pool2d_with_indices(in[0], &o, &indices);
    check_indices(c, indices);
    return y;
}
static cg_tensor *run_relu_max_pool(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_options(c);
    return cg_relu_max_pool2d(in[0], &o);
}
static cg_tensor *run_max_unpool(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_options(c);
    return cg_max_unpool2d(in[0], in[1], &o, param_at(c, "output_size", 0),
                           param_at(c, "output_size", 1));
}
static cg_tensor *run_avg_pool(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_options(c);
    return cg_avg_pool2d(in[0], &o);
}
static cg_tensor *run_adaptive_avg(cg_tensor **in, const cg_fixture_case *c) {
    return cg_adaptive_avg_pool2d(in[0], param_at(c, "output_size", 0),
                                  param_at(c, "output_size", 1));
}
static cg_tensor *run_adaptive_max(cg_tensor **in, const cg_fixture_case *c) {
    cg_tensor *indices = NULL;
    cg_tensor *y = cg_adaptive_max_pool2d_with_indices(in[0], param_at(c, "output_size", 0),
                                                       param_at(c, "output_size", 1), &indices);
    check_indices(c, indices);
    return y;
}

// Window sums accumulate in another order than PyTorch's.
static const cg_test_tolerance SUM_TOL = {1e-5, 1e-5, 1e-4, 1e-5};

static const cg_test_op OPS[] = {
    {"max_pool2d", FIXTURE, 1, {"x"}, run_max_pool, NULL},
    {"relu_max_pool2d", FIXTURE, 1, {"x"}, run_relu_max_pool, NULL},
    {"max_unpool2d", FIXTURE, 2, {"x", "indices"}, run_max_unpool, NULL},
    {"avg_pool2d", FIXTURE, 1, {"x"}, run_avg_pool, &SUM_TOL},
    {"adaptive_avg_pool2d", FIXTURE, 1, {"x"}, run_adaptive_avg, &SUM_TOL},
    {"adaptive_max_pool2d", FIXTURE, 1, {"x"}, run_adaptive_max, NULL},
};

// ---- gradchecks ------------------------------------------------------------------------

static cg_tensor *grad_max_pool(cg_tensor **in, void *ctx) {
    return cg_max_pool2d(in[0], ctx);
}
static cg_tensor *grad_avg_pool(cg_tensor **in, void *ctx) {
    return cg_avg_pool2d(in[0], ctx);
}
static cg_tensor *grad_adaptive_max(cg_tensor **in, void *ctx) {
    const int *size = ctx;
    return cg_adaptive_max_pool2d(in[0], size[0], size[1]);
}
static cg_tensor *grad_adaptive_avg(cg_tensor **in, void *ctx) {
    const int *size = ctx;
    return cg_adaptive_avg_pool2d(in[0], size[0], size[1]);
}
typedef struct unpool_ctx {
    cg_tensor *indices;
    cg_pool_options options;
} unpool_ctx;
static cg_tensor *grad_max_unpool(cg_tensor **in, void *ctx) {
    const unpool_ctx *u = ctx;
    return cg_max_unpool2d(in[0], u->indices, &u->options, 0, 0);
}

static void test_gradcheck(void **state) {
    (void)state;
    cg_scope_begin();
    const cg_pool_options max_configs[] = {
        {.kernel_size = 2, .stride = 1, .dilation = 2},
        {.kernel_size = 3, .stride = 2, .padding = 1, .dilation = 2},
        {.kernel_size_hw = {2, 3}, .stride = 1, .dilation_hw = {3, 1}, .ceil_mode = true},
    };
    for (int i = 0; i < 3; i++) {
        cg_tensor *x = cg_test_distinct(CG_SHAPE(1, 2, 8, 7));
        cg_test_gradcheck(grad_max_pool, (void *)&max_configs[i], 1, &x, "max_pool2d dilation");
    }
    const cg_pool_options avg_configs[] = {
        {.kernel_size = 3, .stride = 2, .padding = 1, .exclude_pad = true},
        {.kernel_size = 3, .stride = 2, .padding = 1, .exclude_pad = true, .ceil_mode = true},
        {.kernel_size = 2, .divisor_override = 3},
        {.kernel_size_hw = {3, 2}, .padding_hw = {1, 0}, .divisor_override = -2},
    };
    for (int i = 0; i < 4; i++) {
        cg_tensor *x = cg_requires_grad(cg_randn(CG_SHAPE(2, 1, 6, 7), NULL), true);
        cg_test_gradcheck(grad_avg_pool, (void *)&avg_configs[i], 1, &x, "avg_pool2d options");
    }
    const int sizes[][2] = {{CG_NONE, 3}, {2, CG_NONE}, {4, 5}};
    for (int i = 0; i < 3; i++) {
        cg_tensor *x = cg_test_distinct(CG_SHAPE(2, 1, 5, 6));
        cg_test_gradcheck(grad_adaptive_max, (void *)sizes[i], 1, &x, "adaptive_max_pool2d");
        cg_tensor *a = cg_requires_grad(cg_randn(CG_SHAPE(1, 2, 5, 6), NULL), true);
        cg_test_gradcheck(grad_adaptive_avg, (void *)sizes[i], 1, &a, "adaptive_avg_pool2d None");
    }
    unpool_ctx u = {.options = {.kernel_size = 2}};
    cg_tensor *pooled =
        cg_max_pool2d_with_indices(cg_test_distinct(CG_SHAPE(1, 2, 6, 4)), &u.options, &u.indices);
    cg_tensor *x = cg_requires_grad(cg_copy(cg_detach(pooled)), true);
    cg_test_gradcheck(grad_max_unpool, &u, 1, &x, "max_unpool2d");
    cg_scope_end();
}

// ---- modules, identities and errors -----------------------------------------------------

static void test_modules(void **state) {
    (void)state;
    cg_module *mp = cg_MaxPool2d(&(cg_pool_options){.kernel_size = 3, .stride = 1, .dilation = 2});
    assert_string_equal(
        cg_test_describe(mp),
        "MaxPool2d(kernel_size=3, stride=1, padding=0, dilation=2, ceil_mode=False)");
    cg_module *un = cg_MaxUnpool2d(&(cg_pool_options){.kernel_size = 2});
    assert_string_equal(cg_test_describe(un),
                        "MaxUnpool2d(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))");
    cg_module *am = cg_AdaptiveMaxPool2d(CG_NONE, 3), *aa = cg_AdaptiveAvgPool2d(2, CG_NONE);
    assert_string_equal(cg_test_describe(am), "AdaptiveMaxPool2d(output_size=(None, 3))");
    assert_string_equal(cg_test_describe(aa), "AdaptiveAvgPool2d(output_size=(2, None))");
    cg_scope_begin();
    cg_tensor *x = cg_test_distinct(CG_SHAPE(2, 3, 6, 7)), *indices = NULL;
    cg_tensor *y = cg_max_pool2d_with_indices(x, &(cg_pool_options){.kernel_size = 2}, &indices);
    // unpool puts every maximum back where it came from: pool(unpool(pool(x))) = pool(x)
    cg_tensor *back = cg_MaxUnpool2d_forward(un, y, indices, 6, 7);
    assert_int_equal(back->shape[2], 6);
    assert_int_equal(back->shape[3], 7);
    cg_assert_close(cg_max_pool2d(back, &(cg_pool_options){.kernel_size = 2}), y, 0, 0,
                    "pool(unpool(pool(x)))");
    assert_null(cg_module_forward(un, y));
    cg_test_expect_error(CG_ERR_ARG, "cg_MaxUnpool2d_forward");
    cg_tensor *am_y = cg_module_forward(am, x);
    assert_int_equal(am_y->shape[2], 6);
    assert_int_equal(am_y->shape[3], 3);
    cg_assert_close(cg_module_forward(aa, x), cg_adaptive_avg_pool2d(x, 2, 7), 0, 0,
                    "AdaptiveAvgPool2d((2, None))");
    // adaptive max to the input's own size is the identity
    cg_assert_close(cg_adaptive_max_pool2d(x, CG_NONE, CG_NONE), x, 0, 0, "(None, None)");
    cg_scope_end();
    cg_module *mods[] = {mp, un, am, aa};
    for (int i = 0; i < 4; i++) cg_module_free(mods[i]);
}

// x for the ReLU + max-pool tests: values from a small set with ties, zeros of both signs,
// negatives and a few NaNs, so windows of every kind occur (all negative, max 0 or -0, a
// positive maximum tied with another, a NaN).
static cg_tensor *relu_pool_input(int64_t n, int64_t c, int64_t h, int64_t w) {
    static const float values[] = {-2.0f, -1.0f, -0.0f, 0.0f, 0.5f, 1.0f, 3.0f, -0.5f};
    cg_tensor *x = cg_requires_grad(cg_empty(CG_SHAPE(n, c, h, w)), true);
    uint32_t state = 12345;
    for (int64_t i = 0; i < x->numel; i++) {
        state = state * 1664525u + 1013904223u;
        x->data[i] = (state >> 20) % 97 == 0 ? NAN : values[(state >> 24) % 8];
    }
    return x;
}

static bool same_number(float a, float b) {
    return isnan(a) ? isnan(b) : a == b; // -0 == +0: the fused op may give either
}

// cg_relu_max_pool2d against max_pool2d(relu(x)): the same values (a zero's sign aside) and
// bitwise the same input gradient, for the 2x2 fast path and for general windows.
static void test_relu_max_pool_fused(void **state) {
    (void)state;
    const cg_pool_options options[] = {
        {.kernel_size = 2},
        {.kernel_size = 3, .stride = 2, .padding = 1},
        {.kernel_size = 2, .stride = 1, .dilation = 2},
        {.kernel_size = 3, .stride = 2, .ceil_mode = true},
    };
    for (size_t k = 0; k < sizeof options / sizeof options[0]; k++) {
        cg_scope_begin();
        cg_tensor *x = relu_pool_input(2, 3, 9, 11),
                  *x2 = cg_requires_grad(cg_copy(cg_detach(x)), true);
        cg_tensor *fused = cg_relu_max_pool2d(x, &options[k]);
        cg_tensor *pair = cg_max_pool2d(cg_relu(x2), &options[k]);
        assert_non_null(fused);
        assert_non_null(pair);
        assert_string_equal(fused->node->op->name, "relu_max_pool2d");
        assert_int_equal(fused->numel, pair->numel);
        for (int64_t i = 0; i < pair->numel; i++)
            if (!same_number(fused->data[i], pair->data[i]))
                fail_msg("options %zu: y[%lld] = %g, the pair gives %g", k, (long long)i,
                         fused->data[i], pair->data[i]);
        cg_tensor *g = cg_empty_like(pair);
        for (int64_t i = 0; i < g->numel; i++) g->data[i] = (float)(i % 7) - 2.5f;
        assert_int_equal(cg_backward_ex(fused, g, false), 0);
        assert_int_equal(cg_backward_ex(pair, g, false), 0);
        for (int64_t i = 0; i < x->numel; i++)
            if (memcmp(&x->grad->data[i], &x2->grad->data[i], sizeof(float)))
                fail_msg("options %zu: dx[%lld] = %g, the pair gives %g", k, (long long)i,
                         x->grad->data[i], x2->grad->data[i]);
        cg_scope_end();
    }
}

// cg_Sequential runs a ReLU module followed by a MaxPool2d module as the fused op, with the
// same result as the modules one by one; a ReLU followed by anything else runs alone.
static void test_sequential_fuses_relu_max_pool(void **state) {
    (void)state;
    cg_module *relu = cg_ReLU(), *pool = cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2});
    cg_module *seq = cg_Sequential(
        2, (cg_module *[]){cg_ReLU(), cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2})});
    cg_module *other = cg_Sequential(2, (cg_module *[]){cg_ReLU(), cg_Flatten(1, -1)});
    const cg_pool_options k4 = {.kernel_size = 4};
    cg_module *pool1d = cg_MaxPool1d(&k4),
              *seq1d = cg_Sequential(2, (cg_module *[]){cg_ReLU(), cg_MaxPool1d(&k4)});
    cg_scope_begin();
    cg_tensor *x = relu_pool_input(2, 4, 8, 6);
    cg_tensor *y = cg_module_forward(seq, x);
    assert_non_null(y);
    assert_string_equal(y->node->op->name, "relu_max_pool2d");
    cg_tensor *want = cg_module_forward(pool, cg_module_forward(relu, x));
    for (int64_t i = 0; i < want->numel; i++) assert_true(same_number(y->data[i], want->data[i]));
    cg_tensor *flat = cg_module_forward(other, x);
    assert_string_equal(flat->node->inputs[0]->node->op->name, "relu");
    cg_scope_end();
    // ReLU then MaxPool1d(4) on (N, C, L): the 2-D fused op under views, the same values and
    // bitwise the same input gradient as the modules one by one, at 1 to 4 threads (ties,
    // NaN and signed zeros come from relu_pool_input; 38464 values, above CG_PARALLEL_MIN,
    // so the pooling splits between threads).
    for (int threads = 1; threads <= 4; threads++) {
        cg_set_num_threads(threads);
        cg_scope_begin();
        cg_tensor *src = relu_pool_input(4, 16, 1, 601);
        cg_tensor *x1 = cg_requires_grad(cg_empty(CG_SHAPE(4, 16, 601)), true);
        memcpy(x1->data, src->data, (size_t)src->numel * sizeof(float));
        cg_tensor *x1b = cg_requires_grad(cg_copy(cg_detach(x1)), true);
        cg_tensor *y1 = cg_module_forward(seq1d, x1);
        assert_non_null(y1);
        assert_string_equal(y1->node->inputs[0]->node->op->name, "relu_max_pool2d");
        cg_tensor *want1 = cg_module_forward(pool1d, cg_module_forward(relu, x1b));
        assert_int_equal(want1->numel, y1->numel);
        for (int64_t i = 0; i < want1->numel; i++)
            assert_true(same_number(y1->data[i], want1->data[i]));
        cg_tensor *g = cg_empty_like(y1);
        for (int64_t i = 0; i < g->numel; i++) g->data[i] = (float)(i % 5) - 1.5f;
        assert_int_equal(cg_backward_ex(y1, g, false), 0);
        assert_int_equal(cg_backward_ex(want1, g, false), 0);
        assert_memory_equal(x1->grad->data, x1b->grad->data, (size_t)x1->numel * sizeof(float));
        cg_scope_end();
    }
    cg_set_num_threads(0);
    cg_module *mods[] = {relu, pool, seq, other, seq1d, pool1d};
    for (int i = 0; i < 6; i++) cg_module_free(mods[i]);
}

static void test_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(1, 2, 6, 6), NULL), *indices = NULL;
    const cg_pool_options k2 = {.kernel_size = 2};
    cg_tensor *y = cg_max_pool2d_with_indices(x, &k2, &indices);
    assert_non_null(y);

    assert_null(cg_avg_pool2d(x, &(cg_pool_options){.kernel_size = 2, .dilation = 2}));
    cg_test_expect_error(CG_ERR_ARG, "avg_pool2d: takes no dilation");
    assert_null(cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 2, .exclude_pad = true}));
    cg_test_expect_error(CG_ERR_ARG, "avg_pool2d options");
    assert_null(cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 2, .dilation_hw = {0, 1}}));
    cg_test_expect_error(CG_ERR_ARG, "dilation (0, 1)");
    // padding at most half the kernel size whatever the dilation, as PyTorch: padding 1 fits
    // kernel 3, padding 2 does not, even with dilation 3
    assert_non_null(
        cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 3, .padding = 1, .dilation = 2}));
    assert_null(
        cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 2, .padding = 2, .dilation = 3}));
    cg_test_expect_error(CG_ERR_ARG,
                         "padding (2, 2) should be at most half of the kernel size (2, 2)");
    assert_null(cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 3, .dilation = 3}));
    cg_test_expect_error(CG_ERR_SHAPE, "too small");
    assert_null(cg_max_pool2d_with_indices(x, &k2, NULL));
    cg_test_expect_error(CG_ERR_ARG, "indices");

    assert_null(cg_AvgPool2d(&(cg_pool_options){.kernel_size = 2, .dilation = 2}));
    cg_test_expect_error(CG_ERR_ARG, "AvgPool2d: takes no dilation");
    assert_null(cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2, .divisor_override = 2}));
    cg_test_expect_error(CG_ERR_ARG, "MaxPool2d: exclude_pad and divisor_override");
    assert_null(cg_adaptive_max_pool2d(x, -2, 3));
    cg_test_expect_error(CG_ERR_ARG, "adaptive_max_pool2d: output size (-2, 3)");
    assert_null(cg_AdaptiveMaxPool2d(0, 1));
    cg_test_expect_error(CG_ERR_ARG, "AdaptiveMaxPool2d");

    assert_null(cg_max_unpool2d(y, cg_zeros(CG_SHAPE(1, 2, 3, 2)), &k2, 0, 0));
    cg_test_expect_error(CG_ERR_SHAPE, "indices of shape [1,2,3,2] do not match");
    cg_tensor *bad = cg_full(CG_SHAPE(1, 2, 3, 3), 36.0f);
    assert_null(cg_max_unpool2d(y, bad, &k2, 0, 0));
    cg_test_expect_error(CG_ERR_ARG, "invalid max index 36");
    assert_null(cg_max_unpool2d(y, indices, &k2, 9, 6)); // default 6, so [4, 8)
    cg_test_expect_error(CG_ERR_ARG, "between 4 and 7");
    assert_null(cg_max_unpool2d(y, indices, &k2, -1, 6));
    cg_test_expect_error(CG_ERR_ARG, "must not be negative");
    assert_null(cg_max_unpool2d(y, indices, NULL, 0, 0));
    cg_test_expect_error(CG_ERR_ARG, "kernel_size is required");
    assert_null(cg_max_unpool2d(cg_zeros(CG_SHAPE(4)), cg_zeros(CG_SHAPE(4)), &k2, 0, 0));
    cg_test_expect_error(CG_ERR_SHAPE, "max_unpool2d: input must be");
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_gradcheck, cg_test_teardown),
        cmocka_unit_test_teardown(test_modules, cg_test_teardown),
        cmocka_unit_test_teardown(test_relu_max_pool_fused, cg_test_teardown),
        cmocka_unit_test_teardown(test_sequential_fuses_relu_max_pool, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("pool", OPS, extra, 11);
}
