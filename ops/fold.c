// ops/fold.c - F.unfold (im2col) and F.fold (col2im) as differentiable ops.
//
// They are each other's adjoint, so each one's backward is the other's forward kernel:
//   unfold: images (N, C, H, W) -> columns (N, C*kH*kW, L)   backward: col2im
//   fold:   columns (N, C*kH*kW, L) -> images (N, C, H, W)   backward: im2col
// with L = H_blocks * W_blocks sliding positions, as in conv2d (groups 1, no weight).
#include <string.h>

#include "../tensor/checked.h"
#include "conv_internal.h"

// images (N, C, H, W) -> columns (N, C*kH*kW, L)
static void unfold_images(const cg_conv_geometry *g, const float *images, float *columns) {
    int64_t image_size = g->image_channels * g->image_h * g->image_w, L = g->cols_h * g->cols_w;
    for (int64_t n = 0; n < g->batch; n++)
        cg_im2col(g, images + n * image_size, columns + n * g->cols_channels * L, L);
}

// columns (N, C*kH*kW, L) -> images (N, C, H, W), overlaps summed
static void fold_columns(const cg_conv_geometry *g, const float *columns, float *images) {
    int64_t image_size = g->image_channels * g->image_h * g->image_w, L = g->cols_h * g->cols_w;
    memset(images, 0, (size_t)(g->batch * image_size) * sizeof(float));
    for (int64_t n = 0; n < g->batch; n++)
        cg_col2im(g, columns + n * g->cols_channels * L, L, images + n * image_size);
}

// unfold backward: grad (N, C*kH*kW, L) -> input (N, C, H, W) by col2im
static void unfold_backward(cg_node *n, const cg_tensor *grad_output) {
    cg_tensor *dx = cg_empty_like(n->inputs[0]);
    if (!dx) return;
    fold_columns(n->ctx, grad_output->data, dx->data);
    cg_accumulate_grad_data(n->inputs[0], dx->data);
}
const cg_op cg_op_unfold = {"unfold", unfold_backward, "geometry"};

// fold backward: grad (N, C, H, W) -> input (N, C*kH*kW, L) by im2col
static void fold_backward(cg_node *n, const cg_tensor *grad_output) {
    cg_tensor *dx = cg_empty_like(n->inputs[0]);
    if (!dx) return;
    unfold_images(n->ctx, grad_output->data, dx->data);
    cg_accumulate_grad_data(n->inputs[0], dx->data);
}
const cg_op cg_op_fold = {"fold", fold_backward, "geometry"};

static cg_tensor *finish(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                         cg_tensor *out) {
    cg_node *n = cg_record(out, op, 1, &input);
    if (n) cg_node_set_ctx(n, g, sizeof *g);
    return out;
}

static const cg_fold_options *require_options(const cg_fold_options *options, const char *op) {
    if (!options) cg_error(CG_ERR_ARG, "%s: options with kernel_size are required", op);
    return options;
}

// input (N, C, H, W) or (C, H, W) -> (N, C*kH*kW, L) or (C*kH*kW, L)
cg_tensor *cg_unfold(cg_tensor *input, const cg_fold_options *options) {
    if (!cg_check_arg(input, "unfold", "input") || !require_options(options, "unfold")) return NULL;
    if (input->ndim != 3 && input->ndim != 4)
        return cg_error(CG_ERR_SHAPE,
                        "unfold: Expected 3D or 4D (batch mode) tensor for input, but got input "
                        "of shape %s",
                        cg_tensor_shape_str(input));
    bool batched = input->ndim == 4;
    int c = batched ? 1 : 0;
    cg_conv_geometry g;
    if (cg_fold_geometry_resolve("unfold", input, batched ? input->shape[0] : 1, input->shape[c],
                                 input->shape[c + 1], input->shape[c + 2], options, &g) < 0)
        return NULL;
    g.batched = batched;
    int64_t shape[3] = {g.batch, g.cols_channels, g.cols_h * g.cols_w};
    cg_tensor *out = batched ? cg_empty_for("unfold", "output shape", 3, shape)
                             : cg_empty_for("unfold", "output shape", 2, shape + 1);
    if (!out) return NULL;
    unfold_images(&g, input->data, out->data);
    return finish(&cg_op_unfold, &g, input, out);
}

// input (N, C*kH*kW, L) or (C*kH*kW, L) -> (N, C, out_h, out_w) or (C, out_h, out_w)
cg_tensor *cg_fold(cg_tensor *input, int out_h, int out_w, const cg_fold_options *options) {
    if (!cg_check_arg(input, "fold", "input") || !require_options(options, "fold")) return NULL;
    if (input->ndim != 2 && input->ndim != 3)
        return cg_error(CG_ERR_SHAPE,
                        "fold: Expected 2D or 3D (batch mode) tensor for input, but got input "
                        "of shape %s",
                        cg_tensor_shape_str(input));
    bool batched = input->ndim == 3;
    int64_t rows = input->shape[batched ? 1 : 0], L = input->shape[batched ? 2 : 1];
    cg_conv_geometry g;
    if (out_h <= 0 || out_w <= 0)
        return cg_error(CG_ERR_ARG, "fold: output_size must be positive, but got (%d, %d)", out_h,
                        out_w);
    if (cg_fold_geometry_resolve("fold", input, batched ? input->shape[0] : 1, 1, out_h, out_w,
                                 options, &g) < 0)
        return NULL;
    int64_t taps = g.kernel_h * g.kernel_w;
    if (rows % taps != 0)
        return cg_error(CG_ERR_SHAPE,
                        "fold: Expected size of input's dimension %d to be divisible by the "
                        "product of kernel_size, but got input.size(%d)=%lld and "
                        "kernel_size=(%lld, %lld) (input of shape %s)",
                        batched ? 1 : 0, batched ? 1 : 0, (long long)rows, (long long)g.kernel_h,
                        (long long)g.kernel_w, cg_tensor_shape_str(input));
    if (L != g.cols_h * g.cols_w)
        return cg_error(CG_ERR_SHAPE,
                        "fold: Given output_size=(%d, %d), kernel_size=(%lld, %lld), expected "
                        "size of input's dimension %d to match the calculated number of sliding "
                        "blocks %lld * %lld = %lld, but got input.size(%d)=%lld (input of shape "
                        "%s)",
                        out_h, out_w, (long long)g.kernel_h, (long long)g.kernel_w, batched ? 2 : 1,
                        (long long)g.cols_h, (long long)g.cols_w, (long long)(g.cols_h * g.cols_w),
                        batched ? 2 : 1, (long long)L, cg_tensor_shape_str(input));
    g.image_channels = rows / taps;
    g.cols_channels = rows;
    g.batched = batched;
    int64_t shape[4] = {g.batch, g.image_channels, out_h, out_w};
    cg_tensor *out = batched ? cg_empty_for("fold", "output shape", 4, shape)
                             : cg_empty_for("fold", "output shape", 3, shape + 1);
    if (!out) return NULL;
    fold_columns(&g, input->data, out->data);
    return finish(&cg_op_fold, &g, input, out);
}
