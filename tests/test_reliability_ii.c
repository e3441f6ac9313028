// tests/test_reliability_ii.c - regressions for "Reliability II" (issue 22) that need more
// than a refused call (those are lines of test_bad_calls): what a degenerate input leaves
// behind, and that the checks added for hostile input still accept the legitimate case.
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "testing.h"

// Class 3: a training step on an empty batch leaves the running statistics as they were
// (PyTorch's batch_norm returns early on numel 0); they used to become NaN.
static void test_batch_norm_empty_batch_keeps_running_stats(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *mean = cg_test_tensor(CG_SHAPE(3), (float[]){0.5f, -1, 2});
    cg_tensor *var = cg_test_tensor(CG_SHAPE(3), (float[]){1, 4, 0.25f});
    cg_tensor *mean0 = cg_copy(mean), *var0 = cg_copy(var);
    cg_tensor *x = cg_empty(CG_SHAPE(0, 3, 2, 2));
    cg_tensor *y = cg_batch_norm2d(x, mean, var, NULL, NULL, true, 0.1f, 1e-5f);
    assert_non_null(y);
    assert_int_equal(y->numel, 0);
    cg_assert_close(mean, mean0, 0, 0, "running_mean after an empty batch");
    cg_assert_close(var, var0, 0, 0, "running_var after an empty batch");
    // The module too, and in 1-D.
    cg_module *bn = cg_BatchNorm1d(3, NULL);
    assert_non_null(cg_module_forward(bn, cg_empty(CG_SHAPE(0, 3))));
    cg_tensor *rm = cg_module_buffer(bn, "running_mean");
    for (int c = 0; c < 3; c++) assert_float_equal(rm->data[c], 0.0f, 0);
    cg_module_free(bn);
    // Zero channels: no division by the channel count.
    assert_non_null(
        cg_batch_norm2d(cg_empty(CG_SHAPE(2, 0, 2, 2)), NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    cg_test_expect_no_error();
    cg_scope_end();
}

// Class 1: a reshape whose product wraps to the input's numel is refused, so nothing can
// later read through the absurd shape; a legitimate reshape still works.
static void test_wrapping_reshape_refused(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_ones(CG_SHAPE(1));
    // 7 * 7905747460161236407 = 1 (mod 2^64)
    assert_null(cg_reshape(x, CG_SHAPE(7, INT64_C(7905747460161236407))));
    cg_test_expect_error(CG_ERR_SHAPE, "reshape: shape [7,7905747460161236407] is invalid");
    cg_tensor *y = cg_reshape(cg_ones(CG_SHAPE(2, 3)), CG_SHAPE(3, -1));
    assert_non_null(y);
    assert_int_equal(y->shape[1], 2);
    // Zero-element shapes whose other dims fit are fine (PyTorch allows them).
    assert_non_null(cg_reshape(cg_empty(CG_SHAPE(0, 4)), CG_SHAPE(2, 0, 8)));
    cg_test_expect_no_error();
    cg_scope_end();
}

// Class 2: the header check reads BMP heights as absolute values without refusing the
// ordinary top-down BMP (negative height): a 2x2 one decodes with its first row on top.
static void test_top_down_bmp_still_loads(void **state) {
    (void)state;
    cg_scope_begin();
    uint8_t bmp[54 + 16] = {'B', 'M', 70, 0, 0, 0, 0, 0,    0,    0,    54,   0, 0, 0,  40,
                            0,   0,   0,  2, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 1, 0, 24, 0};
    // Rows of 2 BGR pixels padded to 8 bytes: top row white, bottom row black.
    memset(bmp + 54, 255, 6);
    char path[512];
    snprintf(path, sizeof path, "%s/reliability_ii_top_down.bmp", CG_TEST_TMP_DIR);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bmp, 1, sizeof bmp, f), sizeof bmp);
    fclose(f);
    cg_tensor *img = cg_image_load_gray(path);
    assert_non_null(img);
    assert_int_equal(img->shape[2], 2);
    assert_int_equal(img->shape[3], 2);
    assert_float_equal(img->data[0], 1.0f, 1e-6); // top-left: white
    assert_float_equal(img->data[2], 0.0f, 1e-6); // bottom-left: black
    cg_free(img);
    cg_scope_end();
}

// Class 8: a reduction over a non-empty dim of a zero-element tensor is an empty result, as
// in PyTorch (torch.max(torch.empty(0, 3), 1) gives values and indices of shape [0]).
static void test_max_over_non_empty_dim_of_empty_tensor(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_empty(CG_SHAPE(0, 3));
    cg_tensor *m = cg_max(x, 1, false), *a = cg_argmax(x, 1, true);
    assert_non_null(m);
    assert_non_null(a);
    assert_int_equal(m->ndim, 1);
    assert_int_equal(m->shape[0], 0);
    assert_int_equal(a->ndim, 2);
    assert_int_equal(a->shape[0], 0);
    assert_int_equal(a->shape[1], 1);
    cg_test_expect_no_error();
    cg_scope_end();
}

// Class 3 for instance norm: an empty batch leaves its running statistics (it divided by
// N * C = 0).
static void test_instance_norm_empty_batch(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *mean = cg_test_tensor(CG_SHAPE(2), (float[]){0.25f, -3});
    cg_tensor *mean0 = cg_copy(mean);
    cg_tensor *var = cg_ones(CG_SHAPE(2));
    cg_tensor *y =
        cg_instance_norm(cg_empty(CG_SHAPE(0, 2, 5)), 1, mean, var, NULL, NULL, true, 0.1f, 1e-5f);
    assert_non_null(y);
    assert_int_equal(y->numel, 0);
    cg_assert_close(mean, mean0, 0, 0, "instance norm running_mean after an empty batch");
    cg_test_expect_no_error();
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_batch_norm_empty_batch_keeps_running_stats,
                                  cg_test_teardown),
        cmocka_unit_test_teardown(test_wrapping_reshape_refused, cg_test_teardown),
        cmocka_unit_test_teardown(test_top_down_bmp_still_loads, cg_test_teardown),
        cmocka_unit_test_teardown(test_max_over_non_empty_dim_of_empty_tensor, cg_test_teardown),
        cmocka_unit_test_teardown(test_instance_norm_empty_batch, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("reliability_ii", tests, NULL, NULL);
}
