// kernels/gemm_kernels_internal.h - the micro-kernels behind cg_gemm, one per instruction set.
//
// A micro-kernel multiplies one packed MR-row sliver of A by one packed NR-column sliver of B
// and merges the MR x NR result into C. Packing (in gemm.c) lays the slivers out so the kernel
// reads both with unit stride:
//   a_packed: k groups of MR floats, a_packed[p*MR + i] = op(A)(i, p)
//   b_packed: k groups of NR floats, b_packed[p*NR + j] = op(B)(p, j)
// Rows/columns past the matrix edge are zero in the packed slivers, so the kernel always
// computes a full tile and only its store looks at m_valid/n_valid.
#ifndef CG_GEMM_KERNELS_INTERNAL_H
#define CG_GEMM_KERNELS_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

// c[0:m_valid, 0:n_valid] = alpha * a_packed*b_packed + beta * c; beta == 0 never reads c.
typedef void (*cg_gemm_micro_kernel)(int64_t k, const float *a_packed, const float *b_packed,
                                     float *c, int64_t ldc, float alpha, float beta, int m_valid,
                                     int n_valid);

// The same tile read straight from the operands, for problems small enough that packing
// would cost as much as the multiply: op(A)(i, p) = a[i*a_row_stride + p*a_col_stride] and
// op(B)(p, j) = b[p*ldb + j] (rows of B contiguous). Reads nothing past row m_valid of A or
// column n_valid of B.
typedef void (*cg_gemm_small_kernel)(int64_t k, const float *a, int64_t a_row_stride,
                                     int64_t a_col_stride, const float *b, int64_t ldb, float *c,
                                     int64_t ldc, float alpha, float beta, int m_valid,
                                     int n_valid);

// The row pointers of a cg_gemm_small_kernel tile: rows past m_valid repeat the last real
// row, so every broadcast reads inside A (their results are never stored).
static inline void cg_gemm_small_rows(const float *a, int64_t a_row_stride, int mr, int m_valid,
                                      const float **row) {
    for (int i = 0; i < mr; i++) row[i] = a + (i < m_valid ? i : m_valid - 1) * a_row_stride;
}

// Packs a block whose packed order is the transpose of its stored order (A not transposed,
// B transposed): dst[p*width + r] = src[r*ld + p] for r < rows and p < kc, zero for
// rows <= r < width.
typedef void (*cg_gemm_pack_transposed)(const float *src, int64_t ld, int rows, int64_t kc,
                                        int width, float *dst);

// A micro-kernel with the tile and cache-block sizes it was tuned with.
typedef struct cg_gemm_kernel {
    const char *name;
    cg_gemm_micro_kernel run;
    cg_gemm_pack_transposed pack_transposed; // NULL: gemm.c's scalar loop
    cg_gemm_small_kernel run_small;          // NULL: small problems are packed too
    int mr, nr;                              // register tile
    int64_t mc, kc, nc;                      // cache blocks of A (mc x kc) and B (kc x nc)
} cg_gemm_kernel;

extern const cg_gemm_kernel cg_gemm_kernel_avx512;
extern const cg_gemm_kernel cg_gemm_kernel_avx2;
extern const cg_gemm_kernel cg_gemm_kernel_portable;

// The kernel cg_gemm picks for this CPU.
const cg_gemm_kernel *cg_gemm_select_kernel(void);

// The kernels this CPU can run, fastest first (at most 3); returns how many.
int cg_gemm_available_kernels(const cg_gemm_kernel *kernels[3]);

// cg_gemm with a given kernel, so tests can check every kernel the CPU can run.
void cg_gemm_with_kernel(const cg_gemm_kernel *kernel, bool trans_a, bool trans_b, int64_t m,
                         int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                         const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

#endif
