// ops/functional.h - torch.nn.functional ops other than convolution (ops/conv.h) and losses
// (ops/loss.h): linear, dropout, pooling, batch normalisation. Each is differentiable; the
// modules of nn/layers.h are thin wrappers over them.
#ifndef CG_FUNCTIONAL_H
#define CG_FUNCTIONAL_H

#include "../tensor/options.h"
#include "../tensor/tensor.h"

// x (..., in), weight (out, in), bias (out) or NULL -> (..., out)
cg_tensor *cg_linear(cg_tensor *x, cg_tensor *weight, cg_tensor *bias); // x W^T + b

// Inverted dropout: in training, zero each element with probability p (global generator)
// and scale the rest by 1/(1-p); p = 1 gives zeros. Returns x itself when !training or p = 0.
// p outside [0, 1] is an error.
cg_tensor *cg_dropout(cg_tensor *x, float p, bool training);
// Channel ("feature") dropout: in training each channel of each sample is zeroed with
// probability p and the others scaled by 1/(1-p). dropout1d: x (N, C, L), or (C, L) without
// a batch dim; other ranks are an error. dropout2d: x (N, C, H, W); as PyTorch 1.13, a 3-D
// input is taken as (N, C, L) (1-D channel dropout) and any other rank >= 2 runs with
// channels along dim 1, each with PyTorch's warning (cg_warn); ranks 0 and 1 warn too and
// are an error when something would be dropped. x itself when !training, p = 0 or x is
// empty; p outside [0, 1] is an error.
cg_tensor *cg_dropout1d(cg_tensor *x, float p, bool training);
cg_tensor *cg_dropout2d(cg_tensor *x, float p, bool training);
// Alpha dropout (F.alpha_dropout, for SELU networks): in training each element is dropped
// with probability p; kept ones become a x + alpha a p and dropped ones alpha a (p - 1), with
// alpha = 1.7580993408473766 and a = 1 / sqrt((alpha^2 p + 1)(1 - p)), so a standard normal
// input keeps mean 0 and variance 1. p = 1 gives zeros; x itself when !training or p = 0.
cg_tensor *cg_alpha_dropout(cg_tensor *x, float p, bool training);

// Pooling, as nn.MaxPool2d/AvgPool2d. Input (N, C, H, W) or (C, H, W). Options follow
// tensor/options.h: `.kernel_size = 2` is kernel_size=2, `.kernel_size_hw = {3, 2}` is
// kernel_size=(3, 2); likewise stride (0: the kernel size), padding (at most half the
// effective kernel) and dilation (max pooling only; 0: 1).
typedef struct cg_pool_options {
    int kernel_size, stride, padding, dilation; // kernel_size required
    int kernel_size_hw[2], stride_hw[2], padding_hw[2], dilation_hw[2];
    bool ceil_mode;       // the last window must still start inside the input or left padding
    bool exclude_pad;     // avg_pool2d: count_include_pad=False (padding not in the divisor)
    int divisor_override; // avg_pool2d: divide every window by this (0: None)
} cg_pool_options;
// The options resolved and validated: every value in the _hw fields (scalars 0). 0, or -1
// with an error naming op.
int cg_pool_options_resolve(const char *op, const cg_pool_options *options,
                            cg_pool_options *resolved);
cg_tensor *cg_max_pool2d(cg_tensor *x, const cg_pool_options *options);
// max_pool2d(relu(x)) as one op, for the usual ReLU -> MaxPool2d pair (cg_Sequential runs
// a ReLU module followed by a MaxPool2d module through it): the same values (a zero may
// come out as -0 where the pair gives +0) and the same gradient, with no ReLU output the
// size of x and no ReLU pass over it.
cg_tensor *cg_relu_max_pool2d(cg_tensor *x, const cg_pool_options *options);
// return_indices=True: *indices gets the flat index in its (H, W) plane of the input each
// output copied (a float tensor of the output's shape, not differentiable).
cg_tensor *cg_max_pool2d_with_indices(cg_tensor *x, const cg_pool_options *options,
                                      cg_tensor **indices);
// The partial inverse: zeros of size (out_h, out_w) (0: PyTorch's default
// (H-1)*stride - 2*padding + kernel_size) with x's values at `indices`.
cg_tensor *cg_max_unpool2d(cg_tensor *x, cg_tensor *indices, const cg_pool_options *options,
                           int out_h, int out_w);
cg_tensor *cg_avg_pool2d(cg_tensor *x, const cg_pool_options *options);

// Adaptive pooling to (out_h, out_w); an entry CG_NONE keeps the input's size (PyTorch's
// None in output_size). Row i covers rows [floor(i*H/out_h), ceil((i+1)*H/out_h)).
#define CG_NONE (-1)
cg_tensor *cg_adaptive_avg_pool2d(cg_tensor *x, int out_h, int out_w);
cg_tensor *cg_adaptive_max_pool2d(cg_tensor *x, int out_h, int out_w);
cg_tensor *cg_adaptive_max_pool2d_with_indices(cg_tensor *x, int out_h, int out_w,
                                               cg_tensor **indices);

// The functional form (F.batch_norm): x (N, C, H, W); running_mean, running_var, weight,
// bias (C), each may be NULL (weight NULL: 1, bias NULL: 0) except that eval mode needs the
// running statistics. In training the running statistics, when given, are updated in place.
// Differentiable in x, weight and bias.
cg_tensor *cg_batch_norm2d(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                           cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                           float eps);

#endif
