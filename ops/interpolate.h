// ops/interpolate.h - torch.nn.functional.interpolate, differentiable: nearest,
// nearest-exact, linear (1-D), bilinear (2-D), bicubic (2-D), trilinear (3-D) and area, on
// 1-, 2- and 3-D spatial inputs.
#ifndef CG_INTERPOLATE_H
#define CG_INTERPOLATE_H

#include <stdbool.h>

#include "../tensor/tensor.h"

// PyTorch's mode strings, in this order; 0 is the default ('nearest').
typedef enum {
    CG_INTERPOLATE_NEAREST = 0,   // 'nearest': source floor(o * scale), PyTorch's legacy rule
    CG_INTERPOLATE_BILINEAR,      // 'bilinear': 4-D input
    CG_INTERPOLATE_LINEAR,        // 'linear': 3-D input
    CG_INTERPOLATE_TRILINEAR,     // 'trilinear': 5-D input
    CG_INTERPOLATE_BICUBIC,       // 'bicubic': 4-D input, cubic convolution with A = -0.75
    CG_INTERPOLATE_AREA,          // 'area': adaptive average pooling to the output size
    CG_INTERPOLATE_NEAREST_EXACT, // 'nearest-exact': source floor((o + 0.5) * scale)
    CG_INTERPOLATE_MODE_COUNT
} cg_interpolate_mode;

// Options follow tensor/options.h: give the output size or the scale factor (exactly one).
// The spatial dims are (L) for a 3-D input (N, C, L), (H, W) for 4-D and (D, H, W) for 5-D;
// a scalar applies to every spatial dim, a `_hw` pair gives (H, W) of a 4-D input and a
// `_dhw` triple (D, H, W) of a 5-D input (any other pairing is an error).
typedef struct cg_interpolate_options {
    int size;
    int size_hw[2];
    int size_dhw[3];
    double scale_factor; // output size floor(input size * scale_factor); finite and > 0
    double scale_factor_hw[2];
    double scale_factor_dhw[3];
    cg_interpolate_mode mode;
    bool align_corners; // linear modes and bicubic: PyTorch's align_corners=True
    bool antialias;     // bilinear and bicubic: PyTorch's antialias=True (as PIL's resize)
    // PyTorch's recompute_scale_factor=True: with scale_factor given, the kernels use
    // in / out of the computed output size instead of 1 / scale_factor. False (the default)
    // is PyTorch's None and False alike. Not with a size.
    bool recompute_scale_factor;
} cg_interpolate_options;

// x (N, C, L), (N, C, H, W) or (N, C, D, H, W) -> y of the same rank with the output size.
// Every mode is separable: y is x resampled along the last dim, then the one before, ...,
// each output index o of a dim taking a weighted sum of a few input indices. With scale s
// = 1 / scale_factor (scale_factor given, recompute_scale_factor off) or in / out:
//   nearest        x[min(floor(o * s), in - 1)]
//   nearest-exact  x[min(floor((o + 0.5) * s), in - 1)]
//   linear modes   the two neighbours of src = (o + 0.5) * s - 0.5 (clamped at 0), or with
//                  align_corners src = o * (in - 1) / (out - 1); out == in copies
//   bicubic        the four neighbours of the same src (not clamped), indices clamped
//                  into the input, weights cubic convolution with A = -0.75
//   area           the mean of [floor(o * in / out), ceil((o + 1) * in / out))
//   antialias      (bilinear, bicubic) a triangle / cubic (A = -0.5) filter around
//                  (o + 0.5) * s whose support grows by s when downsampling, normalised
// all in float as PyTorch's CPU kernels. Differentiable in x (backward: the transposed
// weights, last dim last).
// Errors: an input of another rank or a mode that does not fit it, both or neither of size
// and scale_factor, a size or scale_factor that is not positive, a scale_factor that is
// NaN, infinite or gives an output dim beyond INT_MAX, align_corners with nearest, area or
// nearest-exact, antialias with other modes, recompute_scale_factor with a size, an unknown
// mode.
cg_tensor *cg_interpolate(cg_tensor *x, const cg_interpolate_options *options);

// The checks of the options alone (no input needed), as nn.Upsample runs them at
// construction: returns false with an error naming op.
bool cg_interpolate_options_check(const char *op, const cg_interpolate_options *options);

// The name PyTorch gives a mode ("nearest-exact", ...), "?" if out of range.
const char *cg_interpolate_mode_name(cg_interpolate_mode mode);

#endif
