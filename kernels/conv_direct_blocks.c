// kernels/conv_direct_blocks.c - the register blocks of the direct convolution
// (conv_direct.c), AVX-512 and portable C.
//
// Row blocks put 16 consecutive outputs of a row in a vector: 8 output channels x 3 strips
// (24 accumulators), per tap 3 input loads and 8 weight broadcasts for 24 FMAs. They suit
// few output channels (the small CNN's 8 and 16) and rows of 12 outputs or more.
// Channel blocks put 16 output channels in a vector: 32 channels x up to 14 outputs of a
// row (28 accumulators), per tap 2 weight loads and up to 14 input broadcasts for 28 FMAs,
// then a 16 x 16 transpose per vector of channels to store rows. Every lane is used
// whatever the image width (a 14-wide row fills 14 of 16 lanes of a row block), so they suit
// 32 output channels and more.
// Weight-gradient blocks keep 8 channels x 3 taps of 16-lane partial sums; channel
// weight-gradient blocks 32 channels x 14 taps (2 x 14 accumulators) or, for groups of at
// most 16 output channels, 16 x 28 (see the driver).
#include "avx512_transpose.h"
#include <string.h>

#include "conv_direct_internal.h"
#include "simd_clones.h"

CG_SIMD_CLONES static void channels_portable(int n, int64_t taps, const int64_t *toff,
                                             const float *w, const float *in, float *out,
                                             int64_t out_plane, int ocs, const float *bias) {
    float acc[CR][CB] = {{0}};
    for (int64_t t = 0; t < taps; t++, w += CB)
        for (int r = 0; r < n; r++) {
            float x = in[toff[t] + r];
            for (int o = 0; o < CB; o++) acc[r][o] += w[o] * x;
        }
    for (int o = 0; o < ocs; o++)
        for (int r = 0; r < n; r++) out[o * out_plane + r] = acc[r][o] + (bias ? bias[o] : 0.0f);
}

CG_SIMD_CLONES static void block_portable(int64_t taps, const int64_t *toff, const float *w,
                                          const float *in, const strips *s, float *out,
                                          int64_t out_plane, int ocs, const float *bias) {
    float acc[OB][MAX_S][LANES] = {{{0}}};
    for (int64_t t = 0; t < taps; t++, w += OB)
        for (int k = 0; k < s->count; k++) {
            const float *x = in + toff[t] + s->in[k];
            for (int o = 0; o < OB; o++)
                for (int l = 0; l < LANES; l++) acc[o][k][l] += w[o] * x[l];
        }
    for (int o = 0; o < ocs; o++)
        for (int k = 0; k < s->count; k++)
            for (int l = 0; l < s->valid[k]; l++)
                out[o * out_plane + s->out[k] + l] = acc[o][k][l] + (bias ? bias[o] : 0.0f);
}

CG_SIMD_CLONES static void wgrad_portable(const direct *p, int64_t nb, const float *in,
                                          int64_t in_stride, const float *dy, int64_t dy_stride,
                                          const int64_t *toff, int nt, int ocs, float *sums,
                                          int64_t ld) {
    int64_t out_plane = p->ho * p->wo;
    for (int64_t n = 0; n < nb; n++, in += in_stride, dy += dy_stride)
        for (int64_t q = 0; q < p->strips; q++) {
            int64_t oh = q / p->strips_per_row, ow0 = q % p->strips_per_row * LANES;
            int valid = (int)(p->wo - ow0 < LANES ? p->wo - ow0 : LANES);
            for (int o = 0; o < ocs; o++)
                for (int k = 0; k < nt; k++) {
                    const float *y = dy + o * out_plane + oh * p->wo + ow0;
                    const float *x = in + toff[k] + oh * p->row_stride + ow0;
                    float *acc = sums + (o * ld + k) * LANES;
                    for (int l = 0; l < valid; l++) acc[l] += y[l] * x[l];
                }
        }
}

CG_SIMD_CLONES static void wgrad_channels_portable(const direct *p, int64_t nb, const float *in,
                                                   int64_t in_stride, const float *dyt,
                                                   int64_t dyt_stride, const int64_t *toff, int nt,
                                                   float *dw) {
    int64_t cb = p->cb; // CB or CB16
    for (int64_t i = 0; i < nt * cb; i++) dw[i] = 0.0f;
    for (int64_t n = 0; n < nb; n++, in += in_stride, dyt += dyt_stride)
        for (int64_t oh = 0; oh < p->ho; oh++)
            for (int64_t ow = 0; ow < p->wo; ow++) {
                const float *y = dyt + (oh * p->wo + ow) * p->co;
                for (int t = 0; t < nt; t++) {
                    float x = in[toff[t] + oh * p->row_stride + ow];
                    for (int64_t o = 0; o < cb; o++) dw[t * cb + o] += y[o] * x;
                }
            }
}

CG_SIMD_CLONES static void transpose_portable(const float *src, int64_t rows, int64_t cols,
                                              float *dst, double *row_sums) {
    for (int64_t r = 0; r < rows; r++) {
        double sum = 0.0;
        for (int64_t c0 = 0; c0 < cols; c0 += 16) {
            float part = 0.0f; // 16 columns in float, as the AVX-512 loop adds them
            for (int64_t c = c0; c < cols && c < c0 + 16; c++) {
                dst[c * rows + r] = src[r * cols + c];
                part += src[r * cols + c];
            }
            sum += part;
        }
        if (row_sums) row_sums[r] = sum;
    }
}

CG_SIMD_CLONES static void pad_rows_portable(float *dst, int64_t dst_stride, const float *src,
                                             int64_t src_stride, int64_t rows, int64_t lo,
                                             int64_t hi, int64_t n) {
    for (int64_t r = 0; r < rows; r++, dst += dst_stride, src += src_stride) {
        for (int64_t j = 0; j < lo; j++) dst[j] = 0.0f;
        for (int64_t j = lo; j < hi; j++) dst[j] = src[j];
        for (int64_t j = hi; j < n; j++) dst[j] = 0.0f;
    }
}

CG_SIMD_CLONES static void split2_portable(float *dst, int64_t dst_stride, int64_t phase_floats,
                                           const float *src, int64_t src_stride, int64_t rows,
                                           int64_t lo, int64_t hi, int64_t n, int phases) {
    for (int64_t r = 0; r < rows; r++, dst += dst_stride, src += src_stride)
        for (int b = 0; b < phases; b++)
            for (int64_t j = 0; j < n; j++) {
                int64_t q = b + 2 * j;
                dst[b * phase_floats + j] = q >= lo && q < hi ? src[q] : 0.0f;
            }
}

#if CG_X86_SIMD
#include <immintrin.h>
#define AVX512        __attribute__((target("avx512f,avx512vl,fma")))
#define INLINE_AVX512 AVX512 static inline __attribute__((always_inline))

// The block with a constant strip count, so the accumulators stay in registers.
INLINE_AVX512 void block_n(int S, int64_t taps, const int64_t *toff, const float *w,
                           const float *in, const strips *s, float *out, int64_t out_plane, int ocs,
                           const float *bias) {
    __m512 acc[OB][MAX_S];
    const float *x[MAX_S];
    for (int k = 0; k < S; k++) x[k] = in + s->in[k];
#pragma GCC unroll 8
    for (int o = 0; o < OB; o++)
        for (int k = 0; k < S; k++) acc[o][k] = _mm512_setzero_ps();
    for (int64_t t = 0; t < taps; t++, w += OB) {
        int64_t off = toff[t];
        __m512 v[MAX_S];
        for (int k = 0; k < S; k++) v[k] = _mm512_loadu_ps(x[k] + off);
#pragma GCC unroll 8
        for (int o = 0; o < OB; o++) {
            __m512 wo = _mm512_set1_ps(w[o]);
            for (int k = 0; k < S; k++) acc[o][k] = _mm512_fmadd_ps(wo, v[k], acc[o][k]);
        }
    }
#pragma GCC unroll 8
    for (int o = 0; o < OB; o++) {
        if (o >= ocs) break;
        __m512 b = _mm512_set1_ps(bias ? bias[o] : 0.0f);
        for (int k = 0; k < S; k++)
            _mm512_mask_storeu_ps(out + o * out_plane + s->out[k],
                                  (__mmask16)((1u << s->valid[k]) - 1),
                                  _mm512_add_ps(acc[o][k], b));
    }
}

AVX512 static void block_avx512(int64_t taps, const int64_t *toff, const float *w, const float *in,
                                const strips *s, float *out, int64_t out_plane, int ocs,
                                const float *bias) {
    if (s->count == 3)
        block_n(3, taps, toff, w, in, s, out, out_plane, ocs, bias);
    else if (s->count == 2)
        block_n(2, taps, toff, w, in, s, out, out_plane, ocs, bias);
    else
        block_n(1, taps, toff, w, in, s, out, out_plane, ocs, bias);
}

// The weight-gradient block with a constant tap count, so the sums stay in registers.
INLINE_AVX512 void wgrad_n(int T, const direct *p, int64_t nb, const float *in, int64_t in_stride,
                           const float *dy, int64_t dy_stride, const int64_t *toff, int ocs,
                           float *sums, int64_t ld) {
    __m512 acc[OB][MAX_T];
    int64_t out_plane = p->ho * p->wo, row[OB];
    // channels past ocs reread the last real one (their sums are never stored)
    for (int o = 0; o < OB; o++) row[o] = (o < ocs ? o : ocs - 1) * out_plane;
#pragma GCC unroll 8
    for (int o = 0; o < OB; o++)
        for (int k = 0; k < T; k++)
            acc[o][k] = o < ocs ? _mm512_load_ps(sums + (o * ld + k) * LANES) : _mm512_setzero_ps();
    for (int64_t n = 0; n < nb; n++, in += in_stride, dy += dy_stride)
        for (int64_t oh = 0; oh < p->ho; oh++)
            for (int64_t ow0 = 0; ow0 < p->wo; ow0 += LANES) {
                int valid = (int)(p->wo - ow0 < LANES ? p->wo - ow0 : LANES);
                __mmask16 lanes = (__mmask16)((1u << valid) - 1);
                const float *x = in + oh * p->row_stride + ow0, *y = dy + oh * p->wo + ow0;
                __m512 v[MAX_T];
                for (int k = 0; k < T; k++) v[k] = _mm512_loadu_ps(x + toff[k]);
#pragma GCC unroll 8
                for (int o = 0; o < OB; o++) {
                    // lanes past the row are zero here, so the input's garbage there adds 0
                    __m512 yo = _mm512_maskz_loadu_ps(lanes, y + row[o]);
                    for (int k = 0; k < T; k++) acc[o][k] = _mm512_fmadd_ps(yo, v[k], acc[o][k]);
                }
            }
#pragma GCC unroll 8
    for (int o = 0; o < OB; o++) {
        if (o >= ocs) break;
        for (int k = 0; k < T; k++) _mm512_store_ps(sums + (o * ld + k) * LANES, acc[o][k]);
    }
}

AVX512 static void wgrad_avx512(const direct *p, int64_t nb, const float *in, int64_t in_stride,
                                const float *dy, int64_t dy_stride, const int64_t *toff, int nt,
                                int ocs, float *sums, int64_t ld) {
    if (nt == 3)
        wgrad_n(3, p, nb, in, in_stride, dy, dy_stride, toff, ocs, sums, ld);
    else if (nt == 2)
        wgrad_n(2, p, nb, in, in_stride, dy, dy_stride, toff, ocs, sums, ld);
    else
        wgrad_n(1, p, nb, in, in_stride, dy, dy_stride, toff, ocs, sums, ld);
}

// 16 channels x R outputs (acc[r]: output r's channels) -> out[o * out_plane + r] for o < ocs,
// through a 16 x 16 transpose, with the bias added.
INLINE_AVX512 void store_channels(int R, const __m512 *acc, float *out, int64_t out_plane, int ocs,
                                  const float *bias) {
    __m512 m[16]; // m[r] = the channels of output r; transposed: m[o] = the outputs of channel o
    for (int r = 0; r < 16; r++) m[r] = r < R ? acc[r] : _mm512_setzero_ps();
    cg_transpose16(m);
    __mmask16 lanes = (__mmask16)((1u << R) - 1);
    for (int o = 0; o < 16 && o < ocs; o++) {
        __m512 b = _mm512_set1_ps(bias ? bias[o] : 0.0f);
        _mm512_mask_storeu_ps(out + o * out_plane, lanes, _mm512_add_ps(m[o], b));
    }
}

// The channel block with a constant output count, so the accumulators stay in registers.
INLINE_AVX512 void channels_n(int R, int64_t taps, const int64_t *toff, const float *w,
                              const float *in, float *out, int64_t out_plane, int ocs,
                              const float *bias) {
    // The first tap (taps >= 1) starts the sums: zeroed accumulators make GCC keep a copy
    // of them in memory, cleared by a rep stos on every call (7% of the block's time).
    __m512 acc[2][CR];
    __m512 v0 = _mm512_load_ps(w), v1 = _mm512_load_ps(w + 16);
    for (int r = 0; r < R; r++) {
        __m512 xr = _mm512_set1_ps(in[toff[0] + r]);
        acc[0][r] = _mm512_mul_ps(v0, xr), acc[1][r] = _mm512_mul_ps(v1, xr);
    }
    w += CB;
    for (int64_t t = 1; t < taps; t++, w += CB) {
        const float *x = in + toff[t];
        __m512 w0 = _mm512_load_ps(w), w1 = _mm512_load_ps(w + 16);
        for (int r = 0; r < R; r++) {
            __m512 xr = _mm512_set1_ps(x[r]);
            acc[0][r] = _mm512_fmadd_ps(w0, xr, acc[0][r]);
            acc[1][r] = _mm512_fmadd_ps(w1, xr, acc[1][r]);
        }
    }
    // Two calls with constant halves: indexing acc with a run-time half would keep it in
    // memory.
    store_channels(R, acc[0], out, out_plane, ocs, bias);
    if (ocs > 16)
        store_channels(R, acc[1], out + 16 * out_plane, out_plane, ocs - 16,
                       bias ? bias + 16 : NULL);
}

// A switch from a run-time count (1..14, 1..28) to the kernel instantiated for it: CASE(K)
// for each K.
#define CASES_14_TO_1(CASE)                                                                        \
    CASE(14)                                                                                       \
    CASE(13)                                                                                       \
    CASE(12)                                                                                       \
    CASE(11) CASE(10) CASE(9) CASE(8) CASE(7) CASE(6) CASE(5) CASE(4) CASE(3) CASE(2) CASE(1)
#define CASES_28_TO_22(CASE) CASE(28) CASE(27) CASE(26) CASE(25) CASE(24) CASE(23) CASE(22)
#define CASES_21_TO_15(CASE) CASE(21) CASE(20) CASE(19) CASE(18) CASE(17) CASE(16) CASE(15)
#define CASES_28_TO_1(CASE)  CASES_28_TO_22(CASE) CASES_21_TO_15(CASE) CASES_14_TO_1(CASE)

AVX512 static void channels_avx512(int n, int64_t taps, const int64_t *toff, const float *w,
                                   const float *in, float *out, int64_t out_plane, int ocs,
                                   const float *bias) {
#define CHANNELS(R)                                                                                \
    case R:                                                                                        \
        channels_n(R, taps, toff, w, in, out, out_plane, ocs, bias);                               \
        break;
    switch (n) { CASES_14_TO_1(CHANNELS) }
#undef CHANNELS
}

// The channel weight-gradient block with a constant tap count: per output position, the 32
// channels' gradients in 2 registers, one broadcast of the input per tap, 2 FMAs each.
INLINE_AVX512 void wgrad_channels_n(int T, const direct *p, int64_t nb, const float *in,
                                    int64_t in_stride, const float *dyt, int64_t dyt_stride,
                                    const int64_t *toff, float *dw) {
    __m512 acc[2][WT];
    int64_t off[WT];
    for (int t = 0; t < T; t++) acc[0][t] = acc[1][t] = _mm512_setzero_ps(), off[t] = toff[t];
    for (int64_t n = 0; n < nb; n++, in += in_stride, dyt += dyt_stride)
        for (int64_t oh = 0; oh < p->ho; oh++) {
            const float *x = in + oh * p->row_stride, *y = dyt + oh * p->wo * p->co;
            for (int64_t ow = 0; ow < p->wo; ow++, x++, y += p->co) {
                __m512 y0 = _mm512_loadu_ps(y), y1 = _mm512_loadu_ps(y + 16);
                for (int t = 0; t < T; t++) {
                    __m512 xt = _mm512_set1_ps(x[off[t]]);
                    acc[0][t] = _mm512_fmadd_ps(y0, xt, acc[0][t]);
                    acc[1][t] = _mm512_fmadd_ps(y1, xt, acc[1][t]);
                }
            }
        }
    for (int t = 0; t < T; t++) {
        _mm512_storeu_ps(dw + t * CB, acc[0][t]);
        _mm512_storeu_ps(dw + t * CB + 16, acc[1][t]);
    }
}

AVX512 static void wgrad_channels_avx512(const direct *p, int64_t nb, const float *in,
                                         int64_t in_stride, const float *dyt, int64_t dyt_stride,
                                         const int64_t *toff, int nt, float *dw) {
#define WGRAD_CHANNELS(T)                                                                          \
    case T:                                                                                        \
        wgrad_channels_n(T, p, nb, in, in_stride, dyt, dyt_stride, toff, dw);                      \
        break;
    switch (nt) { CASES_14_TO_1(WGRAD_CHANNELS) }
#undef WGRAD_CHANNELS
}

// The narrow channel weight-gradient block (groups of at most 16 channels) with a constant
// tap count: per output position, the 16 channels' gradients in 1 register, one broadcast
// of the input per tap feeding 1 FMA, 28 accumulators.
INLINE_AVX512 void wgrad_channels16_n(int T, const direct *p, int64_t nb, const float *in,
                                      int64_t in_stride, const float *dyt, int64_t dyt_stride,
                                      const int64_t *toff, float *dw) {
    // (GCC unrolls loops of up to 16 iterations by itself: past that acc would be an array
    // in memory)
    __m512 acc[WT16];
    int64_t off[WT16];
#pragma GCC unroll 28
    for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps(), off[t] = toff[t];
    for (int64_t n = 0; n < nb; n++, in += in_stride, dyt += dyt_stride)
        for (int64_t oh = 0; oh < p->ho; oh++) {
            const float *x = in + oh * p->row_stride, *y = dyt + oh * p->wo * p->co;
            int64_t ow = 0;
            // Two positions at a time: the offsets (most in memory: too few general
            // registers) are loaded once for 2 FMAs, and so are the two inputs (one 8-byte
            // broadcast, split by in-lane shuffles: with a broadcast load each, the loads
            // bound the loop; the ResNet's 16 -> 16 channel weight gradient 1.97 -> 1.81 ms).
            // Each sum still adds position ow before ow + 1.
            for (; ow + 1 < p->wo; ow += 2, x += 2, y += 2 * p->co) {
                __m512 y0 = _mm512_loadu_ps(y), y1 = _mm512_loadu_ps(y + p->co);
#pragma GCC unroll 28
                for (int t = 0; t < T; t++) {
                    double pair; // x[off[t]] and the next float: one load, two in-lane shuffles
                    memcpy(&pair, x + off[t], sizeof pair);
                    __m512 xx = _mm512_castpd_ps(_mm512_set1_pd(pair));
                    acc[t] = _mm512_fmadd_ps(y0, _mm512_permute_ps(xx, 0x00), acc[t]);
                    acc[t] = _mm512_fmadd_ps(y1, _mm512_permute_ps(xx, 0x55), acc[t]);
                }
            }
            if (ow < p->wo) {
                __m512 y0 = _mm512_loadu_ps(y);
#pragma GCC unroll 28
                for (int t = 0; t < T; t++)
                    acc[t] = _mm512_fmadd_ps(y0, _mm512_set1_ps(x[off[t]]), acc[t]);
            }
        }
#pragma GCC unroll 28
    for (int t = 0; t < T; t++) _mm512_storeu_ps(dw + t * CB16, acc[t]);
}

AVX512 static void wgrad_channels16_avx512(const direct *p, int64_t nb, const float *in,
                                           int64_t in_stride, const float *dyt, int64_t dyt_stride,
                                           const int64_t *toff, int nt, float *dw) {
#define WGRAD_CHANNELS16(T)                                                                        \
    case T:                                                                                        \
        wgrad_channels16_n(T, p, nb, in, in_stride, dyt, dyt_stride, toff, dw);                    \
        break;
    switch (nt) { CASES_28_TO_1(WGRAD_CHANNELS16) }
#undef WGRAD_CHANNELS16
}

// 16 floats at a time, the lanes outside [lo, hi) masked: neither loaded (no fault past the
// input's ends) nor taken from memory (zeros). A plain loop here becomes calls to memset
// and memcpy for a few floats each, per row.
AVX512 static void pad_rows_avx512(float *dst, int64_t dst_stride, const float *src,
                                   int64_t src_stride, int64_t rows, int64_t lo, int64_t hi,
                                   int64_t n) {
    for (int64_t r = 0; r < rows; r++, dst += dst_stride, src += src_stride)
        for (int64_t j = 0; j < n; j += 16) {
            int64_t a = lo > j ? lo - j : 0, b = hi - j < 16 ? hi - j : 16; // lanes [a, b) load
            __mmask16 load = b > a ? (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1)) : 0;
            _mm_prefetch((const char *)(src + j + 512), _MM_HINT_T0);
            __m512 v = _mm512_maskz_loadu_ps(load, src + j);
            if (n - j >= 16)
                _mm512_storeu_ps(dst + j, v);
            else
                _mm512_mask_storeu_ps(dst + j, (__mmask16)((1u << (n - j)) - 1), v);
        }
}

// Lanes [a, b) of 16 (clamped) as a mask.
AVX512 static inline __mmask16 lanes_between(int64_t a, int64_t b) {
    a = a < 0 ? 0 : a > 16 ? 16 : a;
    b = b < 0 ? 0 : b > 16 ? 16 : b;
    return b > a ? (__mmask16)(((1u << b) - 1) & ~((1u << a) - 1)) : 0;
}

// 32 padded columns (masked loads, as pad_rows) split into 16 even and 16 odd ones by two
// permutes: a strided row's phases in one pass (a scalar copy per phase was 16% of the
// stride-2 autoencoder's training step).
AVX512 static void split2_avx512(float *dst, int64_t dst_stride, int64_t phase_floats,
                                 const float *src, int64_t src_stride, int64_t rows, int64_t lo,
                                 int64_t hi, int64_t n, int phases) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    for (int64_t r = 0; r < rows; r++, dst += dst_stride, src += src_stride)
        for (int64_t j = 0; j < n; j += 16) {
            int64_t q = 2 * j;
            _mm_prefetch((const char *)(src + q + 512), _MM_HINT_T0); // as pad_rows: 2 KB ahead
            _mm_prefetch((const char *)(src + q + 528), _MM_HINT_T0);
            __m512 x = _mm512_maskz_loadu_ps(lanes_between(lo - q, hi - q), src + q);
            __m512 y = _mm512_maskz_loadu_ps(lanes_between(lo - q - 16, hi - q - 16), src + q + 16);
            __mmask16 store = lanes_between(0, n - j);
            _mm512_mask_storeu_ps(dst + j, store, _mm512_permutex2var_ps(x, even, y));
            if (phases > 1)
                _mm512_mask_storeu_ps(dst + phase_floats + j, store,
                                      _mm512_permutex2var_ps(x, odd, y));
        }
}

// 16 x 16 tiles through registers; the edges (rows or columns past a multiple of 16) in C.
// After a tile's transpose v[i] holds column c0 + i of rows r0..r0+15, so the 16 columns
// add up in float, lane by lane, and the tile sums in double.
AVX512 static void transpose_avx512(const float *src, int64_t rows, int64_t cols, float *dst,
                                    double *row_sums) {
    int64_t r16 = rows / 16 * 16, c16 = cols / 16 * 16;
    for (int64_t r0 = 0; r0 < r16; r0 += 16) {
        __m512d lo = _mm512_setzero_pd(), hi = _mm512_setzero_pd();
        for (int64_t c0 = 0; c0 < c16; c0 += 16) {
            __m512 v[16];
            for (int i = 0; i < 16; i++) v[i] = _mm512_loadu_ps(src + (r0 + i) * cols + c0);
            cg_transpose16(v);
            __m512 tile = v[0];
            for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + (c0 + i) * rows + r0, v[i]);
            for (int i = 1; i < 16; i++) tile = _mm512_add_ps(tile, v[i]);
            lo = _mm512_add_pd(lo, _mm512_cvtps_pd(_mm512_castps512_ps256(tile)));
            __m256 upper = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(tile), 1));
            hi = _mm512_add_pd(hi, _mm512_cvtps_pd(upper));
        }
        if (row_sums) {
            _mm512_storeu_pd(row_sums + r0, lo);
            _mm512_storeu_pd(row_sums + r0 + 8, hi);
        }
    }
    // the columns past c16 of the tiled rows, every column of the rows past r16
    for (int64_t r = 0; r < rows; r++) {
        double sum = r < r16 && row_sums ? row_sums[r] : 0.0;
        for (int64_t c0 = r < r16 ? c16 : 0; c0 < cols; c0 += 16) {
            float part = 0.0f;
            for (int64_t c = c0; c < cols && c < c0 + 16; c++) {
                dst[c * rows + r] = src[r * cols + c];
                part += src[r * cols + c];
            }
            sum += part;
        }
        if (row_sums) row_sums[r] = sum;
    }
}

#endif

#if CG_X86_SIMD
#define AVX512_KERNEL(fast, portable_fn)                                                           \
    (!portable && __builtin_cpu_supports("avx512f") ? fast : portable_fn)
#else
#define AVX512_KERNEL(fast, portable_fn) ((void)portable, portable_fn)
#endif

cg_direct_rows_fn cg_direct_rows_kernel(bool portable) {
    return AVX512_KERNEL(block_avx512, block_portable);
}
cg_direct_channels_fn cg_direct_channels_kernel(bool portable) {
    return AVX512_KERNEL(channels_avx512, channels_portable);
}
cg_direct_wgrad_fn cg_direct_wgrad_kernel(bool portable) {
    return AVX512_KERNEL(wgrad_avx512, wgrad_portable);
}
cg_direct_wgrad_channels_fn cg_direct_wgrad_channels_kernel(bool portable, int64_t cb) {
    // one portable loop for both widths (it reads p->cb)
    return cb == CB16 ? AVX512_KERNEL(wgrad_channels16_avx512, wgrad_channels_portable)
                      : AVX512_KERNEL(wgrad_channels_avx512, wgrad_channels_portable);
}
cg_direct_pad_rows_fn cg_direct_pad_rows_kernel(bool portable) {
    return AVX512_KERNEL(pad_rows_avx512, pad_rows_portable);
}
cg_direct_split2_fn cg_direct_split2_kernel(bool portable) {
    return AVX512_KERNEL(split2_avx512, split2_portable);
}
cg_direct_transpose_fn cg_direct_transpose_kernel(bool portable) {
    return AVX512_KERNEL(transpose_avx512, transpose_portable);
}
