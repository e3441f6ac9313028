// tests/support/conv_shapes.c - the convolution geometries of test_conv_kernels and
// test_conv_strategy (tests/support/conv_shapes.h).
#include "conv_shapes.h"

cg_conv_geometry conv_shape_geometry(const conv_shape *s) {
    cg_conv_geometry g = {.batch = s->n,
                          .batched = true,
                          .spatial = 2,
                          .groups = s->groups,
                          .image_channels = s->c,
                          .image_h = s->h,
                          .image_w = s->w,
                          .cols_channels = s->o,
                          .kernel_h = s->kh,
                          .kernel_w = s->kw,
                          .stride_h = s->sh,
                          .stride_w = s->sw,
                          .dilation_h = s->dh,
                          .dilation_w = s->dw,
                          .pad_top = s->pt,
                          .pad_bottom = s->pb,
                          .pad_left = s->pl,
                          .pad_right = s->pr};
    g.cols_h = (s->h + s->pt + s->pb - s->dh * (s->kh - 1) - 1) / s->sh + 1;
    g.cols_w = (s->w + s->pl + s->pr - s->dw * (s->kw - 1) - 1) / s->sw + 1;
    return g;
}

const conv_shape conv_shapes[] = {
    // n, c, o, h, w, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups
    {2, 4, 6, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     // 3x3 same, odd sizes
    {1, 16, 24, 13, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, // Winograd-sized, batch 1
    {3, 16, 16, 8, 8, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, 1},   // valid 3x3
    {2, 16, 20, 9, 6, 3, 3, 1, 1, 1, 1, 2, 1, 0, 2, 1},   // asymmetric padding
    {5, 32, 16, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // small image, batch > threads
    {2, 16, 16, 7, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},   // groups
    {2, 6, 6, 9, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6},     // depthwise
    {2, 4, 12, 9, 8, 3, 2, 1, 1, 1, 1, 1, 0, 1, 1, 4},    // depthwise, multiplier 3
    {3, 8, 5, 6, 7, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1},     // pointwise
    {2, 8, 10, 11, 9, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1},   // 1x1 stride 2 (not pointwise)
    {2, 6, 4, 12, 11, 3, 3, 2, 3, 2, 1, 2, 2, 1, 1, 2},   // stride, dilation, groups
    {1, 3, 5, 10, 10, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},   // 5x5
    {4, 4, 8, 14, 14, 4, 4, 2, 2, 1, 1, 1, 1, 1, 1, 1},   // the ConvT config's kernel
    {2, 16, 16, 9, 9, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 1},   // dilated 3x3: not Winograd
    {2, 16, 16, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   // 1x1 image, 3x3 kernel
    {2, 16, 20, 17, 14, 3, 3, 1, 1, 1, 1, 2, 1, 0, 2, 1}, // larger, asymmetric padding
    {3, 48, 56, 16, 15, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, // Winograd chosen automatically
    {2, 3, 10, 9, 37, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, 1},   // 3 strips per row, 2 channel blocks
    {3, 8, 16, 13, 40, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 4},  // config d's kind: stride, dilation
    {2, 4, 6, 8, 18, 3, 3, 1, 1, 1, 1, 3, 0, 3, 1, 1},    // padding >= kernel: transposed crops
    {1, 2, 9, 20, 33, 2, 3, 1, 1, 3, 2, 1, 2, 0, 3, 1},   // batch 1, uneven dilation, 2 x 3
    {2, 6, 40, 11, 33, 3, 3, 2, 1, 1, 2, 1, 1, 2, 2, 1},  // channel blocks: 32 + 8, 3 segments
    {2, 8, 48, 9, 17, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 2},   // channel blocks in 2 groups, strided
    {2, 64, 16, 10, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2}, // transposed: 32-channel groups
    {2, 5, 7, 13, 12, 3, 3, 2, 2, 3, 3, 2, 1, 1, 2, 1},   // transposed phases: taps 2 apart
    {2, 4, 24, 10, 11, 2, 2, 3, 3, 1, 1, 0, 1, 1, 0, 1},  // a kernel smaller than the stride
    {2, 6, 10, 16, 14, 5, 4, 3, 3, 1, 1, 2, 2, 1, 1, 1},  // stride 3: phases of 1 and 2 taps
};
const int conv_n_shapes = (int)(sizeof conv_shapes / sizeof conv_shapes[0]);
