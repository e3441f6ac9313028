// ops/norm.h - normalisation functionals as torch.nn.functional (cg_batch_norm2d is in
// ops/functional.h). All share one core (ops/norm.c); each is differentiable in x, weight
// and bias, with the mean and biased variance taken in double. weight NULL means 1, bias NULL
// means 0.
#ifndef CG_NORM_H
#define CG_NORM_H

#include <stdbool.h>

#include "../tensor/tensor.h"

// F.batch_norm on (N, C) or (N, C, L) input (nn.BatchNorm1d): statistics per channel over
// N (and L); arguments as cg_batch_norm2d.
cg_tensor *cg_batch_norm1d(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                           cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                           float eps);
// relu(batch_norm(x)) as one op, for x (N, C), (N, C, L) or (N, C, H, W), arguments as
// cg_batch_norm2d: the same values and gradients as cg_relu of cg_batch_norm2d/1d, in one
// pass forward and backward, and one tensor (the output) instead of two: the ReLU's mask is
// read from the output (0 where it is <= 0; NaN passes, -0 stays -0 as cg_relu). nn's
// Sequential runs BatchNorm1d/2d followed by ReLU through it.
cg_tensor *cg_batch_norm_relu(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                              cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                              float eps);
// F.instance_norm: x (N, C, *) or, unbatched, 1 + `spatial_dims` dims (2 for
// InstanceNorm2d: (C, H, W)); statistics per sample and channel when use_input_stats (the
// running statistics (C), when given, then move by momentum towards the batch average of
// the instance means and unbiased variances), else the running statistics of each channel;
// weight, bias (C).
cg_tensor *cg_instance_norm(cg_tensor *x, int spatial_dims, cg_tensor *running_mean,
                            cg_tensor *running_var, cg_tensor *weight, cg_tensor *bias,
                            bool use_input_stats, float momentum, float eps);
// F.group_norm: x (N, C, *), C divisible by num_groups; statistics per sample and group of
// C / num_groups channels; weight, bias (C).
cg_tensor *cg_group_norm(cg_tensor *x, int num_groups, cg_tensor *weight, cg_tensor *bias,
                         float eps);
// F.layer_norm: statistics over the last `ndim` dims of x, which must equal
// normalized_shape; weight, bias of shape normalized_shape (elementwise affine).
cg_tensor *cg_layer_norm(cg_tensor *x, int ndim, const int64_t *normalized_shape, cg_tensor *weight,
                         cg_tensor *bias, float eps);

#endif
