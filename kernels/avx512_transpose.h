// kernels/avx512_transpose.h - a 16 x 16 transpose in AVX-512 registers, for the kernels that
// turn rows into columns (GEMM packing, the direct convolution's channel blocks).
#ifndef CG_AVX512_TRANSPOSE_H
#define CG_AVX512_TRANSPOSE_H

#include "simd_clones.h"

#if CG_X86_SIMD
#include <immintrin.h>

// Transposes 16 rows of 16 floats in registers: afterwards v[j] holds column j.
__attribute__((target("avx512f"), always_inline)) static inline void cg_transpose16(__m512 v[16]) {
    __m512 t[16];
    // Interleave row pairs, then row quads: within each 128-bit lane, v[4i+q] then holds
    // rows 4i..4i+3 of that lane's column q.
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(v[2 * i], v[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(v[2 * i], v[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        v[4 * i] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0x44);
        v[4 * i + 1] = _mm512_shuffle_ps(t[4 * i], t[4 * i + 2], 0xEE);
        v[4 * i + 2] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0x44);
        v[4 * i + 3] = _mm512_shuffle_ps(t[4 * i + 1], t[4 * i + 3], 0xEE);
    }
    // Then gather each column's four 128-bit lanes from the four row quads.
    for (int q = 0; q < 4; q++) {
        t[q] = _mm512_shuffle_f32x4(v[q], v[4 + q], 0x88);
        t[q + 4] = _mm512_shuffle_f32x4(v[q], v[4 + q], 0xDD);
        t[q + 8] = _mm512_shuffle_f32x4(v[8 + q], v[12 + q], 0x88);
        t[q + 12] = _mm512_shuffle_f32x4(v[8 + q], v[12 + q], 0xDD);
    }
    for (int q = 0; q < 4; q++) {
        v[q] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0x88);
        v[q + 8] = _mm512_shuffle_f32x4(t[q], t[q + 8], 0xDD);
        v[q + 4] = _mm512_shuffle_f32x4(t[q + 4], t[q + 12], 0x88);
        v[q + 12] = _mm512_shuffle_f32x4(t[q + 4], t[q + 12], 0xDD);
    }
}

#endif

#endif
