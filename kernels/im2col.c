// nn/im2col.c - the convolution kernels: im2col, col2im, and the GEMM drivers built on them.
//
// Everything in the convolution family runs on these (see conv_kernels.h):
//   im2col + GEMM    conv2d forward, conv_transpose2d input grad, unfold, fold backward
//   GEMM + col2im    conv_transpose2d forward, conv2d input grad, fold, unfold backward
//   im2col + GEMM^T  the weight gradient of both convolutions
// The GEMM is cg_gemm (the only matmul). Several images are unfolded side by side so one
// GEMM covers N*H_out*W_out columns (up to a workspace budget); a 1x1, stride-1, unpadded
// convolution skips im2col because each image already is its column matrix.
#include <omp.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "gemm.h"
#include "../tensor/parallel.h"
#include "conv_kernels.h"

// Column-buffer budget in floats (16 MB): how many images one GEMM may cover.
#define CONV_WORKSPACE_FLOATS ((int64_t)1 << 22)
// Below this much work per call, threads cost more than they save.
#define CONV_PARALLEL_MIN ((int64_t)1 << 15)

// Output positions o in [0, n_out) whose tap o*stride + offset lands in [0, size):
// the half-open range [*lo, *hi).
static void valid_range(int64_t offset, int64_t stride, int64_t size, int64_t n_out, int64_t *lo,
                        int64_t *hi) {
    *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
    *hi = size - 1 - offset < 0 ? 0 : (size - 1 - offset) / stride + 1;
    if (*hi > n_out) *hi = n_out;
    if (*lo > *hi) *lo = *hi;
}

// Output rows [oh0, oh1) of image (C, H, W) -> cols (C*kH*kW, (oh1-oh0)*W_out), row stride ld.
static void im2col_rows(const cg_conv_geometry *g, const float *image, float *cols, int64_t ld,
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
                valid_range(dw, sw, W, Wo, &lo, &hi);
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
    im2col_rows(g, image, cols, ld, 0, g->out_h);
}

// image (C, H, W) += cols (C*kH*kW, (oh1-oh0)*W_out) of output rows [oh0, oh1) scattered back
// (the adjoint of im2col_rows). Parallel over channels: overlapping taps only ever meet
// inside one channel's plane.
static void col2im_rows(const cg_conv_geometry *g, const float *cols, int64_t ld, float *image,
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
                valid_range(dw, sw, W, Wo, &lo, &hi);
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
    col2im_rows(g, cols, ld, image, 0, g->out_h);
}

// ---- GEMM drivers -------------------------------------------------------------------------

// A 1x1 kernel with stride 1 and no padding maps pixel to pixel: the image (C, H*W) is
// already the column matrix.
static bool is_pointwise(const cg_conv_geometry *g) {
    return g->kernel_h == 1 && g->kernel_w == 1 && g->stride_h == 1 && g->stride_w == 1 &&
           g->pad_top == 0 && g->pad_bottom == 0 && g->pad_left == 0 && g->pad_right == 0 &&
           g->in_h == g->out_h && g->in_w == g->out_w;
}

// Sizes every driver needs.
typedef struct conv_dims {
    int64_t P;          // output positions per image
    int64_t K;          // column rows per group
    int64_t Og;         // output channels per group
    int64_t image_size; // floats per image
    int64_t col_size;   // floats per image on the column side
    int64_t chunk;      // images per GEMM
} conv_dims;

static conv_dims dims_of(const cg_conv_geometry *g) {
    conv_dims d;
    d.P = g->out_h * g->out_w;
    d.K = cg_conv_col_rows(g);
    d.Og = g->out_channels / g->groups;
    d.image_size = g->in_channels * g->in_h * g->in_w;
    d.col_size = g->out_channels * d.P;
    int64_t per_image = g->groups * d.K * d.P;
    d.chunk = per_image > 0 ? CONV_WORKSPACE_FLOATS / per_image : 1;
    if (d.chunk < 1) d.chunk = 1;
    if (d.chunk > g->batch) d.chunk = g->batch;
    return d;
}

// The workspace of one call: unfolded columns of `chunk` images, and (when chunk > 1) the
// column side regrouped as (O, chunk*P) so each group is one GEMM operand. Allocated once
// per call (cg_alloc's cache makes repeated sizes cheap), never per image.
typedef struct conv_workspace {
    float *cols, *side;
} conv_workspace;

static bool workspace_get(const cg_conv_geometry *g, const conv_dims *d, conv_workspace *w) {
    w->cols = cg_alloc((size_t)(g->groups * d->K * d->chunk * d->P) * sizeof(float));
    w->side = d->chunk > 1 ? cg_alloc((size_t)(d->col_size * d->chunk) * sizeof(float)) : NULL;
    return w->cols && (d->chunk == 1 || w->side);
}

static void workspace_release(conv_workspace *w) {
    cg_dealloc(w->cols);
    cg_dealloc(w->side);
}

// (nb, O, P) <-> (O, nb*P)
static void gather_side(const float *src, float *dst, int64_t nb, int64_t O, int64_t P) {
    for (int64_t i = 0; i < nb; i++)
        for (int64_t o = 0; o < O; o++)
            memcpy(dst + o * nb * P + i * P, src + (i * O + o) * P, (size_t)P * sizeof(float));
}
static void scatter_side(const float *src, float *dst, int64_t nb, int64_t O, int64_t P) {
    for (int64_t i = 0; i < nb; i++)
        for (int64_t o = 0; o < O; o++)
            memcpy(dst + (i * O + o) * P, src + o * nb * P + i * P, (size_t)P * sizeof(float));
}

// ---- image-parallel drivers ------------------------------------------------------------------
// With at least as many images as threads, each thread takes whole images: its own column
// buffer (per-image, small enough to stay in L2), serial GEMMs straight into the output, no
// regrouping copies and no synchronisation inside an image. Fewer images than threads take
// the batched path below, where one threaded GEMM covers several images' columns.
static bool per_image(const cg_conv_geometry *g) {
    return g->batch >= cg_num_threads();
}

// Output rows per block, so the per-thread column buffer stays bounded (4 MB) however large
// the image (64 channels, 3x3, 224x224 would be 115 MB); smaller blocks measured slower.
static int64_t rows_per_block(const cg_conv_geometry *g, const conv_dims *d) {
    int64_t per_row = g->groups * d->K * g->out_w;
    int64_t rows = per_row > 0 ? ((int64_t)1 << 20) / per_row : g->out_h;
    return rows < 1 ? 1 : rows > g->out_h ? g->out_h : rows;
}

// columns_n (O, P) = W x im2col(image_n), every image, a block of output rows at a time
static void im2col_gemm_per_image(const cg_conv_geometry *g, const conv_dims *d, const float *image,
                                  const float *weight, float *columns) {
    int64_t block = rows_per_block(g, d);
#pragma omp parallel num_threads(cg_num_threads())
    {
        float *cols = cg_alloc((size_t)(g->groups * d->K * block * g->out_w) * sizeof(float));
#pragma omp for schedule(dynamic)
        for (int64_t n = 0; n < g->batch; n++) {
            for (int64_t oh0 = 0; cols && oh0 < g->out_h; oh0 += block) {
                int64_t oh1 = oh0 + block < g->out_h ? oh0 + block : g->out_h;
                int64_t cw = (oh1 - oh0) * g->out_w; // columns in this block
                im2col_rows(g, image + n * d->image_size, cols, cw, oh0, oh1);
                for (int64_t gi = 0; gi < g->groups; gi++)
                    cg_gemm(false, false, d->Og, cw, d->K, 1.0f, weight + gi * d->Og * d->K, d->K,
                            cols + gi * d->K * cw, cw, 0.0f,
                            columns + n * d->col_size + gi * d->Og * d->P + oh0 * g->out_w, d->P);
            }
        }
        cg_dealloc(cols);
    }
}

// image_n = col2im(W^T x columns_n), every image, a block of output rows at a time
static void gemm_col2im_per_image(const cg_conv_geometry *g, const conv_dims *d,
                                  const float *columns, const float *weight, float *image) {
    int64_t block = rows_per_block(g, d);
#pragma omp parallel num_threads(cg_num_threads())
    {
        float *cols = cg_alloc((size_t)(g->groups * d->K * block * g->out_w) * sizeof(float));
#pragma omp for schedule(dynamic)
        for (int64_t n = 0; n < g->batch; n++) {
            float *img = image + n * d->image_size;
            memset(img, 0, (size_t)d->image_size * sizeof(float));
            for (int64_t oh0 = 0; cols && oh0 < g->out_h; oh0 += block) {
                int64_t oh1 = oh0 + block < g->out_h ? oh0 + block : g->out_h;
                int64_t cw = (oh1 - oh0) * g->out_w;
                for (int64_t gi = 0; gi < g->groups; gi++)
                    cg_gemm(true, false, d->K, cw, d->Og, 1.0f, weight + gi * d->Og * d->K, d->K,
                            columns + n * d->col_size + gi * d->Og * d->P + oh0 * g->out_w, d->P,
                            0.0f, cols + gi * d->K * cw, cw);
                col2im_rows(g, cols, cw, img, oh0, oh1);
            }
        }
        cg_dealloc(cols);
    }
}

// dweight += sum_n columns_n x im2col(image_n)^T: each thread sums its images into a private
// copy, then the copies are added in thread order (deterministic for a given thread count).
static void weight_grad_per_image(const cg_conv_geometry *g, const conv_dims *d, const float *image,
                                  const float *columns, float *dweight) {
    int threads = cg_num_threads();
    int64_t wsize = g->groups * d->Og * d->K, block = rows_per_block(g, d);
    float *partial = cg_alloc_zeroed((size_t)(threads * wsize) * sizeof(float));
    if (!partial) return;
#pragma omp parallel num_threads(threads)
    {
        float *cols = cg_alloc((size_t)(g->groups * d->K * block * g->out_w) * sizeof(float));
        float *mine = partial + omp_get_thread_num() * wsize;
#pragma omp for schedule(static)
        for (int64_t n = 0; n < g->batch; n++) {
            for (int64_t oh0 = 0; cols && oh0 < g->out_h; oh0 += block) {
                int64_t oh1 = oh0 + block < g->out_h ? oh0 + block : g->out_h;
                int64_t cw = (oh1 - oh0) * g->out_w;
                im2col_rows(g, image + n * d->image_size, cols, cw, oh0, oh1);
                for (int64_t gi = 0; gi < g->groups; gi++)
                    cg_gemm(false, true, d->Og, d->K, cw, 1.0f,
                            columns + n * d->col_size + gi * d->Og * d->P + oh0 * g->out_w, d->P,
                            cols + gi * d->K * cw, cw, 1.0f, mine + gi * d->Og * d->K, d->K);
            }
        }
        cg_dealloc(cols);
    }
    for (int t = 0; t < threads; t++)
        for (int64_t i = 0; i < wsize; i++) dweight[i] += partial[t * wsize + i];
    cg_dealloc(partial);
}

// columns (N, O, P) = W x im2col(image)  [per group: (Og, K) x (K, nb*P)]
void cg_conv_im2col_gemm(const cg_conv_geometry *g, const float *image, const float *weight,
                         float *columns) {
    if (cg_conv_is_depthwise(g)) {
        cg_conv_depthwise_forward(g, image, weight, columns);
        return;
    }
    conv_dims d = dims_of(g);
    if (per_image(g) && !is_pointwise(g)) {
        im2col_gemm_per_image(g, &d, image, weight, columns);
        return;
    }
    if (is_pointwise(g)) {
        for (int64_t n = 0; n < g->batch; n++)
            for (int64_t gi = 0; gi < g->groups; gi++)
                cg_gemm(false, false, d.Og, d.P, d.K, 1.0f, weight + gi * d.Og * d.K, d.K,
                        image + n * d.image_size + gi * d.K * d.P, d.P, 0.0f,
                        columns + n * d.col_size + gi * d.Og * d.P, d.P);
        return;
    }
    conv_workspace w;
    if (!workspace_get(g, &d, &w)) goto done;
    for (int64_t n0 = 0; n0 < g->batch; n0 += d.chunk) {
        int64_t nb = g->batch - n0 < d.chunk ? g->batch - n0 : d.chunk, ld = nb * d.P;
        for (int64_t i = 0; i < nb; i++)
            cg_im2col(g, image + (n0 + i) * d.image_size, w.cols + i * d.P, ld);
        float *out = nb == 1 ? columns + n0 * d.col_size : w.side;
        for (int64_t gi = 0; gi < g->groups; gi++)
            cg_gemm(false, false, d.Og, ld, d.K, 1.0f, weight + gi * d.Og * d.K, d.K,
                    w.cols + gi * d.K * ld, ld, 0.0f, out + gi * d.Og * ld, ld);
        if (nb > 1) scatter_side(w.side, columns + n0 * d.col_size, nb, g->out_channels, d.P);
    }
done:
    workspace_release(&w);
}

// image (N, C, H, W) = col2im(W^T x columns)  [per group: (K, Og) x (Og, nb*P)]
void cg_conv_gemm_col2im(const cg_conv_geometry *g, const float *columns, const float *weight,
                         float *image) {
    if (cg_conv_is_depthwise(g)) {
        cg_conv_depthwise_transposed(g, columns, weight, image);
        return;
    }
    conv_dims d = dims_of(g);
    if (per_image(g) && !is_pointwise(g)) {
        gemm_col2im_per_image(g, &d, columns, weight, image);
        return;
    }
    if (is_pointwise(g)) {
        for (int64_t n = 0; n < g->batch; n++)
            for (int64_t gi = 0; gi < g->groups; gi++)
                cg_gemm(true, false, d.K, d.P, d.Og, 1.0f, weight + gi * d.Og * d.K, d.K,
                        columns + n * d.col_size + gi * d.Og * d.P, d.P, 0.0f,
                        image + n * d.image_size + gi * d.K * d.P, d.P);
        return;
    }
    memset(image, 0, (size_t)(g->batch * d.image_size) * sizeof(float));
    conv_workspace w;
    if (!workspace_get(g, &d, &w)) goto done;
    for (int64_t n0 = 0; n0 < g->batch; n0 += d.chunk) {
        int64_t nb = g->batch - n0 < d.chunk ? g->batch - n0 : d.chunk, ld = nb * d.P;
        const float *src = columns + n0 * d.col_size;
        if (nb > 1) {
            gather_side(src, w.side, nb, g->out_channels, d.P);
            src = w.side;
        }
        for (int64_t gi = 0; gi < g->groups; gi++)
            cg_gemm(true, false, d.K, ld, d.Og, 1.0f, weight + gi * d.Og * d.K, d.K,
                    src + gi * d.Og * ld, ld, 0.0f, w.cols + gi * d.K * ld, ld);
        for (int64_t i = 0; i < nb; i++)
            cg_col2im(g, w.cols + i * d.P, ld, image + (n0 + i) * d.image_size);
    }
done:
    workspace_release(&w);
}

// dweight += columns x im2col(image)^T  [per group: (Og, nb*P) x (nb*P, K)]
void cg_conv_weight_grad(const cg_conv_geometry *g, const float *image, const float *columns,
                         float *dweight) {
    if (cg_conv_is_depthwise(g)) {
        cg_conv_depthwise_weight_grad(g, image, columns, dweight);
        return;
    }
    conv_dims d = dims_of(g);
    if (per_image(g)) {
        weight_grad_per_image(g, &d, image, columns, dweight);
        return;
    }
    if (is_pointwise(g)) {
        for (int64_t n = 0; n < g->batch; n++)
            for (int64_t gi = 0; gi < g->groups; gi++)
                cg_gemm(false, true, d.Og, d.K, d.P, 1.0f,
                        columns + n * d.col_size + gi * d.Og * d.P, d.P,
                        image + n * d.image_size + gi * d.K * d.P, d.P, 1.0f,
                        dweight + gi * d.Og * d.K, d.K);
        return;
    }
    conv_workspace w;
    if (!workspace_get(g, &d, &w)) goto done;
    for (int64_t n0 = 0; n0 < g->batch; n0 += d.chunk) {
        int64_t nb = g->batch - n0 < d.chunk ? g->batch - n0 : d.chunk, ld = nb * d.P;
        for (int64_t i = 0; i < nb; i++)
            cg_im2col(g, image + (n0 + i) * d.image_size, w.cols + i * d.P, ld);
        const float *src = columns + n0 * d.col_size;
        if (nb > 1) {
            gather_side(src, w.side, nb, g->out_channels, d.P);
            src = w.side;
        }
        for (int64_t gi = 0; gi < g->groups; gi++)
            cg_gemm(false, true, d.Og, d.K, ld, 1.0f, src + gi * d.Og * ld, ld,
                    w.cols + gi * d.K * ld, ld, 1.0f, dweight + gi * d.Og * d.K, d.K);
    }
done:
    workspace_release(&w);
}

void cg_conv_add_bias(float *x, const float *bias, int64_t n, int64_t c, int64_t p) {
    for (int64_t i = 0; i < n * c; i++) {
        float b = bias[i % c];
        float *row = x + i * p;
        for (int64_t j = 0; j < p; j++) row[j] += b;
    }
}

void cg_conv_bias_grad(const float *g, float *dbias, int64_t n, int64_t c, int64_t p) {
    // One channel per iteration: each sum is taken in the same order whatever the threads.
#pragma omp parallel for num_threads(cg_num_threads()) if (n * c * p > CONV_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        double s = 0; // sums of many positions: double keeps them order-independent enough
        for (int64_t i = 0; i < n; i++) {
            const float *row = g + (i * c + ch) * p;
            for (int64_t j = 0; j < p; j++) s += row[j];
        }
        dbias[ch] += (float)s;
    }
}
