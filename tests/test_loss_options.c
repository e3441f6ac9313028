// tests/test_loss_options.c - the loss options and the newer losses of ops/loss.h against
// PyTorch (tests/fixtures/loss.txt, gen_loss.py): class weights, ignore_index,
// label_smoothing, probability targets and (N, C, d1, ...) inputs for cross_entropy and
// nll_loss; weight and pos_weight for binary_cross_entropy_with_logits; l1, smooth_l1 (beta),
// huber (delta), binary_cross_entropy and kl_div (log_target, batchmean); broadcasting mse/l1.
// Outputs and every gradient at rel err < 1e-4; gradchecks of each backward; error messages.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "loss.txt"

// The options a case was generated with (absent params: PyTorch's defaults).
static cg_loss_options case_options(const cg_fixture_case *c) {
    cg_loss_options o = {
        .reduction = (cg_reduction)(int)cg_fixture_param(c, "reduction", 0),
        .weight = cg_fixture_tensor(c, "weight"),
        .pos_weight = cg_fixture_tensor(c, "pos_weight"),
        .label_smoothing = cg_fixture_param(c, "label_smoothing", 0),
        .delta = cg_fixture_param(c, "delta", 0),
        .log_target = cg_fixture_param(c, "log_target", 0) != 0,
    };
    o.ignore_index = cg_fixture_optional(c, "ignore_index");
    o.beta = cg_fixture_optional(c, "beta");
    return o;
}

typedef cg_tensor *(*loss_fn)(cg_tensor *, cg_tensor *, const cg_loss_options *);

static cg_tensor *cross_entropy(cg_tensor *x, cg_tensor *t, const cg_loss_options *o) {
    return cg_cross_entropy(x, t, o);
}
static cg_tensor *nll_loss(cg_tensor *x, cg_tensor *t, const cg_loss_options *o) {
    return cg_nll_loss(x, t, o);
}

// The function a case prefix names.
static loss_fn case_loss(const char *name) {
    static const struct {
        const char *prefix;
        loss_fn fn;
    } table[] = {
        {"ce_options/", cross_entropy},
        {"nll_options/", nll_loss},
        {"bce_logits_options/", cg_binary_cross_entropy_with_logits},
        {"l1_loss/", cg_l1_loss},
        {"smooth_l1_loss/", cg_smooth_l1_loss},
        {"huber_loss/", cg_huber_loss},
        {"bce/", cg_binary_cross_entropy},
        {"kl_div/", cg_kl_div},
        {"mse_broadcast/", cg_mse_loss},
    };
    for (size_t i = 0; i < sizeof table / sizeof *table; i++)
        if (strncmp(name, table[i].prefix, strlen(table[i].prefix)) == 0) return table[i].fn;
    return NULL;
}

static cg_tensor *run_case(cg_tensor **in, const cg_fixture_case *c) {
    cg_loss_options o = case_options(c);
    return case_loss(cg_fixture_case_name(c))(in[0], in[1], &o);
}

static const cg_test_tolerance TOL = {1e-5, 1e-6, 1e-4, 1e-6};

#define LOSS_OP(prefix)                                                                            \
    { prefix, FIXTURE, 2, {"x", "target"}, run_case, &TOL }
static const cg_test_op OPS[] = {
    LOSS_OP("ce_options"), LOSS_OP("nll_options"),    LOSS_OP("bce_logits_options"),
    LOSS_OP("l1_loss"),    LOSS_OP("smooth_l1_loss"), LOSS_OP("huber_loss"),
    LOSS_OP("bce"),        LOSS_OP("kl_div"),         LOSS_OP("mse_broadcast"),
};
#define N_OPS ((int)(sizeof OPS / sizeof OPS[0]))

// ---- gradchecks ------------------------------------------------------------------------------

typedef struct grad_ctx {
    loss_fn fn;
    cg_loss_options options;
    cg_tensor *target; // class targets (not differentiated); NULL: in[1] is the target
} grad_ctx;

static cg_tensor *grad_fn(cg_tensor **in, void *ctx) {
    const grad_ctx *g = ctx;
    return g->fn(in[0], g->target ? g->target : in[1], &g->options);
}

static cg_tensor *leaf(cg_tensor *t) {
    return cg_requires_grad(t, true);
}

static void test_class_gradchecks(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *w = cg_test_tensor(CG_SHAPE(4), (float[]){0.5f, 1.5f, 1, 2});
    cg_tensor *t = cg_test_tensor(CG_SHAPE(5), (float[]){0, 3, 1, -100, 2});
    cg_tensor *t3 = cg_test_tensor(CG_SHAPE(5), (float[]){0, 3, 1, 3, 2}); // ignore_index 3
    cg_tensor *t_nd = cg_test_tensor(CG_SHAPE(2, 3), (float[]){0, 3, 1, 1, 2, 0});
    cg_tensor *soft = cg_softmax(cg_randn(CG_SHAPE(5, 4), NULL), 1);
    const cg_reduction reductions[] = {CG_REDUCTION_MEAN, CG_REDUCTION_SUM, CG_REDUCTION_NONE};
    for (int r = 0; r < 3; r++) {
        cg_loss_options full = {reductions[r], .weight = w, .label_smoothing = 0.2};
        grad_ctx cases[] = {
            {cross_entropy, full, t},
            {cross_entropy, {reductions[r], .ignore_index = CG_SET(3)}, t3},
            {cross_entropy, {reductions[r], .weight = w, .label_smoothing = 0.3}, soft},
            {nll_loss, {reductions[r], .weight = w}, t},
        };
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            cg_tensor *x = leaf(cg_randn(CG_SHAPE(5, 4), NULL));
            cg_test_gradcheck(grad_fn, &cases[i], 1, &x, "class loss with options");
        }
        // Probability targets are differentiable too.
        grad_ctx both = {cross_entropy, {reductions[r], .weight = w, .label_smoothing = 0.1}, NULL};
        cg_tensor *pair[2] = {leaf(cg_randn(CG_SHAPE(5, 4), NULL)), leaf(cg_copy(soft))};
        cg_test_gradcheck(grad_fn, &both, 2, pair, "cross_entropy soft target");
        grad_ctx nd = {cross_entropy, full, t_nd};
        cg_tensor *x = leaf(cg_randn(CG_SHAPE(2, 4, 3), NULL));
        cg_test_gradcheck(grad_fn, &nd, 1, &x, "cross_entropy (N, C, d1)");
    }
    cg_scope_end();
}

static void test_elementwise_gradchecks(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *w = cg_test_tensor(CG_SHAPE(4), (float[]){0.5f, 1.5f, 1, 2});
    const cg_reduction reductions[] = {CG_REDUCTION_MEAN, CG_REDUCTION_SUM, CG_REDUCTION_NONE};
    for (int r = 0; r < 3; r++) {
        cg_reduction red = reductions[r];
        // Differences kept away from the kinks of l1/smooth_l1/huber (0, +-beta, +-delta).
        cg_tensor *base = cg_randn(CG_SHAPE(3, 4), NULL);
        cg_tensor *d =
            cg_test_tensor(CG_SHAPE(3, 4), (float[]){-2, -0.7f, -0.3f, 0.2f, 0.6f, 1.4f, -1.3f,
                                                     0.35f, 2.2f, -0.15f, 0.8f, -0.45f});
        struct {
            loss_fn fn;
            cg_loss_options o;
            const char *what;
        } smooth[] = {
            {cg_l1_loss, {.reduction = red}, "l1_loss"},
            {cg_smooth_l1_loss, {.reduction = red}, "smooth_l1_loss"},
            {cg_smooth_l1_loss, {red, .beta = CG_SET(0.5)}, "smooth_l1_loss beta 0.5"},
            {cg_huber_loss, {red, .delta = 0.5}, "huber_loss delta 0.5"},
            {cg_mse_loss, {.reduction = red}, "mse_loss"},
        };
        for (size_t i = 0; i < sizeof smooth / sizeof *smooth; i++) {
            grad_ctx g = {smooth[i].fn, smooth[i].o, NULL};
            cg_tensor *in[2] = {leaf(cg_add(base, d)), leaf(cg_copy(base))};
            cg_test_gradcheck(grad_fn, &g, 2, in, smooth[i].what);
        }
        grad_ctx bce = {cg_binary_cross_entropy, {red, .weight = w}, NULL};
        cg_tensor *p[2] = {
            leaf(cg_add_scalar(cg_mul_scalar(cg_rand(CG_SHAPE(3, 4), NULL), 0.8f), 0.1f)),
            leaf(cg_rand(CG_SHAPE(3, 4), NULL))};
        cg_test_gradcheck(grad_fn, &bce, 2, p, "binary_cross_entropy");
        grad_ctx logits = {
            cg_binary_cross_entropy_with_logits, {red, .weight = w, .pos_weight = w}, NULL};
        cg_tensor *z[2] = {leaf(cg_mul_scalar(cg_randn(CG_SHAPE(3, 4), NULL), 2)),
                           leaf(cg_rand(CG_SHAPE(3, 4), NULL))};
        cg_test_gradcheck(grad_fn, &logits, 2, z, "binary_cross_entropy_with_logits pos_weight");
        for (int log_target = 0; log_target < 2; log_target++) {
            grad_ctx kl = {cg_kl_div, {red, .log_target = log_target}, NULL};
            cg_tensor *q = cg_softmax(cg_randn(CG_SHAPE(3, 4), NULL), 1);
            cg_tensor *k[2] = {leaf(cg_log_softmax(cg_randn(CG_SHAPE(3, 4), NULL), 1)),
                               leaf(log_target ? cg_log(q) : q)};
            cg_test_gradcheck(grad_fn, &kl, 2, k, "kl_div");
        }
        grad_ctx broadcast = {cg_mse_loss, {.reduction = red}, NULL};
        cg_tensor *b[2] = {leaf(cg_randn(CG_SHAPE(3, 1), NULL)), leaf(cg_randn(CG_SHAPE(4), NULL))};
        cg_test_gradcheck(grad_fn, &broadcast, 2, b, "mse_loss broadcast");
    }
    grad_ctx batchmean = {cg_kl_div, {.reduction = CG_REDUCTION_BATCHMEAN}, NULL};
    cg_tensor *k[2] = {leaf(cg_randn(CG_SHAPE(3, 4), NULL)), leaf(cg_rand(CG_SHAPE(3, 4), NULL))};
    cg_test_gradcheck(grad_fn, &batchmean, 2, k, "kl_div batchmean");
    cg_scope_end();
}

// A mean over only ignored targets is 0/0 = NaN, as PyTorch; with sum it is 0.
static void test_all_ignored(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3), NULL);
    cg_tensor *t = cg_test_tensor(CG_SHAPE(2), (float[]){-100, -100});
    assert_true(isnan(cg_item(cg_cross_entropy(x, t, NULL))));
    assert_true(cg_item(cg_nll_loss(x, t, &(cg_loss_options){.reduction = CG_REDUCTION_SUM})) == 0);
    cg_scope_end();
}

static void test_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_zeros(CG_SHAPE(3, 4)), *t = cg_test_tensor(CG_SHAPE(3), (float[]){0, 1, 2});
    assert_null(cg_cross_entropy(x, t, &(cg_loss_options){.weight = cg_ones(CG_SHAPE(3))}));
    cg_test_expect_error(CG_ERR_SHAPE,
                         "cross_entropy: weight must be (C) = [4] (one per class), got [3]");
    assert_null(cg_cross_entropy(x, t, &(cg_loss_options){.label_smoothing = 1.5}));
    cg_test_expect_error(CG_ERR_ARG, "cross_entropy: label_smoothing=1.5 must be in [0, 1]");
    assert_null(cg_nll_loss(x, t, &(cg_loss_options){.label_smoothing = 0.1}));
    cg_test_expect_error(CG_ERR_ARG, "nll_loss: option label_smoothing does not apply");
    assert_null(cg_cross_entropy(x, t, &(cg_loss_options){.ignore_index = CG_SET(0.5)}));
    cg_test_expect_error(CG_ERR_ARG, "cross_entropy: ignore_index=0.5 is not a whole number");
    assert_null(cg_cross_entropy(x, cg_test_tensor(CG_SHAPE(3), (float[]){0, -100, 7}), NULL));
    cg_test_expect_error(CG_ERR_ARG, "cross_entropy: target[2] = 7 is not a class index in [0, 4)");
    assert_null(cg_cross_entropy(x, t, &(cg_loss_options){.reduction = CG_REDUCTION_BATCHMEAN}));
    cg_test_expect_error(CG_ERR_ARG,
                         "cross_entropy: unknown reduction 3 (batchmean is for kl_div only)");
    assert_null(cg_nll_loss(x, x, NULL));
    cg_test_expect_error(
        CG_ERR_SHAPE,
        "nll_loss: target [3,4] does not fit log_probs [3,4]: expected [3] of class indices");
    assert_null(cg_mse_loss(x, x, &(cg_loss_options){.weight = x}));
    cg_test_expect_error(CG_ERR_ARG, "mse_loss: option weight does not apply to this loss");
    assert_null(cg_huber_loss(x, x, &(cg_loss_options){.beta = CG_SET(1)}));
    cg_test_expect_error(CG_ERR_ARG, "huber_loss: option beta does not apply");
    assert_null(cg_huber_loss(x, x, &(cg_loss_options){.delta = -1}));
    cg_test_expect_error(CG_ERR_ARG, "huber_loss: delta=-1 must be > 0");
    assert_null(cg_smooth_l1_loss(x, x, &(cg_loss_options){.beta = CG_SET(-0.5)}));
    cg_test_expect_error(CG_ERR_ARG, "smooth_l1_loss: beta=-0.5 must be >= 0");
    assert_null(cg_l1_loss(x, cg_zeros(CG_SHAPE(2, 4)), NULL));
    cg_test_expect_error(
        CG_ERR_SHAPE,
        "l1_loss: input [3,4] and target [2,4] must have the same shape or broadcast");
    cg_tensor *p = cg_full(CG_SHAPE(3, 4), 0.5f);
    p->data[5] = 1.25f;
    assert_null(cg_binary_cross_entropy(p, x, NULL));
    cg_test_expect_error(CG_ERR_ARG,
                         "binary_cross_entropy: input[5] = 1.25 is not a probability in [0, 1]");
    assert_null(cg_binary_cross_entropy(x, cg_zeros(CG_SHAPE(4)), NULL));
    cg_test_expect_error(
        CG_ERR_SHAPE, "binary_cross_entropy: input [3,4] and target [4] must have the same shape");
    assert_null(cg_binary_cross_entropy_with_logits(
        x, x, &(cg_loss_options){.pos_weight = cg_ones(CG_SHAPE(3))}));
    cg_test_expect_error(CG_ERR_SHAPE, "binary_cross_entropy_with_logits: pos_weight [3] does not "
                                       "broadcast to the input's shape [3,4]");
    assert_null(cg_binary_cross_entropy(x, x, &(cg_loss_options){.pos_weight = x}));
    cg_test_expect_error(CG_ERR_ARG, "binary_cross_entropy: option pos_weight does not apply");
    assert_null(cg_kl_div(x, x, &(cg_loss_options){.label_smoothing = 0.1}));
    cg_test_expect_error(CG_ERR_ARG, "kl_div: option label_smoothing does not apply");
    assert_null(cg_kl_div(NULL, x, NULL));
    cg_test_expect_error(CG_ERR_ARG, "kl_div");
    cg_scope_end();
}

int main(void) {
    struct CMUnitTest tests[N_OPS + 4];
    int n = 0;
    for (int i = 0; i < N_OPS; i++) tests[n++] = cg_test_op_unit_test(&OPS[i]);
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_class_gradchecks, cg_test_teardown),
        cmocka_unit_test_teardown(test_elementwise_gradchecks, cg_test_teardown),
        cmocka_unit_test_teardown(test_all_ignored, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    for (size_t i = 0; i < sizeof extra / sizeof extra[0]; i++) tests[n++] = extra[i];
    cg_manual_seed(8);
    cg_test_capture_errors();
    return _cmocka_run_group_tests("loss_options", tests, (size_t)n, NULL, NULL);
}
