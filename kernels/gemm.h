// kernels/gemm.h - the one matrix multiply every op calls.
//
// C = alpha * op(A) * op(B) + beta * C, row-major, where op(X) is X or X^T.
//   op(A) is (m, k), op(B) is (k, n), C is (m, n).
//   A is stored (m, lda>=k) when !trans_a, (k, lda>=m) when trans_a; likewise B.
// beta == 0 means C is overwritten (its old contents, even NaN, are ignored), as in BLAS.
// This is the single place the fast path lives (packing, blocking, SIMD, OpenMP);
// everything else (matmul, linear, conv via im2col) goes through it. Its pointer arguments
// are required and not checked (the hot path; ops check their tensors first).
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

// ---- a GEMM whose B is never stored ------------------------------------------------------
// For implicit-GEMM convolution: B's packed slivers are filled by a callback that reads them
// from wherever B's values live (an image, through the convolution's index math), so no
// im2col buffer exists; A is packed once per call.

// Fills one NR-column sliver of B: dst[p*nr + j] = B(k0 + p, j0 + j) for p < k1 - k0 and
// j < j1 - j0, and 0 for j1 - j0 <= j < nr. Called from several threads at once.
typedef void (*cg_gemm_pack_b_fn)(const void *context, int64_t k0, int64_t k1, int64_t j0,
                                  int64_t j1, int nr, float *dst);

// Floats of workspace cg_gemm_implicit_b needs for these sizes at cg_num_threads() threads.
int64_t cg_gemm_implicit_workspace(int64_t m, int64_t n, int64_t k);

// C = alpha * A * B + beta * C, A (m, k) row-major (lda >= k), B (k, n) given by pack_b,
// C (m, n) (ldc >= n); beta == 0 overwrites C. Threaded over C's columns (serially inside a
// parallel region). workspace (64-byte aligned, as cg_alloc's) holds cg_gemm_implicit_workspace(m,
// n, k) floats (the caller allocates it, so nothing is allocated here and nothing can fail).
void cg_gemm_implicit_b(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                        cg_gemm_pack_b_fn pack_b, const void *context, float beta, float *c,
                        int64_t ldc, float *workspace);

#endif
