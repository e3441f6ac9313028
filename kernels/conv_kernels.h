// kernels/conv_kernels.h - the raw-float kernels of the convolution family: im2col/col2im,
// the drivers that run a whole convolution through GEMM, depthwise loops, bias.
// Every pointer is a contiguous float array in the layout its comment gives.
#ifndef CG_CONV_KERNELS_H
#define CG_CONV_KERNELS_H

#include "conv_geometry.h"

// image (C, H, W) of one sample -> cols (C*kH*kW, H_out*W_out), row stride ld (>= H_out*W_out,
// so several samples can sit side by side). Out-of-image taps read 0.
void cg_im2col(const cg_conv_geometry *g, const float *image, float *cols, int64_t ld);
// image (C, H, W) += cols (C*kH*kW, H_out*W_out) scattered back, overlaps summed.
void cg_col2im(const cg_conv_geometry *g, const float *cols, int64_t ld, float *image);

// columns (N, O, H_out, W_out) = conv(image (N, C, H, W), weight (O, C/g, kH, kW)), no bias.
void cg_conv_im2col_gemm(const cg_conv_geometry *g, const float *image, const float *weight,
                         float *columns);
// image (N, C, H, W) = conv^T(columns (N, O, H_out, W_out), weight): overwritten.
void cg_conv_gemm_col2im(const cg_conv_geometry *g, const float *columns, const float *weight,
                         float *image);
// dweight (O, C/g, kH, kW) += sum_n columns_n (O, P) x im2col(image_n)^T, per group.
void cg_conv_weight_grad(const cg_conv_geometry *g, const float *image, const float *columns,
                         float *dweight);
// Depthwise convolution (groups == in_channels > 1) runs on direct loops instead
// (kernels/conv_depthwise.c); the drivers above dispatch to them, same arguments and results.
bool cg_conv_is_depthwise(const cg_conv_geometry *g);
void cg_conv_depthwise_forward(const cg_conv_geometry *g, const float *image, const float *weight,
                               float *columns);
void cg_conv_depthwise_transposed(const cg_conv_geometry *g, const float *columns,
                                  const float *weight, float *image);
void cg_conv_depthwise_weight_grad(const cg_conv_geometry *g, const float *image,
                                   const float *columns, float *dweight);
// x (N, C, P) += bias (C) along C; dbias (C) += sum over N and P of g (N, C, P).
void cg_conv_add_bias(float *x, const float *bias, int64_t n, int64_t c, int64_t p);
void cg_conv_bias_grad(const float *g, float *dbias, int64_t n, int64_t c, int64_t p);

#endif
