// kernels/gemm_kernel_portable.c - the plain C micro-kernel (4 x 8 tile), for any CPU.
//
// Written so the compiler can keep the 32 accumulators in registers and vectorise the
// inner j loop with whatever the baseline target offers (SSE2 on x86-64).
#include "gemm_kernels_internal.h"

#define MR 4
#define NR 8

static void kernel_portable(int64_t k, const float *a, const float *b, float *c, int64_t ldc,
                            float alpha, float beta, int m_valid, int n_valid) {
    float acc[MR][NR] = {{0}};
    for (int64_t p = 0; p < k; p++) {
        for (int i = 0; i < MR; i++)
            for (int j = 0; j < NR; j++) acc[i][j] += a[i] * b[j];
        a += MR;
        b += NR;
    }
    for (int i = 0; i < m_valid; i++) {
        float *row = c + i * ldc;
        for (int j = 0; j < n_valid; j++) {
            // beta == 0 must not read C: it may hold NaN or be uninitialised.
            float old = beta != 0.0f ? beta * row[j] : 0.0f;
            row[j] = alpha * acc[i][j] + old;
        }
    }
}

const cg_gemm_kernel cg_gemm_kernel_portable = {
    .name = "portable",
    .run = kernel_portable,
    .mr = MR,
    .nr = NR,
    .mc = 128,
    .kc = 256,
    .nc = 2048,
};
