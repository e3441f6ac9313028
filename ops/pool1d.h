// ops/pool1d.h - 1-D pooling as torch.nn.functional (max_pool1d, avg_pool1d,
// adaptive_avg_pool1d): input (N, C, L) or (C, L), run as a 1 x L image through the 2-D
// pools of ops/functional.h, whose backward they use. The options are cg_pool_options; 1-D
// reads the scalar (first) entries (tensor/options.h, rule 2).
#ifndef CG_POOL1D_H
#define CG_POOL1D_H

#include "functional.h"

cg_tensor *cg_max_pool1d(cg_tensor *x, const cg_pool_options *options);
cg_tensor *cg_avg_pool1d(cg_tensor *x, const cg_pool_options *options); // count_include_pad
// Output position i averages [floor(i * L / out), ceil((i + 1) * L / out)).
cg_tensor *cg_adaptive_avg_pool1d(cg_tensor *x, int output_size);

#endif
