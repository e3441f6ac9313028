// tests/test_loss.c - nn/loss.h against PyTorch (tests/fixtures/nn.txt) for every reduction,
// finite-difference gradchecks, stability at extreme logits and the error messages for bad
// targets, shapes and reductions.
#include <math.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "nn.txt"

static cg_reduction case_reduction(const cg_fixture_case *c) {
    return (cg_reduction)(int)cg_fixture_param(c, "reduction", -1);
}

static cg_tensor *run_cross_entropy(cg_tensor **in, const cg_fixture_case *c) {
    return cg_cross_entropy(in[0], in[1], &(cg_loss_options){.reduction = case_reduction(c)});
}
static cg_tensor *run_nll(cg_tensor **in, const cg_fixture_case *c) {
    return cg_nll_loss(in[0], in[1], &(cg_loss_options){.reduction = case_reduction(c)});
}
static cg_tensor *run_mse(cg_tensor **in, const cg_fixture_case *c) {
    return cg_mse_loss(in[0], in[1], &(cg_loss_options){.reduction = case_reduction(c)});
}
static cg_tensor *run_bce(cg_tensor **in, const cg_fixture_case *c) {
    return cg_binary_cross_entropy_with_logits(in[0], in[1],
                                               &(cg_loss_options){.reduction = case_reduction(c)});
}

// Reductions over a few dozen values: summation order differs from PyTorch's.
static const cg_test_tolerance SUM_TOL = {1e-5, 1e-5, 1e-4, 1e-5};

static const cg_test_op OPS[] = {
    {"cross_entropy", FIXTURE, 2, {"x", "target"}, run_cross_entropy, &SUM_TOL},
    {"nll_loss", FIXTURE, 2, {"x", "target"}, run_nll, &SUM_TOL},
    {"mse_loss", FIXTURE, 2, {"x", "target"}, run_mse, &SUM_TOL},
    {"bce_with_logits", FIXTURE, 2, {"x", "target"}, run_bce, &SUM_TOL},
};

// ---- gradchecks --------------------------------------------------------------------------

typedef struct loss_ctx {
    cg_reduction reduction;
    cg_tensor *target; // class indices, for the class losses
} loss_ctx;

static cg_tensor *grad_cross_entropy(cg_tensor **in, void *ctx) {
    const loss_ctx *c = ctx;
    return cg_cross_entropy(in[0], c->target, &(cg_loss_options){.reduction = c->reduction});
}
static cg_tensor *grad_nll(cg_tensor **in, void *ctx) {
    const loss_ctx *c = ctx;
    return cg_nll_loss(in[0], c->target, &(cg_loss_options){.reduction = c->reduction});
}
static cg_tensor *grad_mse(cg_tensor **in, void *ctx) {
    return cg_mse_loss(in[0], in[1],
                       &(cg_loss_options){.reduction = ((const loss_ctx *)ctx)->reduction});
}
static cg_tensor *grad_bce(cg_tensor **in, void *ctx) {
    return cg_binary_cross_entropy_with_logits(
        in[0], in[1], &(cg_loss_options){.reduction = ((const loss_ctx *)ctx)->reduction});
}

static cg_tensor *leaf(cg_tensor *t) {
    return cg_requires_grad(t, true);
}

static void test_gradchecks(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *target = cg_test_tensor(CG_SHAPE(5), (float[]){0, 3, 1, 3, 2});
    const cg_reduction reductions[] = {CG_REDUCTION_MEAN, CG_REDUCTION_SUM, CG_REDUCTION_NONE};
    for (int r = 0; r < 3; r++) {
        loss_ctx ctx = {reductions[r], target};
        cg_tensor *logits = leaf(cg_randn(CG_SHAPE(5, 4), NULL));
        cg_test_gradcheck(grad_cross_entropy, &ctx, 1, &logits, "cross_entropy");
        cg_test_gradcheck(grad_nll, &ctx, 1, &logits, "nll_loss");
        cg_tensor *pair[2] = {leaf(cg_randn(CG_SHAPE(3, 4), NULL)),
                              leaf(cg_randn(CG_SHAPE(3, 4), NULL))};
        cg_test_gradcheck(grad_mse, &ctx, 2, pair, "mse_loss");
        cg_tensor *bce[2] = {leaf(cg_mul_scalar(cg_randn(CG_SHAPE(3, 4), NULL), 2.0f)),
                             leaf(cg_rand(CG_SHAPE(3, 4), NULL))};
        cg_test_gradcheck(grad_bce, &ctx, 2, bce, "binary_cross_entropy_with_logits");
    }
    cg_scope_end();
}

// cross_entropy = nll_loss(log_softmax(x)), both forward and backward.
static void test_cross_entropy_is_nll_of_log_softmax(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x1 = leaf(cg_randn(CG_SHAPE(8, 6), NULL));
    cg_tensor *x2 = leaf(cg_copy(cg_detach(x1)));
    cg_tensor *target = cg_randint(0, 6, CG_SHAPE(8), NULL);
    cg_tensor *ce = cg_cross_entropy(x1, target, NULL);
    cg_tensor *nll = cg_nll_loss(cg_log_softmax(x2, 1), target, NULL);
    cg_assert_close(ce, nll, 1e-5, 1e-6, "cross_entropy vs nll(log_softmax)");
    assert_int_equal(cg_backward(ce), 0);
    assert_int_equal(cg_backward(nll), 0);
    cg_assert_close(x1->grad, x2->grad, 1e-4, 1e-6, "their gradients");
    // Each row of the gradient of a mean loss sums to 0 (softmax - onehot) / N.
    cg_tensor *rows = cg_sum(x1->grad, CG_DIMS(1), false);
    cg_assert_close(rows, cg_zeros(CG_SHAPE(8)), 0, 1e-6, "gradient rows sum to 0");
    cg_scope_end();
}

// Logits far beyond exp's float range: finite loss and gradient.
static void test_extreme_logits(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(cg_test_tensor(CG_SHAPE(2, 3), (float[]){1e4f, -1e4f, 0, 3e38f, 0, 0}));
    cg_tensor *target = cg_test_tensor(CG_SHAPE(2), (float[]){1, 0});
    cg_tensor *loss =
        cg_cross_entropy(x, target, &(cg_loss_options){.reduction = CG_REDUCTION_NONE});
    assert_float_equal(cg_get(loss, CG_SHAPE(0)), 2e4, 1);
    assert_float_equal(cg_get(loss, CG_SHAPE(1)), 0, 1e-6);
    assert_int_equal(cg_backward_ex(loss, cg_ones(CG_SHAPE(2)), false), 0);
    for (int i = 0; i < 6; i++) assert_true(isfinite(x->grad->data[i]));
    cg_tensor *z = leaf(cg_test_tensor(CG_SHAPE(4), (float[]){200, -200, 1e30f, -1e30f}));
    cg_tensor *t = cg_test_tensor(CG_SHAPE(4), (float[]){1, 0, 0, 1});
    cg_tensor *bce = cg_binary_cross_entropy_with_logits(
        z, t, &(cg_loss_options){.reduction = CG_REDUCTION_NONE});
    cg_assert_close(bce, cg_test_tensor(CG_SHAPE(4), (float[]){0, 0, 1e30f, 1e30f}), 1e-6, 1e-30,
                    "bce with logits in both tails");
    assert_int_equal(cg_backward(cg_sum(bce, CG_ALL_DIMS, false)), 0);
    cg_assert_close(z->grad, cg_test_tensor(CG_SHAPE(4), (float[]){0, 0, 1, -1}), 0, 1e-6,
                    "bce gradient saturates at sigmoid - target");
    cg_scope_end();
}

// The loss keeps its own copy of the targets: changing them after the forward pass does
// not change the gradient.
static void test_targets_copied(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(cg_zeros(CG_SHAPE(2, 2)));
    cg_tensor *target = cg_test_tensor(CG_SHAPE(2), (float[]){0, 1});
    cg_tensor *loss = cg_nll_loss(x, target, &(cg_loss_options){.reduction = CG_REDUCTION_SUM});
    target->data[0] = 1;
    assert_int_equal(cg_backward(loss), 0);
    cg_assert_close(x->grad, cg_test_tensor(CG_SHAPE(2, 2), (float[]){-1, 0, 0, -1}), 0, 0,
                    "nll gradient from the targets at forward time");
    cg_scope_end();
}

static void test_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_zeros(CG_SHAPE(3, 5));
    cg_tensor *bad_index = cg_test_tensor(CG_SHAPE(3), (float[]){0, 5, 1});
    assert_null(cg_cross_entropy(x, bad_index, NULL));
    cg_test_expect_error(CG_ERR_ARG, "cross_entropy: target[1] = 5 is not a class index in [0, 5)");
    assert_null(cg_nll_loss(x, cg_test_tensor(CG_SHAPE(3), (float[]){0, 1, -1}),
                            &(cg_loss_options){.reduction = CG_REDUCTION_SUM}));
    cg_test_expect_error(CG_ERR_ARG, "nll_loss: target[2] = -1 is not a class index in [0, 5)");
    assert_null(cg_cross_entropy(x, cg_test_tensor(CG_SHAPE(3), (float[]){0, 1.5f, 1}), NULL));
    cg_test_expect_error(CG_ERR_ARG, "target[1] = 1.5 is not a class index");
    assert_null(cg_cross_entropy(x, cg_test_tensor(CG_SHAPE(3), (float[]){NAN, 1, 1}), NULL));
    cg_test_expect_error(CG_ERR_ARG, "target[0] = nan is not a class index");
    assert_null(cg_cross_entropy(x, cg_zeros(CG_SHAPE(4)), NULL));
    cg_test_expect_error(CG_ERR_SHAPE, "cross_entropy: target [4] does not fit logits [3,5]");
    assert_null(cg_cross_entropy(x, cg_zeros(CG_SHAPE(3, 1)), NULL));
    cg_test_expect_error(CG_ERR_SHAPE, "expected [3] of class indices");
    // (N, C, d1) logits are valid now (issue 10): a target that fits neither form is refused.
    assert_null(cg_cross_entropy(cg_zeros(CG_SHAPE(2, 3, 4)), cg_zeros(CG_SHAPE(2)), NULL));
    cg_test_expect_error(CG_ERR_SHAPE, "cross_entropy: target [2] does not fit logits [2,3,4]: "
                                       "expected [2,4] of class indices");
    assert_null(cg_cross_entropy(x, cg_zeros(CG_SHAPE(3)),
                                 &(cg_loss_options){.reduction = (cg_reduction)7}));
    cg_test_expect_error(CG_ERR_ARG, "cross_entropy: unknown reduction 7");
    assert_null(cg_cross_entropy(x, NULL, NULL));
    cg_test_expect_error(CG_ERR_ARG, "cross_entropy");
    assert_null(cg_mse_loss(x, cg_zeros(CG_SHAPE(5, 3)), NULL));
    cg_test_expect_error(CG_ERR_SHAPE,
                         "mse_loss: input [3,5] and target [5,3] must have the same shape");
    assert_null(cg_binary_cross_entropy_with_logits(
        x, cg_zeros(CG_SHAPE(3)), &(cg_loss_options){.reduction = CG_REDUCTION_SUM}));
    cg_test_expect_error(CG_ERR_SHAPE, "binary_cross_entropy_with_logits: input [3,5]");
    assert_null(cg_mse_loss(NULL, x, &(cg_loss_options){.reduction = CG_REDUCTION_SUM}));
    cg_test_expect_error(CG_ERR_ARG, "mse_loss");
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_gradchecks, cg_test_teardown),
        cmocka_unit_test_teardown(test_cross_entropy_is_nll_of_log_softmax, cg_test_teardown),
        cmocka_unit_test_teardown(test_extreme_logits, cg_test_teardown),
        cmocka_unit_test_teardown(test_targets_copied, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("loss", OPS, extra, 5);
}
