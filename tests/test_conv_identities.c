// tests/test_conv_identities.c - the relationships the lecture is about, checked on many
// parameter combinations:
//  - conv2d's input gradient IS conv_transpose2d(grad_output, weight) with the
//    output_padding that restores the input size, and conv_transpose2d's input gradient IS
//    conv2d(grad_output, weight);
//  - the three views agree: sliding window (cg_conv2d_direct), im2col (cg_conv2d, and
//    unfold x flattened kernel by hand) and the unrolled-kernel matrix (cg_conv2d_matrix);
//  - conv_transpose2d(y) == M^T vec(y): it restores x's shape, not x's values;
//  - the modules compute what the functions compute with the module's weight;
//  - conv1d equals conv2d on a height-1 image;
//  - PyTorch's default initialisation bounds.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define TOL 1e-4, 1e-5

// Random leaf of the given shape.
static cg_tensor *rnd(int ndim, const int64_t *shape, bool grad) {
    cg_tensor *t = cg_randn(ndim, shape, NULL);
    assert_non_null(t);
    return grad ? cg_requires_grad(t, true) : t;
}

// A conv2d configuration: input (N, C, H, W), weight (O, C/g, kH, kW).
typedef struct combo {
    int n, c, o, h, w, kh, kw, groups;
    cg_conv_options opt;
} combo;

static cg_tensor *combo_weight(const combo *k) {
    return rnd(CG_SHAPE(k->o, k->c / k->groups, k->kh, k->kw), true);
}

// Every combination of kernel, stride, dilation, padding kind, groups on a small odd image.
// Calls fn for each valid one (invalid ones - kernel larger than input - are skipped).
typedef void (*combo_fn)(const combo *k, const char *what);
static int for_each_combo(combo_fn fn, bool symmetric_only) {
    static const int kernels[][2] = {{1, 1}, {2, 2}, {3, 3}, {2, 3}, {3, 1}, {4, 4}};
    static const int strides[][2] = {{1, 1}, {2, 2}, {3, 2}, {1, 3}};
    static const int dilations[][2] = {{1, 1}, {2, 2}, {1, 3}};
    static const int paddings[][3] = {{CG_PADDING_EXPLICIT, 0, 0},
                                      {CG_PADDING_EXPLICIT, 1, 1},
                                      {CG_PADDING_EXPLICIT, 2, 1},
                                      {CG_PADDING_SAME, 0, 0},
                                      {CG_PADDING_VALID, 0, 0}};
    static const int groups[] = {1, 2};
    int count = 0;
    for (size_t ki = 0; ki < 6; ki++)
        for (size_t si = 0; si < 4; si++)
            for (size_t di = 0; di < 3; di++)
                for (size_t pi = 0; pi < 5; pi++)
                    for (size_t gi = 0; gi < 2; gi++) {
                        combo k = {.n = 2,
                                   .c = 4,
                                   .o = groups[gi] == 2 ? 6 : 3,
                                   .h = 7,
                                   .w = 6,
                                   .kh = kernels[ki][0],
                                   .kw = kernels[ki][1],
                                   .groups = groups[gi]};
                        k.opt.stride_hw[0] = strides[si][0], k.opt.stride_hw[1] = strides[si][1];
                        k.opt.dilation_hw[0] = dilations[di][0];
                        k.opt.dilation_hw[1] = dilations[di][1];
                        k.opt.padding_kind = paddings[pi][0];
                        k.opt.padding_hw[0] = paddings[pi][1],
                        k.opt.padding_hw[1] = paddings[pi][2];
                        k.opt.groups = groups[gi];
                        if (k.opt.padding_kind == CG_PADDING_SAME && si > 0) continue;
                        if (symmetric_only && k.opt.padding_kind == CG_PADDING_SAME) continue;
                        int span_h = k.opt.dilation_hw[0] * (k.kh - 1) + 1;
                        int span_w = k.opt.dilation_hw[1] * (k.kw - 1) + 1;
                        int pad_h =
                            k.opt.padding_kind == CG_PADDING_EXPLICIT ? k.opt.padding_hw[0] : 0;
                        int pad_w =
                            k.opt.padding_kind == CG_PADDING_EXPLICIT ? k.opt.padding_hw[1] : 0;
                        if (k.opt.padding_kind != CG_PADDING_SAME &&
                            (k.h + 2 * pad_h < span_h || k.w + 2 * pad_w < span_w))
                            continue;
                        char what[160];
                        snprintf(what, sizeof what,
                                 "k(%d,%d) s(%d,%d) d(%d,%d) pad kind %d (%d,%d) g%d", k.kh, k.kw,
                                 strides[si][0], strides[si][1], dilations[di][0], dilations[di][1],
                                 paddings[pi][0], paddings[pi][1], paddings[pi][2], groups[gi]);
                        cg_scope_begin();
                        fn(&k, what);
                        cg_scope_end();
                        count++;
                    }
    return count;
}

// The output_padding that makes conv_transpose2d map conv2d's output size back to (h, w).
static void restoring_output_padding(const combo *k, cg_conv_options *t) {
    int64_t out[4];
    cg_tensor *x = cg_zeros(CG_SHAPE(k->n, k->c, k->h, k->w));
    cg_tensor *w = cg_zeros(CG_SHAPE(k->o, k->c / k->groups, k->kh, k->kw));
    assert_int_equal(cg_conv2d_output_shape(x, w, &k->opt, out), 0);
    *t = k->opt;
    int sh = k->opt.stride_hw[0], sw = k->opt.stride_hw[1];
    int dh = k->opt.dilation_hw[0], dw = k->opt.dilation_hw[1];
    t->output_padding_hw[0] =
        (int)(k->h + 2 * t->padding_hw[0] - dh * (k->kh - 1) - 1 - (out[2] - 1) * sh);
    t->output_padding_hw[1] =
        (int)(k->w + 2 * t->padding_hw[1] - dw * (k->kw - 1) - 1 - (out[3] - 1) * sw);
    if (t->padding_kind == CG_PADDING_VALID) t->padding_kind = CG_PADDING_EXPLICIT; // 0 padding
}

// ---- 1. backward is the transposed convolution, and the mirror ------------------------------

static void check_transposed_backward(const combo *k, const char *what) {
    cg_tensor *x = rnd(CG_SHAPE(k->n, k->c, k->h, k->w), true);
    cg_tensor *w = combo_weight(k);
    cg_tensor *y = cg_conv2d(x, w, NULL, &k->opt);
    assert_non_null(y);
    cg_tensor *gy = rnd(y->ndim, y->shape, false);
    assert_int_equal(cg_backward_ex(y, gy, false), 0);
    cg_conv_options t;
    restoring_output_padding(k, &t);
    // conv2d's input gradient, computed on its own as a transposed convolution
    cg_tensor *ct = cg_conv_transpose2d(gy, cg_detach(w), NULL, &t);
    cg_assert_close(x->grad, ct, TOL, what);

    // mirror: conv_transpose2d's input gradient is conv2d of its output gradient
    cg_tensor *u = rnd(y->ndim, y->shape, true);
    cg_tensor *z = cg_conv_transpose2d(u, w, NULL, &t);
    assert_non_null(z);
    cg_tensor *gz = rnd(z->ndim, z->shape, false);
    assert_int_equal(cg_backward_ex(z, gz, false), 0);
    cg_tensor *c = cg_conv2d(gz, cg_detach(w), NULL, &t);
    cg_assert_close(u->grad, c, TOL, what);
}

static void test_backward_is_transposed_convolution(void **state) {
    (void)state;
    cg_manual_seed(10);
    assert_true(for_each_combo(check_transposed_backward, true) > 200);
}

// ---- 2. three views -------------------------------------------------------------------------

// vec(y_n) = M vec(x_n) for every image n.
static cg_tensor *matrix_view(const combo *k, cg_tensor *x, cg_tensor *w, int64_t *yshape) {
    cg_tensor *m = cg_conv2d_matrix(w, k->h, k->w, &k->opt);
    assert_non_null(m);
    cg_tensor *xs = cg_reshape(x, CG_SHAPE(k->n, k->c * k->h * k->w, 1));
    cg_tensor *ys = cg_matmul(m, xs); // (N, rows, 1)
    assert_non_null(ys);
    return cg_reshape(ys, 4, yshape);
}

static void check_three_views(const combo *k, const char *what) {
    cg_tensor *x = rnd(CG_SHAPE(k->n, k->c, k->h, k->w), false);
    cg_tensor *w = combo_weight(k);
    cg_tensor *b = rnd(CG_SHAPE(k->o), false);
    cg_tensor *im2col = cg_conv2d(x, w, b, &k->opt);
    assert_non_null(im2col);
    cg_assert_close(cg_conv2d_direct(x, w, b, &k->opt), im2col, TOL, what);
    cg_tensor *nobias = cg_conv2d(x, w, NULL, &k->opt);
    cg_assert_close(matrix_view(k, x, w, nobias->shape), nobias, TOL, what);
}

static void test_three_views_agree(void **state) {
    (void)state;
    cg_manual_seed(11);
    assert_true(for_each_combo(check_three_views, false) > 250);
}

// The im2col view written with public ops: unfold(x) multiplied by the flattened kernel.
static void test_unfold_times_kernel_is_conv(void **state) {
    (void)state;
    cg_manual_seed(12);
    cg_scope_begin();
    cg_tensor *x = rnd(CG_SHAPE(2, 3, 6, 7), false);
    cg_tensor *w = rnd(CG_SHAPE(4, 3, 3, 2), false);
    cg_conv_options o = {.stride_hw = {2, 1}, .padding_hw = {1, 0}, .dilation_hw = {1, 2}};
    cg_fold_options f = {
        .kernel_size_hw = {3, 2}, .stride_hw = {2, 1}, .padding_hw = {1, 0}, .dilation_hw = {1, 2}};
    cg_tensor *y = cg_conv2d(x, w, NULL, &o);
    cg_tensor *cols = cg_unfold(x, &f); // (N, C*kH*kW, L)
    cg_tensor *flat = cg_reshape(w, CG_SHAPE(4, 18));
    cg_tensor *prod = cg_matmul(flat, cols); // (N, O, L)
    cg_assert_close(cg_reshape(prod, 4, y->shape), y, TOL, "unfold x kernel");
    // and fold is unfold's adjoint: <unfold(x), c> == <x, fold(c)>
    cg_tensor *c = rnd(cols->ndim, cols->shape, false);
    cg_tensor *lhs = cg_sum(cg_mul(cols, c), CG_ALL_DIMS, false);
    cg_tensor *rhs = cg_sum(cg_mul(x, cg_fold(c, 6, 7, &f)), CG_ALL_DIMS, false);
    assert_float_equal(cg_item(lhs), cg_item(rhs), 1e-3);
    cg_scope_end();
}

// ---- 3. conv_transpose2d == M^T: shape restored, values not ------------------------------------

static void check_transpose_is_matrix_transpose(const combo *k, const char *what) {
    cg_tensor *x = rnd(CG_SHAPE(k->n, k->c, k->h, k->w), false);
    cg_tensor *w = combo_weight(k);
    cg_tensor *y = cg_conv2d(x, w, NULL, &k->opt);
    cg_conv_options t;
    restoring_output_padding(k, &t);
    cg_tensor *back = cg_conv_transpose2d(y, w, NULL, &t);
    assert_non_null(back);
    assert_true(cg_same_shape(back, x)); // the shape comes back...
    cg_tensor *m = cg_conv2d_matrix(w, k->h, k->w, &k->opt);
    int64_t rows = m->shape[0];
    cg_tensor *mt = cg_transpose(m, 0, 1);
    cg_tensor *ys = cg_reshape(y, CG_SHAPE(k->n, rows, 1));
    cg_tensor *expected = cg_reshape(cg_matmul(mt, ys), 4, x->shape);
    cg_assert_close(back, expected, TOL, what);
    double diff = 0; // ...but not the values (a transposed conv is no inverse)
    for (int64_t i = 0; i < x->numel; i++) diff = fmax(diff, fabs(back->data[i] - x->data[i]));
    if (!(diff > 1e-2)) fail_msg("%s: conv_transpose2d restored x's values", what);
}

static void test_transpose_is_matrix_transpose(void **state) {
    (void)state;
    cg_manual_seed(13);
    assert_true(for_each_combo(check_transpose_is_matrix_transpose, true) > 200);
}

// The lecture's example: 4x4 input, 3x3 kernel -> 2x2, a 4x16 matrix, and back to 4x4.
static void test_lecture_example(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_arange(0, 16, 1);
    cg_tensor *img = cg_reshape(x, CG_SHAPE(1, 1, 4, 4));
    cg_tensor *w = cg_reshape(cg_arange(1, 10, 1), CG_SHAPE(1, 1, 3, 3));
    cg_tensor *m = cg_conv2d_matrix(w, 4, 4, NULL);
    assert_int_equal(m->shape[0], 4);
    assert_int_equal(m->shape[1], 16);
    // first row: the kernel laid over the top-left 3x3 window of the 4x4 image
    const float row0[16] = {1, 2, 3, 0, 4, 5, 6, 0, 7, 8, 9, 0, 0, 0, 0, 0};
    for (int i = 0; i < 16; i++) assert_float_equal(m->data[i], row0[i], 0);
    cg_tensor *y = cg_conv2d(img, w, NULL, NULL);
    // y[0,0] = sum_{i,j<3} x[i,j] * w[i,j] with x = 0..15 row-major
    assert_float_equal(
        y->data[0], 0 * 1 + 1 * 2 + 2 * 3 + 4 * 4 + 5 * 5 + 6 * 6 + 8 * 7 + 9 * 8 + 10 * 9, 1e-4);
    cg_tensor *back = cg_conv_transpose2d(y, w, NULL, NULL);
    assert_int_equal(back->shape[2], 4);
    assert_int_equal(back->shape[3], 4);
    cg_scope_end();
}

// ---- 4. modules and functions ---------------------------------------------------------------

// PyTorch's _reversed_padding_repeated_twice for a 2-D module with explicit padding (ph, pw).
static void test_module_equals_function(void **state) {
    (void)state;
    cg_manual_seed(14);
    cg_scope_begin();
    cg_tensor *x = rnd(CG_SHAPE(2, 4, 6, 7), false);
    cg_conv_options o = {
        .stride_hw = {2, 1}, .padding_hw = {1, 2}, .dilation_hw = {1, 2}, .groups = 2};
    cg_conv_options mo = o; // the module's kernel is 3x2
    mo.kernel_size_hw[0] = 3, mo.kernel_size_hw[1] = 2;
    cg_module *conv = cg_Conv2d(4, 6, 0, &mo);
    cg_tensor *w = cg_module_param(conv, "weight"), *b = cg_module_param(conv, "bias");
    cg_assert_close(cg_module_forward(conv, x), cg_conv2d(x, w, b, &o), 0, 0, "Conv2d");

    cg_conv_options r = mo;
    r.padding_mode = CG_PAD_REFLECT;
    cg_module *reflect = cg_Conv2d(4, 6, 0, &r);
    w = cg_module_param(reflect, "weight"), b = cg_module_param(reflect, "bias");
    cg_conv_options zero_pad = o;
    zero_pad.padding_hw[0] = zero_pad.padding_hw[1] = 0;
    cg_tensor *padded = cg_pad(x, 4, (int[]){2, 2, 1, 1}, CG_PAD_REFLECT, 0);
    cg_assert_close(cg_module_forward(reflect, x), cg_conv2d(padded, w, b, &zero_pad), 0, 0,
                    "Conv2d reflect");

    cg_conv_options t = {.stride = 2, .padding = 1, .output_padding_hw = {1, 0}};
    cg_module *tconv = cg_ConvTranspose2d(4, 3, 3, &t);
    w = cg_module_param(tconv, "weight"), b = cg_module_param(tconv, "bias");
    assert_int_equal(w->shape[0], 4); // (in, out/groups, kH, kW)
    cg_assert_close(cg_module_forward(tconv, x), cg_conv_transpose2d(x, w, b, &t), 0, 0,
                    "ConvTranspose2d");

    cg_tensor *s = rnd(CG_SHAPE(3, 4, 9), false);
    cg_conv_options o1 = {.stride = 2, .padding = 1, .no_bias = true};
    cg_module *c1 = cg_Conv1d(4, 2, 3, &o1);
    assert_null(cg_module_param(c1, "bias"));
    cg_assert_close(cg_module_forward(c1, s),
                    cg_conv1d(s, cg_module_param(c1, "weight"), NULL, &o1), 0, 0, "Conv1d");
    cg_module *t1 = cg_ConvTranspose1d(4, 2, 3, &o1);
    cg_assert_close(cg_module_forward(t1, s),
                    cg_conv_transpose1d(s, cg_module_param(t1, "weight"), NULL, &o1), 0, 0,
                    "ConvTranspose1d");
    cg_scope_end();
    cg_module_free(conv);
    cg_module_free(reflect);
    cg_module_free(tconv);
    cg_module_free(c1);
    cg_module_free(t1);
}

static void expect_repr(cg_module *m, const char *expected) {
    assert_non_null(m);
    char buf[256];
    m->cls->describe(m, buf, sizeof buf);
    assert_string_equal(buf, expected);
    cg_module_free(m);
}

static void test_module_repr(void **state) {
    (void)state;
    expect_repr(cg_Conv2d(1, 8, 3, &(cg_conv_options){.padding = 1}),
                "Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))");
    expect_repr(cg_Conv2d(4, 8, 0,
                          &(cg_conv_options){.kernel_size_hw = {2, 3},
                                             .padding_kind = CG_PADDING_SAME,
                                             .dilation = 2,
                                             .groups = 2,
                                             .no_bias = true,
                                             .padding_mode = CG_PAD_REFLECT}),
                "Conv2d(4, 8, kernel_size=(2, 3), stride=(1, 1), padding=same, dilation=(2, 2), "
                "groups=2, bias=False, padding_mode=reflect)");
    expect_repr(cg_ConvTranspose2d(2, 3, 3, &(cg_conv_options){.stride = 2, .output_padding = 1}),
                "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))");
    expect_repr(cg_Conv1d(2, 4, 5, &(cg_conv_options){.stride = 2, .padding = 2}),
                "Conv1d(2, 4, kernel_size=(5,), stride=(2,), padding=(2,))");
    expect_repr(cg_ConvTranspose1d(2, 4, 3, NULL),
                "ConvTranspose1d(2, 4, kernel_size=(3,), stride=(1,))");
}

// ---- 5. 1-D is 2-D with height 1 --------------------------------------------------------------

static void test_conv1d_is_conv2d_of_height_one(void **state) {
    (void)state;
    cg_manual_seed(15);
    const cg_conv_options cases[] = {
        {.stride = 2, .padding = 1, .dilation = 2, .groups = 2},
        {.padding_kind = CG_PADDING_SAME, .dilation = 3},
        {.stride = 3, .output_padding = 2, .groups = 1},
    };
    for (int i = 0; i < 3; i++) {
        cg_scope_begin();
        const cg_conv_options *o1 = &cases[i];
        cg_conv_options o2 = {.stride_hw = {1, o1->stride ? o1->stride : 1},
                              .padding_hw = {0, o1->padding},
                              .dilation_hw = {1, o1->dilation ? o1->dilation : 1},
                              .output_padding_hw = {0, o1->output_padding},
                              .groups = o1->groups,
                              .padding_kind = o1->padding_kind};
        cg_tensor *x = rnd(CG_SHAPE(2, 4, 11), true),
                  *w = rnd(CG_SHAPE(4, 2 / (o1->groups ? o1->groups : 1) * 2, 3), true);
        cg_tensor *b = rnd(CG_SHAPE(4), true);
        cg_tensor *x2 = cg_unsqueeze(x, 2), *w2 = cg_unsqueeze(w, 2);
        if (i < 2) {
            cg_tensor *y1 = cg_conv1d(x, w, b, o1);
            cg_tensor *y2 = cg_conv2d(x2, w2, b, &o2);
            cg_assert_close(y1, cg_squeeze(y2, 2), 0, 0, "conv1d forward");
        }
        if (o1->padding_kind == CG_PADDING_SAME) { // conv_transpose has explicit padding only
            cg_scope_end();
            continue;
        }
        // transposed: the weight (C_in, C_out/g, K)
        cg_tensor *t1 = cg_conv_transpose1d(x, w, NULL, o1);
        cg_tensor *t2 = cg_conv_transpose2d(x2, w2, NULL, &o2);
        cg_assert_close(t1, cg_squeeze(t2, 2), 0, 0, "conv_transpose1d forward");
        // and the gradients reach the 1-D tensors
        cg_backward(cg_sum(t1, CG_ALL_DIMS, false));
        cg_tensor *gx1 = cg_copy(x->grad), *gw1 = cg_copy(w->grad);
        cg_zero_grad(x), cg_zero_grad(w);
        cg_backward(cg_sum(t2, CG_ALL_DIMS, false));
        cg_assert_close(gx1, x->grad, 0, 0, "conv_transpose1d input grad");
        cg_assert_close(gw1, w->grad, 0, 0, "conv_transpose1d weight grad");
        cg_scope_end();
    }
}

// ---- 6. default initialisation ----------------------------------------------------------------

static void check_init(cg_module *m, int64_t fan_in, const char *what) {
    assert_non_null(m);
    double bound = 1.0 / sqrt((double)fan_in);
    const char *names[] = {"weight", "bias"};
    for (int p = 0; p < 2; p++) {
        cg_tensor *t = cg_module_param(m, names[p]);
        float lo = INFINITY, hi = -INFINITY;
        for (int64_t i = 0; i < t->numel; i++) {
            lo = fminf(lo, t->data[i]);
            hi = fmaxf(hi, t->data[i]);
        }
        if (lo < -bound || hi > bound)
            fail_msg("%s %s outside +-%g: [%g, %g]", what, names[p], bound, lo, hi);
        // spread over the range, not stuck near 0 (weights have hundreds of draws)
        if (p == 0 && (lo > -0.8 * bound || hi < 0.8 * bound))
            fail_msg("%s weight not spread over +-%g: [%g, %g]", what, bound, lo, hi);
    }
    cg_module_free(m);
}

static void test_default_init_bounds(void **state) {
    (void)state;
    cg_manual_seed(16);
    check_init(cg_Conv2d(3, 16, 3, NULL), 27, "Conv2d");
    check_init(cg_Conv2d(8, 32, 0, &(cg_conv_options){.groups = 4, .kernel_size_hw = {3, 5}}),
               2 * 15, "Conv2d groups");
    check_init(cg_ConvTranspose2d(16, 12, 3, &(cg_conv_options){.groups = 2}), 6 * 9,
               "ConvTranspose2d"); // fan_in from weight dim 1 = out/groups
    check_init(cg_Conv1d(4, 32, 5, NULL), 20, "Conv1d");
    check_init(cg_ConvTranspose1d(32, 8, 4, NULL), 32, "ConvTranspose1d");
}

// The image-parallel path (batch >= threads) splits a large image into blocks of output
// rows; the batched path (batch < threads) unfolds whole images into one GEMM. Both must give
// the same output and gradients: run a batch of 2 large images through the first and each
// image alone through the second.
static void test_row_blocks_match_batched_path(void **state) {
    (void)state;
    cg_scope_begin();
    cg_manual_seed(3);
    cg_set_num_threads(2);
    const cg_conv_options opt = {.padding = 1, .stride_hw = {1, 2}};
    cg_tensor *x = cg_requires_grad(cg_randn(CG_SHAPE(2, 64, 48, 96), NULL), true);
    cg_tensor *w = cg_requires_grad(cg_randn(CG_SHAPE(8, 64, 3, 3), NULL), true);
    cg_tensor *y = cg_conv2d(x, w, NULL, &opt); // 576 x 48 columns per row: several blocks
    cg_tensor *gy = cg_randn(y->ndim, y->shape, NULL);
    cg_backward_ex(y, gy, false);
    cg_tensor *dw_sum = cg_zeros_like(w);
    for (int64_t n = 0; n < 2; n++) {
        cg_tensor *xn = cg_requires_grad(cg_copy(cg_detach(cg_slice(x, n, n + 1))), true);
        cg_tensor *wn = cg_requires_grad(cg_copy(cg_detach(w)), true);
        cg_tensor *yn = cg_conv2d(xn, wn, NULL, &opt);
        cg_assert_close(yn, cg_detach(cg_slice(y, n, n + 1)), 1e-4, 1e-4, "output per image");
        cg_backward_ex(yn, cg_slice(gy, n, n + 1), false);
        cg_assert_close(xn->grad, cg_detach(cg_slice(x->grad, n, n + 1)), 1e-4, 1e-4,
                        "input grad per image");
        for (int64_t i = 0; i < w->numel; i++) dw_sum->data[i] += wn->grad->data[i];
    }
    cg_assert_close(w->grad, dw_sum, 1e-4, 1e-3, "weight grad = sum of per-image grads");
    cg_scope_end();
}

// Circular padding with a negative pad crops first and wraps what is left (the issue's
// example, PyTorch's values); the gradient walks the same map, so each kept element gets
// one plus the number of times it was wrapped.
static void test_circular_pad_crops_first(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x =
        cg_requires_grad(cg_test_tensor(CG_SHAPE(1, 1, 5), (float[]){0, 1, 2, 3, 4}), true);
    cg_tensor *left = cg_pad(x, 2, (const int[]){-1, 2}, CG_PAD_CIRCULAR, 0);
    cg_assert_close(left, cg_test_tensor(CG_SHAPE(1, 1, 6), (float[]){1, 2, 3, 4, 1, 2}), 0, 0,
                    "pads (-1, 2)");
    cg_tensor *right = cg_pad(x, 2, (const int[]){2, -1}, CG_PAD_CIRCULAR, 0);
    cg_assert_close(right, cg_test_tensor(CG_SHAPE(1, 1, 6), (float[]){2, 3, 0, 1, 2, 3}), 0, 0,
                    "pads (2, -1)");
    assert_int_equal(cg_backward_ex(left, cg_ones_like(left), false), 0);
    cg_assert_close(x->grad, cg_test_tensor(CG_SHAPE(1, 1, 5), (float[]){0, 2, 2, 1, 1}), 0, 0,
                    "gradient of pads (-1, 2)");
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_backward_is_transposed_convolution, cg_test_teardown),
        cmocka_unit_test_teardown(test_three_views_agree, cg_test_teardown),
        cmocka_unit_test_teardown(test_unfold_times_kernel_is_conv, cg_test_teardown),
        cmocka_unit_test_teardown(test_transpose_is_matrix_transpose, cg_test_teardown),
        cmocka_unit_test_teardown(test_lecture_example, cg_test_teardown),
        cmocka_unit_test_teardown(test_module_equals_function, cg_test_teardown),
        cmocka_unit_test_teardown(test_module_repr, cg_test_teardown),
        cmocka_unit_test_teardown(test_conv1d_is_conv2d_of_height_one, cg_test_teardown),
        cmocka_unit_test_teardown(test_default_init_bounds, cg_test_teardown),
        cmocka_unit_test_teardown(test_row_blocks_match_batched_path, cg_test_teardown),
        cmocka_unit_test_teardown(test_circular_pad_crops_first, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
