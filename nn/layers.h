// nn/layers.h - modules other than convolution (nn/conv_module.h), as torch.nn.
// Each constructor returns a module owning its parameters (PyTorch's default
// initialisation, PyTorch's state_dict names); cg_module_forward runs it.
#ifndef CG_LAYERS_H
#define CG_LAYERS_H

#include "../ops/functional.h"
#include "activations.h"
#include "module.h"

// Module options follow tensor/options.h: NULL (or {0}) is PyTorch's defaults, booleans
// are named so false is the default, and a value whose 0 is legal is a CG_SET optional.

// Linear: x (..., in) -> (..., out); weight (out, in), bias (out) - with a bias unless
// no_bias, so cg_Linear(in, out, NULL) is nn.Linear(in, out).
typedef struct cg_linear_options {
    bool no_bias; // bias=False
} cg_linear_options;
cg_module *cg_Linear(int in_features, int out_features, const cg_linear_options *options);

cg_module *cg_ReLU(void); // the other activations (LeakyReLU, Sigmoid, ...): nn/activations.h
cg_module *cg_Flatten(int start_dim, int end_dim); // nn.Flatten() is (1, -1)
// Dropout (identity in eval mode): p unset is 0.5; `.p = CG_SET(0.25)` is Dropout(0.25).
typedef struct cg_dropout_options {
    cg_optional p;
} cg_dropout_options;
cg_module *cg_Dropout(const cg_dropout_options *options);
// nn.Dropout1d, nn.Dropout2d (channel dropout) and nn.AlphaDropout, the same options.
cg_module *cg_Dropout1d(const cg_dropout_options *options);
cg_module *cg_Dropout2d(const cg_dropout_options *options);
cg_module *cg_AlphaDropout(const cg_dropout_options *options);

// Pooling modules over ops/functional.h's pooling (options: kernel_size required).
cg_module *cg_MaxPool2d(const cg_pool_options *options);
cg_module *cg_AvgPool2d(const cg_pool_options *options);
// MaxUnpool2d takes the indices of a max pooling, so it runs through its own forward
// (cg_module_forward reports that): out_h/out_w 0 is PyTorch's default output size.
cg_module *cg_MaxUnpool2d(const cg_pool_options *options);
cg_tensor *cg_MaxUnpool2d_forward(cg_module *m, cg_tensor *x, cg_tensor *indices, int out_h,
                                  int out_w);
// Adaptive: output (out_h, out_w), an entry CG_NONE keeping the input's size (PyTorch's
// None); row i covers rows [floor(i*H/out_h), ceil((i+1)*H/out_h)).
cg_module *cg_AdaptiveAvgPool2d(int out_h, int out_w);
cg_module *cg_AdaptiveMaxPool2d(int out_h, int out_w);
// PyTorch's return_indices=True on a max pooling module (MaxPool1d, MaxPool2d,
// AdaptiveMaxPool1d, AdaptiveMaxPool2d): its output, and *indices those of
// cg_max_pool2d_with_indices / cg_max_pool1d_with_indices. nn.MaxPool2d(2,
// return_indices=True)(x) is cg_max_pool_forward_with_indices(cg_MaxPool2d(&(cg_pool_options){
// .kernel_size = 2}), x, &indices); cg_module_forward on the same module returns y alone.
cg_tensor *cg_max_pool_forward_with_indices(cg_module *m, cg_tensor *x, cg_tensor **indices);

// Normalisation modules (BatchNorm1d/2d, LayerNorm, GroupNorm, InstanceNorm2d): nn/norm.h.

// Sequential: children named "0", "1", ...; forward runs them in order.
cg_module *cg_Sequential(int n, cg_module *const *modules);

#endif
