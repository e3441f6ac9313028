// ops/conv_views.c - two of the three views of one convolution (the third, im2col x
// kernel, is cg_conv2d itself): the sliding window and the unrolled-kernel matrix.
#include <string.h>

#include "../tensor/checked.h"
#include "conv_record.h"

// The input tap of output (oh, ow) under kernel tap (ki, kj), or false if it falls in the
// zero padding.
static bool input_tap(const cg_conv_geometry *g, int64_t oh, int64_t ow, int64_t ki, int64_t kj,
                      int64_t *ih, int64_t *iw) {
    *ih = oh * g->stride_h - g->pad_top + ki * g->dilation_h;
    *iw = ow * g->stride_w - g->pad_left + kj * g->dilation_w;
    return *ih >= 0 && *ih < g->image_h && *iw >= 0 && *iw < g->image_w;
}

// out[n,o,oh,ow] = bias[o] + sum_{c,ki,kj} w[o,c,ki,kj] * x[n, group(o)*C/g + c, tap]
static void direct_forward(const cg_conv_geometry *g, const float *x, const float *w,
                           const float *bias, float *out) {
    int64_t Cg = g->image_channels / g->groups, Og = g->cols_channels / g->groups;
    int64_t kh = g->kernel_h, kw = g->kernel_w;
    for (int64_t n = 0; n < g->batch; n++)
        for (int64_t o = 0; o < g->cols_channels; o++)
            for (int64_t oh = 0; oh < g->cols_h; oh++)
                for (int64_t ow = 0; ow < g->cols_w; ow++) {
                    double acc = bias ? bias[o] : 0.0;
                    for (int64_t c = 0; c < Cg; c++) {
                        int64_t ci = o / Og * Cg + c;
                        const float *plane =
                            x + (n * g->image_channels + ci) * g->image_h * g->image_w;
                        for (int64_t ki = 0; ki < kh; ki++)
                            for (int64_t kj = 0; kj < kw; kj++) {
                                int64_t ih, iw;
                                if (input_tap(g, oh, ow, ki, kj, &ih, &iw))
                                    acc += (double)w[((o * Cg + c) * kh + ki) * kw + kj] *
                                           plane[ih * g->image_w + iw];
                            }
                    }
                    *out++ = (float)acc;
                }
}

// The reference. It records the conv2d op, so its gradients are conv2d's backward (the
// im2col/col2im kernels): tests compare the forward views directly and the backward of
// cg_conv2d against finite differences, so there is no second backward to keep in sync.
cg_tensor *cg_conv2d_direct(cg_tensor *input, cg_tensor *weight, cg_tensor *bias,
                            const cg_conv_options *options) {
    if (!cg_check_arg(input, "conv2d_direct", "input") ||
        !cg_check_arg(weight, "conv2d_direct", "weight"))
        return NULL;
    cg_conv_geometry g;
    if (cg_conv_geometry_resolve("conv2d_direct", 2, input, weight, bias, options, &g) < 0)
        return NULL;
    int64_t shape[CG_MAX_DIMS];
    cg_tensor *out = cg_empty(cg_conv_columns_shape(&g, shape), shape);
    if (!out) return NULL;
    direct_forward(&g, input->data, weight->data, bias ? bias->data : NULL, out->data);
    return cg_conv_record(&cg_op_conv2d, &g, out, input, weight, bias);
}

// M (C_out*H_out*W_out, C_in*H*W): row (o, oh, ow) holds the kernel of output channel o
// placed where it touches the input, so vec(y) = M vec(x). Zero padding simply drops the
// taps that fall outside.
cg_tensor *cg_conv2d_matrix(const cg_tensor *weight, int in_h, int in_w,
                            const cg_conv_options *options) {
    if (!cg_check_arg(weight, "conv2d_matrix", "weight")) return NULL;
    int groups = options && options->groups > 0 ? options->groups : 1;
    cg_tensor image = {.ndim = 3, .liveness = CG_TENSOR_LIVE}; // a shape only: (C_in, H, W)
    image.shape[0] = weight->ndim == 4 ? weight->shape[1] * groups : 0;
    image.shape[1] = in_h;
    image.shape[2] = in_w;
    cg_conv_geometry g;
    if (cg_conv_geometry_resolve("conv2d_matrix", 2, &image, weight, NULL, options, &g) < 0)
        return NULL;
    int64_t rows = g.cols_channels * g.cols_h * g.cols_w,
            cols = g.image_channels * g.image_h * g.image_w;
    cg_tensor *m = cg_empty_for("conv2d_matrix", "matrix shape", CG_SHAPE(rows, cols));
    if (!m) return NULL;
    memset(m->data, 0, (size_t)m->numel * sizeof *m->data);
    int64_t Cg = g.image_channels / g.groups, Og = g.cols_channels / g.groups;
    const float *w = weight->data;
    for (int64_t o = 0; o < g.cols_channels; o++)
        for (int64_t oh = 0; oh < g.cols_h; oh++)
            for (int64_t ow = 0; ow < g.cols_w; ow++) {
                float *row = m->data + ((o * g.cols_h + oh) * g.cols_w + ow) * cols;
                for (int64_t c = 0; c < Cg; c++) {
                    int64_t ci = o / Og * Cg + c;
                    for (int64_t ki = 0; ki < g.kernel_h; ki++)
                        for (int64_t kj = 0; kj < g.kernel_w; kj++) {
                            int64_t ih, iw;
                            if (input_tap(&g, oh, ow, ki, kj, &ih, &iw))
                                row[(ci * g.image_h + ih) * g.image_w + iw] +=
                                    w[((o * Cg + c) * g.kernel_h + ki) * g.kernel_w + kj];
                        }
                }
            }
    return m;
}
