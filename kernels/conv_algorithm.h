// kernels/conv_algorithm.h - which algorithm the convolution family may use (public).
//
// CG_CONV_ALGO_AUTO (the default) lets the driver pick by shape (the rules, with their
// reasons, are kernels/conv_strategy.c's cg_conv_choose_strategy): Winograd F(2x2, 3x3) for
// 3x3, stride-1, undilated, ungrouped convolutions with at least 48 input and output
// channels (forward and input gradient); on AVX-512 CPUs the direct loops
// (kernels/conv_direct.c) for the other forwards, input gradients (strided ones output phase by
// output phase, kernels/conv_direct_phases.c) and weight
// gradients whose output rows or channel blocks fill the vectors; im2col + GEMM otherwise.
// The direct path sums the same products as im2col + GEMM in another order (rounding only).
// Error bound: Winograd's results differ from the exact path's by rounding only (its
// transforms use the coefficients 0, +-1 and +-0.5, and each output sums at most 16 more
// rounded terms); tests/test_conv_kernels.c asserts a normwise relative error below 1e-6
// (max |error| / max |output| against float64, 64 -> 64 channels, normal data; measured
// 3-4e-7 in every direction, where the exact path measures 2e-7 to 1e-6), well inside the
// 1e-4 that the PyTorch fixtures allow.
// CG_CONV_ALGO_EXACT forces im2col + GEMM everywhere (results bitwise independent of shape
// heuristics); CG_CONV_ALGO_WINOGRAD uses Winograd wherever the geometry allows, whatever
// the channel count (for tests); CG_CONV_ALGO_IMPLICIT runs every forward direction that
// is not depthwise or pointwise as an implicit GEMM (no im2col buffer;
// kernels/conv_strategy.c says why AUTO does not pick it yet); CG_CONV_ALGO_DIRECT runs
// the direct loops for every direction of every geometry
// (the portable C loops where AVX-512 is missing). The setting is global, like
// cg_set_num_threads.
#ifndef CG_CONV_ALGORITHM_H
#define CG_CONV_ALGORITHM_H

typedef enum cg_conv_algorithm {
    CG_CONV_ALGO_AUTO = 0,
    CG_CONV_ALGO_EXACT,
    CG_CONV_ALGO_WINOGRAD,
    CG_CONV_ALGO_IMPLICIT, // implicit GEMM for every forward that is not depthwise/pointwise
    CG_CONV_ALGO_DIRECT,   // direct loops for every direction
} cg_conv_algorithm;

void cg_conv_set_algorithm(cg_conv_algorithm algorithm);
cg_conv_algorithm cg_conv_get_algorithm(void);
const char *cg_conv_algorithm_name(
    cg_conv_algorithm algorithm); // "auto", "exact", "winograd", "implicit", "direct"

#endif
