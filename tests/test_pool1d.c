// tests/test_pool1d.c - max_pool1d (with indices), avg_pool1d, adaptive_avg_pool1d,
// adaptive_max_pool1d (with indices) and max_unpool1d (through the 2-D pools) against PyTorch
// (tests/fixtures/gen_layers.py and gen_pool1d.py: output, indices and gradient; batched and
// unbatched, padding, dilation, ceil_mode), the MaxPool1d/AvgPool1d/AdaptiveAvgPool1d/
// AdaptiveMaxPool1d/MaxUnpool1d modules' reprs, return_indices through the modules, and an
// error for each bad argument. Gradchecks: tests/support/op_cases.def and below.
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "layers.txt"

static cg_pool_options case_options(const cg_fixture_case *c) {
    return (cg_pool_options){.kernel_size = (int)cg_fixture_param(c, "kernel", 0),
                             .stride = (int)cg_fixture_param(c, "stride", 0),
                             .padding = (int)cg_fixture_param(c, "padding", 0),
                             .dilation = (int)cg_fixture_param(c, "dilation", 1),
                             .ceil_mode = cg_fixture_param(c, "ceil_mode", 0) != 0};
}
// max_pool1d/... and avg_pool1d/... cases share their params.
static cg_tensor *run_pool1d(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_options(c);
    bool max = strncmp(cg_fixture_case_name(c), "max", 3) == 0;
    return (max ? cg_max_pool1d : cg_avg_pool1d)(in[0], &o);
}
static cg_tensor *run_adaptive_avg_pool1d(cg_tensor **in, const cg_fixture_case *c) {
    return cg_adaptive_avg_pool1d(in[0], (int)cg_fixture_param(c, "output_size", 0));
}

static void check_indices(const cg_fixture_case *c, const cg_tensor *indices) {
    cg_assert_close(indices, cg_fixture_tensor(c, "indices_out"), 0, 0, "indices");
}
static cg_tensor *run_max_pool1d_indices(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_options(c);
    cg_tensor *indices = NULL, *y = cg_max_pool1d_with_indices(in[0], &o, &indices);
    check_indices(c, indices);
    return y;
}
static cg_tensor *run_adaptive_max_pool1d(cg_tensor **in, const cg_fixture_case *c) {
    cg_tensor *indices = NULL;
    cg_tensor *y = cg_adaptive_max_pool1d_with_indices(
        in[0], (int)cg_fixture_param(c, "output_size", 0), &indices);
    check_indices(c, indices);
    return y;
}
static cg_tensor *run_max_unpool1d(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_options(c);
    return cg_max_unpool1d(in[0], in[1], &o, (int)cg_fixture_param(c, "output_size", 0));
}

static const cg_test_op OPS[] = {
    {"max_pool1d", FIXTURE, 1, {"x"}, run_pool1d, NULL},
    {"avg_pool1d", FIXTURE, 1, {"x"}, run_pool1d, NULL},
    {"adaptive_avg_pool1d", FIXTURE, 1, {"x"}, run_adaptive_avg_pool1d, NULL},
    {"max_pool1d_indices", "pool1d.txt", 1, {"x"}, run_max_pool1d_indices, NULL},
    {"adaptive_max_pool1d", "pool1d.txt", 1, {"x"}, run_adaptive_max_pool1d, NULL},
    {"max_unpool1d", "pool1d.txt", 2, {"x", "indices"}, run_max_unpool1d, NULL},
};

static void expect_module(cg_module *m, const char *repr, cg_tensor *x, cg_tensor *expected) {
    assert_non_null(m);
    char buf[128];
    m->cls->describe(m, buf, sizeof buf);
    assert_string_equal(buf, repr);
    cg_assert_close(cg_module_forward(m, x), expected, 0, 0, repr);
    cg_module_free(m);
}

static void test_modules(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3, 9), NULL);
    cg_pool_options o = {.kernel_size = 3, .stride = 2, .padding = 1};
    expect_module(cg_MaxPool1d(&o),
                  "MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)", x,
                  cg_max_pool1d(x, &o));
    cg_pool_options k2 = {.kernel_size = 2, .ceil_mode = true};
    expect_module(cg_AvgPool1d(&k2), "AvgPool1d(kernel_size=(2,), stride=(2,), padding=(0,))", x,
                  cg_avg_pool1d(x, &k2));
    expect_module(cg_AdaptiveAvgPool1d(4), "AdaptiveAvgPool1d(output_size=4)", x,
                  cg_adaptive_avg_pool1d(x, 4));
    expect_module(cg_AdaptiveMaxPool1d(4), "AdaptiveMaxPool1d(output_size=4)", x,
                  cg_adaptive_max_pool1d(x, 4));
    cg_module *un = cg_MaxUnpool1d(&o);
    assert_string_equal(cg_test_describe(un),
                        "MaxUnpool1d(kernel_size=(3,), stride=(2,), padding=(1,))");
    // unpool puts every maximum back: pool(unpool(pool(p))) = pool(p) for positive p (the
    // zeros around a maximum put back cannot beat it), at the input's length
    cg_tensor *p = cg_test_distinct(CG_SHAPE(2, 3, 9));
    cg_tensor *indices = NULL, *y = cg_max_pool1d_with_indices(p, &o, &indices);
    cg_tensor *back = cg_MaxUnpool1d_forward(un, y, indices, 9);
    assert_int_equal(back->shape[2], 9);
    cg_assert_close(cg_max_pool1d(back, &o), y, 0, 0, "pool(unpool(pool(x)))");
    assert_null(cg_module_forward(un, y));
    cg_test_expect_error(CG_ERR_ARG, "cg_MaxUnpool1d_forward");
    cg_module_free(un);
    cg_scope_end();
}

// return_indices through the modules: the same output and indices as the functional forms.
static void test_modules_return_indices(void **state) {
    (void)state;
    const cg_pool_options k3 = {.kernel_size = 3, .stride = 2, .padding = 1};
    cg_module *mods[] = {cg_MaxPool1d(&k3), cg_AdaptiveMaxPool1d(4), cg_MaxPool2d(&k3),
                         cg_AdaptiveMaxPool2d(2, CG_NONE), cg_AvgPool1d(&k3)};
    cg_scope_begin();
    cg_tensor *x1 = cg_test_distinct(CG_SHAPE(2, 3, 9)),
              *x2 = cg_test_distinct(CG_SHAPE(2, 3, 5, 6));
    cg_tensor *want[4], *want_indices[4] = {NULL, NULL, NULL, NULL};
    want[0] = cg_max_pool1d_with_indices(x1, &k3, &want_indices[0]);
    want[1] = cg_adaptive_max_pool1d_with_indices(x1, 4, &want_indices[1]);
    want[2] = cg_max_pool2d_with_indices(x2, &k3, &want_indices[2]);
    want[3] = cg_adaptive_max_pool2d_with_indices(x2, 2, CG_NONE, &want_indices[3]);
    for (int i = 0; i < 4; i++) {
        cg_tensor *indices = NULL;
        cg_tensor *y = cg_max_pool_forward_with_indices(mods[i], i < 2 ? x1 : x2, &indices);
        cg_assert_close(y, want[i], 0, 0, mods[i]->cls->name);
        cg_assert_close(indices, want_indices[i], 0, 0, mods[i]->cls->name);
        cg_assert_close(cg_module_forward(mods[i], i < 2 ? x1 : x2), want[i], 0, 0, "forward");
    }
    cg_tensor *indices = NULL;
    assert_null(cg_max_pool_forward_with_indices(mods[4], x1, &indices));
    cg_test_expect_error(CG_ERR_ARG, "module AvgPool1d is not a MaxPool1d, MaxPool2d");
    assert_null(cg_max_pool_forward_with_indices(mods[0], x1, NULL));
    cg_test_expect_error(CG_ERR_ARG, "'indices' is NULL");
    cg_scope_end();
    for (int i = 0; i < 5; i++) cg_module_free(mods[i]);
}

static cg_tensor *grad_adaptive_max(cg_tensor **in, void *ctx) {
    return cg_adaptive_max_pool1d(in[0], *(const int *)ctx);
}
typedef struct unpool_ctx {
    cg_tensor *indices;
    cg_pool_options options;
    int output_size;
} unpool_ctx;
static cg_tensor *grad_max_unpool(cg_tensor **in, void *ctx) {
    const unpool_ctx *u = ctx;
    return cg_max_unpool1d(in[0], u->indices, &u->options, u->output_size);
}

static void test_gradcheck(void **state) {
    (void)state;
    cg_scope_begin();
    for (int size = 1; size <= 5; size += 2) {
        cg_tensor *x = cg_test_distinct(CG_SHAPE(2, 2, 7));
        cg_test_gradcheck(grad_adaptive_max, &size, 1, &x, "adaptive_max_pool1d");
    }
    // non-overlapping windows: an index twice (overlapping windows sharing a maximum) has the
    // forward keep one write while the backward, as PyTorch's, reads it for both
    unpool_ctx u = {.options = {.kernel_size = 2}, .output_size = 11};
    cg_tensor *pooled =
        cg_max_pool1d_with_indices(cg_test_distinct(CG_SHAPE(1, 2, 10)), &u.options, &u.indices);
    cg_tensor *x = cg_requires_grad(cg_copy(cg_detach(pooled)), true);
    cg_test_gradcheck(grad_max_unpool, &u, 1, &x, "max_unpool1d");
    cg_scope_end();
}

static void test_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3, 9), NULL);
    assert_null(
        cg_max_pool1d(cg_randn(CG_SHAPE(1, 2, 3, 4), NULL), &(cg_pool_options){.kernel_size = 2}));
    cg_test_expect_error(CG_ERR_SHAPE, "max_pool1d: expected a 2-D (C, L) or 3-D (N, C, L) input");
    assert_null(cg_avg_pool1d(x, NULL));
    cg_test_expect_error(CG_ERR_ARG, "avg_pool1d: kernel_size 0 must be > 0");
    assert_null(cg_max_pool1d(x, &(cg_pool_options){.kernel_size = 2, .padding = 2}));
    cg_test_expect_error(CG_ERR_ARG, "max_pool1d");
    assert_null(cg_adaptive_avg_pool1d(x, 0));
    cg_test_expect_error(CG_ERR_ARG, "adaptive_avg_pool1d: output_size 0 must be > 0");
    assert_null(cg_adaptive_avg_pool1d(cg_randn(CG_SHAPE(4), NULL), 2));
    cg_test_expect_error(CG_ERR_SHAPE, "adaptive_avg_pool1d: expected a 2-D");
    cg_scope_end();
    assert_null(cg_MaxPool1d(NULL));
    cg_test_expect_error(CG_ERR_ARG, "MaxPool1d: kernel_size 0 must be > 0");
    assert_null(cg_AvgPool1d(&(cg_pool_options){.kernel_size = -1}));
    cg_test_expect_error(CG_ERR_ARG, "AvgPool1d: kernel_size -1");
    assert_null(cg_AdaptiveAvgPool1d(-3));
    cg_test_expect_error(CG_ERR_ARG, "AdaptiveAvgPool1d: output_size -3");
    assert_null(cg_AdaptiveMaxPool1d(0));
    cg_test_expect_error(CG_ERR_ARG, "AdaptiveMaxPool1d: output_size 0 must be > 0");
    assert_null(cg_MaxUnpool1d(&(cg_pool_options){.kernel_size = 2, .dilation = 2}));
    cg_test_expect_error(CG_ERR_ARG, "MaxUnpool1d: takes no dilation");
    assert_null(cg_MaxPool1d(&(cg_pool_options){.kernel_size = 3, .padding = 2}));
    cg_test_expect_error(CG_ERR_ARG, "MaxPool1d: padding (2, 2) should be at most half");

    cg_scope_begin();
    cg_tensor *x8 = cg_test_distinct(CG_SHAPE(2, 3, 8)), *indices = NULL;
    const cg_pool_options k2 = {.kernel_size = 2};
    cg_tensor *y = cg_max_pool1d_with_indices(x8, &k2, &indices);
    assert_null(cg_max_pool1d_with_indices(x8, &k2, NULL));
    cg_test_expect_error(CG_ERR_ARG, "max_pool1d: argument 'indices' is NULL");
    assert_null(cg_adaptive_max_pool1d(x8, 0));
    cg_test_expect_error(CG_ERR_ARG, "adaptive_max_pool1d: output_size 0 must be > 0");
    assert_null(cg_adaptive_max_pool1d(cg_randn(CG_SHAPE(1, 2, 3, 4), NULL), 2));
    cg_test_expect_error(CG_ERR_SHAPE, "adaptive_max_pool1d: expected a 2-D");
    assert_null(cg_max_unpool1d(y, indices, &k2, 11)); // default 8, so [6, 10)
    cg_test_expect_error(CG_ERR_ARG,
                         "max_unpool1d: output_size 11 of dim 1 must be between 6 and 9");
    assert_null(cg_max_unpool1d(y, indices, &k2, -1));
    cg_test_expect_error(CG_ERR_ARG, "max_unpool1d: output_size -1 must not be negative");
    assert_null(cg_max_unpool1d(y, cg_zeros(CG_SHAPE(2, 3, 3)), &k2, 0));
    cg_test_expect_error(CG_ERR_SHAPE, "max_unpool1d: indices of shape [2,3,1,3] do not match");
    assert_null(cg_max_unpool1d(y, cg_full(CG_SHAPE(2, 3, 4), 8.0f), &k2, 0));
    cg_test_expect_error(CG_ERR_ARG, "max_unpool1d: found an invalid max index 8");
    assert_null(cg_max_unpool1d(y, indices, NULL, 0));
    cg_test_expect_error(CG_ERR_ARG, "max_unpool1d: kernel_size 0 must be > 0");
    assert_null(cg_max_unpool1d(y, NULL, &k2, 0));
    cg_test_expect_error(CG_ERR_ARG, "max_unpool1d: argument 'indices' is NULL");
    assert_null(
        cg_max_unpool1d(y, indices, &(cg_pool_options){.kernel_size = 2, .dilation = 2}, 0));
    cg_test_expect_error(CG_ERR_ARG, "max_unpool1d: takes no dilation");
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_modules, cg_test_teardown),
        cmocka_unit_test_teardown(test_modules_return_indices, cg_test_teardown),
        cmocka_unit_test_teardown(test_gradcheck, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("pool1d", OPS, extra, 23);
}
