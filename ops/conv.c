// nn/conv.c - conv2d and conv_transpose2d, forward and backward.
//
// The two ops are each other's adjoint, and their backwards say so literally:
//   conv2d            forward: im2col + GEMM   input grad: GEMM + col2im (= conv_transpose2d)
//   conv_transpose2d  forward: GEMM + col2im   input grad: im2col + GEMM (= conv2d)
// Both are described by one cg_conv_geometry (the conv2d from the "image" side to the
// "column" side), so the kernels in nn/im2col.c exist once and run in all four roles. The
// weight gradient is one kernel too, with the image and column arguments in place:
// conv2d passes (input, grad_output), conv_transpose2d passes (grad_output, input).
#include "conv_internal.h"

static int64_t image_positions(const cg_conv_geometry *g) {
    return g->in_h * g->in_w;
}
static int64_t column_positions(const cg_conv_geometry *g) {
    return g->out_h * g->out_w;
}

// conv2d backward: grad_output (N, O, H_out, W_out) ->
//   input (N, C, H, W):       conv_transpose2d's forward kernel applied to grad_output
//   weight (O, C/g, kH, kW):  grad_output x im2col(input)^T
//   bias (O):                 sum over N, H_out, W_out
void cg_conv_backward(cg_node *n, const cg_tensor *grad_output) {
    const cg_conv_geometry *g = n->ctx;
    cg_tensor *input = n->inputs[0], *weight = n->inputs[1], *bias = n->inputs[2];
    if (cg_needs_grad(n, 0)) {
        cg_tensor *dx = cg_empty_like(input);
        if (dx) {
            cg_conv_gemm_col2im(g, grad_output->data, weight->data, dx->data);
            cg_accumulate_grad_data(input, dx->data);
        }
    }
    if (cg_needs_grad(n, 1)) {
        cg_tensor *dw = cg_grad_buffer(weight);
        if (dw) cg_conv_weight_grad(g, input->data, grad_output->data, dw->data);
    }
    if (cg_needs_grad(n, 2)) {
        cg_tensor *db = cg_grad_buffer(bias);
        if (db)
            cg_conv_bias_grad(grad_output->data, db->data, g->batch, g->out_channels,
                              column_positions(g));
    }
}

// conv_transpose2d backward: grad_output (N, C_out, H_out, W_out) (the image side) ->
//   input (N, C_in, H, W):          conv2d's forward kernel applied to grad_output
//   weight (C_in, C_out/g, kH, kW): input x im2col(grad_output)^T
//   bias (C_out):                   sum over N, H_out, W_out
void cg_conv_transpose_backward(cg_node *n, const cg_tensor *grad_output) {
    const cg_conv_geometry *g = n->ctx;
    cg_tensor *input = n->inputs[0], *weight = n->inputs[1], *bias = n->inputs[2];
    if (cg_needs_grad(n, 0)) {
        cg_tensor *dx = cg_empty_like(input);
        if (dx) {
            cg_conv_im2col_gemm(g, grad_output->data, weight->data, dx->data);
            cg_accumulate_grad_data(input, dx->data);
        }
    }
    if (cg_needs_grad(n, 1)) {
        cg_tensor *dw = cg_grad_buffer(weight);
        if (dw) cg_conv_weight_grad(g, grad_output->data, input->data, dw->data);
    }
    if (cg_needs_grad(n, 2)) {
        cg_tensor *db = cg_grad_buffer(bias);
        if (db)
            cg_conv_bias_grad(grad_output->data, db->data, g->batch, g->in_channels,
                              image_positions(g));
    }
}

const cg_op cg_op_conv2d = {"conv2d", cg_conv_backward, "geometry (input, weight by reference)"};
const cg_op cg_op_conv_transpose2d = {"conv_transpose2d", cg_conv_transpose_backward,
                                      "geometry (input, weight by reference)"};

static void record(const cg_op *op, const cg_conv_geometry *g, cg_tensor *out, cg_tensor *input,
                   cg_tensor *weight, cg_tensor *bias) {
    cg_node *n = cg_record(out, op, 3, (cg_tensor *[]){input, weight, bias});
    if (n) cg_node_set_ctx(n, g, sizeof *g);
}

// input (N, C, H, W), weight (O, C/g, kH, kW), bias (O) -> (N, O, H_out, W_out)
cg_tensor *cg_conv_run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                       cg_tensor *weight, cg_tensor *bias, cg_tensor *output) {
    cg_tensor *out = output;
    if (!out) {
        int64_t shape[CG_MAX_DIMS];
        out = cg_empty(cg_conv_columns_shape(g, shape), shape);
        if (!out) return NULL;
        cg_conv_im2col_gemm(g, input->data, weight->data, out->data);
        if (bias)
            cg_conv_add_bias(out->data, bias->data, g->batch, g->out_channels, column_positions(g));
    }
    record(op, g, out, input, weight, bias);
    return out;
}

// input (N, C_in, H, W), weight (C_in, C_out/g, kH, kW), bias (C_out) -> (N, C_out, H_out, W_out)
cg_tensor *cg_conv_transpose_run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                                 cg_tensor *weight, cg_tensor *bias) {
    int64_t shape[CG_MAX_DIMS];
    cg_tensor *out = cg_empty(cg_conv_image_shape(g, shape), shape);
    if (!out) return NULL;
    cg_conv_gemm_col2im(g, input->data, weight->data, out->data);
    if (bias) cg_conv_add_bias(out->data, bias->data, g->batch, g->in_channels, image_positions(g));
    record(op, g, out, input, weight, bias);
    return out;
}

// Check, resolve and run a convolution of `spatial` dims (2, or 1 for the 1-D ops) named by op.
cg_tensor *cg_conv_apply(const cg_op *op, int spatial, cg_tensor *input, cg_tensor *weight,
                         cg_tensor *bias, const cg_conv_options *options) {
    if (!cg_check_arg(input, op->name, "input") || !cg_check_arg(weight, op->name, "weight"))
        return NULL;
    cg_conv_geometry g;
    if (cg_conv_geometry_resolve(op->name, spatial, input, weight, bias, options, &g) < 0)
        return NULL;
    return cg_conv_run(op, &g, input, weight, bias, NULL);
}

cg_tensor *cg_conv_transpose_apply(const cg_op *op, int spatial, cg_tensor *input,
                                   cg_tensor *weight, cg_tensor *bias,
                                   const cg_conv_options *options) {
    if (!cg_check_arg(input, op->name, "input") || !cg_check_arg(weight, op->name, "weight"))
        return NULL;
    cg_conv_geometry g;
    if (cg_conv_transpose_geometry_resolve(op->name, spatial, input, weight, bias, options, &g) < 0)
        return NULL;
    return cg_conv_transpose_run(op, &g, input, weight, bias);
}

cg_tensor *cg_conv2d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                     const cg_conv_options *options) {
    return cg_conv_apply(&cg_op_conv2d, 2, input, weight, bias, options);
}

cg_tensor *cg_conv_transpose2d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                               const cg_conv_options *options) {
    return cg_conv_transpose_apply(&cg_op_conv_transpose2d, 2, input, weight, bias, options);
}
