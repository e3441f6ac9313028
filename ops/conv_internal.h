// ops/conv_internal.h - what the convolution-family op files share: resolving tensors and
// options into a geometry (ops/conv_resolve.c). The conv ops' own running and recording
// is in ops/conv_record.h.
#ifndef CG_CONV_INTERNAL_H
#define CG_CONV_INTERNAL_H

#include "../autograd/op.h"
#include "../kernels/conv_kernels.h"
#include "conv.h"

// ---- resolving options (all argument validation lives here) ---------------------------
// `spatial` = 2: input (N,C,H,W)/(C,H,W), weight 4-D; 1: input (N,C,L)/(C,L), weight 3-D
// and options index 0 is the width. bias may be NULL. Returns 0, or -1 with an error
// message naming `op`, the parameter and the shapes.
int cg_conv_geometry_resolve(const char *op, int spatial, const cg_tensor *input,
                             const cg_tensor *weight, const cg_tensor *bias,
                             const cg_conv_options *options, cg_conv_geometry *g);
int cg_conv_transpose_geometry_resolve(const char *op, int spatial, const cg_tensor *input,
                                       const cg_tensor *weight, const cg_tensor *bias,
                                       const cg_conv_options *options, cg_conv_geometry *g);
// unfold/fold: an image (N, C, H, W) and kernel/stride/... from fold options; groups 1,
// cols_channels = C*kH*kW. cols_h/cols_w are the number of sliding blocks (>= 1 or error).
// `input` is only named in messages.
int cg_fold_geometry_resolve(const char *op, const cg_tensor *input, int64_t batch,
                             int64_t channels, int64_t h, int64_t w, const cg_fold_options *options,
                             cg_conv_geometry *g);
// The user-visible shapes of both sides (with or without the batch dim, 1-D or 2-D).
int cg_conv_image_shape(const cg_conv_geometry *g, int64_t *shape);   // returns ndim
int cg_conv_columns_shape(const cg_conv_geometry *g, int64_t *shape); // returns ndim

#endif
