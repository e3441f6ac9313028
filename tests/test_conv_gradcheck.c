// tests/test_conv_gradcheck.c - finite-difference gradchecks of the convolution family over
// a grid that touches every parameter: kernel 1..5 and rectangular, stride 1..3 (also
// stride > kernel), explicit/asymmetric/same (odd and even kernels)/valid padding, dilation
// 1..3, groups 1, 2 and depthwise with a channel multiplier, bias on/off, batched and
// unbatched, odd sizes, output_padding; conv2d, conv_transpose2d, conv1d,
// conv_transpose1d, pad in every mode, unfold and fold. Sizes are tiny so it runs in
// seconds (gradcheck costs two forwards per input element).
#include <stdio.h>

#include "cgrad.h"
#include "testing.h"

typedef enum { CONV2D, CONV_T2D, CONV1D, CONV_T1D } conv_op;

typedef struct conv_case {
    conv_op op;
    int batch; // 0: unbatched
    int cin, cout, h, w, kh, kw;
    bool bias;
    cg_conv_options o;
} conv_case;

#define O(...) ((cg_conv_options){__VA_ARGS__})

static const conv_case CASES[] = {
    // conv2d: kernels 1..5 and rectangular
    {CONV2D, 2, 2, 3, 5, 5, 1, 1, true, O(.groups = 0)},
    {CONV2D, 1, 2, 2, 5, 6, 2, 2, false, O(.groups = 0)},
    {CONV2D, 2, 1, 2, 6, 5, 3, 3, true, O(.padding = 1)},
    {CONV2D, 1, 2, 2, 6, 7, 4, 4, true, O(.padding_hw = {2, 1})},
    {CONV2D, 1, 1, 2, 7, 7, 5, 5, true, O(.padding = 2)},
    {CONV2D, 1, 2, 3, 5, 7, 2, 4, true, O(.padding_hw = {0, 1})},
    {CONV2D, 1, 2, 2, 7, 5, 3, 1, false, O(.padding_hw = {1, 0})},
    // stride 1..3, stride > kernel, rectangular stride
    {CONV2D, 2, 2, 2, 7, 7, 3, 3, true, O(.stride = 2)},
    {CONV2D, 1, 2, 2, 8, 9, 3, 3, true, O(.stride = 3, .padding = 1)},
    {CONV2D, 1, 2, 3, 7, 8, 1, 2, true, O(.stride = 3)},
    {CONV2D, 1, 1, 2, 9, 7, 2, 3, true, O(.stride_hw = {3, 2}, .padding_hw = {1, 2})},
    // padding same (odd and even kernels, dilation) and valid
    {CONV2D, 1, 2, 2, 5, 6, 3, 3, true, O(.padding_kind = CG_PADDING_SAME)},
    {CONV2D, 1, 2, 2, 5, 6, 2, 4, true, O(.padding_kind = CG_PADDING_SAME)},
    {CONV2D, 1, 1, 2, 6, 5, 4, 3, false, O(.padding_kind = CG_PADDING_SAME, .dilation = 2)},
    {CONV2D, 2, 2, 2, 5, 5, 3, 2, true, O(.padding_kind = CG_PADDING_VALID)},
    // dilation 1..3
    {CONV2D, 1, 2, 2, 7, 7, 3, 3, true, O(.dilation = 2, .padding = 1)},
    {CONV2D, 1, 1, 2, 9, 8, 2, 3, true, O(.dilation_hw = {3, 2}, .stride = 2)},
    {CONV2D, 1, 2, 2, 7, 9, 3, 2, true, O(.dilation_hw = {1, 3}, .padding_hw = {2, 0})},
    // groups 2, depthwise (groups = C_in) with multiplier 2 and 1
    {CONV2D, 2, 4, 2, 5, 5, 3, 3, true, O(.groups = 2, .padding = 1)},
    {CONV2D, 1, 4, 6, 5, 6, 3, 2, true, O(.groups = 2, .stride = 2, .dilation_hw = {1, 2})},
    {CONV2D, 1, 3, 6, 5, 5, 3, 3, true, O(.groups = 3, .padding = 1)},
    {CONV2D, 2, 2, 2, 6, 5, 2, 2, false, O(.groups = 2, .padding_kind = CG_PADDING_SAME)},
    {CONV2D, 1, 4, 4, 4, 4, 1, 1, true, O(.groups = 4)},
    // unbatched
    {CONV2D, 0, 2, 3, 5, 6, 3, 3, true, O(.padding = 1, .stride_hw = {2, 1})},
    {CONV2D, 0, 3, 3, 5, 5, 2, 2, true, O(.groups = 3, .padding_kind = CG_PADDING_SAME)},
    // conv_transpose2d
    {CONV_T2D, 2, 2, 3, 3, 3, 1, 1, true, O(.groups = 0)},
    {CONV_T2D, 1, 2, 2, 3, 4, 3, 3, true, O(.groups = 0)},
    {CONV_T2D, 1, 2, 2, 3, 3, 3, 3, true, O(.stride = 2, .padding = 1)},
    {CONV_T2D, 1, 2, 2, 3, 3, 3, 3, true, O(.stride = 2, .padding = 1, .output_padding = 1)},
    {CONV_T2D, 1, 1, 2, 3, 4, 2, 4, false, O(.stride_hw = {3, 2}, .output_padding_hw = {2, 1})},
    {CONV_T2D, 1, 2, 2, 3, 3, 2, 2, true, O(.stride = 3)}, // stride > kernel: gaps
    {CONV_T2D, 1, 2, 2, 4, 3, 3, 2, true, O(.dilation = 2, .padding_hw = {1, 0})},
    {CONV_T2D, 1, 1, 2, 3, 3, 2, 2, true, O(.dilation = 3, .output_padding_hw = {2, 1})},
    {CONV_T2D, 2, 4, 2, 3, 3, 3, 3, true, O(.groups = 2, .stride = 2, .padding = 1)},
    {CONV_T2D, 1, 2, 4, 3, 3, 2, 2, true, O(.groups = 2, .stride = 2)}, // depthwise x2
    {CONV_T2D, 0, 2, 3, 3, 4, 3, 3, true, O(.stride_hw = {2, 1}, .output_padding_hw = {1, 0})},
    {CONV_T2D, 1, 2, 2, 2, 3, 5, 4, true, O(.padding_hw = {2, 1})},
    // conv1d
    {CONV1D, 2, 2, 3, 0, 7, 0, 3, true, O(.padding = 1)},
    {CONV1D, 1, 2, 2, 0, 9, 0, 2, true, O(.stride = 2, .dilation = 3)},
    {CONV1D, 1, 4, 4, 0, 6, 0, 4, true, O(.groups = 2, .padding_kind = CG_PADDING_SAME)},
    {CONV1D, 0, 2, 2, 0, 5, 0, 5, false, O(.padding_kind = CG_PADDING_VALID)},
    {CONV1D, 1, 2, 4, 0, 8, 0, 1, true, O(.groups = 2, .stride = 3)},
    // conv_transpose1d
    {CONV_T1D, 2, 2, 3, 0, 4, 0, 3, true, O(.stride = 2, .padding = 1, .output_padding = 1)},
    {CONV_T1D, 1, 4, 2, 0, 5, 0, 2, true, O(.groups = 2, .dilation = 2)},
    {CONV_T1D, 0, 2, 2, 0, 3, 0, 4, false, O(.stride = 3, .output_padding = 2)},
};

static const char *OP_NAMES[] = {"conv2d", "conv_transpose2d", "conv1d", "conv_transpose1d"};

static cg_tensor *run_conv(cg_tensor **in, void *ctx) {
    const conv_case *c = ctx;
    cg_tensor *bias = c->bias ? in[2] : NULL;
    switch (c->op) {
    case CONV2D:
        return cg_conv2d(in[0], in[1], bias, &c->o);
    case CONV_T2D:
        return cg_conv_transpose2d(in[0], in[1], bias, &c->o);
    case CONV1D:
        return cg_conv1d(in[0], in[1], bias, &c->o);
    case CONV_T1D:
        return cg_conv_transpose1d(in[0], in[1], bias, &c->o);
    }
    return NULL;
}

static void check_conv_case(const conv_case *c, int index) {
    bool one_d = c->op == CONV1D || c->op == CONV_T1D;
    bool transposed = c->op == CONV_T2D || c->op == CONV_T1D;
    int groups = c->o.groups ? c->o.groups : 1;
    int64_t xs[4], ws[4];
    int xn = 0, wn = 0;
    if (c->batch) xs[xn++] = c->batch;
    xs[xn++] = c->cin;
    if (!one_d) xs[xn++] = c->h;
    xs[xn++] = c->w;
    ws[wn++] = transposed ? c->cin : c->cout;
    ws[wn++] = (transposed ? c->cout : c->cin) / groups;
    if (!one_d) ws[wn++] = c->kh;
    ws[wn++] = c->kw;
    cg_scope_begin();
    cg_tensor *in[3] = {cg_requires_grad(cg_randn(xn, xs, NULL), true),
                        cg_requires_grad(cg_randn(wn, ws, NULL), true),
                        cg_requires_grad(cg_randn(CG_SHAPE(c->cout), NULL), true)};
    char what[96];
    snprintf(what, sizeof what, "case %d (%s, input %s)", index, OP_NAMES[c->op],
             cg_tensor_shape_str(in[0]));
    cg_test_gradcheck(run_conv, (void *)c, c->bias ? 3 : 2, in, what);
    cg_scope_end();
}

static void test_conv_grid(void **state) {
    (void)state;
    cg_manual_seed(1);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) check_conv_case(&CASES[i], (int)i);
}

// ---- pad ---------------------------------------------------------------------------------

typedef struct pad_case {
    int ndim;
    int64_t shape[4];
    int n_pads;
    int pads[6];
    cg_padding_mode mode;
    float value;
} pad_case;

static const pad_case PAD_CASES[] = {
    {4, {1, 2, 3, 4}, 4, {1, 2, 0, 1}, CG_PAD_ZEROS, 0.0f},
    {3, {2, 3, 4}, 2, {-1, 2}, CG_PAD_CONSTANT, 1.5f}, // negative: crop
    {4, {2, 1, 4, 5}, 6, {1, -2, -1, 1, 1, 0}, CG_PAD_CONSTANT, -1.0f},
    {2, {3, 5}, 2, {2, 1}, CG_PAD_REFLECT, 0.0f},
    {3, {2, 3, 4}, 2, {3, 2}, CG_PAD_REFLECT, 0.0f},
    {4, {1, 2, 4, 3}, 4, {2, 1, 3, 1}, CG_PAD_REFLECT, 0.0f},
    {3, {2, 4, 3}, 4, {1, 1, 2, 3}, CG_PAD_REPLICATE, 0.0f},
    {4, {1, 2, 3, 3}, 4, {3, 0, 1, 4}, CG_PAD_REPLICATE, 0.0f},
    {3, {1, 2, 4}, 2, {4, 3}, CG_PAD_CIRCULAR, 0.0f},
    {4, {2, 1, 3, 4}, 4, {2, 3, 3, 1}, CG_PAD_CIRCULAR, 0.0f},
    {4, {1, 1, 3, 4}, 4, {-1, 2, 1, -1}, CG_PAD_CIRCULAR, 0.0f},
    {3, {1, 2, 5}, 2, {-1, 2}, CG_PAD_CIRCULAR, 0.0f}, // crop first, then wrap the rest
    {3, {1, 2, 5}, 2, {2, -1}, CG_PAD_CIRCULAR, 0.0f},
    {4, {1, 1, 4, 5}, 4, {-2, 3, 1, -1}, CG_PAD_CIRCULAR, 0.0f},
};

static cg_tensor *run_pad(cg_tensor **in, void *ctx) {
    const pad_case *p = ctx;
    return cg_pad(in[0], p->n_pads, p->pads, p->mode, p->value);
}

static void test_pad_modes(void **state) {
    (void)state;
    cg_manual_seed(2);
    for (size_t i = 0; i < sizeof PAD_CASES / sizeof PAD_CASES[0]; i++) {
        cg_scope_begin();
        cg_tensor *x =
            cg_requires_grad(cg_randn(PAD_CASES[i].ndim, PAD_CASES[i].shape, NULL), true);
        char what[64];
        snprintf(what, sizeof what, "pad case %zu", i);
        cg_test_gradcheck(run_pad, (void *)&PAD_CASES[i], 1, &x, what);
        cg_scope_end();
    }
}

// ---- unfold / fold -------------------------------------------------------------------------

typedef struct fold_case {
    int ndim;
    int64_t shape[4]; // unfold input (N, C, H, W) / (C, H, W)
    cg_fold_options o;
} fold_case;

static const fold_case FOLD_CASES[] = {
    {4, {2, 2, 4, 5}, {.kernel_size = 2}},
    {4, {1, 2, 5, 5}, {.kernel_size_hw = {3, 2}, .stride = 2, .padding = 1}},
    {3, {2, 6, 5}, {.kernel_size_hw = {2, 3}, .dilation_hw = {2, 1}, .stride_hw = {1, 2}}},
    {4, {1, 1, 7, 6}, {.kernel_size = 2, .stride = 3, .padding_hw = {0, 1}}},
};

static cg_tensor *run_unfold(cg_tensor **in, void *ctx) {
    return cg_unfold(in[0], &((const fold_case *)ctx)->o);
}

static cg_tensor *run_fold(cg_tensor **in, void *ctx) {
    const fold_case *f = ctx;
    return cg_fold(in[0], (int)f->shape[f->ndim - 2], (int)f->shape[f->ndim - 1], &f->o);
}

static void test_unfold_fold(void **state) {
    (void)state;
    cg_manual_seed(3);
    for (size_t i = 0; i < sizeof FOLD_CASES / sizeof FOLD_CASES[0]; i++) {
        const fold_case *f = &FOLD_CASES[i];
        cg_scope_begin();
        cg_tensor *x = cg_requires_grad(cg_randn(f->ndim, f->shape, NULL), true);
        char what[64];
        snprintf(what, sizeof what, "unfold case %zu", i);
        cg_test_gradcheck(run_unfold, (void *)f, 1, &x, what);
        // fold's input: the columns unfold makes of this image shape
        cg_tensor *cols = cg_unfold(cg_detach(x), &f->o);
        assert_non_null(cols);
        cg_tensor *y = cg_requires_grad(cg_randn(cols->ndim, cols->shape, NULL), true);
        snprintf(what, sizeof what, "fold case %zu", i);
        cg_test_gradcheck(run_fold, (void *)f, 1, &y, what);
        cg_scope_end();
    }
}

// A module with padding_mode reflect/circular: the gradient flows through cg_pad into x.
static cg_tensor *run_module(cg_tensor **in, void *ctx) {
    return cg_module_forward(ctx, in[0]);
}

static void test_module_padding_modes(void **state) {
    (void)state;
    cg_manual_seed(4);
    const cg_padding_mode modes[] = {CG_PAD_REFLECT, CG_PAD_REPLICATE, CG_PAD_CIRCULAR};
    for (int i = 0; i < 3; i++) {
        cg_conv_options o = {.padding_hw = {1, 2}, .padding_mode = modes[i], .stride_hw = {2, 1}};
        cg_module *m = cg_Conv2d(2, 2, 3, &o);
        cg_conv_options same = {.padding_kind = CG_PADDING_SAME, .padding_mode = modes[i]};
        cg_module *m1 = cg_Conv1d(2, 2, 4, &same);
        assert_non_null(m);
        assert_non_null(m1);
        cg_scope_begin();
        cg_tensor *x = cg_requires_grad(cg_randn(CG_SHAPE(1, 2, 4, 5), NULL), true);
        cg_test_gradcheck(run_module, m, 1, &x, "Conv2d padding_mode");
        cg_tensor *x1 = cg_requires_grad(cg_randn(CG_SHAPE(2, 2, 6), NULL), true);
        cg_test_gradcheck(run_module, m1, 1, &x1, "Conv1d same padding_mode");
        cg_scope_end();
        cg_module_free(m);
        cg_module_free(m1);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_conv_grid, cg_test_teardown),
        cmocka_unit_test_teardown(test_pad_modes, cg_test_teardown),
        cmocka_unit_test_teardown(test_unfold_fold, cg_test_teardown),
        cmocka_unit_test_teardown(test_module_padding_modes, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
