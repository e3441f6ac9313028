// ops/conv.c - conv2d and conv_transpose2d, forward and backward.
//
// The two ops are each other's adjoint, and their backwards say so literally:
//   conv2d            forward: im2col + GEMM   input grad: GEMM + col2im (= conv_transpose2d)
//   conv_transpose2d  forward: GEMM + col2im   input grad: im2col + GEMM (= conv2d)
// Both are described by one cg_conv_geometry (the conv2d from the "image" side to the
// "column" side), so one kernel driver (kernels/conv_driver.c) runs all four roles. The
// weight gradient is one more direction of it, with the image and column arguments in
// place: conv2d passes (input, grad_output), conv_transpose2d passes (grad_output, input).
#include "../kernels/elementwise.h"
#include "conv_record.h"

// The two ops differ only in which side of the geometry their input is: conv2d's input is
// the image side, conv_transpose2d's the column side. `transposed` says which.
static cg_conv_direction forward_direction(bool transposed) {
    return transposed ? CG_CONV_TRANSPOSED : CG_CONV_FORWARD;
}

// Backward of either op, for grad_output on its output side:
//   input:  the other direction's forward kernel applied to grad_output
//   weight: WEIGHT_GRAD with (image, columns) = (input, grad_output) for conv2d and
//           (grad_output, input) for conv_transpose2d
//   bias:   the sum of grad_output over batch and positions
static void conv_backward(cg_node *n, const cg_tensor *grad_output, bool transposed) {
    const cg_conv_geometry *g = n->ctx;
    cg_tensor *input = n->inputs[0], *weight = n->inputs[1], *bias = n->inputs[2];
    const float *dy = grad_output->data, *x = input->data;
    if (cg_needs_grad(n, 0)) {
        cg_tensor *dx = cg_empty_like(input);
        cg_conv_operands args = {.image = dy, .columns = dy, .weight = weight->data};
        if (dx) args.out = dx->data;
        if (dx && cg_conv_execute(forward_direction(!transposed), g, &args) == 0)
            cg_accumulate_grad(input, dx);
    }
    // conv2d's bias gradient sums grad_output, the weight gradient's columns: it is taken
    // with the weight gradient when there is one (one read of grad_output, not two).
    cg_tensor *db = cg_needs_grad(n, 2) ? cg_grad_buffer(bias) : NULL;
    bool bias_with_weight = db && !transposed && cg_needs_grad(n, 1);
    if (cg_needs_grad(n, 1)) {
        cg_tensor *dw = cg_grad_buffer(weight);
        cg_conv_operands args = {.image = transposed ? dy : x, .columns = transposed ? x : dy};
        if (dw) args.out = dw->data, args.dbias = bias_with_weight ? db->data : NULL;
        if (dw) cg_conv_execute(CG_CONV_WEIGHT_GRAD, g, &args);
    }
    if (db && !bias_with_weight) {
        int64_t channels = transposed ? g->image_channels : g->cols_channels;
        int64_t positions = transposed ? g->image_h * g->image_w : g->cols_h * g->cols_w;
        cg_conv_bias_grad(dy, db->data, g->batch, channels, positions);
    }
}

void cg_conv_backward(cg_node *n, const cg_tensor *grad_output) {
    conv_backward(n, grad_output, false);
}

// conv2d_relu: y = relu(conv2d(x) + b). ReLU's gradient rule read from y, not from the
// pre-activation (never stored): y <= 0 exactly where it is <= 0, and y is NaN where it is.
// Then conv2d's backward on the masked gradient.
static void conv_relu_backward(cg_node *n, const cg_tensor *grad_output) {
    cg_tensor *masked = cg_empty_like(grad_output);
    if (!masked) return;
    cg_relu_grad(n->output->data, grad_output->data, masked->data, masked->numel);
    conv_backward(n, masked, false);
    cg_free(masked);
}
void cg_conv_transpose_backward(cg_node *n, const cg_tensor *grad_output) {
    conv_backward(n, grad_output, true);
}

const cg_op cg_op_conv2d = {"conv2d", cg_conv_backward, "geometry (input, weight by reference)"};
const cg_op cg_op_conv2d_relu = {"conv2d_relu", conv_relu_backward,
                                 "geometry (input, weight by reference, output)"};
const cg_op cg_op_conv_transpose2d = {"conv_transpose2d", cg_conv_transpose_backward,
                                      "geometry (input, weight by reference)"};

cg_tensor *cg_conv_record(const cg_op *op, const cg_conv_geometry *g, cg_tensor *out,
                          cg_tensor *input, cg_tensor *weight, cg_tensor *bias) {
    cg_node *n = cg_record(out, op, 3, (cg_tensor *[]){input, weight, bias});
    if (n) cg_node_set_ctx(n, g, sizeof *g);
    // The convolution backwards read the input and the weight; only conv2d_relu's reads
    // its output (ReLU's mask).
    if (n && op->backward != conv_relu_backward) n->unread = CG_OP_OUTPUT_UNREAD;
    return out;
}

static cg_tensor *run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                      cg_tensor *weight, cg_tensor *bias, bool transposed) {
    int64_t shape[CG_MAX_DIMS];
    int ndim = transposed ? cg_conv_image_shape(g, shape) : cg_conv_columns_shape(g, shape);
    cg_tensor *out = cg_empty(ndim, shape);
    if (!out) return NULL;
    cg_conv_operands args = {.image = input->data,
                             .columns = input->data,
                             .weight = weight->data,
                             .bias = bias ? bias->data : NULL,
                             .out = out->data,
                             .relu = op == &cg_op_conv2d_relu};
    if (cg_conv_execute(forward_direction(transposed), g, &args) < 0) {
        cg_free(out);
        return NULL;
    }
    return cg_conv_record(op, g, out, input, weight, bias);
}

// input (N, C, H, W), weight (O, C/g, kH, kW), bias (O) -> (N, O, H_out, W_out)
cg_tensor *cg_conv_run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                       cg_tensor *weight, cg_tensor *bias) {
    return run(op, g, input, weight, bias, false);
}

// input (N, C_in, H, W), weight (C_in, C_out/g, kH, kW), bias (C_out) -> (N, C_out, H_out, W_out)
cg_tensor *cg_conv_transpose_run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                                 cg_tensor *weight, cg_tensor *bias) {
    return run(op, g, input, weight, bias, true);
}

// Check, resolve and run a convolution of `spatial` dims (2, or 1 for the 1-D ops) named by op.
cg_tensor *cg_conv_apply(const cg_op *op, int spatial, cg_tensor *input, cg_tensor *weight,
                         cg_tensor *bias, const cg_conv_options *options) {
    if (!cg_check_arg(input, op->name, "input") || !cg_check_arg(weight, op->name, "weight"))
        return NULL;
    cg_conv_geometry g;
    if (cg_conv_geometry_resolve(op->name, spatial, input, weight, bias, options, &g) < 0)
        return NULL;
    return cg_conv_run(op, &g, input, weight, bias);
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

cg_tensor *cg_conv2d_relu(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                          const cg_conv_options *options) {
    return cg_conv_apply(&cg_op_conv2d_relu, 2, input, weight, bias, options);
}

cg_tensor *cg_conv_transpose2d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                               const cg_conv_options *options) {
    return cg_conv_transpose_apply(&cg_op_conv_transpose2d, 2, input, weight, bias, options);
}
