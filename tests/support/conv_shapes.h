// tests/support/conv_shapes.h - 2-D convolution geometries written as one line each, and the
// table of them that tests/test_conv_kernels.c runs every algorithm on and
// tests/test_conv_strategy.c pins the driver's choices for.
#ifndef CG_TEST_CONV_SHAPES_H
#define CG_TEST_CONV_SHAPES_H

#include "kernels/conv_geometry.h"

// Batch, image channels, output channels, image height and width, kernel, stride, dilation,
// padding (top, bottom, left, right), groups.
typedef struct conv_shape {
    int64_t n, c, o, h, w, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups;
} conv_shape;

// The geometry of a convolution of that shape (columns from the usual output-size formula).
cg_conv_geometry conv_shape_geometry(const conv_shape *s);

// Odd sizes, groups, depthwise, dilation, stride, asymmetric padding, 1x1 pointwise, batch 1
// and batches larger than the thread count, the sizes of each kernel's blocking; adding one
// adds its row of pinned choices to tests/test_conv_strategy.c (in the same order).
extern const conv_shape conv_shapes[];
extern const int conv_n_shapes;

#endif
