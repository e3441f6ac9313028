// tests/test_activations.c - every activation against PyTorch: each line of
// ops/activations.def, Softmin and PReLU (tests/fixtures/gen_activations.py: output, input
// gradient, PReLU's weight gradient, special values with the sign of zeros, the module's
// repr and forward for every option set), gelu and the earlier cases of gen_layers.py;
// bad options; the other modules (GELU, Softmax, LogSoftmax) and the containers of
// nn/containers.h: Sequential_named, ModuleList, Residual, Identity, Unflatten (reprs,
// state_dict names, forward, gradients, errors). Gradchecks: tests/support/op_cases.def.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE     "layers.txt"
#define ACTIVATIONS "activations.txt"

// ---- every line of ops/activations.def against tests/fixtures/activations.txt ---------------

// Same values, NaN for NaN and the sign of every zero, which cg_assert_close does not see.
static void assert_identical(const cg_tensor *y, const cg_tensor *expected, const char *what) {
    cg_assert_close(y, expected, 0, 0, what);
    for (int64_t i = 0; i < y->numel; i++)
        if (y->data[i] == 0 && signbit(y->data[i]) != signbit(expected->data[i]))
            fail_msg("%s: element %lld is %s0, expected %s0", what, (long long)i,
                     signbit(y->data[i]) ? "-" : "+", signbit(expected->data[i]) ? "-" : "+");
}

// The op's output y, after checking the signs of its zeros against PyTorch's ("out") and
// the module m built with the case's options: its repr is PyTorch's (text "repr") and its
// forward gives exactly y.
static cg_tensor *checked(cg_tensor *y, cg_module *m, cg_tensor *x, const cg_fixture_case *c) {
    const char *name = cg_fixture_case_name(c);
    assert_non_null(y);
    assert_non_null(m);
    const cg_tensor *expected = cg_fixture_tensor(c, "out");
    for (int64_t i = 0; i < y->numel; i++)
        if (y->data[i] == 0 && expected->data[i] == 0 &&
            signbit(y->data[i]) != signbit(expected->data[i]))
            fail_msg("%s: element %lld is %s0, PyTorch's %s0", name, (long long)i,
                     signbit(y->data[i]) ? "-" : "+", signbit(expected->data[i]) ? "-" : "+");
    const char *repr = cg_fixture_text(c, "repr");
    assert_non_null(repr);
    char printed[256]; // as print(module): "Name(options)"
    cg_test_module_text(m, printed, sizeof printed);
    printed[strcspn(printed, "\n")] = '\0';
    assert_string_equal(printed, repr);
    bool grad = cg_set_grad_enabled(false);
    assert_identical(cg_module_forward(m, x), y, name);
    cg_set_grad_enabled(grad);
    cg_module_free(m);
    return y;
}

#define OPTION(field) cg_fixture_optional(c, #field)
#define ACTIVATION(name, Name, ...)                                                                \
    static cg_tensor *run_##name(cg_tensor **in, const cg_fixture_case *c) {                       \
        return checked(cg_##name(in[0]), cg_##Name(), in[0], c);                                   \
    }
#define ACTIVATION_1(name, Name, field, ...)                                                       \
    static cg_tensor *run_##name(cg_tensor **in, const cg_fixture_case *c) {                       \
        cg_##name##_options o = {OPTION(field)};                                                   \
        return checked(cg_##name(in[0], &o), cg_##Name(&o), in[0], c);                             \
    }
#define ACTIVATION_2(name, Name, field_a, default_a, repr_a, field_b, ...)                         \
    static cg_tensor *run_##name(cg_tensor **in, const cg_fixture_case *c) {                       \
        cg_##name##_options o = {OPTION(field_a), OPTION(field_b)};                                \
        return checked(cg_##name(in[0], &o), cg_##Name(&o), in[0], c);                             \
    }
#include "../ops/activations.def"
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2

// ---- options PyTorch refuses ("refused/<op>/<variant>" cases) ---------------------------------

// The op (or the module) `who` must have refused: NULL and an argument error naming it.
static void expect_refused(bool refused, const char *who, const cg_fixture_case *c) {
    if (!refused)
        fail_msg("%s accepts the options of %s, which PyTorch refuses (%s)", who,
                 cg_fixture_case_name(c), cg_fixture_text(c, "pytorch"));
    char prefix[64];
    snprintf(prefix, sizeof prefix, "%s: ", who);
    cg_test_expect_error(CG_ERR_ARG, prefix);
}

// Runs op and module of the activation `op` with the case's options; false if there is no
// activation of that name with options.
static bool refuses(const char *op, const cg_fixture_case *c, cg_tensor *x) {
#define ACTIVATION(name, ...)
#define ACTIVATION_1(name, Name, field, ...)                                                       \
    if (strcmp(op, #name) == 0) {                                                                  \
        cg_##name##_options o = {OPTION(field)};                                                   \
        expect_refused(cg_##name(x, &o) == NULL, #name, c);                                        \
        expect_refused(cg_##Name(&o) == NULL, #Name, c);                                           \
        return true;                                                                               \
    }
#define ACTIVATION_2(name, Name, field_a, default_a, repr_a, field_b, ...)                         \
    if (strcmp(op, #name) == 0) {                                                                  \
        cg_##name##_options o = {OPTION(field_a), OPTION(field_b)};                                \
        expect_refused(cg_##name(x, &o) == NULL, #name, c);                                        \
        expect_refused(cg_##Name(&o) == NULL, #Name, c);                                           \
        return true;                                                                               \
    }
#include "../ops/activations.def"
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2
    return false;
}

static void test_refused_options(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture(ACTIVATIONS);
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3), NULL);
    int n = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        const char *name = cg_fixture_case_name(c);
        if (strncmp(name, "refused/", 8) != 0) continue;
        char op[64];
        snprintf(op, sizeof op, "%.*s", (int)strcspn(name + 8, "/"), name + 8);
        if (!refuses(op, c, x)) fail_msg("%s: no activation '%s' with options", name, op);
        n++;
    }
    assert_true(n > 0);
    cg_scope_end();
    cg_fixture_free(fx);
}

static cg_tensor *run_softmin(cg_tensor **in, const cg_fixture_case *c) {
    int dim = (int)cg_fixture_param(c, "dim", 1);
    return checked(cg_softmin(in[0], dim), cg_Softmin(dim), in[0], c);
}

// The module gets the case's weight, so its forward must equal the op's.
static cg_tensor *run_prelu(cg_tensor **in, const cg_fixture_case *c) {
    int n = (int)cg_fixture_param(c, "num_parameters", 1);
    cg_module *m = cg_PReLU(&(cg_prelu_options){.num_parameters = n});
    assert_non_null(m);
    bool grad = cg_set_grad_enabled(false);
    cg_copy_(cg_module_param(m, "weight"), in[1]);
    cg_set_grad_enabled(grad);
    return checked(cg_prelu(in[0], in[1]), m, in[0], c);
}

// The fixtures of gen_layers.py (the activations that existed before activations.txt).
static cg_tensor *run_gelu(cg_tensor **in, const cg_fixture_case *c) {
    return cg_gelu(in[0], cg_fixture_param(c, "tanh", 0) ? CG_GELU_TANH : CG_GELU_NONE);
}
static cg_tensor *run_layers_silu(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_silu(in[0]);
}
static cg_tensor *run_layers_elu(cg_tensor **in, const cg_fixture_case *c) {
    return cg_elu(in[0], &(cg_elu_options){cg_fixture_optional(c, "alpha")});
}
static cg_tensor *run_layers_softplus(cg_tensor **in, const cg_fixture_case *c) {
    return cg_softplus(in[0], &(cg_softplus_options){cg_fixture_optional(c, "beta"),
                                                     cg_fixture_optional(c, "threshold")});
}
static cg_tensor *run_layers_hardswish(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_hardswish(in[0]);
}

static const cg_test_op OPS[] = {
#define ENTRY(name, ...) {#name, ACTIVATIONS, 1, {"x"}, run_##name, NULL},
#define ACTIVATION       ENTRY
#define ACTIVATION_1     ENTRY
#define ACTIVATION_2     ENTRY
#include "../ops/activations.def"
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2
    {"softmin", ACTIVATIONS, 1, {"x"}, run_softmin, NULL},
    {"prelu", ACTIVATIONS, 2, {"x", "weight"}, run_prelu, NULL},
    {"gelu", FIXTURE, 1, {"x"}, run_gelu, NULL},
    {"silu", FIXTURE, 1, {"x"}, run_layers_silu, NULL},
    {"elu", FIXTURE, 1, {"x"}, run_layers_elu, NULL},
    {"softplus", FIXTURE, 1, {"x"}, run_layers_softplus, NULL},
    {"hardswish", FIXTURE, 1, {"x"}, run_layers_hardswish, NULL},
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
        {cg_Softmax(1), cg_softmax(x, 1)},
        {cg_LogSoftmax(0), cg_log_softmax(x, 0)},
        {cg_Softmin(1), cg_softmin(x, 1)},
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
        cg_Sequential(2, (cg_module *[]){cg_LayerNorm(CG_SHAPE(3), NULL), cg_Softplus(NULL)}));
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
    assert_null(cg_GELU((cg_gelu_approximate)7));
    cg_test_expect_error(CG_ERR_ARG, "GELU: unknown approximate 7");
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3), NULL);
    assert_null(cg_gelu(x, (cg_gelu_approximate)3));
    cg_test_expect_error(CG_ERR_ARG, "gelu: unknown approximate 3");
    assert_null(cg_elu(NULL, NULL));
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

// Options PyTorch refuses are refused by the op and by the module, naming each and the values.
static void test_bad_options(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3), NULL);
    const cg_hardtanh_options inverted = {CG_SET(2), CG_SET(1)};
    assert_null(cg_hardtanh(x, &inverted));
    cg_test_expect_error(CG_ERR_ARG, "hardtanh: min_val cannot be greater than max_val "
                                     "(min_val=2.0, max_val=1.0)");
    assert_null(cg_Hardtanh(&inverted));
    cg_test_expect_error(CG_ERR_ARG, "Hardtanh: min_val cannot be greater than max_val");
    assert_null(cg_Hardtanh(&(cg_hardtanh_options){.min_val = CG_SET(1.5)})); // max_val 1
    cg_test_expect_error(CG_ERR_ARG, "Hardtanh: min_val cannot be greater than max_val "
                                     "(min_val=1.5, max_val=1.0)");
    assert_null(cg_celu(x, &(cg_celu_options){CG_SET(0)}));
    cg_test_expect_error(CG_ERR_ARG, "celu: alpha cannot be 0 (ZeroDivisionError) (alpha=0.0)");
    assert_null(cg_CELU(&(cg_celu_options){CG_SET(0)}));
    cg_test_expect_error(CG_ERR_ARG, "CELU: alpha cannot be 0");
    assert_null(cg_softplus(x, &(cg_softplus_options){.beta = CG_SET(0)}));
    cg_test_expect_error(CG_ERR_ARG, "softplus: beta must be non-zero (beta=0, threshold=20)");
    assert_null(cg_Softplus(&(cg_softplus_options){.beta = CG_SET(0)}));
    cg_test_expect_error(CG_ERR_ARG, "Softplus: beta must be non-zero");
    // nn.Threshold(threshold, value) has no defaults
    assert_null(cg_threshold(x, NULL));
    cg_test_expect_error(CG_ERR_ARG, "threshold: threshold is required");
    assert_null(cg_Threshold(&(cg_threshold_options){.threshold = CG_SET(0.5)}));
    cg_test_expect_error(CG_ERR_ARG, "Threshold: value is required");
    // the input is checked by every op of the table
    assert_null(cg_mish(NULL));
    cg_test_expect_error(CG_ERR_ARG, "mish");
    assert_null(cg_hardtanh(NULL, NULL));
    cg_test_expect_error(CG_ERR_ARG, "hardtanh");
    // NULL options are the defaults
    cg_assert_close(cg_elu(x, NULL), cg_elu(x, &(cg_elu_options){CG_SET(1)}), 0, 0, "elu NULL");
    cg_assert_close(cg_hardtanh(x, NULL),
                    cg_hardtanh(x, &(cg_hardtanh_options){CG_SET(-1), CG_SET(1)}), 0, 0,
                    "hardtanh NULL");
    // softmin's dim and prelu's weight
    assert_null(cg_softmin(x, 2));
    cg_test_expect_error(CG_ERR_ARG, "softmin");
    assert_null(cg_prelu(x, cg_ones(CG_SHAPE(2))));
    cg_test_expect_error(CG_ERR_SHAPE, "prelu: Mismatch of parameter numbers and input channel "
                                       "size. Found parameter numbers = 2 and channel size = 3.");
    assert_null(cg_prelu(cg_ones(CG_SHAPE(3)), cg_ones(CG_SHAPE(3))));
    cg_test_expect_error(CG_ERR_SHAPE, "parameter numbers = 3 and channel size = 1");
    assert_null(cg_prelu(x, cg_ones(CG_SHAPE(1, 3))));
    cg_test_expect_error(CG_ERR_SHAPE, "prelu: Expected `weight` to be a scalar or 1D tensor, "
                                       "but got ndim = 2");
    assert_null(cg_PReLU(&(cg_prelu_options){.num_parameters = -2}));
    cg_test_expect_error(CG_ERR_ARG, "PReLU: num_parameters must be positive, got -2");
    cg_scope_end();
}

// nn.PReLU: one weight per channel filled with init (0.25 by default), learnable.
static void test_prelu_module(void **state) {
    (void)state;
    cg_scope_begin();
    cg_module *m = cg_PReLU(&(cg_prelu_options){.num_parameters = 3, .init = CG_SET(0.1)});
    assert_non_null(m);
    cg_tensor *w = cg_module_param(m, "weight");
    assert_non_null(w);
    cg_assert_close(w, cg_full(CG_SHAPE(3), 0.1f), 0, 0, "PReLU init");
    assert_true(w->requires_grad);
    cg_module *d = cg_PReLU(NULL);
    assert_string_equal(cg_test_describe(d), "PReLU(num_parameters=1)");
    cg_assert_close(cg_module_param(d, "weight"), cg_full(CG_SHAPE(1), 0.25f), 0, 0,
                    "PReLU() init");
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3, 4), NULL);
    assert_int_equal(cg_backward(cg_sum(cg_module_forward(m, x), CG_ALL_DIMS, false)), 0);
    assert_non_null(w->grad); // d/dw_c = sum of the negative x of channel c
    for (int c = 0; c < 3; c++) {
        double expected = 0;
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 4; i++) {
                float v = x->data[(n * 3 + c) * 4 + i];
                expected += v > 0 ? 0 : v;
            }
        assert_float_equal(w->grad->data[c], expected, 1e-5);
    }
    cg_scope_end();
    cg_module_free(m);
    cg_module_free(d);
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_reprs, cg_test_teardown),
        cmocka_unit_test_teardown(test_modules_run_their_ops, cg_test_teardown),
        cmocka_unit_test_teardown(test_sequential_named_and_module_list, cg_test_teardown),
        cmocka_unit_test_teardown(test_residual, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
        cmocka_unit_test_teardown(test_bad_options, cg_test_teardown),
        cmocka_unit_test_teardown(test_refused_options, cg_test_teardown),
        cmocka_unit_test_teardown(test_prelu_module, cg_test_teardown),
    };
    return CG_TEST_RUN("activations", OPS, extra, 13);
}
