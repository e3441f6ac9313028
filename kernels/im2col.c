// kernels/im2col.c - im2col and col2im: the unfolding every GEMM-based convolution runs on.
//
//   im2col  image (C, H, W) -> column matrix (C*kH*kW, positions)
//   col2im  its adjoint: the column matrix scattered back onto the image, overlaps summed
// kernels/conv_driver.c calls them block by block around cg_gemm; fold/unfold call them
// whole.

#include "../tensor/parallel.h"
#include "conv_kernels.h"
#include "simd_clones.h"

// One kernel tap's row of the column matrix, output rows [oh0, oh1): row[oh*Wo + ow] =
// plane[(oh0+oh)*sh + dh][ow*sw + dw], zero outside the plane.
CG_SIMD_CLONES static void unfold_tap(const cg_conv_geometry *g, float *plane, float *row,
                                      int64_t dh, int64_t dw, int64_t oh0, int64_t oh1) {
    const int64_t H = g->image_h, W = g->image_w, Wo = g->cols_w, sh = g->stride_h,
                  sw = g->stride_w;
    int64_t lo, hi;
    cg_conv_tap_range(dw, sw, W, Wo, &lo, &hi);
    for (int64_t oh = 0; oh < oh1 - oh0; oh++) {
        float *dst = row + oh * Wo;
        int64_t ih = (oh0 + oh) * sh + dh;
        if (ih < 0 || ih >= H) {
            for (int64_t ow = 0; ow < Wo; ow++) dst[ow] = 0.0f;
            continue;
        }
        // Rows are short (often 7..56 floats): plain loops beat memcpy calls.
        const float *src = plane + ih * W + dw; // src[ow*sw] is the tap
        for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
        cg_conv_strided_copy(dst, src, lo, hi, sw);
        for (int64_t ow = hi; ow < Wo; ow++) dst[ow] = 0.0f;
    }
}

// The adjoint of unfold_tap: the tap's row (only read) added back onto the plane.
CG_SIMD_CLONES static void fold_tap(const cg_conv_geometry *g, float *plane, float *row, int64_t dh,
                                    int64_t dw, int64_t oh0, int64_t oh1) {
    const int64_t H = g->image_h, W = g->image_w, Wo = g->cols_w, sh = g->stride_h,
                  sw = g->stride_w;
    int64_t lo, hi;
    cg_conv_tap_range(dw, sw, W, Wo, &lo, &hi);
    for (int64_t oh = 0; oh < oh1 - oh0; oh++) {
        int64_t ih = (oh0 + oh) * sh + dh;
        if (ih < 0 || ih >= H) continue;
        const float *src = row + oh * Wo;
        float *dst = plane + ih * W + dw;
        if (sw == 1)
            for (int64_t ow = lo; ow < hi; ow++) dst[ow] += src[ow];
        else if (sw == 2)
            for (int64_t ow = lo; ow < hi; ow++) dst[2 * ow] += src[ow];
        else
            for (int64_t ow = lo; ow < hi; ow++) dst[ow * sw] += src[ow];
    }
}

// One tap's row of one plane: unfold_tap (plane -> row) or fold_tap (row -> plane).
typedef void (*tap_fn)(const cg_conv_geometry *g, float *plane, float *row, int64_t dh, int64_t dw,
                       int64_t oh0, int64_t oh1);

typedef struct tap_job {
    const cg_conv_geometry *g;
    float *image, *cols;
    int64_t ld, oh0, oh1;
    tap_fn tap;
} tap_job;

static void tap_channels(void *ctx, int64_t c0, int64_t c1) {
    const tap_job *j = ctx;
    const cg_conv_geometry *g = j->g;
    const int64_t kh = g->kernel_h, kw = g->kernel_w;
    for (int64_t c = c0; c < c1; c++)
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++)
                j->tap(g, j->image + c * g->image_h * g->image_w,
                       j->cols + ((c * kh + ki) * kw + kj) * j->ld, ki * g->dilation_h - g->pad_top,
                       kj * g->dilation_w - g->pad_left, j->oh0, j->oh1);
}

// Calls tap(plane c, row (c, ki, kj) of cols) for every channel and tap, in parallel over
// channels (overlapping taps only ever meet inside one channel's plane); inline when called
// from a part of a job (the driver's per-image loop).
static void for_each_tap(const cg_conv_geometry *g, float *image, float *cols, int64_t ld,
                         int64_t oh0, int64_t oh1, tap_fn tap) {
    tap_job j = {g, image, cols, ld, oh0, oh1, tap};
    int64_t per_channel = g->kernel_h * g->kernel_w * (oh1 - oh0) * g->cols_w;
    cg_parallel_for(g->image_channels, CG_PARALLEL_MIN / (per_channel > 0 ? per_channel : 1),
                    tap_channels, &j);
}

// Output rows [oh0, oh1) of image (C, H, W) -> cols (C*kH*kW, (oh1-oh0)*W_out), row stride ld.
void cg_im2col_rows(const cg_conv_geometry *g, const float *image, float *cols, int64_t ld,
                    int64_t oh0, int64_t oh1) {
    // unfold_tap only reads the image
    for_each_tap(g, (float *)image, cols, ld, oh0, oh1, unfold_tap);
}

// image (C, H, W) -> cols (C*kH*kW, H_out*W_out), row stride ld.
void cg_im2col(const cg_conv_geometry *g, const float *image, float *cols, int64_t ld) {
    cg_im2col_rows(g, image, cols, ld, 0, g->cols_h);
}

// image (C, H, W) += cols (C*kH*kW, (oh1-oh0)*W_out) of output rows [oh0, oh1) scattered
// back (the adjoint of cg_im2col_rows).
void cg_col2im_rows(const cg_conv_geometry *g, const float *cols, int64_t ld, float *image,
                    int64_t oh0, int64_t oh1) {
    // fold_tap only reads cols
    for_each_tap(g, image, (float *)cols, ld, oh0, oh1, fold_tap);
}

void cg_col2im(const cg_conv_geometry *g, const float *cols, int64_t ld, float *image) {
    cg_col2im_rows(g, cols, ld, image, 0, g->cols_h);
}
