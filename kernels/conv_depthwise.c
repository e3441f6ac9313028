// kernels/conv_depthwise.c - direct kernels for depthwise convolution (groups == image_channels).
//
// Each group sees one input channel, so im2col + GEMM would be a loop of tiny GEMMs
// ((O/C) x kH*kW times kH*kW x P per channel) that cannot fill a micro-kernel. These loops
// take the taps one at a time instead: for each tap, one multiply-add over a row of outputs,
// which the compiler vectorises. They implement the same three directions as the GEMM
// driver in kernels/conv_driver.c (forward, transposed, weight gradient), so conv2d and
// conv_transpose2d both use them, forward and backward.
#include <string.h>

#include "../tensor/parallel.h"
#include "conv_kernels.h"

bool cg_conv_is_depthwise(const cg_conv_geometry *g) {
    return g->groups > 1 && g->groups == g->image_channels;
}

// Calls body(ih, src_offset, lo, hi) for every output row oh whose tap row is inside the
// image, for the tap (ki, kj): outputs [lo, hi) of row oh read image row ih at
// column ow * stride_w + dw.
#define FOR_TAP_ROWS(g, ki, kj, ...)                                                               \
    do {                                                                                           \
        int64_t dh_ = (ki) * (g)->dilation_h - (g)->pad_top;                                       \
        int64_t dw = (kj) * (g)->dilation_w - (g)->pad_left, lo, hi;                               \
        cg_conv_tap_range(dw, (g)->stride_w, (g)->image_w, (g)->cols_w, &lo, &hi);                 \
        for (int64_t oh = 0; oh < (g)->cols_h; oh++) {                                             \
            int64_t ih = oh * (g)->stride_h + dh_;                                                 \
            if (ih < 0 || ih >= (g)->image_h) continue;                                            \
            __VA_ARGS__;                                                                           \
        }                                                                                          \
    } while (0)

// The operands of one direction; each runs over planes (or channels) on the thread team.
typedef struct depthwise_job {
    const cg_conv_geometry *g;
    const float *image, *columns, *weight;
    float *out;
} depthwise_job;

// fn over [0, items) on the team when the direction's multiply-adds exceed CG_PARALLEL_MIN.
static void depthwise_for(const depthwise_job *j, int64_t items, cg_range_fn fn) {
    const cg_conv_geometry *g = j->g;
    bool big = g->batch * g->cols_channels * g->cols_h * g->cols_w > CG_PARALLEL_MIN;
    cg_parallel_for(items, big ? 0 : items, fn, (void *)j);
}

// columns (N, O, Ho, Wo) = depthwise conv of image (N, C, H, W) with weight (O, 1, kH, kW)
static void forward_planes(void *ctx, int64_t begin, int64_t end) {
    const depthwise_job *j = ctx;
    const cg_conv_geometry *g = j->g;
    const float *image = j->image, *weight = j->weight;
    float *columns = j->out;
    const int64_t O = g->cols_channels, mult = O / g->groups, P = g->cols_h * g->cols_w,
                  taps = g->kernel_h * g->kernel_w, sw = g->stride_w, Wo = g->cols_w;
    for (int64_t no = begin; no < end; no++) {
        int64_t n = no / O, o = no % O, c = o / mult;
        const float *x = image + (n * g->image_channels + c) * g->image_h * g->image_w;
        float *y = columns + no * P;
        memset(y, 0, (size_t)P * sizeof(float));
        for (int64_t ki = 0; ki < g->kernel_h; ki++)
            for (int64_t kj = 0; kj < g->kernel_w; kj++) {
                float w = weight[o * taps + ki * g->kernel_w + kj];
                FOR_TAP_ROWS(g, ki, kj, {
                    const float *src = x + ih * g->image_w + dw;
                    float *dst = y + oh * Wo;
                    for (int64_t ow = lo; ow < hi; ow++) dst[ow] += w * src[ow * sw];
                });
            }
    }
}

void cg_conv_depthwise_forward(const cg_conv_geometry *g, const float *image, const float *weight,
                               float *columns) {
    depthwise_job j = {.g = g, .image = image, .weight = weight, .out = columns};
    depthwise_for(&j, g->batch * g->cols_channels, forward_planes);
}

// image (N, C, H, W) = the transpose of that map applied to columns (N, O, Ho, Wo)
static void transposed_planes(void *ctx, int64_t begin, int64_t end) {
    const depthwise_job *j = ctx;
    const cg_conv_geometry *g = j->g;
    const float *columns = j->columns, *weight = j->weight;
    float *image = j->out;
    const int64_t C = g->image_channels, O = g->cols_channels, mult = O / g->groups,
                  P = g->cols_h * g->cols_w, taps = g->kernel_h * g->kernel_w, sw = g->stride_w,
                  Wo = g->cols_w, plane = g->image_h * g->image_w;
    for (int64_t nc = begin; nc < end; nc++) {
        int64_t n = nc / C, c = nc % C;
        float *x = image + nc * plane;
        memset(x, 0, (size_t)plane * sizeof(float));
        for (int64_t o = c * mult; o < (c + 1) * mult; o++) {
            const float *y = columns + (n * O + o) * P;
            for (int64_t ki = 0; ki < g->kernel_h; ki++)
                for (int64_t kj = 0; kj < g->kernel_w; kj++) {
                    float w = weight[o * taps + ki * g->kernel_w + kj];
                    FOR_TAP_ROWS(g, ki, kj, {
                        float *dst = x + ih * g->image_w + dw;
                        const float *src = y + oh * Wo;
                        for (int64_t ow = lo; ow < hi; ow++) dst[ow * sw] += w * src[ow];
                    });
                }
        }
    }
}

void cg_conv_depthwise_transposed(const cg_conv_geometry *g, const float *columns,
                                  const float *weight, float *image) {
    depthwise_job j = {.g = g, .columns = columns, .weight = weight, .out = image};
    depthwise_for(&j, g->batch * g->image_channels, transposed_planes);
}

// dweight (O, 1, kH, kW) += sum over n and positions of columns * the tap it multiplied.
// One output channel per iteration, images summed in order: deterministic.
static void weight_grad_channels(void *ctx, int64_t begin, int64_t end) {
    const depthwise_job *j = ctx;
    const cg_conv_geometry *g = j->g;
    const float *image = j->image, *columns = j->columns;
    float *dweight = j->out;
    const int64_t C = g->image_channels, O = g->cols_channels, mult = O / g->groups,
                  P = g->cols_h * g->cols_w, taps = g->kernel_h * g->kernel_w, sw = g->stride_w,
                  Wo = g->cols_w, plane = g->image_h * g->image_w;
    for (int64_t o = begin; o < end; o++) {
        int64_t c = o / mult;
        for (int64_t ki = 0; ki < g->kernel_h; ki++)
            for (int64_t kj = 0; kj < g->kernel_w; kj++) {
                double sum = 0;
                for (int64_t n = 0; n < g->batch; n++) {
                    const float *x = image + (n * C + c) * plane, *y = columns + (n * O + o) * P;
                    FOR_TAP_ROWS(g, ki, kj, {
                        const float *src = x + ih * g->image_w + dw;
                        const float *dy = y + oh * Wo;
                        float row = 0;
                        for (int64_t ow = lo; ow < hi; ow++) row += dy[ow] * src[ow * sw];
                        sum += row;
                    });
                }
                dweight[o * taps + ki * g->kernel_w + kj] += (float)sum;
            }
    }
}

void cg_conv_depthwise_weight_grad(const cg_conv_geometry *g, const float *image,
                                   const float *columns, float *dweight) {
    depthwise_job j = {.g = g, .image = image, .columns = columns, .out = dweight};
    depthwise_for(&j, g->cols_channels, weight_grad_channels);
}
