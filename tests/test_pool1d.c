// tests/test_pool1d.c - max_pool1d, avg_pool1d, adaptive_avg_pool1d (through the 2-D pools)
// against PyTorch (tests/fixtures/gen_layers.py: output and gradient; batched and unbatched,
// padding, ceil_mode), the MaxPool1d/AvgPool1d/AdaptiveAvgPool1d modules' reprs and an error
// for each bad argument. Gradchecks: tests/support/op_cases.def.
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

static const cg_test_op OPS[] = {
    {"max_pool1d", FIXTURE, 1, {"x"}, run_pool1d, NULL},
    {"avg_pool1d", FIXTURE, 1, {"x"}, run_pool1d, NULL},
    {"adaptive_avg_pool1d", FIXTURE, 1, {"x"}, run_adaptive_avg_pool1d, NULL},
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
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_modules, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("pool1d", OPS, extra, 23);
}
