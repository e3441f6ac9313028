// ops/pool1d.h - 1-D pooling as torch.nn.functional (max_pool1d with return_indices,
// avg_pool1d, adaptive_avg_pool1d, adaptive_max_pool1d, max_unpool1d): input (N, C, L) or
// (C, L), run as a 1 x L image through the 2-D pools of ops/functional.h, whose backward
// they use. The options are cg_pool_options; 1-D reads the scalar entries (tensor/options.h,
// rule 2). Indices are positions in L, as float tensors of the output's shape (not
// differentiable), as PyTorch's return_indices=True gives them.
#ifndef CG_POOL1D_H
#define CG_POOL1D_H

#include "functional.h"

cg_tensor *cg_max_pool1d(cg_tensor *x, const cg_pool_options *options);
// F.max_pool1d(x, ..., return_indices=True): y, and *indices the position in L of the input
// each output copied (the first maximum of its window; a NaN wins, the last one).
cg_tensor *cg_max_pool1d_with_indices(cg_tensor *x, const cg_pool_options *options,
                                      cg_tensor **indices);
// max_pool1d(relu(x)) in one op, as cg_relu_max_pool2d (a ReLU module followed by a
// MaxPool1d module in a cg_Sequential runs as this).
cg_tensor *cg_relu_max_pool1d(cg_tensor *x, const cg_pool_options *options);
cg_tensor *cg_avg_pool1d(cg_tensor *x, const cg_pool_options *options); // count_include_pad
// Output position i averages (or takes the maximum of) [floor(i * L / out),
// ceil((i + 1) * L / out)).
cg_tensor *cg_adaptive_avg_pool1d(cg_tensor *x, int output_size);
cg_tensor *cg_adaptive_max_pool1d(cg_tensor *x, int output_size);
cg_tensor *cg_adaptive_max_pool1d_with_indices(cg_tensor *x, int output_size, cg_tensor **indices);
// F.max_unpool1d(x, indices, kernel_size, stride, padding, output_size): zeros of length
// output_size (0: PyTorch's default (L - 1) * stride - 2 * padding + kernel_size; a given
// size must lie within a stride of it) with x's values at `indices` (x's shape).
// Differentiable in x.
cg_tensor *cg_max_unpool1d(cg_tensor *x, cg_tensor *indices, const cg_pool_options *options,
                           int output_size);

#endif
