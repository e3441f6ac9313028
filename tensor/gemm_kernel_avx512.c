// tensor/gemm_kernel_avx512.c - the AVX-512 micro-kernel (14 x 32 tile).
//
// Zen 5 issues two 512-bit FMAs per cycle with a latency of 4, so at least 8 independent
// accumulators are needed to keep both pipes busy; 14 rows x 2 vectors = 28 accumulators,
// plus 2 registers for the B row and 1 for the broadcast, uses 31 of the 32 zmm registers.
// Each k step then does 28 FMAs for 2 vector loads and 14 broadcasts, so loads never limit.
// Only these functions are compiled for AVX-512; the CPU is checked at run time.
#include "gemm_kernels_internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

#define MR 14
#define NV 2 // vectors of 16 floats per tile row
#define NR (NV * 16)

#define AVX512 __attribute__((target("avx512f,avx512vl,fma")))

// Lanes [0, n) of vector v of a tile row (n counts from the start of the row).
AVX512 static __mmask16 column_mask(int v, int n_valid) {
    int n = n_valid - 16 * v;
    if (n >= 16) return (__mmask16)0xFFFF;
    if (n <= 0) return 0;
    return (__mmask16)((1u << n) - 1);
}

AVX512 static void store_tile(__m512 acc[MR][NV], float *c, int64_t ldc, float alpha, float beta,
                              int m_valid, int n_valid) {
    __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
    __mmask16 mask[NV];
    for (int v = 0; v < NV; v++) mask[v] = column_mask(v, n_valid);
    for (int i = 0; i < m_valid; i++) {
        float *row = c + i * ldc;
        for (int v = 0; v < NV; v++) {
            __m512 r = _mm512_mul_ps(valpha, acc[i][v]);
            // beta == 0 must not read C: it may hold NaN or be uninitialised.
            if (beta != 0.0f)
                r = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mask[v], row + 16 * v), r);
            _mm512_mask_storeu_ps(row + 16 * v, mask[v], r);
        }
    }
}

AVX512 static void kernel_avx512(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                                 float alpha, float beta, int m_valid, int n_valid) {
    __m512 acc[MR][NV];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
    // C is only touched at the end; start fetching it now so the store does not stall.
    for (int i = 0; i < m_valid; i++) _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
    for (int64_t p = 0; p < k; p++) {
        __m512 bv[NV];
        for (int v = 0; v < NV; v++) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        a += MR;
        b += NR;
    }
    store_tile(acc, c, ldc, alpha, beta, m_valid, n_valid);
}

const cg_gemm_kernel cg_gemm_kernel_avx512 = {
    .name = "avx512",
    .run = kernel_avx512,
    .mr = MR,
    .nr = NR,
    .mc = 168,
    .kc = 384,
    .nc = 4096,
};

#endif
