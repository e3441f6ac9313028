// kernels/gemm_kernel_avx512.c - the AVX-512 micro-kernel (8 x 48 tile).
//
// Zen 5 issues two 512-bit FMAs per cycle with a latency of 4, so at least 8 independent
// accumulators are needed to keep both pipes busy. 8 rows x 3 vectors = 24 accumulators,
// plus 3 registers for the B row and 1 for the broadcast, fit the 32 zmm registers; each k
// step does 24 FMAs for 3 vector loads and 8 broadcasts, so loads never limit. 8 rows divide
// the usual channel counts (32, 64, 128), so conv GEMMs with small m waste no tile rows; a
// 14 x 32 tile ran squares as fast but pads m = 64 to 70 and m = 32 to 42.
// Only these functions are compiled for AVX-512; the CPU is checked at run time.
#include "avx512_transpose.h"
#include "gemm_kernels_internal.h"
#include "simd_clones.h"

#if CG_X86_SIMD
#include <immintrin.h>

#define MR 8
#define NV 3 // vectors of 16 floats per tile row
#define NR (NV * 16)

#define AVX512 __attribute__((target("avx512f,avx512vl,fma")))

// Lanes [0, n) of vector v of a tile row (n counts from the start of the row).
AVX512 static __mmask16 column_mask(int v, int n_valid) {
    int n = n_valid - 16 * v;
    if (n >= 16) return (__mmask16)0xFFFF;
    if (n <= 0) return 0;
    return (__mmask16)((1u << n) - 1);
}

// Inlined with a constant `vectors` so each use keeps its accumulators in registers.
#define INLINE_AVX512 AVX512 static inline __attribute__((always_inline))

// c[0:m_valid, 0:n_valid] = alpha * acc + beta * c over the first `vectors` vectors of a row.
INLINE_AVX512 void store_tile(int vectors, __m512 acc[MR][NV], float *c, int64_t ldc, float alpha,
                              float beta, int m_valid, int n_valid) {
    __m512 valpha = _mm512_set1_ps(alpha), vbeta = _mm512_set1_ps(beta);
    __mmask16 mask[NV];
    for (int v = 0; v < vectors; v++) mask[v] = column_mask(v, n_valid);
        // Constant bounds, fully unrolled, keep acc in registers instead of an indexed array.
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++) {
        if (i >= m_valid) break;
        float *row = c + i * ldc;
        for (int v = 0; v < vectors; v++) {
            // alpha == 1 (every call from the ops) skips the multiply: short-k tiles are
            // store-bound.
            __m512 r = alpha == 1.0f ? acc[i][v] : _mm512_mul_ps(valpha, acc[i][v]);
            // beta == 0 must not read C: it may hold NaN or be uninitialised.
            if (beta != 0.0f)
                r = _mm512_fmadd_ps(vbeta, _mm512_maskz_loadu_ps(mask[v], row + 16 * v), r);
            _mm512_mask_storeu_ps(row + 16 * v, mask[v], r);
        }
    }
}

// The tile over the first `vectors` of the NV vectors of each packed B row.
INLINE_AVX512 void multiply_tile(int vectors, int64_t k, const float *a, const float *b, float *c,
                                 int64_t ldc, float alpha, float beta, int m_valid, int n_valid) {
    __m512 acc[MR][NV];
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < vectors; v++) acc[i][v] = _mm512_setzero_ps();
    // C is only touched at the end; start fetching it now so the store does not stall.
    for (int i = 0; i < m_valid; i++) {
        for (int v = 0; v < vectors; v++)
            _mm_prefetch((const char *)(c + i * ldc + 16 * v), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + n_valid - 1), _MM_HINT_T0);
    }
    for (int64_t p = 0; p < k; p++) {
        __m512 bv[NV];
        for (int v = 0; v < vectors; v++) bv[v] = _mm512_load_ps(b + 16 * v);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(a[i]);
            for (int v = 0; v < vectors; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
        a += MR;
        b += NR;
    }
    store_tile(vectors, acc, c, ldc, alpha, beta, m_valid, n_valid);
}

// A right-edge tile with at most 16 or 32 real columns skips the FMAs on B's zero padding,
// which would otherwise cost up to 2/3 of the tile (n = 256 is 5 full slivers and 16 columns).
AVX512 static void kernel_avx512(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                                 float alpha, float beta, int m_valid, int n_valid) {
    if (n_valid <= 16)
        multiply_tile(1, k, a, b, c, ldc, alpha, beta, m_valid, n_valid);
    else if (n_valid <= 32)
        multiply_tile(2, k, a, b, c, ldc, alpha, beta, m_valid, n_valid);
    else
        multiply_tile(3, k, a, b, c, ldc, alpha, beta, m_valid, n_valid);
}

// multiply_tile on unpacked operands (cg_gemm_small_kernel). Rows of A past m_valid repeat
// the last real row, so every broadcast reads inside A; their results are never stored.
INLINE_AVX512 void multiply_small_tile(int vectors, bool masked, int64_t k, const float *a,
                                       int64_t a_rs, int64_t a_cs, const float *b, int64_t ldb,
                                       float *c, int64_t ldc, float alpha, float beta, int m_valid,
                                       int n_valid) {
    __m512 acc[MR][NV];
    __mmask16 mask[NV];
    const float *row[MR];
    cg_gemm_small_rows(a, a_rs, MR, m_valid, row);
#pragma GCC unroll 8
    for (int i = 0; i < MR; i++)
        for (int v = 0; v < vectors; v++) acc[i][v] = _mm512_setzero_ps();
    // Unrolled: 32^3 went from 351 to 337 ns a call (64^3: 2.54 -> 2.52 us).
    for (int v = 0; v < vectors; v++) mask[v] = column_mask(v, n_valid);
#pragma GCC unroll 4
    for (int64_t p = 0; p < k; p++, b += ldb) {
        __m512 bv[NV];
        for (int v = 0; v < vectors; v++)
            bv[v] =
                masked ? _mm512_maskz_loadu_ps(mask[v], b + 16 * v) : _mm512_loadu_ps(b + 16 * v);
#pragma GCC unroll 8
        for (int i = 0; i < MR; i++) {
            __m512 ai = _mm512_set1_ps(row[i][p * a_cs]);
            for (int v = 0; v < vectors; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);
        }
    }
    store_tile(vectors, acc, c, ldc, alpha, beta, m_valid, n_valid);
}

AVX512 static void small_kernel_avx512(int64_t k, const float *a, int64_t a_rs, int64_t a_cs,
                                       const float *b, int64_t ldb, float *c, int64_t ldc,
                                       float alpha, float beta, int m_valid, int n_valid) {
    // Full-width tiles load B unmasked (a masked load reloads its mask register each step).
#define SMALL_TILE(V)                                                                              \
    if (n_valid == 16 * (V))                                                                       \
        multiply_small_tile(V, false, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, beta, m_valid,      \
                            n_valid);                                                              \
    else                                                                                           \
        multiply_small_tile(V, true, k, a, a_rs, a_cs, b, ldb, c, ldc, alpha, beta, m_valid,       \
                            n_valid);
    if (n_valid <= 16) {
        SMALL_TILE(1)
    } else if (n_valid <= 32) {
        SMALL_TILE(2)
    } else {
        SMALL_TILE(3)
    }
#undef SMALL_TILE
}

static __mmask16 first_lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << n) - 1);
}

// cg_gemm_pack_transposed in 16 x 16 blocks: the scalar loop does one strided store per float,
// which made packing cost as much as the multiply for small-m shapes like conv weight grads.
AVX512 static void pack_transposed(const float *src, int64_t ld, int rows, int64_t kc, int width,
                                   float *dst) {
    for (int r0 = 0; r0 < width; r0 += 16) {
        __mmask16 store_lanes = first_lanes(width - r0);
        for (int64_t p = 0; p < kc; p += 16) {
            int depth = kc - p < 16 ? (int)(kc - p) : 16;
            __mmask16 load_lanes = first_lanes(depth);
            __m512 v[16];
            for (int r = 0; r < 16; r++)
                v[r] = r0 + r < rows ? _mm512_maskz_loadu_ps(load_lanes, src + (r0 + r) * ld + p)
                                     : _mm512_setzero_ps();
            cg_transpose16(v);
            for (int q = 0; q < depth; q++)
                _mm512_mask_storeu_ps(dst + (p + q) * width + r0, store_lanes, v[q]);
        }
    }
}

// Blocking measured on Zen 5 (L1 48K, L2 1M): a deep kc of 768, which cuts the passes over C,
// beat kc = 256..512 with the B sliver in L1; the 144 x 768 A block (432K) and a 144K B
// sliver share L2, and a 768 x 1536 B panel (4.5M) stays in L3.
const cg_gemm_kernel cg_gemm_kernel_avx512 = {
    .name = "avx512",
    .run = kernel_avx512,
    .pack_transposed = pack_transposed,
    .run_small = small_kernel_avx512,
    .mr = MR,
    .nr = NR,
    .mc = 144,
    .kc = 768,
    .nc = 1536,
};

#endif
