// kernels/conv_implicit.c - implicit-GEMM convolution: the forward GEMM's B panels packed
// straight from the image, with no im2col buffer.
//
// B is the column matrix of a group: row r = (channel c, tap ki, kj) of K, column j =
// (image, oh, ow) over every image of the call side by side (so 14x14 images fill whole
// tiles). A sliver of NR columns is cut into segments of one output row each (consecutive
// ow), and each tap row of a segment is a strided copy of one input row, with zeros where
// the tap falls outside the image (the bounds per tap computed once, cg_conv_tap_range).
// A per-element gather (any stride, one bounds test and load per element) measured 1.2-1.5x
// slower than im2col + GEMM; these row copies vectorise like im2col's own.
#include <limits.h>

#include "conv_implicit.h"
#include "simd_clones.h"

#define MAX_NR 64 // widest sliver of any GEMM kernel (AVX-512: 48)

bool cg_conv_implicit_fits(const cg_conv_geometry *g, int64_t images) {
    int64_t span = images * g->image_channels * g->image_h * g->image_w;
    return span < INT32_MAX / 2 && g->image_h < INT32_MAX / 4 && g->image_w < INT32_MAX / 4;
}

void cg_conv_implicit_taps(const cg_conv_geometry *g, int32_t *taps) {
    int64_t Cg = g->image_channels / g->groups, kh = g->kernel_h, kw = g->kernel_w,
            K = Cg * kh * kw;
    int32_t *offset = taps, *dh = taps + K, *lo = dh + K, *hi = lo + K;
    for (int64_t c = 0, r = 0; c < Cg; c++)
        for (int64_t ki = 0; ki < kh; ki++)
            for (int64_t kj = 0; kj < kw; kj++, r++) {
                int64_t dw = kj * g->dilation_w - g->pad_left, l, h;
                dh[r] = (int32_t)(ki * g->dilation_h);
                offset[r] = (int32_t)((c * g->image_h + dh[r]) * g->image_w + dw);
                cg_conv_tap_range(dw, g->stride_w, g->image_w, g->cols_w, &l, &h);
                lo[r] = (int32_t)l, hi[r] = (int32_t)h;
            }
}

// Columns [j, j + len) of a sliver: output positions ow0.. of one output row, whose windows
// start on input row ih0 at flat offset base (image n, row ih0, column 0).
typedef struct segment {
    int32_t j, ow0, len, ih0;
    int64_t base;
} segment;

// Rows [k0, k1) of one sliver from its segments.
CG_SIMD_CLONES static void copy_rows(const cg_conv_implicit_b *b, const segment *seg, int segments,
                                     int64_t k0, int64_t k1, int nr, int valid, float *dst) {
    const int32_t H = (int32_t)b->g->image_h, sw = (int32_t)b->g->stride_w;
    const int32_t *t_off = b->taps, *t_dh = t_off + b->K, *t_lo = t_dh + b->K, *t_hi = t_lo + b->K;
    for (int64_t r = k0; r < k1; r++, dst += nr) {
        for (int s = 0; s < segments; s++) {
            const segment *q = &seg[s];
            float *d = dst + q->j - q->ow0; // d[ow] for ow in [ow0, ow0 + len)
            int32_t end = q->ow0 + q->len, ih = q->ih0 + t_dh[r];
            int32_t lo = t_lo[r] > q->ow0 ? t_lo[r] : q->ow0, hi = t_hi[r] < end ? t_hi[r] : end;
            if ((uint32_t)ih >= (uint32_t)H) lo = hi = end;
            if (hi < lo) hi = lo;
            const float *src = b->image + q->base + t_off[r];
            for (int32_t ow = q->ow0; ow < lo; ow++) d[ow] = 0.0f;
            cg_conv_strided_copy(d, src, lo, hi, sw);
            for (int32_t ow = hi; ow < end; ow++) d[ow] = 0.0f;
        }
        for (int j = valid; j < nr; j++) dst[j] = 0.0f;
    }
}

void cg_conv_implicit_pack(const void *context, int64_t k0, int64_t k1, int64_t j0, int64_t j1,
                           int nr, float *dst) {
    const cg_conv_implicit_b *b = context;
    const cg_conv_geometry *g = b->g;
    segment seg[MAX_NR];
    int segments = 0;
    int64_t P = g->cols_h * g->cols_w, image_size = g->image_channels * g->image_h * g->image_w;
    for (int64_t j = j0; j < j1;) {
        int64_t n = j / P, pos = j % P, oh = pos / g->cols_w, ow = pos % g->cols_w;
        int64_t len = g->cols_w - ow < j1 - j ? g->cols_w - ow : j1 - j;
        int64_t ih0 = oh * g->stride_h - g->pad_top;
        seg[segments++] = (segment){(int32_t)(j - j0), (int32_t)ow, (int32_t)len, (int32_t)ih0,
                                    n * image_size + ih0 * g->image_w};
        j += len;
    }
    copy_rows(b, seg, segments, k0, k1, nr, (int)(j1 - j0), dst);
}
