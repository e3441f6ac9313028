// ops/conv_record.h - the convolution ops' own glue (ops/conv.c): running a resolved
// geometry through the kernels and recording the op, shared by conv1d.c and conv_views.c.
#ifndef CG_CONV_RECORD_H
#define CG_CONV_RECORD_H

#include "conv_internal.h"

extern const cg_op cg_op_conv2d, cg_op_conv2d_relu, cg_op_conv_transpose2d, cg_op_conv1d,
    cg_op_conv_transpose1d;
// The two backward functions (node ctx = the geometry; inputs = input, weight, bias).
void cg_conv_backward(cg_node *n, const cg_tensor *grad_output);
void cg_conv_transpose_backward(cg_node *n, const cg_tensor *grad_output);

// Record `op` on out with inputs (input, weight, bias; bias may be NULL) and the geometry as
// the node's context. conv2d-like ops (cg_op_conv2d / cg_op_conv1d) use the first backward,
// transposed ones the second. Returns out.
cg_tensor *cg_conv_record(const cg_op *op, const cg_conv_geometry *g, cg_tensor *out,
                          cg_tensor *input, cg_tensor *weight, cg_tensor *bias);
// Allocate the output, compute it and record `op` (conv2d-like for the first, transposed
// for the second). NULL, with the error reported, if the kernels fail.
cg_tensor *cg_conv_run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                       cg_tensor *weight, cg_tensor *bias);
cg_tensor *cg_conv_transpose_run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                                 cg_tensor *weight, cg_tensor *bias);
// The public conv ops: check the arguments, resolve the geometry (named op->name) and run.
cg_tensor *cg_conv_apply(const cg_op *op, int spatial, cg_tensor *input, cg_tensor *weight,
                         cg_tensor *bias, const cg_conv_options *options);
cg_tensor *cg_conv_transpose_apply(const cg_op *op, int spatial, cg_tensor *input,
                                   cg_tensor *weight, cg_tensor *bias,
                                   const cg_conv_options *options);

#endif
