// nn/conv_geometry_internal.h - one description of a 2-D convolution, resolved and
// validated once, and the kernels every convolution-family op runs on.
//
// A geometry always describes a conv2d: an "image" (N, C, H, W) is turned into
// "columns" of positions (N, O, H_out, W_out) by a weight (O, C/groups, kH, kW).
// conv_transpose2d is the adjoint of that conv2d, so it is described by the SAME struct:
// its input is the struct's output side and its output is the struct's image side, and
// its weight (C_in_t, C_out_t/groups, kH, kW) is read as the conv2d weight (O, C/groups, ...).
// Two kernels then serve all four directions:
//   cg_conv_im2col_gemm  image -> columns   conv2d forward, conv_transpose2d input grad
//   cg_conv_gemm_col2im  columns -> image   conv_transpose2d forward, conv2d input grad
// and one weight-gradient kernel serves both ops (roles of its two arguments swap).
#ifndef CG_CONV_GEOMETRY_INTERNAL_H
#define CG_CONV_GEOMETRY_INTERNAL_H

#include "../autograd/op.h"
#include "conv.h"

typedef struct cg_conv_geometry {
    int64_t batch; // N (1 for unbatched input)
    bool batched;  // the user's tensors have a batch dim
    int spatial;   // 2 for conv2d, 1 for conv1d (H = kH = 1)
    int64_t groups;
    int64_t in_channels, in_h, in_w;    // image side: conv2d input / conv_transpose2d output
    int64_t out_channels, out_h, out_w; // column side: conv2d output / conv_transpose2d input
    int64_t kernel_h, kernel_w;
    int64_t stride_h, stride_w;
    int64_t dilation_h, dilation_w;
    int64_t pad_top, pad_bottom, pad_left, pad_right;
    int64_t output_padding_h, output_padding_w; // conv_transpose only (else 0)
} cg_conv_geometry;

// Rows of one group's column matrix: (C/groups) * kH * kW.
static inline int64_t cg_conv_col_rows(const cg_conv_geometry *g) {
    return g->in_channels / g->groups * g->kernel_h * g->kernel_w;
}

// ---- resolving options (all argument validation lives here) ---------------------------
// `spatial` = 2: input (N,C,H,W)/(C,H,W), weight 4-D; 1: input (N,C,L)/(C,L), weight 3-D
// and options index 0 is the width. bias may be NULL. Returns 0, or -1 with an error
// message naming `op`, the parameter and the shapes.
int cg_conv_geometry_resolve(const char *op, int spatial, const cg_tensor *input,
                             const cg_tensor *weight, const cg_tensor *bias,
                             const cg_conv_options *options, cg_conv_geometry *g);
int cg_conv_transpose_geometry_resolve(const char *op, int spatial, const cg_tensor *input,
                                       const cg_tensor *weight, const cg_tensor *bias,
                                       const cg_conv_options *options, cg_conv_geometry *g);
// unfold/fold: an image (N, C, H, W) and kernel/stride/... from fold options; groups 1,
// out_channels = C*kH*kW. out_h/out_w are the number of sliding blocks (>= 1 or error).
// `input` is only named in messages.
int cg_fold_geometry_resolve(const char *op, const cg_tensor *input, int64_t batch,
                             int64_t channels, int64_t h, int64_t w, const cg_fold_options *options,
                             cg_conv_geometry *g);
// The user-visible shapes of both sides (with or without the batch dim, 1-D or 2-D).
int cg_conv_image_shape(const cg_conv_geometry *g, int64_t *shape);   // returns ndim
int cg_conv_columns_shape(const cg_conv_geometry *g, int64_t *shape); // returns ndim

// ---- the kernels (nn/im2col.c) --------------------------------------------------------
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
// (nn/conv_depthwise.c); the drivers above dispatch to them, same arguments and results.
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

// ---- the recorded ops (nn/conv.c), shared with conv1d.c and conv_views.c -------------------
extern const cg_op cg_op_conv2d, cg_op_conv_transpose2d, cg_op_conv1d, cg_op_conv_transpose1d;
// The two backward functions (node ctx = the geometry; inputs = input, weight, bias).
void cg_conv_backward(cg_node *n, const cg_tensor *grad_output);
void cg_conv_transpose_backward(cg_node *n, const cg_tensor *grad_output);
// Allocate the output, record `op` with inputs (input, weight, bias) and the geometry.
// `op` must be conv2d-like (cg_op_conv2d / cg_op_conv1d) for the first, transposed for
// the second. `output` may be precomputed (the direct view) or NULL (computed here).
// The public conv ops: check the arguments, resolve the geometry (named op->name) and run.
cg_tensor *cg_conv_apply(const cg_op *op, int spatial, cg_tensor *input, cg_tensor *weight,
                         cg_tensor *bias, const cg_conv_options *options);
cg_tensor *cg_conv_transpose_apply(const cg_op *op, int spatial, cg_tensor *input,
                                   cg_tensor *weight, cg_tensor *bias,
                                   const cg_conv_options *options);
cg_tensor *cg_conv_run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                       cg_tensor *weight, cg_tensor *bias, cg_tensor *output);
cg_tensor *cg_conv_transpose_run(const cg_op *op, const cg_conv_geometry *g, cg_tensor *input,
                                 cg_tensor *weight, cg_tensor *bias);

#endif
