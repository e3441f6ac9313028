// ops/conv.h - convolution, transposed convolution, padding, unfold/fold, and the three
// views of convolution (sliding window, im2col x kernel, unrolled-kernel matrix).
//
// Semantics are PyTorch's (torch.nn.functional.conv2d, conv_transpose2d, conv1d,
// conv_transpose1d, pad, unfold, fold); every op is differentiable.
//
// Shapes (2-D; a batch dim N may be dropped for unbatched (C,H,W) input, as in PyTorch):
//   conv2d:            input (N, C_in, H, W), weight (C_out, C_in/groups, kH, kW), bias (C_out)
//                      -> (N, C_out, H_out, W_out)
//     H_out = floor((H + pad_top + pad_bottom - dilation_h*(kH-1) - 1) / stride_h) + 1
//     (pad_top = pad_bottom = padding[0] for explicit padding; likewise W)
//   conv_transpose2d:  input (N, C_in, H, W), weight (C_in, C_out/groups, kH, kW), bias (C_out)
//                      -> (N, C_out, H_out, W_out)
//     H_out = (H-1)*stride_h - 2*padding_h + dilation_h*(kH-1) + output_padding_h + 1
//   conv1d / conv_transpose1d: the same with (N, C, L) and a kernel of length K, computed
//     as a 2-D convolution of a 1 x L image (options use index 0 of each pair).
//
// Backward reuses the transposed relationship: conv2d's input gradient is
// conv_transpose2d(grad_output, weight) and conv_transpose2d's input gradient is
// conv2d(grad_output, weight); both run on the same im2col/GEMM and GEMM/col2im kernels.
#ifndef CG_CONV_H
#define CG_CONV_H

#include "../tensor/tensor.h"
#include "../kernels/conv_algorithm.h"

typedef enum cg_padding_kind {
    CG_PADDING_EXPLICIT = 0, // use `padding` (default: 0)
    CG_PADDING_SAME,         // output size = input size (stride must be 1); PyTorch puts the
                             // odd extra row/column at the bottom/right
    CG_PADDING_VALID,        // no padding
} cg_padding_kind;

typedef enum cg_padding_mode {
    CG_PAD_ZEROS = 0, // constant padding (the value is 0 for convolution modules)
    CG_PAD_REFLECT,   // mirror without repeating the edge: d c | a b c d | b a
    CG_PAD_REPLICATE, // repeat the edge: a a | a b c d | d d
    CG_PAD_CIRCULAR,  // wrap around: c d | a b c d | a b
} cg_padding_mode;

// One options struct for the whole convolution family. Zero fields mean PyTorch's defaults.
// Pairs are (height, width); 1-D ops use index 0 only.
//  - stride, dilation: 0 means 1; a 0 second entry repeats the first, so {2} means (2, 2).
//  - padding, output_padding: both entries are used as given ({1, 1}; CG_PAIR(1)).
//  - padding_kind: explicit (default), same or valid.
//  - groups: 0 means 1.
//  - no_bias, padding_mode: used by the modules (cg_Conv2d, ...); the functional ops take
//    bias as an argument (NULL for none) and always pad with zeros.
typedef struct cg_conv_options {
    int stride[2];
    int padding[2];
    int dilation[2];
    int output_padding[2];
    int groups;
    cg_padding_kind padding_kind;
    bool no_bias;
    cg_padding_mode padding_mode;
} cg_conv_options;

#define CG_PAIR(v)                                                                                 \
    { (v), (v) }

// ---- functional ops (NULL options = all defaults) ---------------------------------------
cg_tensor *cg_conv2d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                     const cg_conv_options *options);
cg_tensor *cg_conv_transpose2d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                               const cg_conv_options *options);
cg_tensor *cg_conv1d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                     const cg_conv_options *options);
cg_tensor *cg_conv_transpose1d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                               const cg_conv_options *options);

// F.pad: `pads` lists (left, right) of the last dim, then (top, bottom) of the one before,
// ... (n_pads even, at most 2 * ndim). Constant padding fills `value` and may be negative
// (cropping); reflect needs pad < size of that dim; reflect/replicate/circular pad the
// last 1 or 2 dims of a 2-D/3-D (1 dim) or 3-D/4-D (2 dims) input, as PyTorch.
cg_tensor *cg_pad(cg_tensor *input, int n_pads, const int *pads, cg_padding_mode mode, float value);

// F.unfold (im2col) and F.fold (col2im):
//   unfold: (N, C, H, W) -> (N, C*kH*kW, L), L = number of sliding positions
//   fold:   (N, C*kH*kW, L) -> (N, C, output_size[0], output_size[1]), summing overlaps
typedef struct cg_fold_options {
    int kernel_size[2]; // required; a 0 second entry repeats the first
    int dilation[2];    // 0 means 1; a 0 second entry repeats the first
    int padding[2];     // both entries used as given
    int stride[2];      // 0 means 1; a 0 second entry repeats the first
} cg_fold_options;
cg_tensor *cg_unfold(cg_tensor *input, const cg_fold_options *options);
cg_tensor *cg_fold(cg_tensor *input, int out_h, int out_w, const cg_fold_options *options);

// ---- the three views of one convolution --------------------------------------------
// 1. Sliding window: the definition, loop by loop; slow and obviously right. Same
//    arguments and result as cg_conv2d (all options); differentiable through cg_conv2d's
//    backward so it can stand in for it in tests.
cg_tensor *cg_conv2d_direct(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                            const cg_conv_options *options);
// 2. im2col: cg_conv2d itself (unfold the input, multiply by the flattened kernel).
// 3. The unrolled kernel: the dense matrix M (C_out*H_out*W_out, C_in*H*W) with
//    vec(conv2d(x, weight)) = M vec(x) for one image x of shape (C_in, H, W), no bias.
//    conv_transpose2d(y, weight) with the same options equals M^T vec(y) reshaped to x's
//    shape (when output_padding restores H and W): the shape comes back, not the values.
cg_tensor *cg_conv2d_matrix(const cg_tensor *weight, int in_h, int in_w,
                            const cg_conv_options *options);

// The output size of conv2d / conv_transpose2d for these arguments (N and C included),
// or -1 with an error naming the op, parameter and shapes.
int cg_conv2d_output_shape(const cg_tensor *input, const cg_tensor *weight,
                           const cg_conv_options *options, int64_t *out_shape);
int cg_conv_transpose2d_output_shape(const cg_tensor *input, const cg_tensor *weight,
                                     const cg_conv_options *options, int64_t *out_shape);

#endif
