// tests/test_layers.c - nn/layers.h against PyTorch (tests/fixtures/nn.txt): linear, pooling,
// batch norm and dropout forward values and gradients; finite-difference gradchecks of every
// layer's backward; module reprs, state_dict names, train/eval behaviour, summary, counts and
// error messages.
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "nn.txt"

// ---- PyTorch fixtures ------------------------------------------------------------------------

static int param_at(const cg_fixture_case *c, const char *key, int i) {
    double v[CG_FIXTURE_MAX_PARAM_VALUES];
    int n = cg_fixture_params(c, key, v, CG_FIXTURE_MAX_PARAM_VALUES);
    if (n <= i) fail_msg("%s: param %s has no entry %d", cg_fixture_case_name(c), key, i);
    return (int)v[i];
}

static cg_pool_options case_pool_options(const cg_fixture_case *c) {
    cg_pool_options o = {.kernel_size_hw = {param_at(c, "kernel", 0), param_at(c, "kernel", 1)},
                         .stride_hw = {param_at(c, "stride", 0), param_at(c, "stride", 1)},
                         .padding_hw = {param_at(c, "padding", 0), param_at(c, "padding", 1)},
                         .ceil_mode = param_at(c, "ceil_mode", 0) != 0};
    return o;
}

static cg_tensor *run_linear(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_linear(in[0], in[1], in[2]);
}
static cg_tensor *run_linear_nobias(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_linear(in[0], in[1], NULL);
}
static cg_tensor *run_max_pool(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_pool_options(c);
    return cg_max_pool2d(in[0], &o);
}
static cg_tensor *run_avg_pool(cg_tensor **in, const cg_fixture_case *c) {
    cg_pool_options o = case_pool_options(c);
    return cg_avg_pool2d(in[0], &o);
}
static cg_tensor *run_adaptive(cg_tensor **in, const cg_fixture_case *c) {
    return cg_adaptive_avg_pool2d(in[0], param_at(c, "output_size", 0),
                                  param_at(c, "output_size", 1));
}
// Also checks the running statistics the op updated in place (train) or left alone (eval).
static cg_tensor *run_batch_norm(cg_tensor **in, const cg_fixture_case *c) {
    return cg_test_batch_norm_case(cg_batch_norm2d, in, c);
}
static cg_tensor *run_dropout(cg_tensor **in, const cg_fixture_case *c) {
    return cg_dropout(in[0], (float)cg_fixture_param(c, "p", -1),
                      cg_fixture_param(c, "training", 0) != 0);
}

// Sums over a window or a channel of up to 100 values accumulate in another order than
// PyTorch's.
static const cg_test_tolerance SUM_TOL = {1e-5, 1e-5, 1e-4, 1e-5};

static const cg_test_op OPS[] = {
    {"linear", FIXTURE, 3, {"x", "weight", "bias"}, run_linear, &SUM_TOL},
    {"linear_nobias", FIXTURE, 2, {"x", "weight"}, run_linear_nobias, &SUM_TOL},
    {"max_pool2d", FIXTURE, 1, {"x"}, run_max_pool, NULL},
    {"avg_pool2d", FIXTURE, 1, {"x"}, run_avg_pool, &SUM_TOL},
    {"adaptive_avg_pool2d", FIXTURE, 1, {"x"}, run_adaptive, &SUM_TOL},
    {"batch_norm2d", FIXTURE, 3, {"x", "weight", "bias"}, run_batch_norm, &SUM_TOL},
    {"dropout", FIXTURE, 1, {"x"}, run_dropout, NULL},
};

// ---- gradchecks (finite differences) ------------------------------------------------------

static cg_tensor *grad_linear(cg_tensor **in, void *ctx) {
    (void)ctx;
    return cg_linear(in[0], in[1], in[2]);
}
static cg_tensor *grad_max_pool(cg_tensor **in, void *ctx) {
    return cg_max_pool2d(in[0], ctx);
}
static cg_tensor *grad_avg_pool(cg_tensor **in, void *ctx) {
    return cg_avg_pool2d(in[0], ctx);
}
static cg_tensor *grad_adaptive(cg_tensor **in, void *ctx) {
    const int *size = ctx;
    return cg_adaptive_avg_pool2d(in[0], size[0], size[1]);
}
// Fresh running statistics every call, so each evaluation sees the same function.
static cg_tensor *grad_batch_norm(cg_tensor **in, void *ctx) {
    bool training = *(const bool *)ctx;
    cg_tensor *rm = cg_full(CG_SHAPE(in[0]->shape[1]), 0.2f);
    cg_tensor *rv = cg_full(CG_SHAPE(in[0]->shape[1]), 1.5f);
    return cg_batch_norm2d(in[0], rm, rv, in[1], in[2], training, 0.1f, 1e-5f);
}
// The same mask every call: the generator is reseeded.
static cg_tensor *grad_dropout(cg_tensor **in, void *ctx) {
    (void)ctx;
    cg_manual_seed(99);
    return cg_dropout(in[0], 0.4f, true);
}

static cg_tensor *leaf(cg_tensor *t) {
    return cg_requires_grad(t, true);
}

static void test_gradcheck_linear(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *in[3] = {leaf(cg_randn(CG_SHAPE(2, 3, 5), NULL)),
                        leaf(cg_randn(CG_SHAPE(4, 5), NULL)), leaf(cg_randn(CG_SHAPE(4), NULL))};
    cg_test_gradcheck(grad_linear, NULL, 3, in, "linear");
    in[2] = NULL;
    cg_test_gradcheck(grad_linear, NULL, 2, in, "linear without bias");
    cg_scope_end();
}

static void test_gradcheck_pooling(void **state) {
    (void)state;
    cg_scope_begin();
    const cg_pool_options configs[] = {
        {.kernel_size = 2, .stride = 0, .padding = 0, .ceil_mode = false},
        {.kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = false},
        {.kernel_size = 2, .stride = 2, .padding = 1, .ceil_mode = true},
        {.kernel_size_hw = {3, 2}, .stride_hw = {2, 1}, .padding_hw = {1, 0}, .ceil_mode = true},
    };
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        cg_tensor *x = cg_test_distinct(CG_SHAPE(2, 2, 5, 7));
        cg_test_gradcheck(grad_max_pool, (void *)&configs[i], 1, &x, "max_pool2d");
        cg_tensor *u = cg_test_distinct(CG_SHAPE(3, 6, 5)); // unbatched
        cg_test_gradcheck(grad_max_pool, (void *)&configs[i], 1, &u, "max_pool2d unbatched");
        cg_tensor *a = leaf(cg_randn(CG_SHAPE(2, 2, 5, 7), NULL));
        cg_test_gradcheck(grad_avg_pool, (void *)&configs[i], 1, &a, "avg_pool2d");
    }
    const int sizes[][2] = {{3, 4}, {1, 1}, {7, 2}};
    for (int i = 0; i < 3; i++) {
        cg_tensor *x = leaf(cg_randn(CG_SHAPE(2, 3, 5, 7), NULL));
        cg_test_gradcheck(grad_adaptive, (void *)sizes[i], 1, &x, "adaptive_avg_pool2d");
    }
    cg_scope_end();
}

static void test_gradcheck_batch_norm(void **state) {
    (void)state;
    cg_scope_begin();
    for (int training = 1; training >= 0; training--) {
        bool mode = training;
        cg_tensor *in[3] = {leaf(cg_randn(CG_SHAPE(3, 2, 3, 4), NULL)),
                            leaf(cg_randn(CG_SHAPE(2), NULL)), leaf(cg_randn(CG_SHAPE(2), NULL))};
        cg_test_gradcheck(grad_batch_norm, &mode, 3, in,
                          training ? "batch_norm2d train" : "batch_norm2d eval");
    }
    cg_scope_end();
}

static void test_gradcheck_dropout(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = leaf(cg_randn(CG_SHAPE(4, 6), NULL));
    cg_test_gradcheck(grad_dropout, NULL, 1, &x, "dropout");
    cg_scope_end();
}

// ---- modules -----------------------------------------------------------------------------

// cg_Sequential runs a Conv2d followed by a ReLU as cg_conv2d_relu, bitwise equal to the two
// modules one by one in values and in every gradient.
static void test_sequential_fuses_conv_relu(void **state) {
    (void)state;
    cg_module *seq = cg_Sequential(
        2, (cg_module *[]){cg_Conv2d(3, 5, 3, &(cg_conv_options){.padding = 1, .stride = 2}),
                           cg_ReLU()});
    cg_module *conv = seq->children[0], *relu = seq->children[1];
    cg_tensor *w = cg_module_param(conv, "weight"), *b = cg_module_param(conv, "bias");
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3, 9, 8), NULL);
    x->requires_grad = true;
    cg_tensor *y = cg_module_forward(seq, x);
    assert_string_equal(y->node->op->name, "conv2d_relu");
    cg_tensor *g = cg_empty_like(y);
    for (int64_t i = 0; i < g->numel; i++) g->data[i] = (float)((i * 7919) % 13) - 6.0f;
    assert_int_equal(cg_backward_ex(y, g, false), 0);
    cg_tensor *dx = cg_copy(x->grad), *dw = cg_copy(w->grad), *db = cg_copy(b->grad);
    bool masked = false; // the ReLU zeroes some outputs, so the test sees the mask
    for (int64_t i = 0; i < y->numel; i++) masked |= y->data[i] == 0.0f;
    assert_true(masked);

    cg_module_zero_grad(conv);
    cg_zero_grad(x);
    cg_tensor *z = cg_module_forward(relu, cg_module_forward(conv, x));
    assert_string_equal(z->node->op->name, "relu");
    assert_memory_equal(z->data, y->data, (size_t)y->numel * sizeof(float));
    assert_int_equal(cg_backward_ex(z, g, false), 0);
    assert_memory_equal(x->grad->data, dx->data, (size_t)dx->numel * sizeof(float));
    assert_memory_equal(w->grad->data, dw->data, (size_t)dw->numel * sizeof(float));
    assert_memory_equal(b->grad->data, db->data, (size_t)db->numel * sizeof(float));
    cg_scope_end();
    cg_module_free(seq);
}

// Which pairs a Sequential fuses: a ReLU between a Conv2d and a MaxPool2d goes with the
// pooling; ConvTranspose2d and Conv1d do not fuse with a ReLU; forward_pair refuses a pair
// that does not fuse.
static void test_sequential_pair_choice(void **state) {
    (void)state;
    const cg_pool_options k2 = {.kernel_size = 2};
    cg_module *three =
        cg_Sequential(3, (cg_module *[]){cg_Conv2d(2, 4, 3, NULL), cg_ReLU(), cg_MaxPool2d(&k2)});
    cg_module *transposed =
        cg_Sequential(2, (cg_module *[]){cg_ConvTranspose2d(2, 4, 3, NULL), cg_ReLU()});
    cg_module *one_d = cg_Sequential(2, (cg_module *[]){cg_Conv1d(2, 4, 3, NULL), cg_ReLU()});
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 2, 8, 8), NULL);
    x->requires_grad = true;
    cg_tensor *y = cg_module_forward(three, x);
    assert_string_equal(y->node->op->name, "relu_max_pool2d");
    assert_string_equal(y->node->inputs[0]->node->op->name, "conv2d");
    assert_true(cg_module_pairs(three->children[0], three->children[1]));
    assert_true(cg_module_pairs(three->children[1], three->children[2]));
    y = cg_module_forward(transposed, x);
    assert_string_equal(y->node->op->name, "relu");
    cg_tensor *x1 = cg_randn(CG_SHAPE(2, 2, 9), NULL);
    x1->requires_grad = true;
    y = cg_module_forward(one_d, x1);
    assert_string_equal(y->node->op->name, "relu");
    assert_false(cg_module_pairs(three->children[2], three->children[0]));
    assert_null(cg_module_forward_pair(three->children[2], three->children[0], x));
    cg_test_expect_error(CG_ERR_ARG, "MaxPool2d does not fuse with Conv2d");
    cg_scope_end();
    cg_module_free(three);
    cg_module_free(transposed);
    cg_module_free(one_d);
}

static void test_reprs(void **state) {
    (void)state;
    struct {
        cg_module *m;
        const char *repr;
    } cases[] = {
        {cg_Linear(784, 10, NULL), "Linear(in_features=784, out_features=10, bias=True)"},
        {cg_Linear(4, 2, &(cg_linear_options){.no_bias = true}),
         "Linear(in_features=4, out_features=2, bias=False)"},
        {cg_LeakyReLU(&(cg_leaky_relu_options){.negative_slope = CG_SET(0.01)}),
         "LeakyReLU(negative_slope=0.01)"},
        {cg_LeakyReLU(&(cg_leaky_relu_options){.negative_slope = CG_SET(0.2)}),
         "LeakyReLU(negative_slope=0.2)"},
        {cg_Flatten(1, -1), "Flatten(start_dim=1, end_dim=-1)"},
        {cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.25)}), "Dropout(p=0.25, inplace=False)"},
        {cg_BatchNorm2d(16, NULL),
         "BatchNorm2d(16, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)"},
        {cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
         "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"},
        {cg_MaxPool2d(&(cg_pool_options){
             .kernel_size_hw = {3, 2}, .stride = 1, .padding = 1, .ceil_mode = true}),
         "MaxPool2d(kernel_size=(3, 2), stride=1, padding=1, dilation=1, ceil_mode=True)"},
        {cg_AvgPool2d(&(cg_pool_options){.kernel_size = 3, .stride = 2, .padding = 1}),
         "AvgPool2d(kernel_size=3, stride=2, padding=1)"},
        {cg_AdaptiveAvgPool2d(2, 3), "AdaptiveAvgPool2d(output_size=(2, 3))"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_non_null(cases[i].m);
        assert_string_equal(cg_test_describe(cases[i].m), cases[i].repr);
        cg_module_free(cases[i].m);
    }
    // Modules without arguments print "Name()" (module.c's default).
    cg_module *plain[] = {cg_ReLU(), cg_Sigmoid(), cg_Tanh()};
    const char *names[] = {"ReLU", "Sigmoid", "Tanh"};
    for (int i = 0; i < 3; i++) {
        assert_null(plain[i]->cls->describe);
        assert_string_equal(plain[i]->cls->name, names[i]);
        cg_module_free(plain[i]);
    }
}

// The model of the state_dict and print tests; parameters 12+4 + 4+4 + 8 = 32.
static cg_module *nested_model(void) {
    cg_module *inner = cg_Sequential(2, (cg_module *[]){cg_Linear(3, 4, NULL), cg_ReLU()});
    return cg_Sequential(
        4, (cg_module *[]){inner, cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.25)}),
                           cg_BatchNorm2d(4, NULL),
                           cg_Linear(4, 2, &(cg_linear_options){.no_bias = true})});
}

static void test_state_dict_names(void **state) {
    (void)state;
    cg_module *model = nested_model();
    assert_non_null(model);
    const char *expected[] = {"0.0.weight",
                              "0.0.bias",
                              "2.weight",
                              "2.bias",
                              "2.running_mean",
                              "2.running_var",
                              "2.num_batches_tracked",
                              "3.weight"};
    cg_tensor_list sd = cg_module_state_dict(model);
    assert_int_equal(sd.count, 8);
    for (int i = 0; i < sd.count; i++) assert_string_equal(sd.items[i].name, expected[i]);
    cg_tensor_list_free(&sd);
    const char *params[] = {"0.0.weight", "0.0.bias", "2.weight", "2.bias", "3.weight"};
    cg_tensor_list np = cg_module_named_parameters(model);
    assert_int_equal(np.count, 5);
    for (int i = 0; i < np.count; i++) {
        assert_string_equal(np.items[i].name, params[i]);
        assert_true(np.items[i].tensor->requires_grad);
    }
    cg_tensor_list_free(&np);
    assert_int_equal(cg_module_num_parameters(model), 32);
    assert_ptr_equal(cg_module_get(model, "0.0")->cls, cg_module_get(model, "3")->cls);
    cg_module_free(model);
}

// cg_module_print of the nested model, as PyTorch's print(model).
static void test_print_matches_pytorch(void **state) {
    (void)state;
    cg_module *model = nested_model();
    char text[1024];
    cg_test_module_text(model, text, sizeof text);
    assert_string_equal(text, "Sequential(\n"
                              "  (0): Sequential(\n"
                              "    (0): Linear(in_features=3, out_features=4, bias=True)\n"
                              "    (1): ReLU()\n"
                              "  )\n"
                              "  (1): Dropout(p=0.25, inplace=False)\n"
                              "  (2): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, "
                              "track_running_stats=True)\n"
                              "  (3): Linear(in_features=4, out_features=2, bias=False)\n"
                              ")\n");
    cg_module_free(model);
}

static void test_parameter_counts_and_init(void **state) {
    (void)state;
    cg_manual_seed(3);
    cg_module *fc = cg_Linear(784, 10, NULL);
    assert_int_equal(cg_module_num_parameters(fc), 7850);
    // PyTorch's default: weight and bias both U(-1/sqrt(in), 1/sqrt(in)).
    float bound = 1.0f / sqrtf(784.0f);
    cg_tensor *w = cg_module_param(fc, "weight"), *b = cg_module_param(fc, "bias");
    assert_int_equal(w->shape[0], 10);
    assert_int_equal(w->shape[1], 784);
    float max = 0;
    for (int64_t i = 0; i < w->numel; i++) max = fmaxf(max, fabsf(w->data[i]));
    assert_true(max <= bound && max > 0.9f * bound);
    for (int64_t i = 0; i < b->numel; i++) assert_true(fabsf(b->data[i]) <= bound);
    cg_module_free(fc);

    cg_module *bn = cg_BatchNorm2d(16, NULL);
    assert_int_equal(cg_module_num_parameters(bn), 32);
    for (int i = 0; i < 16; i++) {
        assert_true(cg_module_param(bn, "weight")->data[i] == 1.0f);
        assert_true(cg_module_param(bn, "bias")->data[i] == 0.0f);
        assert_true(cg_module_buffer(bn, "running_mean")->data[i] == 0.0f);
        assert_true(cg_module_buffer(bn, "running_var")->data[i] == 1.0f);
    }
    assert_int_equal(cg_module_buffer(bn, "num_batches_tracked")->ndim, 0);
    cg_module_free(bn);
    cg_module *none =
        cg_Sequential(3, (cg_module *[]){cg_ReLU(), cg_Flatten(1, -1),
                                         cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2})});
    assert_int_equal(cg_module_num_parameters(none), 0);
    cg_module_free(none);
}

// Dropout: in training about p of the elements are zero and the rest scaled by 1/(1-p), the
// gradient is the same mask; in eval mode the module is the identity.
static void test_dropout_train_eval(void **state) {
    (void)state;
    cg_scope_begin();
    cg_manual_seed(11);
    cg_module *drop = cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.5)});
    cg_tensor *x = leaf(cg_full(CG_SHAPE(100, 100), 3.0f));
    cg_tensor *y = cg_module_forward(drop, x);
    int zeros = 0;
    for (int64_t i = 0; i < y->numel; i++) {
        assert_true(y->data[i] == 0.0f || y->data[i] == 6.0f);
        zeros += y->data[i] == 0.0f;
    }
    assert_in_range(zeros, 4700, 5300);
    assert_int_equal(cg_backward(cg_sum(y, CG_ALL_DIMS, false)), 0);
    for (int64_t i = 0; i < y->numel; i++)
        assert_true(x->grad->data[i] == (y->data[i] == 0.0f ? 0.0f : 2.0f));
    cg_module_eval(drop);
    assert_false(drop->training);
    cg_assert_close(cg_module_forward(drop, x), x, 0, 0, "dropout in eval mode");
    cg_module_train(drop, true);
    cg_tensor *y2 = cg_module_forward(drop, x);
    int same = 0;
    for (int64_t i = 0; i < y->numel; i++) same += y->data[i] == y2->data[i];
    assert_true(same < y->numel); // a new mask each call
    // p = 1 drops everything, as PyTorch.
    cg_tensor *all = cg_dropout(x, 1.0f, true);
    cg_assert_close(all, cg_zeros(CG_SHAPE(100, 100)), 0, 0, "dropout p=1");
    cg_module_free(drop);
    cg_scope_end();
}

// BatchNorm2d: training normalises with the batch statistics and moves the running ones,
// counting batches; eval normalises with the running statistics and changes nothing.
static void test_batch_norm_train_eval(void **state) {
    (void)state;
    cg_scope_begin();
    cg_module *bn = cg_BatchNorm2d(3, NULL);
    cg_tensor *x = cg_add_scalar(cg_mul_scalar(cg_randn(CG_SHAPE(8, 3, 4, 4), NULL), 2.0f), 5.0f);
    cg_tensor *y = cg_module_forward(bn, x);
    cg_tensor *mean = cg_mean(y, CG_DIMS(0, 2, 3), false);
    cg_tensor *var = cg_var(y, CG_DIMS(0, 2, 3), 0, false);
    cg_assert_close(mean, cg_zeros(CG_SHAPE(3)), 0, 1e-5, "train output mean per channel");
    cg_assert_close(var, cg_ones(CG_SHAPE(3)), 1e-4, 1e-4, "train output var per channel");
    cg_tensor *batch_mean = cg_mean(x, CG_DIMS(0, 2, 3), false);
    cg_tensor *batch_var = cg_var(x, CG_DIMS(0, 2, 3), 1, false);
    cg_assert_close(cg_module_buffer(bn, "running_mean"), cg_mul_scalar(batch_mean, 0.1f), 1e-5,
                    1e-6, "running_mean after one batch");
    cg_assert_close(cg_module_buffer(bn, "running_var"),
                    cg_add_scalar(cg_mul_scalar(batch_var, 0.1f), 0.9f), 1e-5, 1e-6,
                    "running_var after one batch (unbiased)");
    assert_true(cg_item(cg_module_buffer(bn, "num_batches_tracked")) == 1.0f);

    cg_module_eval(bn);
    cg_tensor *rm = cg_copy(cg_module_buffer(bn, "running_mean"));
    cg_tensor *rv = cg_copy(cg_module_buffer(bn, "running_var"));
    cg_tensor *ye = cg_module_forward(bn, x);
    cg_tensor *expected =
        cg_div(cg_sub(x, cg_reshape(rm, CG_SHAPE(1, 3, 1, 1))),
               cg_sqrt(cg_add_scalar(cg_reshape(rv, CG_SHAPE(1, 3, 1, 1)), 1e-5f)));
    cg_assert_close(ye, expected, 1e-5, 1e-5, "eval uses running statistics");
    cg_assert_close(cg_module_buffer(bn, "running_mean"), rm, 0, 0, "eval leaves running_mean");
    assert_true(cg_item(cg_module_buffer(bn, "num_batches_tracked")) == 1.0f);
    cg_module_free(bn);
    cg_scope_end();
}

static void test_sequential_forward_and_summary(void **state) {
    (void)state;
    cg_scope_begin();
    cg_module *model =
        cg_Sequential(6, (cg_module *[]){cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
                                         cg_Flatten(1, -1), cg_Linear(16, 10, NULL), cg_ReLU(),
                                         cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.5)}),
                                         cg_Linear(10, 3, NULL)});
    assert_non_null(model);
    cg_tensor *x = cg_randn(CG_SHAPE(5, 1, 8, 8), NULL);
    cg_module_eval(model);
    cg_tensor *y = cg_module_forward(model, x);
    // The same computation spelled out with the functional ops.
    cg_tensor *h = cg_flatten(cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 2}), 1, -1);
    cg_module *fc1 = cg_module_get(model, "2"), *fc2 = cg_module_get(model, "5");
    h = cg_relu(cg_linear(h, cg_module_param(fc1, "weight"), cg_module_param(fc1, "bias")));
    h = cg_linear(h, cg_module_param(fc2, "weight"), cg_module_param(fc2, "bias"));
    cg_assert_close(y, h, 1e-6, 1e-6, "Sequential = the layers in order");

    FILE *f = tmpfile();
    assert_non_null(f);
    assert_int_equal(cg_module_summary(model, CG_SHAPE(1, 1, 8, 8), f), 0);
    char text[4096] = "";
    rewind(f);
    text[fread(text, 1, sizeof text - 1, f)] = '\0';
    fclose(f);
    const char *rows[][3] = {{"MaxPool2d-1", "[-1,1,4,4]", "0"}, {"Flatten-2", "[-1,16]", "0"},
                             {"Linear-3", "[-1,10]", "170"},     {"ReLU-4", "[-1,10]", "0"},
                             {"Dropout-5", "[-1,10]", "0"},      {"Linear-6", "[-1,3]", "33"}};
    for (int i = 0; i < 6; i++) {
        const char *line = strstr(text, rows[i][0]);
        if (!line) fail_msg("summary has no row %s:\n%s", rows[i][0], text);
        char row[128];
        snprintf(row, sizeof row, "%.*s", (int)strcspn(line, "\n"), line);
        if (!strstr(row, rows[i][1]) || !strstr(row + strlen(row) - strlen(rows[i][2]), rows[i][2]))
            fail_msg("summary row '%s' should show %s and %s", row, rows[i][1], rows[i][2]);
    }
    assert_non_null(strstr(text, "Total params: 203"));
    assert_non_null(strstr(text, "Trainable params: 203"));
    assert_non_null(strstr(text, "Non-trainable params: 0"));
    cg_module_free(model);
    cg_scope_end();
}

// Layers accept any leading dims / unbatched input as PyTorch.
static void test_shapes(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *p = cg_max_pool2d(
        cg_zeros(CG_SHAPE(2, 3, 5, 5)),
        &(cg_pool_options){.kernel_size = 2, .stride = 2, .padding = 1, .ceil_mode = true});
    assert_int_equal(p->shape[2], 3); // last window would start in the right padding: dropped
    p = cg_avg_pool2d(
        cg_zeros(CG_SHAPE(3, 7, 7)),
        &(cg_pool_options){.kernel_size = 3, .stride = 2, .padding = 0, .ceil_mode = true});
    assert_int_equal(p->ndim, 3);
    assert_int_equal(p->shape[1], 3);
    p = cg_adaptive_avg_pool2d(cg_zeros(CG_SHAPE(1, 2, 3, 3)), 5, 1);
    assert_int_equal(p->shape[2], 5);
    assert_int_equal(p->shape[3], 1);
    cg_tensor *l = cg_linear(cg_zeros(CG_SHAPE(2, 3, 4, 5)), cg_zeros(CG_SHAPE(6, 5)), NULL);
    assert_int_equal(l->ndim, 4);
    assert_int_equal(l->shape[3], 6);
    cg_scope_end();
}

static void test_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_zeros(CG_SHAPE(1, 2, 4, 4));
    assert_null(cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 3, .stride = 1, .padding = 2}));
    cg_test_expect_error(CG_ERR_ARG, "max_pool2d: padding (2, 2) should be at most half");
    assert_null(cg_avg_pool2d(x, &(cg_pool_options){.kernel_size = 5}));
    cg_test_expect_error(CG_ERR_SHAPE, "avg_pool2d: input [1,2,4,4] is too small");
    assert_null(cg_max_pool2d(cg_zeros(CG_SHAPE(4, 4)), &(cg_pool_options){.kernel_size = 2}));
    cg_test_expect_error(CG_ERR_SHAPE, "max_pool2d: input must be (N, C, H, W) or (C, H, W)");
    assert_null(cg_max_pool2d(x, NULL));
    cg_test_expect_error(CG_ERR_ARG, "kernel_size is required");
    assert_null(cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 0}));
    cg_test_expect_error(CG_ERR_ARG, "must be > 0");
    assert_null(cg_adaptive_avg_pool2d(x, 0, 2));
    cg_test_expect_error(CG_ERR_ARG, "adaptive_avg_pool2d: output size (0, 2)");
    assert_null(cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2, .stride = 1, .padding = 3}));
    cg_test_expect_error(CG_ERR_ARG, "MaxPool2d: padding");

    assert_null(cg_linear(cg_zeros(CG_SHAPE(2, 3)), cg_zeros(CG_SHAPE(4, 5)), NULL));
    cg_test_expect_error(CG_ERR_SHAPE, "linear: input [2,3] does not end in in_features = 5");
    assert_null(
        cg_linear(cg_zeros(CG_SHAPE(2, 5)), cg_zeros(CG_SHAPE(4, 5)), cg_zeros(CG_SHAPE(3))));
    cg_test_expect_error(CG_ERR_SHAPE, "linear: bias [3] must be [4]");
    assert_null(cg_linear(NULL, cg_zeros(CG_SHAPE(4, 5)), NULL));
    cg_test_expect_error(CG_ERR_ARG, "linear");

    cg_tensor *w = cg_ones(CG_SHAPE(3));
    assert_null(cg_batch_norm2d(x, NULL, NULL, w, NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "batch_norm2d: weight [3] does not match the 2 channels");
    assert_null(
        cg_batch_norm2d(cg_zeros(CG_SHAPE(1, 2, 1, 1)), NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "more than 1 value per channel");
    assert_null(cg_batch_norm2d(x, NULL, NULL, NULL, NULL, false, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_ARG, "eval mode needs running_mean");
    assert_null(
        cg_batch_norm2d(cg_zeros(CG_SHAPE(2, 4, 4)), NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f));
    cg_test_expect_error(CG_ERR_SHAPE, "expected 4-D input");
    cg_module *bn = cg_BatchNorm2d(3, NULL);
    assert_null(cg_module_forward(bn, x));
    cg_test_expect_error(CG_ERR_SHAPE, "running_mean [3] does not match the 2 channels");
    cg_module_free(bn);

    assert_null(cg_Dropout(&(cg_dropout_options){.p = CG_SET(1.5)}));
    cg_test_expect_error(CG_ERR_ARG, "Dropout: probability p = 1.5 is not in [0, 1]");
    assert_null(cg_dropout(x, -0.1f, true));
    cg_test_expect_error(CG_ERR_ARG, "dropout: probability");
    assert_null(cg_BatchNorm2d(0, NULL));
    cg_test_expect_error(CG_ERR_ARG, "BatchNorm2d");
    // A failed constructor inside Sequential: the others are freed, one clear message.
    assert_null(cg_Sequential(3, (cg_module *[]){cg_ReLU(), NULL, cg_Linear(2, 2, NULL)}));
    cg_test_expect_error(CG_ERR_ARG, "Sequential: module 1 is NULL");
    cg_module *empty = cg_Sequential(0, NULL);
    assert_ptr_equal(cg_module_forward(empty, x), x);
    cg_module_free(empty);
    cg_scope_end();
}

// One training step through every layer and loss; returns nothing, frees everything but the
// parameters' grads.
static void training_step(cg_module *model, cg_tensor *x, cg_tensor *target) {
    cg_scope_begin();
    cg_tensor *y = cg_module_forward(model, x);
    cg_tensor *loss = cg_add(cg_cross_entropy(y, target, NULL),
                             cg_nll_loss(cg_log_softmax(y, 1), target,
                                         &(cg_loss_options){.reduction = CG_REDUCTION_SUM}));
    loss = cg_add(loss, cg_mse_loss(y, cg_zeros_like(y), NULL));
    loss =
        cg_add(loss, cg_binary_cross_entropy_with_logits(
                         y, cg_ones_like(y), &(cg_loss_options){.reduction = CG_REDUCTION_NONE}));
    assert_int_equal(cg_backward(cg_sum(loss, CG_ALL_DIMS, false)), 0);
    cg_scope_end();
}

// Forward, backward and scope end leave no live allocation behind (saved masks, argmax
// indices, statistics and target copies belong to graph nodes and go with them).
static void test_no_leaks(void **state) {
    (void)state;
    cg_module *model = cg_Sequential(
        9, (cg_module *[]){
               cg_BatchNorm2d(2, NULL), cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
               cg_AvgPool2d(&(cg_pool_options){.kernel_size = 2, .stride = 1}),
               cg_AdaptiveAvgPool2d(2, 2), cg_Flatten(1, -1), cg_Linear(8, 6, NULL),
               cg_LeakyReLU(&(cg_leaky_relu_options){.negative_slope = CG_SET(0.1)}),
               cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.3)}), cg_Linear(6, 3, NULL)});
    cg_tensor *x = cg_requires_grad(cg_randn(CG_SHAPE(4, 2, 8, 8), NULL), true);
    cg_tensor *target = cg_from_data(CG_SHAPE(4), (float[]){0, 2, 1, 2});
    training_step(model, x, target); // allocates the grads once
    int64_t live = cg_alloc_get_stats().live_bytes;
    training_step(model, x, target);
    cg_module_eval(model);
    training_step(model, x, target);
    assert_int_equal(cg_alloc_get_stats().live_bytes, live);
    cg_free(x);
    cg_free(target);
    cg_module_free(model);
}

// MaxPool2d(2) ties and NaN, on the vectorised 2x2 path and the general path (3x3 kernel):
// as PyTorch, the first maximum in row-major order gets the gradient and NaN propagates.
static void test_max_pool_ties_and_nan(void **state) {
    (void)state;
    cg_scope_begin();
    // plane 0: all equal (first wins); plane 1: a NaN in the second window
    const float v[2 * 16] = {1, 1, 5, 2, 1, 1, 2,   5, 0, 0, 0, 0, 0, 0, 0, 0,
                             1, 2, 3, 4, 5, 6, NAN, 8, 9, 9, 1, 1, 9, 9, 1, 1};
    cg_tensor *x = cg_requires_grad(cg_from_data(CG_SHAPE(1, 2, 4, 4), v), true);
    cg_tensor *y = cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 2});
    const float expect_y[8] = {1, 5, 0, 0, 6, NAN, 9, 1};
    for (int i = 0; i < 8; i++) {
        if (isnan(expect_y[i]))
            assert_true(isnan(y->data[i]));
        else
            assert_true(y->data[i] == expect_y[i]);
    }
    cg_backward_ex(y, cg_ones_like(y), false);
    // gradient lands on: plane 0 index 0, 2, 8, 10; plane 1 index 5, 6 (NaN), 8, 10
    const int hit[8] = {0, 2, 8, 10, 16 + 5, 16 + 6, 16 + 8, 16 + 10};
    float expect_g[32] = {0};
    for (int i = 0; i < 8; i++) expect_g[hit[i]] = 1;
    for (int i = 0; i < 32; i++) assert_true(x->grad->data[i] == expect_g[i]);
    // a 3x3 window over the same plane 1 (general path): NaN wins over 9
    cg_tensor *z = cg_max_pool2d(cg_slice(cg_reshape(x, CG_SHAPE(2, 1, 4, 4)), 1, 2),
                                 &(cg_pool_options){.kernel_size = 3, .stride = 1});
    assert_non_null(z);
    assert_true(isnan(z->data[0]) && isnan(z->data[1]) && isnan(z->data[2]) && isnan(z->data[3]));
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_gradcheck_linear, cg_test_teardown),
        cmocka_unit_test_teardown(test_gradcheck_pooling, cg_test_teardown),
        cmocka_unit_test_teardown(test_gradcheck_batch_norm, cg_test_teardown),
        cmocka_unit_test_teardown(test_gradcheck_dropout, cg_test_teardown),
        cmocka_unit_test_teardown(test_reprs, cg_test_teardown),
        cmocka_unit_test_teardown(test_sequential_fuses_conv_relu, cg_test_teardown),
        cmocka_unit_test_teardown(test_sequential_pair_choice, cg_test_teardown),
        cmocka_unit_test_teardown(test_state_dict_names, cg_test_teardown),
        cmocka_unit_test_teardown(test_print_matches_pytorch, cg_test_teardown),
        cmocka_unit_test_teardown(test_parameter_counts_and_init, cg_test_teardown),
        cmocka_unit_test_teardown(test_dropout_train_eval, cg_test_teardown),
        cmocka_unit_test_teardown(test_batch_norm_train_eval, cg_test_teardown),
        cmocka_unit_test_teardown(test_sequential_forward_and_summary, cg_test_teardown),
        cmocka_unit_test_teardown(test_shapes, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
        cmocka_unit_test_teardown(test_no_leaks, cg_test_teardown),
        cmocka_unit_test_teardown(test_max_pool_ties_and_nan, cg_test_teardown),
    };
    return CG_TEST_RUN("layers", OPS, extra, 7);
}
