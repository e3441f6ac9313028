// nn/layers.h - modules other than convolution (nn/conv_module.h), as torch.nn.
// Each constructor returns a module owning its parameters (PyTorch's default
// initialisation, PyTorch's state_dict names); cg_module_forward runs it.
#ifndef CG_LAYERS_H
#define CG_LAYERS_H

#include "../ops/functional.h"
#include "module.h"

// Linear: x (..., in) -> (..., out); weight (out, in), bias (out).
cg_module *cg_Linear(int in_features, int out_features, bool bias);

cg_module *cg_ReLU(void);
cg_module *cg_LeakyReLU(float negative_slope);
cg_module *cg_Sigmoid(void);
cg_module *cg_Tanh(void);
cg_module *cg_Flatten(int start_dim, int end_dim); // nn.Flatten() is (1, -1)
cg_module *cg_Dropout(float p);                    // identity in eval mode

cg_module *cg_MaxPool2d(const cg_pool_options *options);
cg_module *cg_AvgPool2d(const cg_pool_options *options);
// Adaptive: output (out_h, out_w); row i averages rows [floor(i*H/out_h), ceil((i+1)*H/out_h)).
cg_module *cg_AdaptiveAvgPool2d(int out_h, int out_w);

// Normalisation modules (BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d): nn/norm.h.

// Sequential: children named "0", "1", ...; forward runs them in order.
cg_module *cg_Sequential(int n, cg_module *const *modules);

#endif
