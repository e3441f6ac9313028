// ops/conv1d.c - conv1d and conv_transpose1d: a length-L signal is a 1 x L image.
//
// (N, C, L) has the same memory layout as (N, C, 1, L) and a weight (O, C/g, K) the same as
// (O, C/g, 1, K), so the geometry is resolved with height 1 (options index 0 is the width)
// and the 2-D kernels and backwards run unchanged on the caller's tensors. Recording the
// nodes on the caller's own tensors is what a chain of unsqueeze views would do, without
// creating intermediates nobody owns.
#include "conv_record.h"

const cg_op cg_op_conv1d = {"conv1d", cg_conv_backward, "geometry (input, weight by reference)"};
const cg_op cg_op_conv_transpose1d = {"conv_transpose1d", cg_conv_transpose_backward,
                                      "geometry (input, weight by reference)"};

// input (N, C, L), weight (O, C/g, K), bias (O) -> (N, O, L_out)
cg_tensor *cg_conv1d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                     const cg_conv_options *options) {
    return cg_conv_apply(&cg_op_conv1d, 1, input, weight, bias, options);
}

// input (N, C_in, L), weight (C_in, C_out/g, K), bias (C_out) -> (N, C_out, L_out)
cg_tensor *cg_conv_transpose1d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                               const cg_conv_options *options) {
    return cg_conv_transpose_apply(&cg_op_conv_transpose1d, 1, input, weight, bias, options);
}
