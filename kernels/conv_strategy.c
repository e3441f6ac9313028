// kernels/conv_strategy.c - how the driver runs a convolution: one list of rules.
//
// cg_conv_choose_strategy is the one place that decides, from the geometry, the direction,
// the algorithm setting, the thread count and whether the CPU has AVX-512. The first rule
// that matches wins; each says why it is where it is. The kernels only answer whether they
// can run a geometry (cg_conv_winograd_fits, cg_conv_direct_fits) or would fill their
// vectors (cg_conv_direct_fills_vectors); they keep no rules of their own.
// tests/test_conv_strategy.c pins the choice for a table of shapes.
#include "conv_implicit.h"
#include "conv_kernels.h"

#include "../tensor/parallel.h"

// Below this many channels (on either side) Winograd's 16 GEMMs are too shallow (their
// depth is the input channel count) to beat one im2col GEMM of depth 9C: measured on this
// machine, 32 -> 64 channels is a tie, 64 -> 64 wins 1.2x at 28x28 and 2x at 56x56,
// 128 -> 128 1.5x at 14x14 (every direction).
#define WINOGRAD_MIN_CHANNELS 48
// Below this many output columns the direct loops beat Winograd (F(2x2, 3x3) pads a 7x7
// plane to 16 tiles of 2x2, and its transforms cost per tile what the direct blocks do per
// row): 64 -> 64 channels, forward at 1 thread, Winograd took 2.0x the direct loops' time
// at 7x7 (64 images), 1.36x at 14x14, 1.19x at 28x28 and tied at 42x42, and won 1.18x at
// 56x56. With 128 or 256 channels at 14x14 or 28x28 the two were within 15% either way
// (Winograd ahead at 1 thread, behind at 2).
#define WINOGRAD_MIN_WIDTH 40
// With two or more threads, below this many channels (on either side) the direct loops beat
// Winograd even on wide planes: its transforms move 4x the input through memory, which the
// two cores (no shared cache) share less well than the direct blocks' FMAs. Config c (8
// images, 64 -> 64 channels, 56x56), 2 threads: forward 4.5 ms direct against 5.1-5.2
// Winograd, forward+backward 16.4-16.9 against 17.7-18.0 (at 1 thread Winograd's forward
// wins, 7.8 against 9.2); 128 channels at 56x56 Winograd still won 1.2x at 2 threads.
#define WINOGRAD_MIN_CHANNELS_THREADED 128

static cg_conv_algorithm current_algorithm = CG_CONV_ALGO_AUTO;

void cg_conv_set_algorithm(cg_conv_algorithm algorithm) {
    current_algorithm = algorithm;
}
cg_conv_algorithm cg_conv_get_algorithm(void) {
    return current_algorithm;
}
const char *cg_conv_algorithm_name(cg_conv_algorithm algorithm) {
    switch (algorithm) {
    case CG_CONV_ALGO_AUTO:
        return "auto";
    case CG_CONV_ALGO_EXACT:
        return "exact";
    case CG_CONV_ALGO_WINOGRAD:
        return "winograd";
    case CG_CONV_ALGO_IMPLICIT:
        return "implicit";
    case CG_CONV_ALGO_DIRECT:
        return "direct";
    }
    return "auto";
}

const char *cg_conv_strategy_name(cg_conv_strategy strategy) {
    switch (strategy) {
    case CG_CONV_STRATEGY_DEPTHWISE:
        return "depthwise";
    case CG_CONV_STRATEGY_WINOGRAD:
        return "winograd";
    case CG_CONV_STRATEGY_DIRECT:
        return "direct";
    case CG_CONV_STRATEGY_POINTWISE:
        return "pointwise";
    case CG_CONV_STRATEGY_IMPLICIT_GEMM:
        return "implicit_gemm";
    case CG_CONV_STRATEGY_IMAGE_PARALLEL:
        return "image_parallel";
    case CG_CONV_STRATEGY_BATCHED_GEMM:
        return "batched_gemm";
    }
    return "?";
}

bool cg_conv_is_pointwise(const cg_conv_geometry *g) {
    return g->kernel_h == 1 && g->kernel_w == 1 && g->stride_h == 1 && g->stride_w == 1 &&
           g->pad_top == 0 && g->pad_bottom == 0 && g->pad_left == 0 && g->pad_right == 0 &&
           g->image_h == g->cols_h && g->image_w == g->cols_w;
}

// Whether the implicit GEMM can run a forward: positions and rows to multiply, and one
// image's offsets fit its int32 tap table (more images per block only if those fit too).
static bool implicit_fits(const cg_conv_geometry *g) {
    return g->batch > 0 && g->cols_h * g->cols_w > 0 && cg_conv_col_rows(g) > 0 &&
           cg_conv_implicit_fits(g, 1);
}

cg_conv_strategy cg_conv_choose_strategy(cg_conv_direction direction, const cg_conv_geometry *g,
                                         cg_conv_algorithm algorithm, int threads, bool avx512) {
    bool automatic = algorithm == CG_CONV_ALGO_AUTO;
    bool wgrad = direction == CG_CONV_WEIGHT_GRAD;
    bool direct = cg_conv_direct_fits(g);
    bool direct_pays = automatic && avx512 && direct && cg_conv_direct_fills_vectors(direction, g);
    bool winograd = cg_conv_winograd_fits(g);

    // Depthwise (groups == C > 1), under every setting: a GEMM per channel would have one
    // row, and the direct loops are exact anyway.
    if (cg_conv_is_depthwise(g)) return CG_CONV_STRATEGY_DEPTHWISE;
    // Forced direct loops (CG_CONV_ALGO_DIRECT): every direction they can run, so tests
    // cover them on every shape (portable C loops where AVX-512 is missing).
    if (algorithm == CG_CONV_ALGO_DIRECT && direct) return CG_CONV_STRATEGY_DIRECT;
    // Forced Winograd: wherever the geometry allows, whatever the channel count (tests).
    if (algorithm == CG_CONV_ALGO_WINOGRAD && winograd) return CG_CONV_STRATEGY_WINOGRAD;
    // The weight gradient goes direct before Winograd: the direct channel blocks measured
    // 1.2-1.3x Winograd's on config c at 1 and 2 threads (forward and transposed tie).
    if (wgrad && direct_pays) return CG_CONV_STRATEGY_DIRECT;
    // Winograd for 3x3 stride-1 convolutions deep enough on both sides for its 16 GEMMs,
    // unless the direct loops can take it and the plane is too narrow for Winograd's tiles,
    // or there are several threads and too few channels.
    int64_t channels = g->image_channels < g->cols_channels ? g->image_channels : g->cols_channels;
    bool direct_wins = direct_pays && (g->cols_w < WINOGRAD_MIN_WIDTH ||
                                       (threads > 1 && channels < WINOGRAD_MIN_CHANNELS_THREADED));
    if (automatic && winograd && channels >= WINOGRAD_MIN_CHANNELS && !direct_wins)
        return CG_CONV_STRATEGY_WINOGRAD;
    // Direct loops on AVX-512 where their register blocks fill the vectors: shallow
    // convolutions and small images, whose column matrix costs as much as the multiply.
    if (direct_pays) return CG_CONV_STRATEGY_DIRECT;
    // 1x1 stride 1 unpadded: the image already is its column matrix (no im2col/col2im).
    if (cg_conv_is_pointwise(g)) return CG_CONV_STRATEGY_POINTWISE;
    // Forced implicit GEMM (forward only). AUTO does not pick it yet: at 1 thread it measured
    // 0.95-0.99x im2col + GEMM on config b, 0.87-0.90x on d, 0.93-0.98x on a; its row copies
    // (one per tap and output-row segment of a sliver) cost more than im2col's long rows
    // plus pack_b's contiguous ones (docs/conv.md).
    if (algorithm == CG_CONV_ALGO_IMPLICIT && direction == CG_CONV_FORWARD && implicit_fits(g))
        return CG_CONV_STRATEGY_IMPLICIT_GEMM;
    // At least as many images as threads: each thread takes whole images with serial GEMMs
    // and no synchronisation.
    if (g->batch >= threads) return CG_CONV_STRATEGY_IMAGE_PARALLEL;
    // Fewer images than threads (batch 1): images side by side in one threaded GEMM.
    return CG_CONV_STRATEGY_BATCHED_GEMM;
}

cg_conv_strategy cg_conv_strategy_of(cg_conv_direction direction, const cg_conv_geometry *g) {
    return cg_conv_choose_strategy(direction, g, current_algorithm, cg_num_threads(),
                                   cg_conv_direct_has_avx512());
}
