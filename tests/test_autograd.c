// tests/test_autograd.c - the engine (accumulation, retain_graph, no_grad, detach, zero_grad,
// requires_grad propagation, intermediate grads, DOT export) and a finite-difference
// gradcheck of every differentiable op of tensor/math.h and tensor/tensor.h, plus proof that
// gradcheck catches a wrong backward.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "op_cases.h"
#include "testing.h"

static cg_tensor *leaf(int ndim, const int64_t *shape, const float *values) {
    return cg_requires_grad(cg_test_tensor(ndim, shape, values), true);
}

// ---- engine behaviour -----------------------------------------------------------------------

// Leaves accumulate across backward calls: twice d(sum(x*x))/dx = 4x.
static void test_grad_accumulates(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(3), (float[]){1, -2, 0.5f});
    for (int pass = 0; pass < 2; pass++) {
        cg_tensor *loss = cg_sum(cg_mul(x, x), CG_ALL_DIMS, false);
        assert_int_equal(cg_backward(loss), 0);
    }
    cg_assert_close(x->grad, cg_test_tensor(CG_SHAPE(3), (float[]){4, -8, 2}), 1e-6, 0,
                    "grad after two backward calls");
    cg_scope_end();
}

static void test_backward_non_scalar_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(3), (float[]){1, 2, 3});
    cg_tensor *y = cg_mul_scalar(x, 2);
    assert_int_equal(cg_backward(y), -1);
    assert_non_null(strstr(cg_test_last_message(), "backward"));
    cg_test_expect_error(CG_ERR_SHAPE, "[3]");
    assert_null(x->grad); // nothing happened
    // an explicit gradient of the wrong shape is an error too
    assert_int_equal(cg_backward_ex(y, cg_ones(CG_SHAPE(2)), false), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "[2]");
    // and a tensor with no graph cannot be differentiated
    cg_tensor *plain = cg_ones(CG_SHAPE(1));
    assert_int_equal(cg_backward(plain), -1);
    cg_test_expect_error(CG_ERR_STATE, "backward");
    cg_scope_end();
}

// backward_ex with an explicit seed g: d(sum(g * x^2))/dx = 2 x g.
static void test_backward_ex_explicit_grad(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(2, 2), (float[]){1, 2, 3, 4});
    cg_tensor *g = cg_test_tensor(CG_SHAPE(2, 2), (float[]){0.5f, -1, 2, 0});
    assert_int_equal(cg_backward_ex(cg_mul(x, x), g, false), 0);
    cg_assert_close(x->grad, cg_test_tensor(CG_SHAPE(2, 2), (float[]){1, -4, 12, 0}), 1e-6, 0,
                    "2 x g");
    cg_scope_end();
}

static void test_retain_graph(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(2), (float[]){3, -1});
    cg_tensor *loss = cg_sum(cg_exp(cg_mul(x, x)), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(loss), 0);
    assert_int_equal(cg_backward(loss), -1); // saved data was freed
    cg_test_expect_error(CG_ERR_STATE, "second time");
    cg_tensor *first = cg_test_copy_leaf(x->grad, false);

    cg_zero_grad(x);
    cg_tensor *loss2 = cg_sum(cg_exp(cg_mul(x, x)), CG_ALL_DIMS, false);
    cg_tensor *one = cg_scalar(1);
    assert_int_equal(cg_backward_ex(loss2, one, true), 0);
    assert_int_equal(cg_backward_ex(loss2, one, true), 0);
    assert_int_equal(cg_backward_ex(loss2, one, false), 0);
    cg_test_expect_no_error();
    cg_assert_close(x->grad, cg_mul_scalar(first, 3), 1e-6, 0, "three passes with retain_graph");
    assert_int_equal(cg_backward(loss2), -1); // the last pass did not retain
    cg_test_expect_error(CG_ERR_STATE, "retain_graph");
    cg_scope_end();
}

static void test_no_grad(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(2), (float[]){1, 2});
    assert_true(cg_is_grad_enabled());
    bool prev = cg_set_grad_enabled(false);
    assert_true(prev);
    assert_false(cg_is_grad_enabled());
    cg_tensor *y = cg_sum(cg_mul(x, x), CG_ALL_DIMS, false);
    assert_false(y->requires_grad);
    assert_null(y->node);
    assert_float_equal(cg_item(y), 5, 0); // values are still computed
    assert_false(cg_set_grad_enabled(prev));
    assert_true(cg_is_grad_enabled());
    assert_int_equal(cg_backward(y), -1);
    cg_test_expect_error(CG_ERR_STATE, NULL);
    assert_null(x->grad);
    cg_scope_end();
}

// loss = sum(x * detach(x)): only the first factor carries gradient, so dx = x, not 2x.
static void test_detach_stops_gradient(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(3), (float[]){1, -2, 3});
    cg_tensor *loss = cg_sum(cg_mul(x, cg_detach(x)), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(loss), 0);
    cg_assert_close(x->grad, x, 0, 0, "grad through detach");
    cg_scope_end();
}

static void test_zero_grad(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(2), (float[]){1, 2});
    cg_zero_grad(x);    // no grad yet: nothing to do
    cg_zero_grad(NULL); // fine
    assert_int_equal(cg_backward(cg_sum(cg_mul_scalar(x, 5), CG_ALL_DIMS, false)), 0);
    cg_tensor *buffer = x->grad;
    float *data = x->grad->data;
    cg_zero_grad(x);
    assert_ptr_equal(x->grad, buffer); // keeps its buffer
    assert_ptr_equal(x->grad->data, data);
    cg_assert_close(x->grad, cg_zeros(CG_SHAPE(2)), 0, 0, "zeroed grad");
    assert_int_equal(cg_backward(cg_sum(cg_mul_scalar(x, 5), CG_ALL_DIMS, false)), 0);
    cg_assert_close(x->grad, cg_full(CG_SHAPE(2), 5), 0, 0, "grad after zero_grad + backward");
    cg_scope_end();
}

static void test_requires_grad_propagation(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *a = leaf(CG_SHAPE(2), (float[]){1, 2});
    cg_tensor *b = cg_test_tensor(CG_SHAPE(2), (float[]){3, 4});
    assert_true(a->requires_grad);
    assert_null(a->node);
    assert_false(b->requires_grad);
    cg_tensor *ab = cg_add(a, b);
    assert_true(ab->requires_grad);
    assert_non_null(ab->node);
    assert_ptr_equal(ab->node->output, ab);
    cg_tensor *bb = cg_mul(b, b);
    assert_false(bb->requires_grad);
    assert_null(bb->node);
    cg_tensor *view = cg_reshape(ab, CG_SHAPE(2, 1));
    assert_true(view->requires_grad);
    // turning requires_grad off again is fine for a leaf
    cg_requires_grad(a, false);
    assert_false(cg_add(a, b)->requires_grad);
    // only b requires grad: b receives a gradient, a does not
    cg_requires_grad(b, true);
    assert_int_equal(cg_backward(cg_sum(cg_mul(a, b), CG_ALL_DIMS, false)), 0);
    assert_null(a->grad);
    cg_assert_close(b->grad, a, 0, 0, "d(a*b)/db");
    cg_scope_end();
}

// Intermediate tensors get their grads too: h = 2x, L = sum(h^2): dL/dh = 2h, dL/dx = 8x.
static void test_intermediate_grads(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(3), (float[]){1, -0.5f, 2});
    cg_tensor *h = cg_mul_scalar(x, 2);
    cg_tensor *loss = cg_sum(cg_mul(h, h), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(loss), 0);
    cg_assert_close(h->grad, cg_mul_scalar(h, 2), 1e-6, 0, "dL/dh");
    cg_assert_close(x->grad, cg_mul_scalar(x, 8), 1e-6, 0, "dL/dx");
    assert_non_null(loss->grad);
    assert_float_equal(cg_item(loss->grad), 1, 0);
    cg_scope_end();
}

// A diamond: x feeds two branches that meet again; both contributions arrive.
static void test_diamond_graph(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(2), (float[]){0.5f, -1});
    cg_tensor *a = cg_exp(x);
    cg_tensor *b = cg_mul_scalar(x, 3);
    cg_tensor *loss = cg_sum(cg_mul(a, b), CG_ALL_DIMS, false); // 3 x e^x
    assert_int_equal(cg_backward(loss), 0);
    // d/dx 3 x e^x = 3 e^x (1 + x)
    float expected[2];
    for (int i = 0; i < 2; i++) expected[i] = 3 * expf(x->data[i]) * (1 + x->data[i]);
    cg_assert_close(x->grad, cg_test_tensor(CG_SHAPE(2), expected), 1e-5, 1e-7, "diamond");
    cg_scope_end();
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *text = calloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static void test_dot_export(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *a = cg_requires_grad(cg_randn(CG_SHAPE(2, 3), NULL), true);
    cg_tensor *b = cg_requires_grad(cg_randn(CG_SHAPE(3, 4), NULL), true);
    a->name = "weights_a";
    cg_tensor *loss = cg_sum(cg_relu(cg_matmul(a, b)), CG_ALL_DIMS, false);
    const char *path = CG_TEST_TMP_DIR "/test_autograd_graph.dot";
    remove(path);
    assert_int_equal(cg_graph_save_dot(loss, path), 0);
    char *text = read_text(path);
    assert_non_null(text);
    const char *expected[] = {"digraph", "matmul", "relu",      "sum", "[2,3]",
                              "[3,4]",   "[2,4]",  "weights_a", "->"};
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        if (!strstr(text, expected[i])) fail_msg("DOT export lacks \"%s\":\n%s", expected[i], text);
    // every brace opened is closed
    int depth = 0;
    for (const char *p = text; *p; p++) depth += (*p == '{') - (*p == '}');
    assert_int_equal(depth, 0);
    free(text);
    remove(path);
    assert_int_equal(cg_graph_save_dot(loss, CG_TEST_TMP_DIR "/no/such/dir/graph.dot"), -1);
    cg_test_expect_error(CG_ERR_IO, "no/such/dir");
    cg_scope_end();
}

// ---- gradcheck of every differentiable op -----------------------------------------------------

// Every case of tests/support/op_cases.def passes gradcheck and every op of ops/ops.def is
// recorded by one of them.
static void test_gradcheck_every_op(void **state) {
    (void)state;
    cg_test_gradcheck_all_ops();
}

// ---- a custom op with a wrong backward must be caught -------------------------------------------

// y = x^2 computed by hand; the backward claims 3x instead of 2x (bad) or 2x (good).
static void square_backward(cg_node *n, const cg_tensor *grad_out, float factor) {
    cg_tensor *x = n->inputs[0];
    cg_tensor *dx = cg_empty_like(x);
    for (int64_t i = 0; i < x->numel; i++) dx->data[i] = factor * x->data[i] * grad_out->data[i];
    cg_accumulate_grad(x, dx);
}
static void bad_square_backward(cg_node *n, const cg_tensor *g) {
    square_backward(n, g, 3.0f);
}
static void good_square_backward(cg_node *n, const cg_tensor *g) {
    square_backward(n, g, 2.0f);
}
static const cg_op bad_square_op = {"bad_square", bad_square_backward, "nothing (reads input)"};
static const cg_op good_square_op = {"good_square", good_square_backward, "nothing (reads input)"};

static cg_tensor *custom_square(cg_tensor **in, void *ctx) {
    cg_tensor *x = in[0];
    cg_tensor *y = cg_empty_like(x);
    for (int64_t i = 0; i < x->numel; i++) y->data[i] = x->data[i] * x->data[i];
    cg_record(y, (const cg_op *)ctx, 1, &x);
    return y;
}

static void test_gradcheck_catches_wrong_gradient(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(CG_SHAPE(2, 2), (float[]){1, -2, 0.5f, 3});
    cg_gradcheck_options quiet = {.quiet = true};
    cg_gradcheck_result good = cg_gradcheck(custom_square, (void *)&good_square_op, 1, &x, &quiet);
    assert_true(good.ok);
    assert_int_equal(good.failed_input, -1);
    assert_true(good.max_abs_error < 1e-2);
    cg_gradcheck_result bad = cg_gradcheck(custom_square, (void *)&bad_square_op, 1, &x, &quiet);
    assert_false(bad.ok);
    assert_int_equal(bad.failed_input, 0);
    assert_true(bad.failed_index >= 0 && bad.failed_index < 4);
    // |3x - 2x| * |r| with |x| up to 3: the error is far above the tolerance
    assert_true(bad.max_abs_error > 0.01);
    // the custom op is recorded with its name (graph export, error messages)
    cg_tensor *y = custom_square(&x, (void *)&bad_square_op);
    assert_non_null(y->node);
    assert_string_equal(y->node->op->name, "bad_square");
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_grad_accumulates, cg_test_teardown),
        cmocka_unit_test_teardown(test_backward_non_scalar_errors, cg_test_teardown),
        cmocka_unit_test_teardown(test_backward_ex_explicit_grad, cg_test_teardown),
        cmocka_unit_test_teardown(test_retain_graph, cg_test_teardown),
        cmocka_unit_test_teardown(test_no_grad, cg_test_teardown),
        cmocka_unit_test_teardown(test_detach_stops_gradient, cg_test_teardown),
        cmocka_unit_test_teardown(test_zero_grad, cg_test_teardown),
        cmocka_unit_test_teardown(test_requires_grad_propagation, cg_test_teardown),
        cmocka_unit_test_teardown(test_intermediate_grads, cg_test_teardown),
        cmocka_unit_test_teardown(test_diamond_graph, cg_test_teardown),
        cmocka_unit_test_teardown(test_dot_export, cg_test_teardown),
        cmocka_unit_test_teardown(test_gradcheck_every_op, cg_test_teardown),
        cmocka_unit_test_teardown(test_gradcheck_catches_wrong_gradient, cg_test_teardown),
    };
    cg_manual_seed(5);
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("autograd", tests, NULL, NULL);
}
