// kernels/conv_implicit.h - the B operand of an implicit-GEMM convolution (conv_implicit.c):
// the column matrix of one group of several images, packed by cg_gemm_implicit_b's callback
// straight from the image, never stored.
#ifndef CG_CONV_IMPLICIT_H
#define CG_CONV_IMPLICIT_H

#include <stdbool.h>
#include <stdint.h>

#include "conv_geometry.h"

typedef struct cg_conv_implicit_b {
    const cg_conv_geometry *g;
    const float *image;  // the first image of the block, at the group's first channel
    const int32_t *taps; // cg_conv_implicit_taps: 4 * K entries
    int64_t K;           // rows: cg_conv_col_rows(g)
} cg_conv_implicit_b;

// Whether `images` images side by side can be indexed with 32-bit offsets.
bool cg_conv_implicit_fits(const cg_conv_geometry *g, int64_t images);
// Per row of the column matrix: the tap's flat offset, its row shift and the range of
// output columns whose tap lands inside the image.
void cg_conv_implicit_taps(const cg_conv_geometry *g, int32_t *taps);
// The cg_gemm_pack_b_fn: columns j = image * P + position of the block's images.
void cg_conv_implicit_pack(const void *context, int64_t k0, int64_t k1, int64_t j0, int64_t j1,
                           int nr, float *dst);

#endif
