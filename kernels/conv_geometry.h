// kernels/conv_geometry.h - one description of a 2-D convolution, shared by every kernel
// and op of the convolution family (raw integers: no tensors, no options).
//
// A geometry always describes a conv2d: an "image" (N, C, H, W) is turned into
// "columns" of positions (N, O, H_out, W_out) by a weight (O, C/groups, kH, kW).
// conv_transpose2d is the adjoint of that conv2d, so it is described by the SAME struct:
// its input is the struct's output side and its output is the struct's image side, and
// its weight (C_in_t, C_out_t/groups, kH, kW) is read as the conv2d weight (O, C/groups, ...).
// Two kernels then serve all four directions:
//   CG_CONV_FORWARD     image -> columns   conv2d forward, conv_transpose2d input grad
//   CG_CONV_TRANSPOSED  columns -> image   conv_transpose2d forward, conv2d input grad
// and the weight gradient (CG_CONV_WEIGHT_GRAD) serves both ops (the roles of image and
// columns swap); all three run through one driver, cg_conv_execute (conv_kernels.h).
#ifndef CG_CONV_GEOMETRY_H
#define CG_CONV_GEOMETRY_H

#include <stdbool.h>
#include <stdint.h>

typedef struct cg_conv_geometry {
    int64_t batch; // N (1 for unbatched input)
    bool batched;  // the user's tensors have a batch dim
    int spatial;   // 2 for conv2d, 1 for conv1d (H = kH = 1)
    int64_t groups;
    // Named by side, not by the user's in/out (which swap for conv_transpose2d):
    int64_t image_channels, image_h, image_w; // conv2d input / conv_transpose2d output
    int64_t cols_channels, cols_h, cols_w;    // conv2d output / conv_transpose2d input
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t dilation_h, dilation_w;
    int64_t pad_top, pad_bottom, pad_left, pad_right;
    int64_t output_padding_h, output_padding_w; // conv_transpose only (else 0)
} cg_conv_geometry;

// Rows of one group's column matrix: (C/groups) * kH * kW.
static inline int64_t cg_conv_col_rows(const cg_conv_geometry *g) {
    return g->image_channels / g->groups * g->kernel_h * g->kernel_w;
}

// Output positions o in [0, n_out) whose tap o*stride + offset lands in [0, size): the
// half-open range [*lo, *hi). The one bounds rule of every loop over kernel taps.
static inline void cg_conv_tap_range(int64_t offset, int64_t stride, int64_t size, int64_t n_out,
                                     int64_t *lo, int64_t *hi) {
    *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    *hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
    if (*hi > n_out) *hi = n_out;
    if (*lo > *hi) *lo = *hi;
}

// dst[o] = src[o * stride] for o in [lo, hi): the copy of one tap's row segment, with the
// common strides spelled out so the compiler vectorises them (any other is scalar).
static inline void cg_conv_strided_copy(float *dst, const float *src, int64_t lo, int64_t hi,
                                        int64_t stride) {
    if (stride == 1)
        for (int64_t o = lo; o < hi; o++) dst[o] = src[o];
    else if (stride == 2)
        for (int64_t o = lo; o < hi; o++) dst[o] = src[2 * o];
    else
        for (int64_t o = lo; o < hi; o++) dst[o] = src[o * stride];
}

#endif
