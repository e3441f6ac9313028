// tests/test_activations.c - gelu (exact, tanh), silu, elu, softplus, hardswish against
// PyTorch (tests/fixtures/gen_layers.py: output and gradient), their modules and Softmax /
// LogSoftmax, and the containers of nn/containers.h: Sequential_named, ModuleList,
// Residual, Identity, Unflatten (reprs, state_dict names, forward, gradients, errors).
// Gradchecks: tests/support/op_cases.def.
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "layers.txt"

static cg_tensor *run_gelu(cg_tensor **in, const cg_fixture_case *c) {
    return cg_gelu(in[0], cg_fixture_param(c, "tanh", 0) ? CG_GELU_TANH : CG_GELU_NONE);
}
static cg_tensor *run_silu(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_silu(in[0]);
}
static cg_tensor *run_elu(cg_tensor **in, const cg_fixture_case *c) {
    return cg_elu(in[0], (float)cg_fixture_param(c, "alpha", -1));
}
static cg_tensor *run_softplus(cg_tensor **in, const cg_fixture_case *c) {
    return cg_softplus(in[0], (float)cg_fixture_param(c, "beta", 0),
                       (float)cg_fixture_param(c, "threshold", 0));
}
static cg_tensor *run_hardswish(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_hardswish(in[0]);
}

static const cg_test_op OPS[] = {
    {"gelu", FIXTURE, 1, {"x"}, run_gelu, NULL},
    {"silu", FIXTURE, 1, {"x"}, run_silu, NULL},
    {"elu", FIXTURE, 1, {"x"}, run_elu, NULL},
    {"softplus", FIXTURE, 1, {"x"}, run_softplus, NULL},
    {"hardswish", FIXTURE, 1, {"x"}, run_hardswish, NULL},
};

// ---- reprs and modules ------------------------------------------------------------------------

static void expect_repr(cg_module *m, const char *repr) {
    assert_non_null(m);
    char buf[256];
    m->cls->describe(m, buf, sizeof buf);
    assert_string_equal(buf, repr);
    cg_module_free(m);
}

static void test_reprs(void **state) {
    (void)state;
    expect_repr(cg_GELU(CG_GELU_NONE), "GELU(approximate='none')");
    expect_repr(cg_GELU(CG_GELU_TANH), "GELU(approximate='tanh')");
    expect_repr(cg_SiLU(), "SiLU()");
    expect_repr(cg_ELU(1.0f), "ELU(alpha=1.0)");
    expect_repr(cg_ELU(0.5f), "ELU(alpha=0.5)");
    expect_repr(cg_Softplus(1, 20), "Softplus(beta=1, threshold=20)");
    expect_repr(cg_Hardswish(), "Hardswish()");
    expect_repr(cg_Softmax(1), "Softmax(dim=1)");
    expect_repr(cg_LogSoftmax(-1), "LogSoftmax(dim=-1)");
    expect_repr(cg_Unflatten(1, CG_SHAPE(2, 5)), "Unflatten(dim=1, unflattened_size=(2, 5))");
    expect_repr(cg_Unflatten(-1, CG_SHAPE(4)), "Unflatten(dim=-1, unflattened_size=(4,))");
}

// Each module computes exactly its functional.
static void test_modules_run_their_ops(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(3, 4), NULL);
    struct {
        cg_module *m;
        cg_tensor *expected;
    } cases[] = {
        {cg_GELU(CG_GELU_TANH), cg_gelu(x, CG_GELU_TANH)},
        {cg_SiLU(), cg_silu(x)},
        {cg_ELU(0.7f), cg_elu(x, 0.7f)},
        {cg_Softplus(2, 3), cg_softplus(x, 2, 3)},
        {cg_Hardswish(), cg_hardswish(x)},
        {cg_Softmax(1), cg_softmax(x, 1)},
        {cg_LogSoftmax(0), cg_log_softmax(x, 0)},
        {cg_Identity(), x},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cg_assert_close(cg_module_forward(cases[i].m, x), cases[i].expected, 0, 0,
                        cases[i].m->cls->name);
        cg_module_free(cases[i].m);
    }
    cg_scope_end();
}

// ---- containers -----------------------------------------------------------------------------

static void expect_print(const cg_module *m, const char *expected) {
    char buf[1024];
    cg_test_module_text(m, buf, sizeof buf);
    assert_string_equal(buf, expected);
}

static void expect_state_dict(const cg_module *m, const char *expected) {
    cg_tensor_list sd = cg_module_state_dict(m);
    char names[512] = "";
    for (int i = 0; i < sd.count; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), i ? " %s" : "%s",
                 sd.items[i].name);
    cg_tensor_list_free(&sd);
    assert_string_equal(names, expected);
}

static void test_sequential_named_and_module_list(void **state) {
    (void)state;
    cg_module *body =
        cg_Sequential_named(3, (const char *[]){"fc", "act", "out"},
                            (cg_module *[]){cg_LayerNorm(CG_SHAPE(4), NULL), cg_GELU(CG_GELU_NONE),
                                            cg_GroupNorm(2, 4, NULL)});
    cg_module *list = cg_ModuleList(1, (cg_module *[]){cg_LayerNorm(CG_SHAPE(2), NULL)});
    assert_non_null(cg_ModuleList_append(list, cg_Identity()));
    cg_module *model =
        cg_Sequential_named(2, (const char *[]){"body", "heads"}, (cg_module *[]){body, list});
    assert_non_null(model);
    expect_state_dict(model, "body.fc.weight body.fc.bias body.out.weight body.out.bias "
                             "heads.0.weight heads.0.bias");
    expect_print(model, "Sequential(\n"
                        "  (body): Sequential(\n"
                        "    (fc): LayerNorm((4,), eps=1e-05, elementwise_affine=True)\n"
                        "    (act): GELU(approximate='none')\n"
                        "    (out): GroupNorm(2, 4, eps=1e-05, affine=True)\n"
                        "  )\n"
                        "  (heads): ModuleList(\n"
                        "    (0): LayerNorm((2,), eps=1e-05, elementwise_affine=True)\n"
                        "    (1): Identity()\n"
                        "  )\n"
                        ")\n");
    assert_ptr_equal(cg_module_get(model, "heads.1"), list->children[1]);
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(5, 4), NULL);
    cg_tensor *y = cg_module_forward(body, x);
    cg_module *fc = cg_module_get(body, "fc"), *out = cg_module_get(body, "out");
    cg_assert_close(y, cg_module_forward(out, cg_gelu(cg_module_forward(fc, x), CG_GELU_NONE)), 0,
                    0, "named Sequential runs its children in order");
    assert_null(cg_module_forward(list, y));
    cg_test_expect_error(CG_ERR_STATE, "ModuleList has no forward");
    cg_scope_end();
    cg_module_free(model);
}

// Residual: y = x + fn(x), so dy/dx = 1 + dfn/dx; its child is "fn".
static cg_tensor *run_residual(cg_tensor **in, void *ctx) {
    return cg_module_forward(ctx, in[0]);
}

static void test_residual(void **state) {
    (void)state;
    cg_module *block = cg_Residual(
        cg_Sequential(2, (cg_module *[]){cg_LayerNorm(CG_SHAPE(3), NULL), cg_Softplus(1, 20)}));
    assert_non_null(block);
    expect_state_dict(block, "fn.0.weight fn.0.bias");
    cg_scope_begin();
    cg_tensor *x = cg_requires_grad(cg_randn(CG_SHAPE(2, 3), NULL), true);
    cg_tensor *expected = cg_add(x, cg_module_forward(block->children[0], x));
    cg_assert_close(cg_module_forward(block, x), expected, 0, 0, "Residual is x + fn(x)");
    cg_test_gradcheck(run_residual, block, 1, &x, "Residual");
    cg_tensor *u = cg_randn(CG_SHAPE(2, 10), NULL);
    cg_module *unflatten = cg_Unflatten(1, CG_SHAPE(2, -1));
    cg_tensor *v = cg_module_forward(unflatten, u);
    assert_non_null(v);
    assert_int_equal(v->ndim, 3);
    assert_int_equal(v->shape[1], 2);
    assert_int_equal(v->shape[2], 5);
    assert_true(memcmp(v->data, u->data, 20 * sizeof(float)) == 0);
    assert_null(cg_module_forward(unflatten, cg_randn(CG_SHAPE(2, 7), NULL)));
    cg_test_expect_error(CG_ERR_SHAPE, "Unflatten: dim 1 of input [2,7] (size 7) cannot be");
    cg_module_free(unflatten);
    cg_scope_end();
    cg_module_free(block);
}

static void test_errors(void **state) {
    (void)state;
    assert_null(
        cg_Sequential_named(2, (const char *[]){"a", "a"}, (cg_module *[]){cg_ReLU(), cg_ReLU()}));
    cg_test_expect_error(CG_ERR_ARG, "Sequential: name 1 \"a\" is empty, holds a '.' or repeats");
    assert_null(cg_Sequential_named(1, (const char *[]){"a.b"}, (cg_module *[]){cg_ReLU()}));
    cg_test_expect_error(CG_ERR_ARG, "Sequential: name 0 \"a.b\"");
    assert_null(
        cg_Sequential_named(2, (const char *[]){"a", "b"}, (cg_module *[]){cg_ReLU(), NULL}));
    cg_test_expect_error(CG_ERR_ARG, "Sequential: module 1 is NULL");
    assert_null(cg_Sequential_named(1, NULL, (cg_module *[]){cg_ReLU()}));
    cg_test_expect_error(CG_ERR_ARG, "Sequential: names is NULL");
    assert_null(cg_ModuleList(2, (cg_module *[]){NULL, cg_ReLU()}));
    cg_test_expect_error(CG_ERR_ARG, "ModuleList: module 0 is NULL");
    cg_module *seq = cg_Sequential(0, NULL);
    assert_null(cg_ModuleList_append(seq, cg_ReLU()));
    cg_test_expect_error(CG_ERR_ARG, "ModuleList_append: list is not a ModuleList");
    cg_module_free(seq);
    assert_null(cg_Residual(NULL));
    cg_test_expect_error(CG_ERR_ARG, "Residual: fn is NULL");
    assert_null(cg_Unflatten(1, CG_SHAPE(-1, -1)));
    cg_test_expect_error(CG_ERR_ARG, "Unflatten: unflattened_size must have 1 to");
    assert_null(cg_Unflatten(1, CG_SHAPE(0)));
    cg_test_expect_error(CG_ERR_ARG, "Unflatten");
    assert_null(cg_Softplus(0, 20));
    cg_test_expect_error(CG_ERR_ARG, "Softplus: beta must be non-zero");
    assert_null(cg_GELU((cg_gelu_approximate)7));
    cg_test_expect_error(CG_ERR_ARG, "GELU: unknown approximate 7");
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3), NULL);
    assert_null(cg_gelu(x, (cg_gelu_approximate)3));
    cg_test_expect_error(CG_ERR_ARG, "gelu: unknown approximate 3");
    assert_null(cg_softplus(x, 0, 20));
    cg_test_expect_error(CG_ERR_ARG, "softplus: beta must be non-zero");
    assert_null(cg_elu(NULL, 1));
    cg_test_expect_error(CG_ERR_ARG, "elu");
    assert_null(cg_hardswish(NULL));
    cg_test_expect_error(CG_ERR_ARG, "hardswish");
    assert_null(cg_silu(NULL));
    cg_test_expect_error(CG_ERR_ARG, "silu");
    cg_module *sm = cg_Softmax(2);
    assert_null(cg_module_forward(sm, x));
    cg_test_expect_error(CG_ERR_ARG, "softmax");
    cg_module_free(sm);
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_reprs, cg_test_teardown),
        cmocka_unit_test_teardown(test_modules_run_their_ops, cg_test_teardown),
        cmocka_unit_test_teardown(test_sequential_named_and_module_list, cg_test_teardown),
        cmocka_unit_test_teardown(test_residual, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("activations", OPS, extra, 13);
}
