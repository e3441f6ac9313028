// nn/resize.h - resizing and 1-D pooling modules: nn.Upsample over cg_interpolate
// (ops/interpolate.h); nn.MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d and
// MaxUnpool1d over ops/pool1d.h.
#ifndef CG_NN_RESIZE_H
#define CG_NN_RESIZE_H

#include "../ops/interpolate.h"
#include "../ops/pool1d.h"
#include "module.h"

// nn.Upsample(size=..., scale_factor=..., mode=..., align_corners=...,
// recompute_scale_factor=...): the options of cg_interpolate, those that need no input
// checked at construction (a NaN scale_factor, antialias with nearest, ...), the rest on
// every forward; printed as PyTorch ("Upsample(scale_factor=2.0, mode=nearest)").
// cg_Upsample(&(cg_interpolate_options){.scale_factor = 2}).
cg_module *cg_Upsample(const cg_interpolate_options *options);

// 1-D pools with the cg_pool_options of the 2-D ones (1-D reads the scalar entries):
// cg_MaxPool1d(&(cg_pool_options){.kernel_size = 3, .stride = 2}) is nn.MaxPool1d(3, 2).
cg_module *cg_MaxPool1d(const cg_pool_options *options);
cg_module *cg_AvgPool1d(const cg_pool_options *options);
cg_module *cg_AdaptiveAvgPool1d(int output_size);
cg_module *cg_AdaptiveMaxPool1d(int output_size);
// nn.MaxUnpool1d(kernel_size, stride, padding): like MaxUnpool2d it takes the indices of the
// max pooling, so it runs through its own forward; output_size 0 is PyTorch's default.
// Indices with return_indices: cg_max_pool_forward_with_indices (nn/layers.h).
cg_module *cg_MaxUnpool1d(const cg_pool_options *options);
cg_tensor *cg_MaxUnpool1d_forward(cg_module *m, cg_tensor *x, cg_tensor *indices, int output_size);

#endif
