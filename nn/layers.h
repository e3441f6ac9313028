// nn/layers.h - layers other than convolution (which is in nn/conv.h), as torch.nn.
// Each constructor returns a module owning its parameters (PyTorch's default
// initialisation, PyTorch's state_dict names); cg_module_forward runs it.
#ifndef CG_LAYERS_H
#define CG_LAYERS_H

#include "module.h"

// Linear: x (..., in) -> (..., out); weight (out, in), bias (out).
cg_module *cg_Linear(int in_features, int out_features, bool bias);
cg_tensor *cg_linear(cg_tensor *x, cg_tensor *weight, cg_tensor *bias); // x W^T + b

cg_module *cg_ReLU(void);
cg_module *cg_LeakyReLU(float negative_slope);
cg_module *cg_Sigmoid(void);
cg_module *cg_Tanh(void);
cg_module *cg_Flatten(int start_dim, int end_dim); // nn.Flatten() is (1, -1)
cg_module *cg_Dropout(float p);                    // identity in eval mode
// Inverted dropout: in training, zero each element with probability p (global generator)
// and scale the rest by 1/(1-p); p = 1 gives zeros. Returns x itself when !training or p = 0.
// p outside [0, 1] is an error.
cg_tensor *cg_dropout(cg_tensor *x, float p, bool training);

// Pooling: kernel, stride (0: = kernel), padding, ceil_mode, as nn.MaxPool2d/AvgPool2d
// (AvgPool2d counts padding in the divisor: count_include_pad=True, PyTorch's default).
// Input (N, C, H, W) or (C, H, W).
typedef struct cg_pool_options {
    int kernel_size[2]; // a 0 second entry repeats the first
    int stride[2];      // 0: the kernel size; a 0 second entry repeats the first
    int padding[2];     // both entries used as given; at most half the kernel
    bool ceil_mode;     // the last window must still start inside the input or left padding
} cg_pool_options;
cg_tensor *cg_max_pool2d(cg_tensor *x, const cg_pool_options *options);
cg_tensor *cg_avg_pool2d(cg_tensor *x, const cg_pool_options *options);
cg_tensor *cg_adaptive_avg_pool2d(cg_tensor *x, int out_h, int out_w);
cg_module *cg_MaxPool2d(const cg_pool_options *options);
cg_module *cg_AvgPool2d(const cg_pool_options *options);
// Adaptive: output (out_h, out_w); row i averages rows [floor(i*H/out_h), ceil((i+1)*H/out_h)).
cg_module *cg_AdaptiveAvgPool2d(int out_h, int out_w);

// BatchNorm2d: batch statistics in training (running stats updated with `momentum`,
// unbiased variance), running statistics in eval. Parameters weight/bias, buffers
// running_mean, running_var, num_batches_tracked. momentum 0.1 and eps 1e-5 are PyTorch's.
// eps and momentum are used as given (no zero-means-default); momentum in [0, 1].
cg_module *cg_BatchNorm2d(int num_features, float eps, float momentum);
// The functional form (F.batch_norm): x (N, C, H, W); running_mean, running_var, weight,
// bias (C), each may be NULL (weight NULL: 1, bias NULL: 0) except that eval mode needs the
// running statistics. In training the running statistics, when given, are updated in place.
// Differentiable in x, weight and bias.
cg_tensor *cg_batch_norm2d(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                           cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                           float eps);

// Sequential: children named "0", "1", ...; forward runs them in order.
cg_module *cg_Sequential(int n, cg_module *const *modules);

#endif
