// ops/interpolate.h - torch.nn.functional.interpolate (nearest and bilinear), differentiable.
#ifndef CG_INTERPOLATE_H
#define CG_INTERPOLATE_H

#include <stdbool.h>

#include "../tensor/tensor.h"

typedef enum { CG_INTERPOLATE_NEAREST = 0, CG_INTERPOLATE_BILINEAR } cg_interpolate_mode;

// Options follow tensor/options.h: give the output size or the scale factor (exactly one),
// as a scalar for both dims or as an (h, w) pair. 1-D input (N, C, L) reads the scalars.
typedef struct cg_interpolate_options {
    int size;
    int size_hw[2];
    double scale_factor; // output size floor(input size * scale_factor)
    double scale_factor_hw[2];
    cg_interpolate_mode mode; // default nearest ('nearest', not 'nearest-exact')
    bool align_corners;       // bilinear only, as PyTorch's align_corners=True
} cg_interpolate_options;

// x (N, C, H, W), or (N, C, L) for nearest. Nearest takes input index
// floor(out_index * scale), bilinear blends the 4 neighbours of the source point
// (align_corners: corners map to corners; else pixel centres, clamped at 0), both in float
// as PyTorch's CPU kernels; with scale_factor given, scale is 1 / scale_factor (PyTorch's
// recompute_scale_factor=None), else in / out. Differentiable in x.
cg_tensor *cg_interpolate(cg_tensor *x, const cg_interpolate_options *options);

#endif
