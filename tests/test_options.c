// tests/test_options.c - the options rule of tensor/options.h across the options structs,
// and the user API that replaces writes into ->data: copy_, copy_from_, set_grad, plus the
// messages of two API traps (grad mode off, an error inside a container).
#include <string.h>

#include "support/testing.h"

static cg_tensor *rnd(int ndim, const int64_t *shape) {
    return cg_randn(ndim, shape, NULL);
}

// Rule 2: `.padding = 1` is padding=1 (both dims) and `.padding_hw = {1, 0}` is (1, 0); the
// pair form equals padding the input by hand and convolving without padding.
static void test_conv_scalar_and_pair(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = rnd(CG_SHAPE(2, 3, 6, 7)), *w = rnd(CG_SHAPE(4, 3, 3, 3));
    cg_tensor *square = cg_conv2d(x, w, NULL, &(cg_conv_options){.padding = 1, .stride = 2});
    cg_tensor *pair =
        cg_conv2d(x, w, NULL, &(cg_conv_options){.padding_hw = {1, 1}, .stride_hw = {2, 2}});
    assert_int_equal(square->shape[2], 3); // (6 + 2 - 3) / 2 + 1
    assert_int_equal(square->shape[3], 4); // (7 + 2 - 3) / 2 + 1
    cg_assert_close(square, pair, 0, 0, "padding=1 vs padding_hw={1,1}");

    cg_tensor *hw = cg_conv2d(x, w, NULL, &(cg_conv_options){.padding_hw = {1, 0}});
    cg_tensor *by_hand =
        cg_conv2d(cg_pad(x, 4, (const int[]){0, 0, 1, 1}, CG_PAD_ZEROS, 0), w, NULL, NULL);
    assert_int_equal(hw->shape[2], 6);
    assert_int_equal(hw->shape[3], 5);
    cg_assert_close(hw, by_hand, 1e-5, 1e-5, "padding_hw={1,0}");
    // A pair with a non-zero entry wins over the scalar.
    cg_tensor *both = cg_conv2d(x, w, NULL, &(cg_conv_options){.padding = 3, .padding_hw = {1, 0}});
    cg_assert_close(both, hw, 0, 0, "padding_hw wins");
    cg_scope_end();
}

// 1-D ops read the scalars; a pair given to them is an error, not silently ignored.
static void test_conv1d_reads_scalars(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = rnd(CG_SHAPE(1, 2, 9)), *w = rnd(CG_SHAPE(3, 2, 3));
    cg_tensor *y = cg_conv1d(x, w, NULL, &(cg_conv_options){.padding = 1, .stride = 2});
    assert_int_equal(y->shape[2], 5);
    assert_null(cg_conv1d(x, w, NULL, &(cg_conv_options){.stride_hw = {1, 2}}));
    cg_test_expect_error(CG_ERR_ARG, "stride_hw=(1, 2) is a 2-D option");
    assert_null(cg_Conv1d(2, 3, 3, &(cg_conv_options){.padding_hw = {0, 1}}));
    cg_test_expect_error(CG_ERR_ARG, "Conv1d: padding_hw");
    cg_scope_end();
}

static void test_pool_and_fold_scalars(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = rnd(CG_SHAPE(1, 2, 7, 8));
    cg_tensor *a = cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 3, .stride = 2});
    cg_tensor *b =
        cg_max_pool2d(x, &(cg_pool_options){.kernel_size_hw = {3, 3}, .stride_hw = {2, 2}});
    assert_int_equal(a->shape[2], 3);
    assert_int_equal(a->shape[3], 3);
    cg_assert_close(a, b, 0, 0, "kernel_size=3, stride=2");
    // stride 0 is the kernel size: kernel_size=(2, 4) pools 2x4 blocks
    cg_tensor *c = cg_avg_pool2d(x, &(cg_pool_options){.kernel_size_hw = {2, 4}});
    assert_int_equal(c->shape[2], 3);
    assert_int_equal(c->shape[3], 2);
    cg_tensor *u1 = cg_unfold(x, &(cg_fold_options){.kernel_size = 2, .padding = 1});
    cg_tensor *u2 =
        cg_unfold(x, &(cg_fold_options){.kernel_size_hw = {2, 2}, .padding_hw = {1, 1}});
    cg_assert_close(u1, u2, 0, 0, "unfold kernel_size=2, padding=1");
    assert_int_equal(u1->shape[2], 8 * 9);
    cg_scope_end();
}

// Booleans are named so false is the default; values whose 0 is legal are CG_SET optionals.
static void test_module_defaults(void **state) {
    (void)state;
    cg_module *lin = cg_Linear(3, 2, NULL);
    assert_non_null(cg_module_param(lin, "bias"));
    cg_module *no_bias = cg_Linear(3, 2, &(cg_linear_options){.no_bias = true});
    assert_null(cg_module_param(no_bias, "bias"));
    cg_module *drop = cg_Dropout(NULL), *leaky = cg_LeakyReLU(NULL);
    assert_string_equal(cg_test_describe(drop), "Dropout(p=0.5, inplace=False)");
    assert_string_equal(cg_test_describe(leaky), "LeakyReLU(negative_slope=0.01)");
    cg_module *keep_all = cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.0)});
    cg_module *relu = cg_LeakyReLU(&(cg_leaky_relu_options){.negative_slope = CG_SET(0.0)});
    cg_scope_begin();
    cg_tensor *x = cg_test_tensor(CG_SHAPE(4), (float[]){-2, -1, 1, 2});
    cg_assert_close(cg_module_forward(keep_all, x), x, 0, 0, "Dropout(p=0) in training");
    cg_assert_close(cg_module_forward(relu, x), cg_test_tensor(CG_SHAPE(4), (float[]){0, 0, 1, 2}),
                    0, 0, "LeakyReLU(0)");
    cg_scope_end();
    cg_module *mods[] = {lin, no_bias, drop, leaky, keep_all, relu};
    for (int i = 0; i < 6; i++) cg_module_free(mods[i]);
}

static void test_copy_and_set_grad(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *w = cg_requires_grad(cg_zeros(CG_SHAPE(2, 2)), true);
    const float values[] = {1, 2, 3, 4};
    // A leaf that requires grad is written with grad mode off, as under torch.no_grad().
    assert_null(cg_copy_from_(w, values, 4));
    cg_test_expect_error(CG_ERR_STATE, "in-place operation");
    bool prev = cg_set_grad_enabled(false);
    assert_ptr_equal(cg_copy_from_(w, values, 4), w);
    cg_tensor *src = cg_test_tensor(CG_SHAPE(2, 2), (float[]){5, 6, 7, 8});
    cg_tensor *other = cg_zeros(CG_SHAPE(2, 2));
    assert_ptr_equal(cg_copy_(other, w), other);
    cg_assert_close(other, cg_test_tensor(CG_SHAPE(2, 2), (float[]){1, 2, 3, 4}), 0, 0, "copy_");
    assert_ptr_equal(cg_copy_(w, src), w);
    cg_assert_close(w, src, 0, 0, "copy_ into a parameter");
    assert_null(cg_copy_from_(w, values, 3));
    cg_test_expect_error(CG_ERR_SHAPE, "3 values given for a tensor of shape [2,2]");
    assert_null(cg_copy_(w, cg_zeros(CG_SHAPE(4))));
    cg_test_expect_error(CG_ERR_SHAPE, "copy_: src of shape [4] does not match");
    cg_set_grad_enabled(prev);
    cg_tensor *y = cg_mul(w, w);
    assert_null(cg_copy_(y, src));
    cg_test_expect_error(CG_ERR_STATE, "result of an op");

    // set_grad: a copy owned by the tensor; backward then adds into it; NULL clears it.
    assert_int_equal(cg_set_grad(w, src), 0);
    cg_assert_close(w->grad, src, 0, 0, "set_grad");
    assert_int_equal(cg_backward(cg_sum(w, CG_ALL_DIMS, false)), 0);
    cg_assert_close(w->grad, cg_test_tensor(CG_SHAPE(2, 2), (float[]){6, 7, 8, 9}), 0, 0,
                    "set_grad then backward");
    assert_int_equal(cg_set_grad(w, cg_zeros(CG_SHAPE(3))), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "set_grad");
    assert_int_equal(cg_set_grad(w, NULL), 0);
    assert_null(w->grad);
    cg_scope_end();
}

static void test_backward_with_grad_mode_off(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *w = cg_requires_grad(cg_ones(CG_SHAPE(3)), true);
    bool prev = cg_set_grad_enabled(false);
    cg_tensor *loss = cg_sum(cg_mul(w, w), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(loss), -1);
    cg_test_expect_error(CG_ERR_STATE, "grad mode is off");
    cg_set_grad_enabled(prev);
    // with grad mode on, the message does not blame it
    assert_int_equal(cg_backward(cg_sum(cg_ones(CG_SHAPE(2)), CG_ALL_DIMS, false)), -1);
    assert_null(strstr(cg_test_last_message(), "grad mode"));
    cg_test_expect_error(CG_ERR_STATE, "does not require grad");
    cg_scope_end();
}

// An error inside nested containers names the module path, as PyTorch's state_dict does.
static void test_error_names_module_path(void **state) {
    (void)state;
    cg_module *inner = cg_Sequential(2, (cg_module *[]){cg_ReLU(), cg_Linear(5, 2, NULL)});
    cg_module *model = cg_Sequential(2, (cg_module *[]){cg_Linear(4, 3, NULL), inner});
    cg_scope_begin();
    assert_null(cg_module_forward(model, cg_zeros(CG_SHAPE(2, 4))));
    assert_true(strncmp(cg_test_last_message(), "1.1: linear: input [2,3]", 24) == 0);
    cg_test_expect_error(CG_ERR_SHAPE, "in_features = 5");
    // the context ends with the forward: later errors carry no path
    assert_null(cg_linear(cg_zeros(CG_SHAPE(2)), cg_zeros(CG_SHAPE(3, 3)), NULL));
    assert_true(strncmp(cg_test_last_message(), "linear:", 7) == 0);
    cg_test_expect_error(CG_ERR_SHAPE, NULL);
    // every container names its children the same way (Residual's child is "fn")
    cg_module *res = cg_Sequential(1, (cg_module *[]){cg_Residual(cg_Linear(5, 3, NULL))});
    assert_null(cg_module_forward(res, cg_zeros(CG_SHAPE(2, 3))));
    assert_true(strncmp(cg_test_last_message(), "0.fn: linear:", 13) == 0);
    cg_test_expect_error(CG_ERR_SHAPE, NULL);
    cg_scope_end();
    cg_module_free(model);
    cg_module_free(res);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_conv_scalar_and_pair, cg_test_teardown),
        cmocka_unit_test_teardown(test_conv1d_reads_scalars, cg_test_teardown),
        cmocka_unit_test_teardown(test_pool_and_fold_scalars, cg_test_teardown),
        cmocka_unit_test_teardown(test_module_defaults, cg_test_teardown),
        cmocka_unit_test_teardown(test_copy_and_set_grad, cg_test_teardown),
        cmocka_unit_test_teardown(test_backward_with_grad_mode_off, cg_test_teardown),
        cmocka_unit_test_teardown(test_error_names_module_path, cg_test_teardown),
    };
    cg_manual_seed(3);
    cg_test_capture_errors();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
