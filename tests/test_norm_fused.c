// tests/test_norm_fused.c - the fused ops against the ops they fuse, bit for bit, at 1 to 4
// threads: batch_norm_relu against relu(batch_norm2d/1d) (training and eval: output, the
// running statistics, and the gradients of input, weight and bias), add_relu against
// relu(add) (same shape and broadcast), and Sequential(BatchNorm2d, ReLU) against the two
// modules run one by one; Sequential(Conv2d, BatchNorm2d) folded in eval against the two
// modules (within rounding). Inputs include ties (constant planes), NaN, +0 and -0, and the
// upstream gradient holds NaN where the ReLU masks it off.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "tensor/alloc.h"
#include "testing.h"

// Equal bits, or both NaN.
static void assert_same(const cg_tensor *a, const cg_tensor *b, const char *what, int threads) {
    assert_non_null(a);
    assert_non_null(b);
    assert_int_equal(a->numel, b->numel);
    for (int64_t i = 0; i < a->numel; i++) {
        float x = a->data[i], y = b->data[i];
        if ((isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0) continue;
        fail_msg("%s (%d threads): element %lld is %a, expected %a", what, threads, (long long)i,
                 (double)x, (double)y);
    }
}

// Values with ties and signed zeros: channel 0 constant (variance 0), zeros of both signs.
static void fill_special(cg_tensor *t, bool with_nan) {
    static const float values[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, -2.0f, 3.0f};
    int64_t plane = t->numel / (t->shape[0] * t->shape[1]);
    for (int64_t i = 0; i < t->numel; i++) {
        int64_t c = (i / plane) % t->shape[1];
        t->data[i] = c == 0 ? 0.75f : values[(i * 5 + c) % 7] + 0.01f * (float)(i % 3);
    }
    if (with_nan) t->data[t->numel - 1] = NAN; // poisons the last channel's statistics
}

// dy with NaN where the forward output is <= 0 (a masked-off NaN must not reach dx).
static cg_tensor *upstream(const cg_tensor *y) {
    cg_tensor *dy = cg_empty_like(y);
    for (int64_t i = 0; i < y->numel; i++)
        dy->data[i] = y->data[i] <= 0.0f && i % 4 == 0 ? NAN : (float)((i * 7) % 11) / 5.0f - 1.0f;
    return dy;
}

typedef struct bn_run {
    cg_tensor *y, *dx, *dw, *db, *rm, *rv;
} bn_run;

// relu(batch_norm(x)) fused or not, then backward of sum(y * dy) (dy from the fused output).
static bn_run run_bn(const cg_tensor *x0, const cg_tensor *dy, bool fused, bool training,
                     bool two_d) {
    int64_t C = x0->shape[1];
    cg_tensor *x = cg_test_copy_leaf(x0, true);
    cg_tensor *w = cg_full(CG_SHAPE(C), 1.25f), *b = cg_full(CG_SHAPE(C), -0.0f);
    w->data[C - 1] = -0.5f;
    b->data[C - 1] = 0.25f;
    cg_requires_grad(w, true);
    cg_requires_grad(b, true);
    cg_tensor *rm = cg_zeros(CG_SHAPE(C)), *rv = cg_full(CG_SHAPE(C), 2.0f);
    cg_tensor *y = fused ? cg_batch_norm_relu(x, rm, rv, w, b, training, 0.1f, 1e-5f)
                         : cg_relu((two_d ? cg_batch_norm2d : cg_batch_norm1d)(
                               x, rm, rv, w, b, training, 0.1f, 1e-5f));
    assert_non_null(y);
    cg_tensor *loss = cg_sum(cg_mul(y, dy ? (cg_tensor *)dy : y), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(loss), 0);
    return (bn_run){y, x->grad, w->grad, b->grad, rm, rv};
}

static void check_bn_case(int ndim, const int64_t *shape, bool training, bool with_nan) {
    cg_tensor *x = cg_empty(ndim, shape);
    fill_special(x, with_nan);
    for (int threads = 1; threads <= 4; threads++) {
        cg_set_num_threads(threads);
        bn_run probe = run_bn(x, NULL, true, training, ndim == 4);
        cg_tensor *dy = upstream(probe.y);
        bn_run f = run_bn(x, dy, true, training, ndim == 4);
        bn_run u = run_bn(x, dy, false, training, ndim == 4);
        assert_same(f.y, u.y, "output", threads);
        assert_same(f.dx, u.dx, "input grad", threads);
        assert_same(f.dw, u.dw, "weight grad", threads);
        assert_same(f.db, u.db, "bias grad", threads);
        assert_same(f.rm, u.rm, "running_mean", threads);
        assert_same(f.rv, u.rv, "running_var", threads);
    }
    cg_set_num_threads(0);
}

static void test_batch_norm_relu_matches_unfused(void **state) {
    (void)state;
    cg_scope_begin();
    // small planes, planes across the vector widths, and one above the threading threshold
    static const int64_t shapes[][4] = {{3, 4, 5, 5}, {2, 3, 17, 9}, {8, 5, 64, 33}};
    for (int i = 0; i < 3; i++)
        for (int mode = 0; mode < 4; mode++) check_bn_case(4, shapes[i], mode & 1, mode & 2);
    check_bn_case(CG_SHAPE(6, 5), true, false);
    check_bn_case(CG_SHAPE(700, 300), true, true); // by columns, threaded, two blocks
    check_bn_case(CG_SHAPE(4, 3, 7), true, true);
    check_bn_case(CG_SHAPE(4, 3, 7), false, false);
    cg_scope_end();
}

// Eval with running mean 0 and bias -0: x = -0 gives a -0 pre-activation, which the ReLU
// keeps and whose gradient it masks.
static void test_batch_norm_relu_signed_zero(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_test_tensor(CG_SHAPE(1, 1, 1, 4), (float[]){-0.0f, 0.0f, 1.0f, -1.0f});
    cg_requires_grad(x, true);
    cg_tensor *rm = cg_zeros(CG_SHAPE(1)), *rv = cg_ones(CG_SHAPE(1));
    cg_tensor *b = cg_full(CG_SHAPE(1), -0.0f);
    cg_tensor *y = cg_batch_norm_relu(x, rm, rv, NULL, b, false, 0.1f, 0.0f);
    assert_true(y->data[0] == 0.0f && signbit(y->data[0]));
    assert_true(y->data[1] == 0.0f && !signbit(y->data[1]));
    assert_int_equal(cg_backward(cg_sum(y, CG_ALL_DIMS, false)), 0);
    assert_true(x->grad->data[0] == 0.0f && x->grad->data[1] == 0.0f);
    assert_true(x->grad->data[2] == 1.0f && x->grad->data[3] == 0.0f);
    cg_scope_end();
}

// relu(a + b) fused or not: values and both gradients, b of a's shape or broadcast.
static void test_add_relu_matches_unfused(void **state) {
    (void)state;
    cg_scope_begin();
    static const int64_t big[] = {4, 16, 30, 30}, channel[] = {16, 1, 1};
    const int64_t *b_shapes[] = {big, channel};
    const int b_ndims[] = {4, 3};
    cg_tensor *a0 = cg_empty(4, big);
    fill_special(a0, true);
    for (int s = 0; s < 2; s++) {
        cg_tensor *b0 = cg_empty(b_ndims[s], b_shapes[s]);
        for (int64_t i = 0; i < b0->numel; i++)
            b0->data[i] = (i % 5 == 0) ? -0.0f : (float)((i * 3) % 7) - 3.0f;
        for (int threads = 1; threads <= 4; threads++) {
            cg_set_num_threads(threads);
            cg_tensor *out[2], *da[2], *db[2], *dy = NULL;
            for (int fused = 1; fused >= 0; fused--) {
                cg_tensor *a = cg_test_copy_leaf(a0, true), *b = cg_test_copy_leaf(b0, true);
                out[fused] = fused ? cg_add_relu(a, b) : cg_relu(cg_add(a, b));
                if (!dy) dy = upstream(out[fused]);
                assert_int_equal(cg_backward(cg_sum(cg_mul(out[fused], dy), CG_ALL_DIMS, false)),
                                 0);
                da[fused] = a->grad, db[fused] = b->grad;
            }
            assert_same(out[1], out[0], "add_relu output", threads);
            assert_same(da[1], da[0], "add_relu grad a", threads);
            assert_same(db[1], db[0], "add_relu grad b", threads);
        }
    }
    cg_set_num_threads(0);
    cg_test_expect_no_error();
    assert_null(cg_add_relu(a0, cg_zeros(CG_SHAPE(3))));
    cg_test_expect_error(CG_ERR_SHAPE, "add_relu: shapes [4,16,30,30] and [3]");
    cg_scope_end();
}

// Sequential(BatchNorm2d, ReLU) runs batch_norm_relu: the same output, gradients and
// buffers as the modules one by one, in training and eval.
static void test_sequential_fuses_batch_norm_relu(void **state) {
    (void)state;
    cg_module *seq = cg_Sequential(2, (cg_module *[]){cg_BatchNorm2d(3, NULL), cg_ReLU()});
    cg_module *bn = cg_BatchNorm2d(3, NULL), *relu = cg_ReLU();
    cg_tensor *x0 = cg_empty(CG_SHAPE(4, 3, 6, 6));
    fill_special(x0, false);
    for (int round = 0; round < 3; round++) {
        if (round == 2) cg_module_eval(seq), cg_module_eval(bn);
        cg_scope_begin();
        cg_tensor *xf = cg_test_copy_leaf(x0, true), *xu = cg_test_copy_leaf(x0, true);
        cg_tensor *yf = cg_module_forward(seq, xf);
        cg_tensor *yu = cg_module_forward(relu, cg_module_forward(bn, xu));
        assert_non_null(yf->node);
        assert_string_equal(yf->node->op->name, "batch_norm_relu");
        cg_tensor *dy = upstream(yf);
        cg_backward(cg_sum(cg_mul(yf, dy), CG_ALL_DIMS, false));
        cg_backward(cg_sum(cg_mul(yu, dy), CG_ALL_DIMS, false));
        assert_same(yf, yu, "Sequential output", round);
        assert_same(xf->grad, xu->grad, "Sequential input grad", round);
        const char *names[] = {"weight", "bias"};
        for (int i = 0; i < 2; i++)
            assert_same(cg_module_param(seq->children[0], names[i])->grad,
                        cg_module_param(bn, names[i])->grad, names[i], round);
        assert_same(cg_module_buffer(seq->children[0], "running_var"),
                    cg_module_buffer(bn, "running_var"), "running_var", round);
        cg_scope_end();
    }
    // a wrong rank goes through the modules alone and gets batch_norm2d's error
    cg_scope_begin();
    assert_null(cg_module_forward(seq, cg_zeros(CG_SHAPE(2, 3))));
    cg_test_expect_error(CG_ERR_SHAPE, "batch_norm2d: expected 4-D input");
    cg_scope_end();
    cg_free(x0);
    cg_module_free(seq);
    cg_module_free(bn);
    cg_module_free(relu);
}

// Live bytes held after a training forward of x through f (the graph still alive).
static int64_t forward_bytes(cg_module *m, cg_module *next, const cg_tensor *x0) {
    cg_scope_begin();
    cg_tensor *x = cg_test_copy_leaf(x0, true);
    int64_t before = cg_alloc_get_stats().live_bytes;
    cg_tensor *y =
        next ? cg_module_forward(next, cg_module_forward(m, x)) : cg_module_forward(m, x);
    assert_non_null(y);
    int64_t held = cg_alloc_get_stats().live_bytes - before;
    cg_scope_end();
    return held;
}

// Memory: BatchNorm2d + ReLU fused keeps one activation-sized tensor fewer until backward
// (the ReLU's output is the batch norm's, and no normalised copy is kept).
static void test_batch_norm_relu_memory(void **state) {
    (void)state;
    cg_module *seq = cg_Sequential(2, (cg_module *[]){cg_BatchNorm2d(8, NULL), cg_ReLU()});
    cg_module *bn = cg_BatchNorm2d(8, NULL), *relu = cg_ReLU();
    cg_tensor *x = cg_randn(CG_SHAPE(16, 8, 20, 20), NULL);
    int64_t fused = forward_bytes(seq, NULL, x), unfused = forward_bytes(bn, relu, x);
    int64_t activation = x->numel * (int64_t)sizeof(float);
    // (the allocator rounds a block up to its size class: up to 1/8 more)
    assert_true(fused >= activation && fused < activation + activation / 4);
    assert_true(unfused - fused >= activation);
    cg_free(x);
    cg_module_free(seq);
    cg_module_free(bn);
    cg_module_free(relu);
}

// |a - b| <= atol + rtol * |b| everywhere.
static void assert_near(const cg_tensor *a, const cg_tensor *b, double rtol, double atol,
                        const char *what) {
    assert_int_equal(a->numel, b->numel);
    for (int64_t i = 0; i < a->numel; i++)
        if (!(fabs((double)a->data[i] - b->data[i]) <= atol + rtol * fabs((double)b->data[i])))
            fail_msg("%s: element %lld is %.9g, unfused %.9g", what, (long long)i,
                     (double)a->data[i], (double)b->data[i]);
}

// Sequential(Conv2d, BatchNorm2d) in eval folds the batch norm into the convolution when no
// parameter gradient can be asked for. The folded products are rounded in another order:
// output and input gradient within 1e-5 relative + 1e-5 absolute of the two modules
// (outputs and gradients are O(1) here).
static void check_conv_bn_fold(bool conv_bias) {
    cg_module *seq = cg_Sequential(
        2, (cg_module *[]){
               cg_Conv2d(3, 6, 3,
                         &(cg_conv_options){.padding = 1, .stride = 2, .no_bias = !conv_bias}),
               cg_BatchNorm2d(6, NULL)});
    cg_module *conv = seq->children[0], *bn = seq->children[1];
    cg_tensor *x0 = cg_randn(CG_SHAPE(4, 3, 9, 9), NULL);
    cg_scope_begin();
    for (int i = 0; i < 3; i++) // running statistics away from (0, 1)
        cg_module_forward(seq, cg_add_scalar(cg_mul_scalar(x0, 2.0f), (float)i));
    cg_scope_end();
    cg_tensor *bw = cg_module_param(bn, "weight"), *bb = cg_module_param(bn, "bias");
    for (int c = 0; c < 6; c++)
        bw->data[c] = 0.5f + 0.25f * (float)c, bb->data[c] = 0.1f * (float)c;
    assert_false(cg_module_pairs(conv, bn)); // training
    cg_module_eval(seq);
    assert_false(cg_module_pairs(conv, bn)); // grad mode on, parameters require grad
    for (int threads = 1; threads <= 4; threads++) {
        cg_set_num_threads(threads);
        cg_scope_begin();
        bool grad_mode = cg_set_grad_enabled(false);
        assert_true(cg_module_pairs(conv, bn));
        cg_tensor *fused = cg_module_forward(seq, x0);
        cg_tensor *unfused = cg_module_forward(bn, cg_module_forward(conv, x0));
        assert_near(fused, unfused, 1e-5, 1e-5, "folded conv + batch norm");
        cg_set_grad_enabled(grad_mode);
        // frozen parameters: folded, and the input's gradient flows through the fold
        cg_tensor_list params = cg_module_named_parameters(seq);
        for (int i = 0; i < params.count; i++) params.items[i].tensor->requires_grad = false;
        assert_true(cg_module_pairs(conv, bn));
        cg_tensor *xf = cg_test_copy_leaf(x0, true), *xu = cg_test_copy_leaf(x0, true);
        fused = cg_module_forward(seq, xf);
        unfused = cg_module_forward(bn, cg_module_forward(conv, xu));
        cg_tensor *dy = cg_randn(unfused->ndim, unfused->shape, NULL);
        assert_int_equal(cg_backward(cg_sum(cg_mul(fused, dy), CG_ALL_DIMS, false)), 0);
        assert_int_equal(cg_backward(cg_sum(cg_mul(unfused, dy), CG_ALL_DIMS, false)), 0);
        assert_near(fused, unfused, 1e-5, 1e-5, "folded output, grad mode on");
        assert_near(xf->grad, xu->grad, 1e-5, 1e-5, "folded input grad");
        for (int i = 0; i < params.count; i++) params.items[i].tensor->requires_grad = true;
        cg_tensor_list_free(&params);
        cg_scope_end();
    }
    cg_set_num_threads(0);
    cg_free(x0);
    cg_module_free(seq);
}

static void test_sequential_folds_conv_batch_norm(void **state) {
    (void)state;
    check_conv_bn_fold(true);
    check_conv_bn_fold(false);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_batch_norm_relu_matches_unfused, cg_test_teardown),
        cmocka_unit_test_teardown(test_batch_norm_relu_signed_zero, cg_test_teardown),
        cmocka_unit_test_teardown(test_add_relu_matches_unfused, cg_test_teardown),
        cmocka_unit_test_teardown(test_sequential_fuses_batch_norm_relu, cg_test_teardown),
        cmocka_unit_test_teardown(test_sequential_folds_conv_batch_norm, cg_test_teardown),
        cmocka_unit_test_teardown(test_batch_norm_relu_memory, cg_test_teardown),
    };
    return cg_test_run("norm_fused", NULL, 0, tests, 6, 5);
}
