// examples/conv_views.c - one small convolution seen four ways, following the lecture in
// shared/seed: the Conv2d module and the conv2d function, the unfolded input (im2col), the
// unrolled kernel as a 4x16 matrix, and the transposed convolution that goes back from the
// 2x2 output to a 4x4 image - the input's shape, not its values.
//
// Build and run: scripts/test (or a CMake build into build/release), then
//   ./build/release/examples/conv_views
#include <cgrad.h>
#include <stdio.h>

static void heading(const char *title) {
    printf("\n==== %s ====\n", title);
}

static void show(const char *label, const cg_tensor *t) {
    printf("%s %s:\n", label, cg_tensor_shape_str(t));
    cg_print(t);
}

// max |a - b|: 0 (up to float rounding) when two ways of computing agree.
static float max_difference(cg_tensor *a, cg_tensor *b) {
    return cg_item(cg_max_all(cg_abs(cg_sub(a, b))));
}

// 1. The module creates and owns its weight and bias; the function is given them.
static void module_and_function(cg_tensor *x) {
    heading("1. nn.Conv2d (module) and F.conv2d (function)");
    cg_module *conv = cg_Conv2d(1, 1, 3, NULL); // in 1, out 1, kernel 3x3, with bias
    cg_tensor *weight = cg_module_param(conv, "weight");
    cg_tensor *bias = cg_module_param(conv, "bias");
    show("weight made by the module (kaiming_uniform)", weight);
    show("bias made by the module", bias);

    cg_tensor *by_module = cg_module_forward(conv, x);
    cg_tensor *by_function = cg_conv2d(x, weight, bias, NULL);
    show("module(x)", by_module);
    show("conv2d(x, weight, bias)", by_function);
    printf("max |module - function| = %g\n", max_difference(by_module, by_function));
    cg_module_free(conv);
}

// 2. im2col: every 3x3 window of x becomes a column; the kernel becomes a row.
static void im2col_view(cg_tensor *x, cg_tensor *kernel, cg_tensor *y) {
    heading("2. im2col: unfold the input, multiply by the flattened kernel");
    cg_fold_options windows = {.kernel_size = 3};
    cg_tensor *cols = cg_unfold(x, &windows); // (1, 1*3*3, 4 windows)
    show("unfold(x): one column per window position", cols);
    cg_tensor *kernel_row = cg_reshape(kernel, CG_SHAPE(1, 9));
    show("the kernel flattened to one row", kernel_row);

    cg_tensor *product = cg_matmul(kernel_row, cols); // (1, 9) x (1, 9, 4) -> (1, 1, 4)
    cg_tensor *as_image = cg_reshape(product, CG_SHAPE(1, 1, 2, 2));
    show("kernel_row x unfold(x), reshaped to 2x2", as_image);
    printf("max |im2col - conv2d| = %g\n", max_difference(as_image, y));
}

// 3. The unrolled kernel: a 4x16 matrix M with one row per output pixel.
static cg_tensor *kernel_matrix_view(cg_tensor *x, cg_tensor *kernel, cg_tensor *y) {
    heading("3. The kernel unrolled into a 4x16 matrix M: vec(y) = M vec(x)");
    cg_tensor *M = cg_conv2d_matrix(kernel, 4, 4, NULL);
    show("M (row i holds the kernel placed where output pixel i looks)", M);
    cg_tensor *x_vec = cg_reshape(x, CG_SHAPE(16, 1));
    cg_tensor *y_vec = cg_matmul(M, x_vec); // (4, 16) x (16, 1) -> (4, 1)
    cg_tensor *as_image = cg_reshape(y_vec, CG_SHAPE(1, 1, 2, 2));
    show("M vec(x), reshaped to 2x2", as_image);
    printf("max |M vec(x) - conv2d| = %g\n", max_difference(as_image, y));
    return M;
}

// 4. Transposed convolution: multiply by M^T instead of M. It maps 4 numbers back to 16,
//    so it restores x's shape, but it cannot restore x's values: it is not an inverse.
static void transposed_view(cg_tensor *x, cg_tensor *kernel, cg_tensor *y, cg_tensor *M) {
    heading("4. Transposed convolution: 2x2 back to 4x4 with M^T");
    cg_tensor *up = cg_conv_transpose2d(y, kernel, NULL, NULL);
    show("conv_transpose2d(y, kernel)", up);
    cg_tensor *Mt = cg_transpose(M, 0, 1); // (16, 4)
    cg_tensor *up_by_matrix =
        cg_reshape(cg_matmul(Mt, cg_reshape(y, CG_SHAPE(4, 1))), CG_SHAPE(1, 1, 4, 4));
    show("M^T vec(y), reshaped to 4x4", up_by_matrix);
    printf("max |conv_transpose2d - M^T vec(y)| = %g\n", max_difference(up, up_by_matrix));
    show("the original x, for comparison", x);
    printf("Same shape %s as x, different values (max |x - up| = %g):\n"
           "a transposed convolution is not a deconvolution; it only restores the shape.\n",
           cg_tensor_shape_str(up), max_difference(x, up));

    // M^T is also how conv2d's backward turns dL/dy into dL/dx.
    cg_tensor *x_leaf = cg_requires_grad(cg_copy(x), true);
    cg_backward_ex(cg_conv2d(x_leaf, kernel, NULL, NULL), y, false); // take dL/dy = y
    printf("conv2d's input gradient for dL/dy = y is the same 4x4: max difference %g\n",
           max_difference(x_leaf->grad, up));
}

// 5. A 1-D convolution is a 2-D one over an image of height 1.
static void conv1d_view(void) {
    heading("5. conv1d is conv2d on a 1 x L image");
    cg_tensor *signal = cg_from_data(CG_SHAPE(1, 1, 8), (const float[]){1, 3, 2, 5, 4, 0, 2, 1});
    cg_tensor *taps = cg_from_data(CG_SHAPE(1, 1, 3), (const float[]){1, -2, 1});
    cg_conv_options stride2 = {.stride = 2};
    cg_tensor *y1 = cg_conv1d(signal, taps, NULL, &stride2);
    show("signal", signal);
    show("conv1d(signal, [1, -2, 1], stride 2)", y1);

    cg_tensor *image = cg_reshape(signal, CG_SHAPE(1, 1, 1, 8));
    cg_tensor *kernel = cg_reshape(taps, CG_SHAPE(1, 1, 1, 3));
    cg_conv_options stride_1x2 = {.stride_hw = {1, 2}};
    cg_tensor *y2 = cg_conv2d(image, kernel, NULL, &stride_1x2);
    show("conv2d(signal as 1x8 image, 1x3 kernel, stride (1, 2))", y2);
    printf("max |conv1d - conv2d| = %g\n", max_difference(y1, cg_reshape(y2, CG_SHAPE(1, 1, 3))));
}

int main(void) {
    cg_manual_seed(0);
    cg_scope_begin(); // every tensor below is freed by cg_scope_end

    // The lecture's example: a 1x1x4x4 input (batch 1, 1 channel) and a 3x3 kernel.
    cg_tensor *x = cg_from_data(CG_SHAPE(1, 1, 4, 4), (const float[]){1, 2, 0, 3, //
                                                                      4, 0, 1, 2, //
                                                                      2, 1, 3, 0, //
                                                                      0, 3, 2, 1});
    show("input x", x);
    module_and_function(x);

    // From here on a fixed kernel (out 1, in 1, 3x3), so the numbers are easy to follow.
    // (a Laplacian: each output is the 4 neighbours minus 4 times the centre).
    cg_tensor *kernel = cg_from_data(CG_SHAPE(1, 1, 3, 3), (const float[]){0, 1, 0,  //
                                                                           1, -4, 1, //
                                                                           0, 1, 0});
    heading("The convolution all views must reproduce");
    show("kernel", kernel);
    cg_tensor *y = cg_conv2d(x, kernel, NULL, NULL);
    show("y = conv2d(x, kernel): a 4x4 input and a 3x3 kernel give 2x2", y);

    im2col_view(x, kernel, y);
    cg_tensor *M = kernel_matrix_view(x, kernel, y);
    transposed_view(x, kernel, y, M);
    conv1d_view();

    cg_scope_end();
    return cg_last_error() == CG_OK ? 0 : 1;
}
