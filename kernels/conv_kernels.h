// kernels/conv_kernels.h - the raw-float kernels of the convolution family: the one driver
// that runs a whole convolution (any direction), im2col/col2im, depthwise loops, bias.
// Every pointer is a contiguous float array in the layout its comment gives. Kernels that
// allocate return 0, or -1 after reporting through cg_error (nothing written is valid then).
#ifndef CG_CONV_KERNELS_H
#define CG_CONV_KERNELS_H

#include "conv_algorithm.h"
#include "conv_geometry.h"

// The three things a convolution layer computes, for conv2d and conv_transpose2d alike
// (the image is (N, C, H, W), the columns (N, O, H_out, W_out), the weight (O, C/g, kH, kW)):
typedef enum cg_conv_direction {
    CG_CONV_FORWARD,     // columns = conv(image, weight) (+ bias per O)
    CG_CONV_TRANSPOSED,  // image = conv^T(columns, weight) (+ bias per C): overwritten
    CG_CONV_WEIGHT_GRAD, // dweight += sum_n columns_n (O, P) x im2col(image_n)^T, per group
} cg_conv_direction;

// What each direction reads and writes; the unused fields are ignored.
typedef struct cg_conv_operands {
    const float *image;   // read by FORWARD and WEIGHT_GRAD
    const float *columns; // read by TRANSPOSED and WEIGHT_GRAD
    const float *weight;  // read by FORWARD and TRANSPOSED
    const float *bias;    // optional (NULL): added to the output of FORWARD / TRANSPOSED
    float *out;           // columns (FORWARD), image (TRANSPOSED), dweight (WEIGHT_GRAD, added to)
    // WEIGHT_GRAD, optional: dbias[o] += the sum of columns channel o over the batch and the
    // positions (conv2d's bias gradient; the direct path takes it while it reads the columns).
    float *dbias;
    // FORWARD / TRANSPOSED: out = max(0, out) after the bias (PyTorch's relu: NaN and -0
    // pass), conv2d_relu's epilogue. The direct and Winograd paths and the forward GEMM
    // paths apply it to each block while the block is in cache (where they add the bias);
    // depthwise and the transposed GEMM paths in one pass at the end.
    bool relu;
} cg_conv_operands;

// How the driver runs one direction of one geometry. kernels/conv_strategy.c chooses it,
// by one list of rules (first match wins); a new kernel is one value here, one rule there
// and its tests (docs/ARCHITECTURE.md, "How to add a kernel").
typedef enum cg_conv_strategy {
    CG_CONV_STRATEGY_DEPTHWISE, // groups == C: direct loops per channel, no GEMM
    CG_CONV_STRATEGY_WINOGRAD,  // F(2x2, 3x3) tiles, 16 GEMMs (conv_winograd.c)
    CG_CONV_STRATEGY_DIRECT,    // register-blocked loops, no column matrix (conv_direct.c)
    // 1x1 stride 1: the image is its own column matrix (no im2col); threads take whole
    // images when there are at least as many as threads, else share each GEMM
    CG_CONV_STRATEGY_POINTWISE,
    CG_CONV_STRATEGY_IMPLICIT_GEMM,  // GEMM packing straight from the image (conv_implicit.c)
    CG_CONV_STRATEGY_IMAGE_PARALLEL, // im2col + serial GEMMs, each thread whole images
    CG_CONV_STRATEGY_BATCHED_GEMM,   // im2col + threaded GEMMs over images side by side
} cg_conv_strategy;
// The strategy for this direction and geometry under an algorithm setting, a thread count
// and whether the CPU has AVX-512: a pure function of its arguments (tests pin it).
cg_conv_strategy cg_conv_choose_strategy(cg_conv_direction direction, const cg_conv_geometry *g,
                                         cg_conv_algorithm algorithm, int threads, bool avx512);
// The strategy cg_conv_execute takes: the above with the current algorithm setting, thread
// count and CPU. Its name, for debugging: "depthwise", "winograd", "direct", "pointwise",
// "implicit_gemm", "image_parallel", "batched_gemm".
cg_conv_strategy cg_conv_strategy_of(cg_conv_direction direction, const cg_conv_geometry *g);
const char *cg_conv_strategy_name(cg_conv_strategy strategy);
// A 1x1 kernel with stride 1 and no padding: maps pixel to pixel.
bool cg_conv_is_pointwise(const cg_conv_geometry *g);

// The one convolution driver (kernels/conv_driver.c): runs the direction by the strategy
// cg_conv_strategy_of chooses, with its workspace allocated on the calling thread. 0 or -1.
int cg_conv_execute(cg_conv_direction direction, const cg_conv_geometry *g,
                    const cg_conv_operands *x);

// Winograd F(2x2, 3x3) (kernels/conv_winograd.c): whether it can run the geometry (3x3,
// stride 1, undilated, one group), and the kernel itself, with cg_conv_execute's arguments
// and results for any direction. 0 / -1.
bool cg_conv_winograd_fits(const cg_conv_geometry *g);
int cg_conv_winograd(cg_conv_direction direction, const cg_conv_geometry *g,
                     const cg_conv_operands *x);

// Direct convolution (kernels/conv_direct.c): register-blocked loops over a zero-padded,
// stride-phase-split copy of each image, no column matrix (the transposed direction of a
// strided geometry output phase by output phase). Whether it can run the geometry (any
// non-empty one, in every direction),
// whether its register blocks would fill the AVX-512 vectors (the shape test behind
// AUTO's rule), whether the CPU has AVX-512 (false under cg_conv_direct_use_portable), and
// the kernel, with cg_conv_execute's arguments and results. 0 / -1.
bool cg_conv_direct_fits(const cg_conv_geometry *g);
bool cg_conv_direct_fills_vectors(cg_conv_direction direction, const cg_conv_geometry *g);
bool cg_conv_direct_has_avx512(void);
int cg_conv_direct(cg_conv_direction direction, const cg_conv_geometry *g,
                   const cg_conv_operands *x);
// For tests: run the direct path's portable C loops even where AVX-512 is available.
void cg_conv_direct_use_portable(bool on);

// image (C, H, W) of one sample -> cols (C*kH*kW, H_out*W_out), row stride ld (>= H_out*W_out,
// so several samples can sit side by side). Out-of-image taps read 0.
void cg_im2col(const cg_conv_geometry *g, const float *image, float *cols, int64_t ld);
// image (C, H, W) += cols (C*kH*kW, H_out*W_out) scattered back, overlaps summed.
void cg_col2im(const cg_conv_geometry *g, const float *cols, int64_t ld, float *image);
// The same for output rows [oh0, oh1) only: cols is (C*kH*kW, (oh1-oh0)*W_out).
void cg_im2col_rows(const cg_conv_geometry *g, const float *image, float *cols, int64_t ld,
                    int64_t oh0, int64_t oh1);
void cg_col2im_rows(const cg_conv_geometry *g, const float *cols, int64_t ld, float *image,
                    int64_t oh0, int64_t oh1);

// Depthwise convolution (groups == image_channels > 1) runs on direct loops instead
// (kernels/conv_depthwise.c); the driver dispatches to them, same arguments and results.
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
