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

// Pooling, as nn.MaxPool2d/AvgPool2d. Input (N, C, H, W) or (C, H, W). Options follow
// tensor/options.h: `.kernel_size = 2` is kernel_size=2, `.kernel_size_hw = {3, 2}` is
// kernel_size=(3, 2); likewise stride (0: the kernel size), padding (at most half the
// kernel). AvgPool2d counts padding in the divisor (count_include_pad=True, PyTorch's
// default).
typedef struct cg_pool_options {
    int kernel_size, stride, padding; // required, 0: = kernel_size, 0
    int kernel_size_hw[2], stride_hw[2], padding_hw[2];
    bool ceil_mode; // the last window must still start inside the input or left padding
} cg_pool_options;
// The options resolved and validated: every value in the _hw fields (scalars 0). 0, or -1
// with an error naming op.
int cg_pool_options_resolve(const char *op, const cg_pool_options *options,
                            cg_pool_options *resolved);
cg_tensor *cg_max_pool2d(cg_tensor *x, const cg_pool_options *options);
cg_tensor *cg_avg_pool2d(cg_tensor *x, const cg_pool_options *options);
cg_tensor *cg_adaptive_avg_pool2d(cg_tensor *x, int out_h, int out_w);

// The functional form (F.batch_norm): x (N, C, H, W); running_mean, running_var, weight,
// bias (C), each may be NULL (weight NULL: 1, bias NULL: 0) except that eval mode needs the
// running statistics. In training the running statistics, when given, are updated in place.
// Differentiable in x, weight and bias.
cg_tensor *cg_batch_norm2d(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                           cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                           float eps);

#endif
