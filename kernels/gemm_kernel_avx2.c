// kernels/gemm_kernel_avx2.c - the AVX2 micro-kernel (6 x 16 tile), for CPUs without AVX-512.
//
// 6 rows x 2 vectors = 12 accumulators, 2 registers for the B row and 1 for the broadcast
// fill 15 of the 16 ymm registers; 12 independent FMAs cover two FMA pipes of latency 4-5.
// Only these functions are compiled for AVX2+FMA; the CPU is checked at run time.
#include "gemm_kernels_internal.h"
#include "simd_clones.h"

#if CG_X86_SIMD
#include <immintrin.h>

#define MR 6
#define NV 2 // vectors of 8 floats per tile row
#define NR (NV * 8)

#define AVX2 __attribute__((target("avx2,fma")))

// All-ones in lanes [0, n) of vector v of a tile row, for maskload/maskstore.
AVX2 static __m256i column_mask(int v, int n_valid) {
    __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n_valid - 8 * v), lane);
}

AVX2 static inline __attribute__((always_inline)) void store_tile(__m256 acc[MR][NV], float *c,
                                                                  int64_t ldc, float alpha,
                                                                  float beta, int m_valid,
                                                                  int n_valid) {
    __m256 valpha = _mm256_set1_ps(alpha), vbeta = _mm256_set1_ps(beta);
    __m256i mask[NV];
    for (int v = 0; v < NV; v++) mask[v] = column_mask(v, n_valid);
        // Constant bounds, fully unrolled, keep acc in registers instead of an indexed array.
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++) {
        if (i >= m_valid) break;
        float *row = c + i * ldc;
        for (int v = 0; v < NV; v++) {
            __m256 r = alpha == 1.0f ? acc[i][v] : _mm256_mul_ps(valpha, acc[i][v]);
            // beta == 0 must not read C: it may hold NaN or be uninitialised.
            if (beta != 0.0f)
                r = _mm256_fmadd_ps(vbeta, _mm256_maskload_ps(row + 8 * v, mask[v]), r);
            _mm256_maskstore_ps(row + 8 * v, mask[v], r);
        }
    }
}

AVX2 static void kernel_avx2(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                             float alpha, float beta, int m_valid, int n_valid) {
    __m256 acc[MR][NV];
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();
    // C is only touched at the end; start fetching it now so the store does not stall.
    for (int i = 0; i < m_valid; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + NR - 1), _MM_HINT_T0);
    }
    for (int64_t p = 0; p < k; p++) {
        __m256 bv[NV];
        for (int v = 0; v < NV; v++) bv[v] = _mm256_load_ps(b + 8 * v);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            __m256 ai = _mm256_broadcast_ss(a + i);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        a += MR;
        b += NR;
    }
    store_tile(acc, c, ldc, alpha, beta, m_valid, n_valid);
}

// kernel_avx2 on unpacked operands (cg_gemm_small_kernel). Rows of A past m_valid repeat
// the last real row, so every broadcast reads inside A; their results are never stored.
AVX2 static void small_kernel_avx2(int64_t k, const float *a, int64_t a_rs, int64_t a_cs,
                                   const float *b, int64_t ldb, float *c, int64_t ldc, float alpha,
                                   float beta, int m_valid, int n_valid) {
    __m256 acc[MR][NV];
    __m256i mask[NV];
    const float *row[MR];
    cg_gemm_small_rows(a, a_rs, MR, m_valid, row);
#pragma GCC unroll 6
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm256_setzero_ps();
    for (int v = 0; v < NV; v++) mask[v] = column_mask(v, n_valid);
    for (int64_t p = 0; p < k; p++, b += ldb) {
        __m256 bv[NV];
        for (int v = 0; v < NV; v++) bv[v] = _mm256_maskload_ps(b + 8 * v, mask[v]);
#pragma GCC unroll 6
        for (int i = 0; i < MR; i++) {
            __m256 ai = _mm256_broadcast_ss(row[i] + p * a_cs);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm256_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
    store_tile(acc, c, ldc, alpha, beta, m_valid, n_valid);
}

const cg_gemm_kernel cg_gemm_kernel_avx2 = {
    .name = "avx2",
    .run = kernel_avx2,
    .run_small = small_kernel_avx2,
    .mr = MR,
    .nr = NR,
    .mc = 144,
    .kc = 256,
    .nc = 4096,
};

#endif
