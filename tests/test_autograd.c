// tests/test_autograd.c - the engine (accumulation, retain_graph, no_grad, detach, zero_grad,
// requires_grad propagation, intermediate grads, DOT export) and a finite-difference
// gradcheck of every differentiable op of tensor/math.h and tensor/tensor.h, plus proof that
// gradcheck catches a wrong backward.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
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

typedef enum domain {
    ANY,      // N(0, 1)
    POSITIVE, // U(0.5, 2)
    NONZERO,  // +-U(0.5, 2): away from the kink of abs/relu and the pole of 1/x
    DISTINCT, // no two values within 0.2: max/min have a unique, stable winner
    NO_GRAD,  // N(0, 1), does not require grad (where's condition)
    MASK,     // 0/1 values, no grad
} domain;

typedef struct gc_case {
    const char *name;
    cg_gradcheck_fn fn;
    int n;
    int ndim[3];
    int64_t shape[3][4];
    domain dom[3];
    float arg[4];
} gc_case;

#define A(i) (((const gc_case *)ctx)->arg[i])

static cg_tensor *gc_add(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_add(in[0], in[1]);
}
static cg_tensor *gc_sub(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_sub(in[0], in[1]);
}
static cg_tensor *gc_mul(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_mul(in[0], in[1]);
}
static cg_tensor *gc_div(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_div(in[0], in[1]);
}
static cg_tensor *gc_add_scalar(cg_tensor **in, void *ctx) {
    return cg_add_scalar(in[0], A(0));
}
static cg_tensor *gc_sub_scalar(cg_tensor **in, void *ctx) {
    return cg_sub_scalar(in[0], A(0));
}
static cg_tensor *gc_rsub_scalar(cg_tensor **in, void *ctx) {
    return cg_rsub_scalar(A(0), in[0]);
}
static cg_tensor *gc_mul_scalar(cg_tensor **in, void *ctx) {
    return cg_mul_scalar(in[0], A(0));
}
static cg_tensor *gc_div_scalar(cg_tensor **in, void *ctx) {
    return cg_div_scalar(in[0], A(0));
}
static cg_tensor *gc_rdiv_scalar(cg_tensor **in, void *ctx) {
    return cg_rdiv_scalar(A(0), in[0]);
}
static cg_tensor *gc_neg(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_neg(in[0]);
}
static cg_tensor *gc_exp(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_exp(in[0]);
}
static cg_tensor *gc_log(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_log(in[0]);
}
static cg_tensor *gc_sqrt(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_sqrt(in[0]);
}
static cg_tensor *gc_abs(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_abs(in[0]);
}
static cg_tensor *gc_pow(cg_tensor **in, void *ctx) {
    return cg_pow(in[0], A(0));
}
static cg_tensor *gc_clamp(cg_tensor **in, void *ctx) {
    return cg_clamp(in[0], A(0), A(1));
}
static cg_tensor *gc_relu(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_relu(in[0]);
}
static cg_tensor *gc_leaky_relu(cg_tensor **in, void *ctx) {
    return cg_leaky_relu(in[0], A(0));
}
static cg_tensor *gc_sigmoid(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_sigmoid(in[0]);
}
static cg_tensor *gc_tanh(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_tanh(in[0]);
}
static cg_tensor *gc_where(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_where(in[0], in[1], in[2]);
}
// arg[0]: number of dims (0 = all), arg[1], arg[2]: the dims, arg[3]: keepdim
static int gc_dims(void *ctx, int *dims) {
    int n = (int)A(0);
    for (int i = 0; i < n; i++) dims[i] = (int)A(1 + i);
    return n;
}
static cg_tensor *gc_sum(cg_tensor **in, void *ctx) {
    int dims[2];
    int n = gc_dims(ctx, dims);
    return cg_sum(in[0], n, n ? dims : NULL, A(3) != 0);
}
static cg_tensor *gc_mean(cg_tensor **in, void *ctx) {
    int dims[2];
    int n = gc_dims(ctx, dims);
    return cg_mean(in[0], n, n ? dims : NULL, A(3) != 0);
}
static cg_tensor *gc_var0(cg_tensor **in, void *ctx) {
    int dims[2];
    int n = gc_dims(ctx, dims);
    return cg_var(in[0], n, n ? dims : NULL, 0, A(3) != 0);
}
static cg_tensor *gc_var1(cg_tensor **in, void *ctx) {
    int dims[2];
    int n = gc_dims(ctx, dims);
    return cg_var(in[0], n, n ? dims : NULL, 1, A(3) != 0);
}
static cg_tensor *gc_max(cg_tensor **in, void *ctx) {
    return cg_max(in[0], (int)A(0), A(1) != 0);
}
static cg_tensor *gc_min(cg_tensor **in, void *ctx) {
    return cg_min(in[0], (int)A(0), A(1) != 0);
}
static cg_tensor *gc_max_all(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_max_all(in[0]);
}
static cg_tensor *gc_min_all(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_min_all(in[0]);
}
static cg_tensor *gc_softmax(cg_tensor **in, void *ctx) {
    return cg_softmax(in[0], (int)A(0));
}
static cg_tensor *gc_log_softmax(cg_tensor **in, void *ctx) {
    return cg_log_softmax(in[0], (int)A(0));
}
static cg_tensor *gc_matmul(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_matmul(in[0], in[1]);
}
static cg_tensor *gc_reshape(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_reshape(in[0], CG_SHAPE(3, -1));
}
static cg_tensor *gc_view(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_view(in[0], CG_SHAPE(12));
}
static cg_tensor *gc_flatten(cg_tensor **in, void *ctx) {
    return cg_flatten(in[0], (int)A(0), (int)A(1));
}
static cg_tensor *gc_squeeze(cg_tensor **in, void *ctx) {
    return cg_squeeze(in[0], (int)A(0));
}
static cg_tensor *gc_squeeze_all(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_squeeze_all(in[0]);
}
static cg_tensor *gc_unsqueeze(cg_tensor **in, void *ctx) {
    return cg_unsqueeze(in[0], (int)A(0));
}
static cg_tensor *gc_narrow(cg_tensor **in, void *ctx) {
    return cg_narrow(in[0], (int)A(0), (int64_t)A(1), (int64_t)A(2));
}
static cg_tensor *gc_slice(cg_tensor **in, void *ctx) {
    return cg_slice(in[0], (int64_t)A(0), (int64_t)A(1));
}
static cg_tensor *gc_permute(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_permute(in[0], (int[]){2, 0, 1});
}
static cg_tensor *gc_transpose(cg_tensor **in, void *ctx) {
    return cg_transpose(in[0], (int)A(0), (int)A(1));
}
static cg_tensor *gc_cat(cg_tensor **in, void *ctx) {
    return cg_cat(3, in, (int)A(0));
}
static cg_tensor *gc_copy(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_copy(in[0]);
}
// A composite: a view whose result is used twice, so gradients of views accumulate.
static cg_tensor *gc_view_twice(cg_tensor **in, void *ctx) {
    (void)ctx;
    cg_tensor *v = cg_reshape(in[0], CG_SHAPE(2, 6));
    cg_tensor *t = cg_transpose(in[0], 0, 1);
    return cg_add(cg_mul(v, v), cg_reshape(cg_tanh(t), CG_SHAPE(2, 6)));
}

static const gc_case GRADCHECK_CASES[] = {
    // binary, with broadcasting
    {"add", gc_add, 2, {2, 1}, {{2, 3}, {3}}, {ANY, ANY}, {0}},
    {"sub", gc_sub, 2, {2, 2}, {{3, 1}, {1, 4}}, {ANY, ANY}, {0}},
    {"mul", gc_mul, 2, {3, 2}, {{2, 1, 3}, {4, 1}}, {ANY, ANY}, {0}},
    {"mul_0d", gc_mul, 2, {0, 2}, {{0}, {2, 2}}, {ANY, ANY}, {0}},
    {"div", gc_div, 2, {2, 2}, {{2, 3}, {2, 1}}, {ANY, NONZERO}, {0}},
    // scalar forms
    {"add_scalar", gc_add_scalar, 1, {2}, {{2, 3}}, {ANY}, {1.5f}},
    {"sub_scalar", gc_sub_scalar, 1, {2}, {{2, 3}}, {ANY}, {-0.5f}},
    {"rsub_scalar", gc_rsub_scalar, 1, {2}, {{2, 3}}, {ANY}, {2}},
    {"mul_scalar", gc_mul_scalar, 1, {2}, {{2, 3}}, {ANY}, {-3}},
    {"div_scalar", gc_div_scalar, 1, {2}, {{2, 3}}, {ANY}, {4}},
    {"rdiv_scalar", gc_rdiv_scalar, 1, {2}, {{2, 3}}, {NONZERO}, {2}},
    // unary
    {"neg", gc_neg, 1, {2}, {{2, 3}}, {ANY}, {0}},
    {"exp", gc_exp, 1, {2}, {{2, 3}}, {ANY}, {0}},
    {"log", gc_log, 1, {2}, {{2, 3}}, {POSITIVE}, {0}},
    {"sqrt", gc_sqrt, 1, {2}, {{2, 3}}, {POSITIVE}, {0}},
    {"abs", gc_abs, 1, {2}, {{2, 3}}, {NONZERO}, {0}},
    {"pow_2", gc_pow, 1, {2}, {{2, 3}}, {ANY}, {2}},
    {"pow_3", gc_pow, 1, {2}, {{2, 3}}, {ANY}, {3}},
    {"pow_0.5", gc_pow, 1, {2}, {{2, 3}}, {POSITIVE}, {0.5f}},
    {"pow_-1", gc_pow, 1, {2}, {{2, 3}}, {NONZERO}, {-1}},
    {"clamp", gc_clamp, 1, {2}, {{3, 4}}, {NONZERO}, {-1, 1.2f}},
    {"clamp_min", gc_clamp, 1, {2}, {{3, 4}}, {NONZERO}, {0, INFINITY}},
    {"relu", gc_relu, 1, {2}, {{2, 3}}, {NONZERO}, {0}},
    {"leaky_relu", gc_leaky_relu, 1, {2}, {{2, 3}}, {NONZERO}, {0.1f}},
    {"sigmoid", gc_sigmoid, 1, {2}, {{2, 3}}, {ANY}, {0}},
    {"tanh", gc_tanh, 1, {2}, {{2, 3}}, {ANY}, {0}},
    {"where", gc_where, 3, {2, 1, 2}, {{2, 3}, {3}, {2, 1}}, {MASK, ANY, ANY}, {0}},
    // reductions: arg = {ndims, dim, dim, keepdim}
    {"sum_all", gc_sum, 1, {3}, {{2, 3, 2}}, {ANY}, {0, 0, 0, 0}},
    {"sum_dims", gc_sum, 1, {3}, {{2, 3, 2}}, {ANY}, {2, 0, -1, 1}},
    {"mean_dim", gc_mean, 1, {3}, {{2, 3, 2}}, {ANY}, {1, 1, 0, 0}},
    {"mean_all", gc_mean, 1, {3}, {{2, 3, 2}}, {ANY}, {0, 0, 0, 1}},
    {"var_c1", gc_var1, 1, {2}, {{3, 4}}, {ANY}, {1, -1, 0, 0}},
    {"var_c0_all", gc_var0, 1, {2}, {{3, 4}}, {ANY}, {0, 0, 0, 1}},
    {"max", gc_max, 1, {2}, {{3, 4}}, {DISTINCT}, {1, 0}},
    {"min", gc_min, 1, {3}, {{2, 3, 2}}, {DISTINCT}, {0, 1}},
    {"max_all", gc_max_all, 1, {2}, {{3, 4}}, {DISTINCT}, {0}},
    {"min_all", gc_min_all, 1, {2}, {{3, 4}}, {DISTINCT}, {0}},
    {"softmax", gc_softmax, 1, {2}, {{3, 4}}, {ANY}, {1}},
    {"softmax_d0", gc_softmax, 1, {3}, {{3, 2, 2}}, {ANY}, {0}},
    {"log_softmax", gc_log_softmax, 1, {2}, {{3, 4}}, {ANY}, {-1}},
    // matmul
    {"matmul_dot", gc_matmul, 2, {1, 1}, {{4}, {4}}, {ANY, ANY}, {0}},
    {"matmul_vec_mat", gc_matmul, 2, {1, 2}, {{3}, {3, 2}}, {ANY, ANY}, {0}},
    {"matmul_mat_vec", gc_matmul, 2, {2, 1}, {{2, 3}, {3}}, {ANY, ANY}, {0}},
    {"matmul_mat_mat", gc_matmul, 2, {2, 2}, {{2, 3}, {3, 4}}, {ANY, ANY}, {0}},
    {"matmul_bcast", gc_matmul, 2, {4, 3}, {{2, 1, 2, 3}, {2, 3, 2}}, {ANY, ANY}, {0}},
    {"matmul_3d_2d", gc_matmul, 2, {3, 2}, {{2, 2, 3}, {3, 2}}, {ANY, ANY}, {0}},
    // views and layout
    {"reshape", gc_reshape, 1, {2}, {{2, 6}}, {ANY}, {0}},
    {"view", gc_view, 1, {2}, {{3, 4}}, {ANY}, {0}},
    {"flatten", gc_flatten, 1, {3}, {{2, 3, 2}}, {ANY}, {1, -1}},
    {"squeeze", gc_squeeze, 1, {3}, {{2, 1, 3}}, {ANY}, {1}},
    {"squeeze_all", gc_squeeze_all, 1, {3}, {{1, 3, 1}}, {ANY}, {0}},
    {"unsqueeze", gc_unsqueeze, 1, {2}, {{2, 3}}, {ANY}, {-1}},
    {"narrow_view", gc_narrow, 1, {2}, {{4, 3}}, {ANY}, {0, 1, 2}},
    {"narrow_copy", gc_narrow, 1, {2}, {{3, 4}}, {ANY}, {1, 1, 2}},
    {"slice", gc_slice, 1, {2}, {{4, 2}}, {ANY}, {1, 3}},
    {"permute", gc_permute, 1, {3}, {{2, 3, 2}}, {ANY}, {0}},
    {"transpose", gc_transpose, 1, {3}, {{2, 3, 2}}, {ANY}, {0, -1}},
    {"cat", gc_cat, 3, {2, 2, 2}, {{2, 1}, {2, 3}, {2, 2}}, {ANY, ANY, ANY}, {1}},
    {"copy", gc_copy, 1, {2}, {{2, 3}}, {ANY}, {0}},
    {"view_used_twice", gc_view_twice, 1, {2}, {{6, 2}}, {ANY}, {0}},
};
#define N_GRADCHECK ((int)(sizeof GRADCHECK_CASES / sizeof GRADCHECK_CASES[0]))

static cg_tensor *make_input(int ndim, const int64_t *shape, domain dom) {
    cg_tensor *t = cg_randn(ndim, shape, NULL);
    for (int64_t i = 0; i < t->numel; i++) {
        float u = 0.5f + 1.5f * cg_rng_uniform(NULL);
        if (dom == POSITIVE) t->data[i] = u;
        if (dom == NONZERO) t->data[i] = t->data[i] < 0 ? -u : u;
        if (dom == MASK) t->data[i] = t->data[i] > 0 ? 1.0f : 0.0f;
    }
    if (dom == DISTINCT) { // a shuffled ladder 0.3 apart, plus noise < 0.1
        cg_tensor *perm = cg_randperm(t->numel, NULL);
        for (int64_t i = 0; i < t->numel; i++)
            t->data[i] = 0.3f * (perm->data[i] - (float)t->numel / 2) + 0.1f * cg_rng_uniform(NULL);
    }
    if (dom != NO_GRAD && dom != MASK) cg_requires_grad(t, true);
    return t;
}

// Move values within 0.05 of a clamp bound (where the gradient jumps) 0.1 away from it.
static void avoid_clamp_bounds(cg_tensor *t, float lo, float hi) {
    for (int64_t i = 0; i < t->numel; i++) {
        float *v = &t->data[i];
        if (fabsf(*v - lo) < 0.05f) *v = *v < lo ? lo - 0.1f : lo + 0.1f;
        if (fabsf(*v - hi) < 0.05f) *v = *v < hi ? hi - 0.1f : hi + 0.1f;
    }
}

// Names of the ops recorded in the graph behind t (depth-first), appended to seen[].
static void collect_ops(const cg_tensor *t, const char **seen, int *n_seen, int max) {
    if (!t || !t->node) return;
    const char *name = t->node->op->name;
    bool known = false;
    for (int i = 0; i < *n_seen; i++) known |= strcmp(seen[i], name) == 0;
    if (!known && *n_seen < max) seen[(*n_seen)++] = name;
    for (int i = 0; i < t->node->n_inputs; i++) collect_ops(t->node->inputs[i], seen, n_seen, max);
}

static void test_gradcheck_every_op(void **state) {
    (void)state;
    const char *seen[128];
    int n_seen = 0;
    cg_manual_seed(2024);
    for (int c = 0; c < N_GRADCHECK; c++) {
        const gc_case *gc = &GRADCHECK_CASES[c];
        cg_scope_begin();
        cg_tensor *inputs[3];
        for (int i = 0; i < gc->n; i++)
            inputs[i] = make_input(gc->ndim[i], gc->shape[i], gc->dom[i]);
        if (gc->fn == gc_clamp) avoid_clamp_bounds(inputs[0], gc->arg[0], gc->arg[1]);
        cg_test_gradcheck(gc->fn, (void *)gc, gc->n, inputs, gc->name);
        cg_tensor *out = gc->fn(inputs, (void *)gc);
        collect_ops(out, seen, &n_seen, 128);
        cg_scope_end();
    }
    // Every differentiable op of tensor/math.h and tensor/tensor.h (autograd/ops.def, first
    // part) was exercised above.
    static const char *const foundation[] = {
        "add",        "sub",         "mul",         "div",         "where",      "neg",
        "exp",        "log",         "sqrt",        "abs",         "pow",        "clamp",
        "relu",       "leaky_relu",  "sigmoid",     "tanh",        "add_scalar", "mul_scalar",
        "div_scalar", "rsub_scalar", "rdiv_scalar", "sum",         "mean",       "var",
        "max",        "min",         "softmax",     "log_softmax", "matmul",     "reshape",
        "narrow",     "permute",     "copy",        "cat"};
    for (size_t f = 0; f < sizeof foundation / sizeof foundation[0]; f++) {
        bool found = false;
        for (int i = 0; i < n_seen; i++) found |= strcmp(seen[i], foundation[f]) == 0;
        if (!found) fail_msg("op '%s' was never recorded by the gradcheck cases", foundation[f]);
        if (!cg_op_find(foundation[f])) fail_msg("op '%s' is not in the registry", foundation[f]);
    }
    // Report (not fail) registered ops gradchecked elsewhere (nn, conv, losses...).
    for (int i = 0; i < cg_op_count(); i++) {
        const cg_op *op = cg_op_at(i);
        bool found = false;
        for (int k = 0; k < n_seen; k++) found |= strcmp(seen[k], op->name) == 0;
        if (!found && op->backward)
            print_message("note: op '%s' is not gradchecked here\n", op->name);
    }
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
