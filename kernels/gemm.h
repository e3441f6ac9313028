// tensor/gemm.h - the one matrix multiply every op calls.
//
// C = alpha * op(A) * op(B) + beta * C, row-major, where op(X) is X or X^T.
//   op(A) is (m, k), op(B) is (k, n), C is (m, n).
//   A is stored (m, lda>=k) when !trans_a, (k, lda>=m) when trans_a; likewise B.
// beta == 0 means C is overwritten (its old contents, even NaN, are ignored), as in BLAS.
// This is the single place the fast path lives (packing, blocking, SIMD, OpenMP);
// everything else (matmul, linear, conv via im2col) goes through it.
#ifndef CG_GEMM_H
#define CG_GEMM_H

#include <stdbool.h>
#include <stdint.h>

void cg_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
             int64_t ldc);

// The plain triple loop, kept as the reference the fast path is tested against.
void cg_gemm_reference(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc);

// Which kernel cg_gemm uses on this CPU ("avx512", "avx2", "portable", "cblas").
const char *cg_gemm_kernel_name(void);

#endif
