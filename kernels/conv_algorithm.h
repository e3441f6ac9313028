// kernels/conv_algorithm.h - which algorithm the convolution family may use (public).
//
// CG_CONV_ALGO_AUTO (the default) lets the driver pick by shape: Winograd F(2x2, 3x3) for
// 3x3, stride-1, undilated, ungrouped convolutions with at least 16 input and output
// channels (forward and input gradient; the weight gradient always runs im2col + GEMM),
// im2col + GEMM otherwise. Winograd's results differ from the exact path by rounding only:
// its transforms multiply by 0.5 and add at most 9 terms, so the error is a few float
// ulps of the largest partial sums (measured relative error < 1e-5 against float64 on the
// test shapes; see docs/conv.md).
// CG_CONV_ALGO_EXACT forces im2col + GEMM everywhere (results bitwise independent of shape
// heuristics); CG_CONV_ALGO_WINOGRAD uses Winograd wherever the geometry allows, whatever
// the channel count (for tests). The setting is global, like cg_set_num_threads.
#ifndef CG_CONV_ALGORITHM_H
#define CG_CONV_ALGORITHM_H

typedef enum cg_conv_algorithm {
    CG_CONV_ALGO_AUTO = 0,
    CG_CONV_ALGO_EXACT,
    CG_CONV_ALGO_WINOGRAD,
} cg_conv_algorithm;

void cg_conv_set_algorithm(cg_conv_algorithm algorithm);
cg_conv_algorithm cg_conv_get_algorithm(void);
const char *cg_conv_algorithm_name(cg_conv_algorithm algorithm); // "auto", "exact", "winograd"

#endif
