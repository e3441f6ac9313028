// nn/layers_internal.h - helpers shared by the layer files (not installed).
#ifndef CG_LAYERS_INTERNAL_H
#define CG_LAYERS_INTERNAL_H

#include <stddef.h>

#include "../ops/functional.h"
#include "module.h"

// A new module of class `cls` whose impl is a cg_alloc'ed copy of `config` (size bytes).
cg_module *cg_module_with_config(const cg_module_class *cls, const void *config, size_t size);

// m's options if it is a MaxPool2d module (else NULL): ReLU fuses with it.
const cg_pool_options *cg_max_pool_module_options(const cg_module *m);
// Likewise for a MaxPool1d module (its 1-D options).
const cg_pool_options *cg_max_pool1d_module_options(const cg_module *m);
// Whether m is a MaxPool1d or AdaptiveMaxPool1d (nn/pool1d.c), and its forward with
// return_indices for cg_max_pool_forward_with_indices.
bool cg_pool1d_is_max(const cg_module *m);
cg_tensor *cg_pool1d_forward_with_indices(cg_module *m, cg_tensor *x, cg_tensor **indices);
// Whether m is a ReLU module: Conv2d fuses with it.
bool cg_is_relu_module(const cg_module *m);

// A BatchNorm2d m in eval mode with running statistics and `channels` features is the
// affine map y = x * scale[c] + shift[c] (scale = weight / sqrt(running_var + eps), shift =
// bias - running_mean * scale): fills scale, shift (NULL: only answers) and returns true;
// false for any other module or state. Conv2d folds it into its weight and bias.
bool cg_batch_norm_eval_affine(const cg_module *m, int64_t channels, double *scale, double *shift);

#endif
