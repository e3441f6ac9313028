// kernels/pool.c - max pooling of one plane: MaxPool2d(2) (AVX-512: 16 outputs per step, the
// even and odd columns of two input rows split by permutes) and any window inside the plane
// (AVX-512: 16 outputs per step, each tap a load or a gather), or portable C.
//
// The portable loop is branch-free (the winning tap of a trained network's windows is close
// to random, so a compare-and-branch mispredicts about half the time) but reads every other
// float, which compilers do not vectorise well: in the small CNN's training step it was 12%
// of the time. The AVX-512 loop reads each row once, 32 floats at a time.
#include <string.h>

#include "pool.h"
#include "simd_clones.h"

// The first of a, b, c, d (row-major in the window) equal to their maximum, without
// branches: 0, 1, W or W + 1.
static inline int64_t first_max(float a, float b, float c, float d, int64_t W, float *best) {
    float top = b > a ? b : a, bottom = d > c ? d : c;
    *best = bottom > top ? bottom : top;
    int64_t is_a = a == *best, is_b = b == *best, is_c = c == *best;
    return (1 - is_a) * (is_b + (1 - is_b) * (W + 1 - is_c));
}

static bool pool_portable(const float *x, int64_t W, int64_t OH, int64_t OW, float *y,
                          float *argmax) {
    int nan = 0;
    for (int64_t oh = 0; oh < OH; oh++) {
        const float *r0 = x + 2 * oh * W, *r1 = r0 + W;
        for (int64_t ow = 0; ow < OW; ow++) {
            float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1], best;
            int64_t at = first_max(a, b, c, d, W, &best);
            nan |= (a != a) | (b != b) | (c != c) | (d != d);
            y[oh * OW + ow] = best;
            argmax[oh * OW + ow] = (float)(2 * oh * W + 2 * ow + at);
        }
    }
    return !nan;
}

#if CG_X86_SIMD
#include <immintrin.h>
#define AVX512 __attribute__((target("avx512f,avx512vl")))

static __mmask16 first_lanes(int64_t n) {
    return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1);
}

AVX512 static bool pool_avx512(const float *x, int64_t W, int64_t OH, int64_t OW, float *y,
                               float *argmax) {
    const __m512i even =
        _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    const __m512i w0 = _mm512_set1_epi32((int)W), w1 = _mm512_set1_epi32((int)W + 1);
    __mmask16 nan = 0;
    for (int64_t oh = 0; oh < OH; oh++) {
        const float *r0 = x + 2 * oh * W, *r1 = r0 + W;
        for (int64_t ow = 0; ow < OW; ow += 16) {
            int64_t n = OW - ow < 16 ? OW - ow : 16; // outputs; their inputs are 2n floats
            __mmask16 lo = first_lanes(2 * n), hi = first_lanes(2 * n - 16), out = first_lanes(n);
            __m512 x0 = _mm512_maskz_loadu_ps(lo, r0 + 2 * ow);
            __m512 x1 = _mm512_maskz_loadu_ps(hi, r0 + 2 * ow + 16);
            __m512 x2 = _mm512_maskz_loadu_ps(lo, r1 + 2 * ow);
            __m512 x3 = _mm512_maskz_loadu_ps(hi, r1 + 2 * ow + 16);
            __m512 a = _mm512_permutex2var_ps(x0, even, x1),
                   b = _mm512_permutex2var_ps(x0, odd, x1);
            __m512 c = _mm512_permutex2var_ps(x2, even, x3),
                   d = _mm512_permutex2var_ps(x2, odd, x3);
            nan |= _mm512_cmp_ps_mask(a, b, _CMP_UNORD_Q) | _mm512_cmp_ps_mask(c, d, _CMP_UNORD_Q);
            // max_ps(p, q) is p > q ? p : q, the portable loop's order (it matters for -0 / +0)
            __m512 top = _mm512_max_ps(b, a), bottom = _mm512_max_ps(d, c);
            __m512 best = _mm512_max_ps(bottom, top);
            __mmask16 is_a = _mm512_cmp_ps_mask(a, best, _CMP_EQ_OQ);
            __mmask16 is_b = _mm512_cmp_ps_mask(b, best, _CMP_EQ_OQ) & ~is_a;
            __mmask16 is_c = _mm512_cmp_ps_mask(c, best, _CMP_EQ_OQ) & ~is_a & ~is_b;
            __m512i at = _mm512_mask_blend_epi32(is_c, w1, w0);
            at = _mm512_mask_blend_epi32(is_b, at, _mm512_set1_epi32(1));
            at = _mm512_mask_blend_epi32(is_a, at, _mm512_setzero_si512());
            // flat index 2*oh*W + 2*(ow + lane) + at
            at = _mm512_add_epi32(
                at, _mm512_add_epi32(even, _mm512_set1_epi32((int)(2 * oh * W + 2 * ow))));
            _mm512_mask_storeu_ps(y + oh * OW + ow, out, best);
            _mm512_mask_storeu_ps(argmax + oh * OW + ow, out, _mm512_cvtepi32_ps(at));
        }
    }
    return nan == 0;
}
#endif

// One output's window at `start` (its first tap's flat index), PyTorch's rule.
static inline void window_max(const float *x, int64_t start, int64_t W, const cg_pool_taps *t,
                              float *y, float *argmax) {
    float best = -__builtin_inff();
    int64_t best_at = start;
    for (int64_t h = 0; h < t->kernel[0]; h++)
        for (int64_t c = 0; c < t->kernel[1]; c++) {
            int64_t at = start + h * t->dilation[0] * W + c * t->dilation[1];
            float v = x[at];
            if (v > best || v != v) best = v, best_at = at;
        }
    *y = best;
    *argmax = (float)best_at;
}

static void inside_portable(const float *x, int64_t W, int64_t OH, int64_t OW,
                            const cg_pool_taps *t, float *y, float *argmax) {
    for (int64_t oh = 0; oh < OH; oh++)
        for (int64_t ow = 0; ow < OW; ow++)
            window_max(x, oh * t->stride[0] * W + ow * t->stride[1], W, t, y + oh * OW + ow,
                       argmax + oh * OW + ow);
}

#if CG_X86_SIMD
// 16 outputs of a row at a time: every tap is one vector (a load at stride 1, else a gather
// of lanes `stride` apart), compared with the running maximum under PyTorch's rule.
AVX512 static void inside_avx512(const float *x, int64_t W, int64_t OH, int64_t OW,
                                 const cg_pool_taps *t, float *y, float *argmax) {
    const int64_t sw = t->stride[1];
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i lane_offset = _mm512_mullo_epi32(lane, _mm512_set1_epi32((int)sw));
    for (int64_t oh = 0; oh < OH; oh++) {
        for (int64_t ow = 0; ow < OW; ow += 16) {
            __mmask16 out = first_lanes(OW - ow);
            int64_t start = oh * t->stride[0] * W + ow * sw; // lane 0's first tap
            __m512 best = _mm512_set1_ps(-__builtin_inff());
            __m512i best_at = _mm512_add_epi32(lane_offset, _mm512_set1_epi32((int)start));
            for (int64_t h = 0; h < t->kernel[0]; h++)
                for (int64_t c = 0; c < t->kernel[1]; c++) {
                    int64_t at = start + h * t->dilation[0] * W + c * t->dilation[1];
                    __m512 v = sw == 1 ? _mm512_maskz_loadu_ps(out, x + at)
                                       : _mm512_mask_i32gather_ps(_mm512_setzero_ps(), out,
                                                                  lane_offset, x + at, 4);
                    __mmask16 take = _mm512_cmp_ps_mask(v, best, _CMP_GT_OQ) |
                                     _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
                    best = _mm512_mask_blend_ps(take, best, v);
                    best_at = _mm512_mask_blend_epi32(
                        take, best_at, _mm512_add_epi32(lane_offset, _mm512_set1_epi32((int)at)));
                }
            _mm512_mask_storeu_ps(y + oh * OW + ow, out, best);
            _mm512_mask_storeu_ps(argmax + oh * OW + ow, out, _mm512_cvtepi32_ps(best_at));
        }
    }
}
#endif

void cg_max_pool_inside_plane(const float *x, int64_t H, int64_t W, int64_t OH, int64_t OW,
                              const cg_pool_taps *t, float *y, float *argmax) {
#if CG_X86_SIMD
    if (H * W < ((int64_t)1 << 24) && __builtin_cpu_supports("avx512f")) {
        inside_avx512(x, W, OH, OW, t, y, argmax);
        return;
    }
#else
    (void)H;
#endif
    inside_portable(x, W, OH, OW, t, y, argmax);
}

bool cg_max_pool_2x2_plane(const float *x, int64_t H, int64_t W, int64_t OH, int64_t OW, float *y,
                           float *argmax) {
#if CG_X86_SIMD
    // int32 indices, exact in float up to 2^24 like the portable loop's
    if (H * W < ((int64_t)1 << 24) && __builtin_cpu_supports("avx512f"))
        return pool_avx512(x, W, OH, OW, y, argmax);
#else
    (void)H;
#endif
    return pool_portable(x, W, OH, OW, y, argmax);
}

void cg_max_pool_2x2_backward_plane(const float *dy, const float *argmax, int64_t H, int64_t W,
                                    int64_t OH, int64_t OW, float *dx) {
    // The plane (a few KB) is zeroed and then takes each window's gradient at its argmax
    // while it is still in L1. Writing each input once with a select per input instead
    // branched on the argmax, which is random: a mispredict per window, 4x slower.
    memset(dx, 0, (size_t)(H * W) * sizeof(float));
    for (int64_t o = 0; o < OH * OW; o++) dx[(int64_t)argmax[o]] = dy[o];
}
