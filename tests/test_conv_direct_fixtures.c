// tests/test_conv_direct_fixtures.c - conv2d and its gradients against PyTorch
// (tests/fixtures/conv_direct.txt, written by tests/fixtures/gen_conv_direct.py) on the
// shapes of the direct path's weight-gradient channel blocks (kernels/conv_direct.c): 1 to 16
// output channels per group (the 16-channel blocks), groups, tap counts that are not a
// multiple of 28, batch 1 and more, and 17 per group (the 32-channel blocks).
//
// Every case runs under the automatic choice and under the forced direct loops, AVX-512
// (where the CPU has it) and portable, at 1 and 2 threads; each checks the output and, after
// backward with the fixture's upstream gradient, the gradients of the input, the weight and
// the bias.
#include <math.h>
#include <stdio.h>

#include "cgrad.h"
#include "kernels/conv_kernels.h"
#include "testing.h"

#define FIXTURE "conv_direct.txt"
// The number of cases gen_conv_direct.py writes (it prints the count on stderr).
#define EXPECTED_CASES 8

// As tests/test_conv_fixtures.c: relative error below 1e-4, the absolute floor scaled by the
// tensor's largest value.
#define RTOL 1e-4
#define ATOL 1e-5

static cg_fixture *fixture;

// Param `key`, a pair (h, w).
static void pair_param(const cg_fixture_case *c, const char *key, int out[2]) {
    double v[2] = {0, 0};
    if (cg_fixture_params(c, key, v, 2) != 2)
        fail_msg("%s: param %s is not a pair", cg_fixture_case_name(c), key);
    out[0] = (int)v[0], out[1] = (int)v[1];
}

static cg_conv_options options_of(const cg_fixture_case *c) {
    int stride[2], padding[2], dilation[2];
    pair_param(c, "stride", stride);
    pair_param(c, "padding", padding);
    pair_param(c, "dilation", dilation);
    return (cg_conv_options){.stride_hw = {stride[0], stride[1]},
                             .padding_hw = {padding[0], padding[1]},
                             .dilation_hw = {dilation[0], dilation[1]},
                             .groups = (int)cg_fixture_param(c, "groups", 1)};
}

static void check(const cg_fixture_case *c, const char *setting, const cg_tensor *actual,
                  const char *key) {
    const cg_tensor *expected = cg_fixture_tensor(c, key);
    char label[256];
    snprintf(label, sizeof label, "%s (%s): %s", cg_fixture_case_name(c), setting, key);
    if (!expected) fail_msg("%s: not in the fixture", label);
    if (!actual) fail_msg("%s: not computed (last error: %s)", label, cg_last_error_message());
    cg_assert_close_scaled(actual, expected, RTOL, ATOL, label);
}

// conv2d forward and backward of one case under the current settings.
static void run_case(const cg_fixture_case *c, const char *setting) {
    cg_scope_begin();
    cg_tensor *input = cg_test_copy_leaf(cg_fixture_tensor(c, "input"), true);
    cg_tensor *weight = cg_test_copy_leaf(cg_fixture_tensor(c, "weight"), true);
    const cg_tensor *b = cg_fixture_tensor(c, "bias");
    cg_tensor *bias = b ? cg_test_copy_leaf(b, true) : NULL;
    cg_conv_options o = options_of(c);
    cg_tensor *out = cg_conv2d(input, weight, bias, &o);
    check(c, setting, out, "out");
    if (cg_backward_ex(out, cg_fixture_tensor(c, "gout"), false) != 0)
        fail_msg("%s (%s): backward failed: %s", cg_fixture_case_name(c), setting,
                 cg_last_error_message());
    check(c, setting, input->grad, "ginput");
    check(c, setting, weight->grad, "gweight");
    if (bias) check(c, setting, bias->grad, "gbias");
    cg_scope_end();
}

// One case under every setting: automatic, then forced direct loops (AVX-512, portable).
static void test_case(void **state) {
    const cg_fixture_case *c = *state;
    for (int threads = 1; threads <= 2; threads++) {
        cg_set_num_threads(threads);
        char setting[64];
        snprintf(setting, sizeof setting, "auto, %d threads", threads);
        cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
        run_case(c, setting);
        cg_conv_set_algorithm(CG_CONV_ALGO_DIRECT);
        for (int portable = 0; portable <= 1; portable++) {
            cg_conv_direct_use_portable(portable);
            snprintf(setting, sizeof setting, "direct%s, %d threads", portable ? " portable" : "",
                     threads);
            run_case(c, setting);
        }
        cg_conv_direct_use_portable(false);
    }
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
    cg_set_num_threads(0);
}

static void test_case_count(void **state) {
    (void)state;
    assert_int_equal(cg_fixture_count(fixture), EXPECTED_CASES);
}

int main(void) {
    const struct CMUnitTest first = cmocka_unit_test_teardown(test_case_count, cg_test_teardown);
    return cg_test_run_fixture_cases("conv_direct_fixtures", FIXTURE, &fixture, first, test_case,
                                     cg_test_teardown, NULL);
}
