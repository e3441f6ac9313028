// kernels/im2col.c - im2col and col2im: the unfolding every GEMM-based convolution runs on.
//
//   im2col  image (C, H, W) -> column matrix (C*kH*kW, positions)
//   col2im  its adjoint: the column matrix scattered back onto the image, overlaps summed
// kernels/conv_driver.c calls them block by block around cg_gemm; fold/unfold call them
// whole.
#include "../tensor/parallel.h"
#include "conv_kernels.h"

// Below this much work per call, threads cost more than they save.
#define CONV_PARALLEL_MIN ((int64_t)1 << 15)

// Output rows [oh0, oh1) of image (C, H, W) -> cols (C*kH*kW, (oh1-oh0)*W_out), row stride ld.
// Parallel over channels unless called from inside a parallel region.
void cg_im2col_rows(const cg_conv_geometry *g, const float *image, float *cols, int64_t ld,
                    int64_t oh0, int64_t oh1) {
    const int64_t C = g->in_channels, H = g->in_h, W = g->in_w, kh = g->kernel_h, kw = g->kernel_w,
                  Ho = oh1 - oh0, Wo = g->out_w, sh = g->stride_h, sw = g->stride_w;
#pragma omp parallel for num_threads(cg_num_threads()) if (C * kh * kw * Ho * Wo >                 \
                                                           CONV_PARALLEL_MIN)
    for (int64_t c = 0; c < C; c++) {
        const float *plane = image + c * H * W;
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++) {
                float *row = cols + ((c * kh + ki) * kw + kj) * ld;
                int64_t dh = ki * g->dilation_h - g->pad_top, dw = kj * g->dilation_w - g->pad_left;
                int64_t lo, hi;
                cg_conv_tap_range(dw, sw, W, Wo, &lo, &hi);
                for (int64_t oh = 0; oh < Ho; oh++) {
                    float *dst = row + oh * Wo;
                    int64_t ih = (oh0 + oh) * sh + dh;
                    if (ih < 0 || ih >= H) {
                        for (int64_t ow = 0; ow < Wo; ow++) dst[ow] = 0.0f;
                        continue;
                    }
                    // Rows are short (often 7..56 floats): plain loops beat memcpy calls.
                    const float *src = plane + ih * W + dw; // src[ow*sw] is the tap
                    for (int64_t ow = 0; ow < lo; ow++) dst[ow] = 0.0f;
                    if (sw == 1)
                        for (int64_t ow = lo; ow < hi; ow++) dst[ow] = src[ow];
                    else
                        for (int64_t ow = lo; ow < hi; ow++) dst[ow] = src[ow * sw];
                    for (int64_t ow = hi; ow < Wo; ow++) dst[ow] = 0.0f;
                }
            }
    }
}

// image (C, H, W) -> cols (C*kH*kW, H_out*W_out), row stride ld.
void cg_im2col(const cg_conv_geometry *g, const float *image, float *cols, int64_t ld) {
    cg_im2col_rows(g, image, cols, ld, 0, g->out_h);
}

// image (C, H, W) += cols (C*kH*kW, (oh1-oh0)*W_out) of output rows [oh0, oh1) scattered back
// (the adjoint of im2col_rows). Parallel over channels: overlapping taps only ever meet
// inside one channel's plane.
void cg_col2im_rows(const cg_conv_geometry *g, const float *cols, int64_t ld, float *image,
                    int64_t oh0, int64_t oh1) {
    const int64_t C = g->in_channels, H = g->in_h, W = g->in_w, kh = g->kernel_h, kw = g->kernel_w,
                  Ho = oh1 - oh0, Wo = g->out_w, sh = g->stride_h, sw = g->stride_w;
#pragma omp parallel for num_threads(cg_num_threads()) if (C * kh * kw * Ho * Wo >                 \
                                                           CONV_PARALLEL_MIN)
    for (int64_t c = 0; c < C; c++) {
        float *plane = image + c * H * W;
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++) {
                const float *row = cols + ((c * kh + ki) * kw + kj) * ld;
                int64_t dh = ki * g->dilation_h - g->pad_top, dw = kj * g->dilation_w - g->pad_left;
                int64_t lo, hi;
                cg_conv_tap_range(dw, sw, W, Wo, &lo, &hi);
                for (int64_t oh = 0; oh < Ho; oh++) {
                    int64_t ih = (oh0 + oh) * sh + dh;
                    if (ih < 0 || ih >= H) continue;
                    const float *src = row + oh * Wo;
                    float *dst = plane + ih * W + dw;
                    for (int64_t ow = lo; ow < hi; ow++) dst[ow * sw] += src[ow];
                }
            }
    }
}

void cg_col2im(const cg_conv_geometry *g, const float *cols, int64_t ld, float *image) {
    cg_col2im_rows(g, cols, ld, image, 0, g->out_h);
}
