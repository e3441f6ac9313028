// nn/norm.h - normalisation modules as torch.nn: BatchNorm1d, BatchNorm2d, LayerNorm,
// GroupNorm, InstanceNorm2d, over the functionals of ops/norm.h. PyTorch's state_dict names:
// weight, bias (when affine), running_mean, running_var, num_batches_tracked (batch norm
// tracking running statistics). Options follow tensor/options.h: NULL or {0} is PyTorch's
// defaults.
#ifndef CG_NN_NORM_H
#define CG_NN_NORM_H

#include "../tensor/options.h"
#include "module.h"

typedef struct cg_batch_norm_options {
    cg_optional eps;         // default 1e-5
    cg_optional momentum;    // default 0.1; CG_SET(0.0) is momentum 0 (running stats frozen)
    bool cumulative_average; // momentum=None: running stats are the average of all batches
    bool no_affine;          // affine=False: no weight and bias
    bool no_running_stats;   // track_running_stats=False: batch statistics in eval mode too
} cg_batch_norm_options;

// Batch statistics in training (running statistics updated with momentum, unbiased
// variance), running statistics in eval. BatchNorm1d takes (N, C) or (N, C, L), BatchNorm2d
// (N, C, H, W).
//   cg_BatchNorm2d(16, NULL)                                  BatchNorm2d(16)
//   cg_BatchNorm2d(16, &(cg_batch_norm_options){.momentum = CG_SET(0.01)})
//   cg_BatchNorm1d(8, &(cg_batch_norm_options){.cumulative_average = true}) momentum=None
cg_module *cg_BatchNorm1d(int num_features, const cg_batch_norm_options *options);
cg_module *cg_BatchNorm2d(int num_features, const cg_batch_norm_options *options);

typedef struct cg_norm_options {
    cg_optional eps; // default 1e-5
    bool no_affine;  // LayerNorm elementwise_affine=False, GroupNorm affine=False
} cg_norm_options;

// LayerNorm(normalized_shape): statistics over the last ndim dims; weight and bias have
// normalized_shape. cg_LayerNorm(CG_SHAPE(64), NULL) is nn.LayerNorm(64).
cg_module *cg_LayerNorm(int ndim, const int64_t *normalized_shape, const cg_norm_options *options);
// GroupNorm(num_groups, num_channels): x (N, C, *); weight and bias (C).
cg_module *cg_GroupNorm(int num_groups, int num_channels, const cg_norm_options *options);

typedef struct cg_instance_norm_options {
    cg_optional eps;          // default 1e-5
    cg_optional momentum;     // default 0.1 (used with track_running_stats)
    bool affine;              // PyTorch's default is affine=False
    bool track_running_stats; // PyTorch's default is False
} cg_instance_norm_options;
// InstanceNorm2d(num_features): x (N, C, H, W) or (C, H, W), statistics per sample and
// channel; with track_running_stats the running statistics (buffers running_mean,
// running_var, num_batches_tracked) are updated in training and used in eval.
cg_module *cg_InstanceNorm2d(int num_features, const cg_instance_norm_options *options);

#endif
