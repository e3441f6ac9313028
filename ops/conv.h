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

#include "../tensor/options.h"
#include "../tensor/tensor.h"
#include "../kernels/conv_algorithm.h"

typedef enum cg_padding_kind {
    CG_PADDING_EXPLICIT = 0, // use `padding` (default: 0)
    CG_PADDING_SAME,         // output size = input size (stride must be 1); PyTorch puts the
                             // odd extra row/column at the bottom/right
    CG_PADDING_VALID,        // no padding
} cg_padding_kind;

typedef enum cg_padding_mode {
    CG_PAD_ZEROS = 0, // zeros (the conv modules' default padding_mode; cg_pad: constant 0)
    CG_PAD_REFLECT,   // mirror without repeating the edge: d c | a b c d | b a
    CG_PAD_REPLICATE, // repeat the edge: a a | a b c d | d d
    CG_PAD_CIRCULAR,  // wrap around: c d | a b c d | a b
    CG_PAD_CONSTANT,  // cg_pad only: fill with its `value` (F.pad's mode='constant')
} cg_padding_mode;

// One options struct for the whole convolution family; it follows tensor/options.h:
// NULL or {0} is PyTorch's defaults, and each spatial option has a scalar for the square
// (and 1-D) case plus a (height, width) pair:
//   {.padding = 1, .stride = 2}            padding=1, stride=2
//   {.padding_hw = {1, 0}, .stride_hw = {2, 1}}   padding=(1, 0), stride=(2, 1)
// A pair with a non-zero entry is used as given, else the scalar for both (0 there: the
// default - stride 1, padding 0, dilation 1, output_padding 0). 1-D ops read the scalars
// only (a pair given to them is an error).
//  - padding_kind: explicit (default), same or valid.
//  - groups: 0 means 1.
//  - no_bias, padding_mode: used by the modules (cg_Conv2d, ...); the functional ops take
//    bias as an argument (NULL for none) and always pad with zeros.
//  - kernel_size_hw: the modules' rectangular kernel (cg_Conv2d's kernel_size argument is
//    the square case). The functional ops take the kernel from weight and refuse it.
typedef struct cg_conv_options {
    int stride, padding, dilation, output_padding;
    int stride_hw[2], padding_hw[2], dilation_hw[2], output_padding_hw[2];
    int groups;
    cg_padding_kind padding_kind;
    bool no_bias;
    cg_padding_mode padding_mode;
    int kernel_size_hw[2];
} cg_conv_options;

// The (height, width) values the spatial options stand for (1-D: index 1 is the length
// and index 0 the neutral value). Returns 0, or -1 with an error naming op when a 1-D op
// is given a pair field.
typedef struct cg_conv_pairs {
    int stride[2], padding[2], dilation[2], output_padding[2];
} cg_conv_pairs;
int cg_conv_options_pairs(const char *op, int spatial, const cg_conv_options *options,
                          cg_conv_pairs *pairs);
// The modules' kernel size (rule 2 over kernel_size and kernel_size_hw; 1-D: (1, kernel_size)
// and a pair is an error). Returns 0, or -1 with an error naming op unless both are positive.
int cg_conv_kernel_size(const char *op, int spatial, int kernel_size,
                        const cg_conv_options *options, int kernel[2]);

// ---- functional ops (NULL options = all defaults) ---------------------------------------
cg_tensor *cg_conv2d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                     const cg_conv_options *options);
cg_tensor *cg_conv_transpose2d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                               const cg_conv_options *options);
// relu(conv2d(input, weight, bias)) in one op (all of conv2d's options): the ReLU runs on
// each block of the output as the convolution stores it (no second pass over the feature
// map, no pre-activation tensor), and backward masks the gradient by the output. The same
// values and gradients as cg_relu(cg_conv2d(...)). nn's Sequential runs a Conv2d followed
// by a ReLU through it (unless the ReLU starts a ReLU + MaxPool2d pair).
cg_tensor *cg_conv2d_relu(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                          const cg_conv_options *options);
cg_tensor *cg_conv1d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                     const cg_conv_options *options);
cg_tensor *cg_conv_transpose1d(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                               const cg_conv_options *options);

// The name PyTorch gives a mode: "zeros", "reflect", "replicate", "circular", "constant"
// ("unknown" for a value outside the enum).
const char *cg_padding_mode_name(cg_padding_mode mode);

// F.pad: `pads` lists (left, right) of the last dim, then (top, bottom) of the one before,
// ... (n_pads even, at most 2 * ndim). CG_PAD_CONSTANT fills `value` (CG_PAD_ZEROS fills 0
// and needs value 0) and may be negative (cropping); reflect needs pad < size of that dim;
// reflect/replicate/circular pad the last 1 or 2 dims of a 2-D/3-D (1 dim) or 3-D/4-D (2 dims)
// input, as PyTorch.
cg_tensor *cg_pad(cg_tensor *input, int n_pads, const int *pads, cg_padding_mode mode, float value);

// F.unfold (im2col) and F.fold (col2im):
//   unfold: (N, C, H, W) -> (N, C*kH*kW, L), L = number of sliding positions
//   fold:   (N, C*kH*kW, L) -> (N, C, output_size[0], output_size[1]), summing overlaps
typedef struct cg_fold_options {                // tensor/options.h's rule: scalar or (h, w) pair
    int kernel_size, dilation, padding, stride; // kernel_size required; dilation, stride 0: 1
    int kernel_size_hw[2], dilation_hw[2], padding_hw[2], stride_hw[2];
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
