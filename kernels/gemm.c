// kernels/gemm.c - cg_gemm: packing, cache blocking and threading around a micro-kernel.
//
// The structure is GotoBLAS/BLIS's. For each nc-wide column block of C and kc-deep slice of
// k, a kc x nc panel of op(B) is packed into NR-column slivers; for each mc-high row block,
// an mc x kc block of op(A) is packed into MR-row slivers; then the micro-kernel computes
// every MR x NR tile of that block of C. The packed A block is sized to stay in L2 next to the
// B sliver in use, and the B panel in L3, so the kernel streams both at full speed (each
// kernel file says how its sizes were chosen). Transposes only change how packing
// reads the source, so all four combinations share one path. Edges are handled by packing
// zero-padded tails; only the kernel's store looks at the real tile size.
#include "gemm.h"

#include "../tensor/alloc.h"
#include "../tensor/error.h"
#include "gemm_kernels_internal.h"
#include "simd_clones.h"
#include "../tensor/parallel.h"

#ifdef CG_USE_CBLAS
#include <cblas.h>
#endif

// Below this many multiply-adds the whole call takes ~1 us: forking threads would cost more.
#define SERIAL_MACS (32 * 1024)
// Each extra thread must get at least this much work (~1-2 us) to pay for its part of a
// job and of the packing it repeats. Measured at 2 threads: 64^3 (262K multiply-adds) ran
// at 185-204 GFLOP/s split in two against 230-241 on one thread; the small CNN's Linear
// GEMMs (501K) went from 27 to 15 us split.
#define MIN_MACS_PER_THREAD (192 * 1024)

// One call's operands; each thread works on a row/column range of the same problem.
typedef struct gemm_problem {
    const cg_gemm_kernel *kernel;
    bool trans_a, trans_b;
    int64_t m, n, k;
    float alpha, beta;
    const float *a, *b;
    float *c;
    int64_t lda, ldb, ldc;
} gemm_problem;

typedef struct range {
    int64_t begin, end;
} range;

static int64_t min64(int64_t x, int64_t y) {
    return x < y ? x : y;
}
static int64_t ceil_div(int64_t x, int64_t y) {
    return (x + y - 1) / y;
}
static int64_t round_up(int64_t x, int64_t y) {
    return ceil_div(x, y) * y;
}

// Splits length into equal blocks of at most max_block (a multiple of unit), so a length just
// over max_block gives two half blocks rather than a full one and a sliver.
static int64_t balanced_block(int64_t length, int64_t max_block, int64_t unit) {
    int64_t blocks = ceil_div(length, max_block);
    return min64(round_up(ceil_div(length, blocks), unit), max_block);
}

// ---- packing -------------------------------------------------------------------------------

// Per-thread packing buffers, grown and never shrunk: steady-state calls allocate nothing
// (first-touching fresh pages costs more than a small GEMM on this kind of VM).
typedef struct pack_buffer {
    float *data;
    int64_t capacity;
} pack_buffer;
static _Thread_local pack_buffer packed_a_buffer, packed_b_buffer;

static float *reserve(pack_buffer *buffer, int64_t floats) {
    if (floats > buffer->capacity) {
        // Whole cache lines: the slivers start on 64-byte boundaries anyway.
        floats = round_up(floats, 16);
        cg_dealloc(buffer->data);
        buffer->data = cg_alloc((size_t)floats * sizeof(float));
        buffer->capacity = buffer->data ? floats : 0;
    }
    return buffer->data;
}

// See cg_gemm_pack_transposed. Reads each stored row contiguously and writes it strided
// into the sliver; kernels with wide registers replace this with in-register transposes.
static void transpose_pack(const cg_gemm_kernel *kernel, const float *src, int64_t ld, int rows,
                           int64_t kc, int width, float *dst) {
    if (kernel->pack_transposed) {
        kernel->pack_transposed(src, ld, rows, kc, width, dst);
        return;
    }
    for (int r = 0; r < rows; r++)
        for (int64_t p = 0; p < kc; p++) dst[p * width + r] = src[r * ld + p];
    for (int r = rows; r < width; r++)
        for (int64_t p = 0; p < kc; p++) dst[p * width + r] = 0.0f;
}

// Packs op(A)[rows, cols] into MR-row slivers: dst[s*kc*mr + p*mr + i] = op(A)(rows.begin +
// s*mr + i, cols.begin + p), zero past rows.end.
static void pack_a(const gemm_problem *g, range rows, range cols, float *dst) {
    int mr = g->kernel->mr;
    int64_t kc = cols.end - cols.begin;
    for (int64_t i0 = rows.begin; i0 < rows.end; i0 += mr, dst += kc * mr) {
        int valid = (int)min64(mr, rows.end - i0);
        if (g->trans_a) {
            // A is (k, m): the mr values for one p are contiguous.
            const float *src = g->a + cols.begin * g->lda + i0;
            for (int64_t p = 0; p < kc; p++, src += g->lda) {
                for (int i = 0; i < valid; i++) dst[p * mr + i] = src[i];
                for (int i = valid; i < mr; i++) dst[p * mr + i] = 0.0f;
            }
        } else {
            transpose_pack(g->kernel, g->a + i0 * g->lda + cols.begin, g->lda, valid, kc, mr, dst);
        }
    }
}

// Packs op(B)[rows, cols] into NR-column slivers: dst[s*kc*nr + p*nr + j] = op(B)(rows.begin
// + p, cols.begin + s*nr + j), zero past cols.end.
static void pack_b(const gemm_problem *g, range rows, range cols, float *dst) {
    int nr = g->kernel->nr;
    int64_t kc = rows.end - rows.begin;
    for (int64_t j0 = cols.begin; j0 < cols.end; j0 += nr, dst += kc * nr) {
        int valid = (int)min64(nr, cols.end - j0);
        if (!g->trans_b) {
            // B is (k, n): the nr values for one p are contiguous.
            const float *src = g->b + rows.begin * g->ldb + j0;
            for (int64_t p = 0; p < kc; p++, src += g->ldb) {
                for (int j = 0; j < valid; j++) dst[p * nr + j] = src[j];
                for (int j = valid; j < nr; j++) dst[p * nr + j] = 0.0f;
            }
        } else {
            transpose_pack(g->kernel, g->b + j0 * g->ldb + rows.begin, g->ldb, valid, kc, nr, dst);
        }
    }
}

// ---- blocking ------------------------------------------------------------------------------

// C[rows, cols] (= alpha * packed A * packed B + beta * C) tile by tile. Each B sliver is
// reused across all A slivers while it sits in L1.
static void multiply_packed(const gemm_problem *g, range rows, range cols, int64_t kc,
                            const float *packed_a, const float *packed_b, float beta) {
    const cg_gemm_kernel *kr = g->kernel;
    for (int64_t j = cols.begin; j < cols.end; j += kr->nr) {
        const float *b_sliver = packed_b + (j - cols.begin) * kc;
        int n_valid = (int)min64(kr->nr, cols.end - j);
        for (int64_t i = rows.begin; i < rows.end; i += kr->mr) {
            const float *a_sliver = packed_a + (i - rows.begin) * kc;
            float *c = g->c + i * g->ldc + j;
            int m_valid = (int)min64(kr->mr, rows.end - i);
            kr->run(kc, a_sliver, b_sliver, c, g->ldc, g->alpha, beta, m_valid, n_valid);
        }
    }
}

// The plain loops on C[rows, cols], for when the packing buffers cannot be allocated (already
// reported by cg_alloc): slow, but the answer is still right.
static void reference_part(const gemm_problem *g, range rows, range cols) {
    const float *a = g->a + (g->trans_a ? rows.begin : rows.begin * g->lda);
    const float *b = g->b + (g->trans_b ? cols.begin * g->ldb : cols.begin);
    cg_gemm_reference(g->trans_a, g->trans_b, rows.end - rows.begin, cols.end - cols.begin, g->k,
                      g->alpha, a, g->lda, b, g->ldb, g->beta,
                      g->c + rows.begin * g->ldc + cols.begin, g->ldc);
}

// One thread's share: C[rows, cols] through the full jc/pc/ic loop nest.
static void gemm_part(const gemm_problem *g, range rows, range cols) {
    const cg_gemm_kernel *kr = g->kernel;
    int64_t nc = balanced_block(cols.end - cols.begin, kr->nc, kr->nr);
    int64_t kc = balanced_block(g->k, kr->kc, 1);
    int64_t mc = balanced_block(rows.end - rows.begin, kr->mc, kr->mr);
    float *packed_a = reserve(&packed_a_buffer, round_up(mc, kr->mr) * kc);
    float *packed_b = reserve(&packed_b_buffer, round_up(nc, kr->nr) * kc);
    if (!packed_a || !packed_b) {
        reference_part(g, rows, cols);
        return;
    }
    for (int64_t jc = cols.begin; jc < cols.end; jc += nc) {
        range col_block = {jc, min64(jc + nc, cols.end)};
        for (int64_t pc = 0; pc < g->k; pc += kc) {
            range k_block = {pc, min64(pc + kc, g->k)};
            // Later k slices add to what the first one stored.
            float beta = pc == 0 ? g->beta : 1.0f;
            pack_b(g, k_block, col_block, packed_b);
            for (int64_t ic = rows.begin; ic < rows.end; ic += mc) {
                range row_block = {ic, min64(ic + mc, rows.end)};
                pack_a(g, row_block, k_block, packed_a);
                multiply_packed(g, row_block, col_block, k_block.end - k_block.begin, packed_a,
                                packed_b, beta);
            }
        }
    }
}

// ---- small problems ------------------------------------------------------------------------

// Up to about 128 x 128 x 128 the operands sit in L1/L2 and packing both costs more than
// it saves (it was a third of a 32^3 call; at 128^3 both paths run alike), so the kernel
// reads A and B in place. A transposed B is transposed once into the packing buffer, since
// the kernel loads B's rows.
#define SMALL_MACS     (128 * 128 * 128)
#define SMALL_B_FLOATS (128 * 128) // op(B) must stay in L1/L2 while every row tile rereads it

static bool is_small(const gemm_problem *g) {
    return g->kernel->run_small && g->m * g->n * g->k <= SMALL_MACS &&
           g->k * g->n <= SMALL_B_FLOATS;
}

// C[rows, cols] of a small problem whose op(B) is row-major at b (ldb). Column tiles
// outside, so one NR-wide strip of B stays in L1 across all row tiles.
static void small_part(const gemm_problem *g, const float *b, int64_t ldb, range rows, range cols) {
    const cg_gemm_kernel *kr = g->kernel;
    int64_t a_rs = g->trans_a ? 1 : g->lda, a_cs = g->trans_a ? g->lda : 1;
    // Equal column tiles: n = 64 as 32 + 32, not 48 + 16 (a 16-wide tile does one FMA per
    // broadcast and is bound by loads).
    int64_t width = balanced_block(cols.end - cols.begin, kr->nr, 16);
    for (int64_t j = cols.begin; j < cols.end; j += width) {
        int n_valid = (int)min64(width, cols.end - j);
        for (int64_t i = rows.begin; i < rows.end; i += kr->mr) {
            int m_valid = (int)min64(kr->mr, rows.end - i);
            kr->run_small(g->k, g->a + i * a_rs, a_rs, a_cs, b + j, ldb, g->c + i * g->ldc + j,
                          g->ldc, g->alpha, g->beta, m_valid, n_valid);
        }
    }
}

// op(B) row-major: B itself, or a transposed B copied once into the calling thread's
// packing buffer (the kernel loads B's rows). NULL if that buffer cannot grow.
static const float *small_b(const gemm_problem *g, int64_t *ldb) {
    *ldb = g->ldb;
    if (!g->trans_b) return g->b;
    float *copy = reserve(&packed_b_buffer, g->k * g->n);
    if (copy) transpose_pack(g->kernel, g->b, g->ldb, (int)g->n, g->k, (int)g->n, copy);
    *ldb = g->n;
    return copy;
}

// ---- threading -----------------------------------------------------------------------------

static int threads_for(const gemm_problem *g) {
    int64_t macs = g->m * g->n * g->k;
    // Called from a part of a job (e.g. convolution's per-image loop): the caller already
    // uses every thread.
    if (macs < SERIAL_MACS || cg_in_parallel()) return 1;
    int64_t useful = macs / MIN_MACS_PER_THREAD;
    int threads = cg_num_threads();
    return useful < threads ? (int)(useful > 1 ? useful : 1) : threads;
}

// Part `part` of `parts` of [0, length), cut at multiples of unit so tiles are not split.
static range split(int64_t length, int64_t unit, int part, int parts) {
    int64_t units = ceil_div(length, unit);
    range r = {units * part / parts * unit, units * (part + 1) / parts * unit};
    r.begin = min64(r.begin, length);
    r.end = min64(r.end, length);
    return r;
}

// Cuts C into a row_parts x col_parts grid, one part per thread. Each thread packs the A
// rows and B columns of its part, so the grid with the smallest half-perimeter packs least:
// tall-skinny conv GEMMs (small m, huge n) get split by columns only.
static int choose_row_parts(int64_t m, int64_t n, int threads) {
    int best = 1;
    double best_cost = -1.0;
    for (int rows = 1; rows <= threads; rows++) {
        if (threads % rows) continue;
        double cost = (double)m / rows + (double)n / (threads / rows);
        if (best_cost < 0.0 || cost < best_cost) best = rows, best_cost = cost;
    }
    return best;
}

typedef struct grid_job {
    const gemm_problem *g;
    const float *b; // small problems: op(B) row-major (else NULL: packed)
    int64_t ldb;
    int row_parts, col_parts;
} grid_job;

// One part of the grid: packed (gemm_part), or for a small problem straight from op(B)
// (small_part).
static void grid_part(void *ctx, int64_t id) {
    const grid_job *j = ctx;
    const gemm_problem *g = j->g;
    range rows = split(g->m, g->kernel->mr, (int)(id / j->col_parts), j->row_parts);
    range cols = split(g->n, g->kernel->nr, (int)(id % j->col_parts), j->col_parts);
    if (rows.begin >= rows.end || cols.begin >= cols.end) return;
    if (j->b)
        small_part(g, j->b, j->ldb, rows, cols);
    else
        gemm_part(g, rows, cols);
}

static void gemm_parallel(const gemm_problem *g, const float *b, int64_t ldb, int threads) {
    int row_parts = choose_row_parts(g->m, g->n, threads);
    grid_job j = {g, b, ldb, row_parts, threads / row_parts};
    cg_parallel_parts(threads, grid_part, &j);
}

// ---- entry points --------------------------------------------------------------------------

// C = beta * C, for the cases where op(A)*op(B) contributes nothing.
static void scale_c(int64_t m, int64_t n, float beta, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++)
            c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
}

static bool valid_arguments(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
                            int64_t lda, int64_t ldb, int64_t ldc) {
    if (m < 0 || n < 0 || k < 0) {
        cg_error(CG_ERR_ARG, "gemm: negative size m=%lld n=%lld k=%lld", (long long)m, (long long)n,
                 (long long)k);
        return false;
    }
    int64_t a_cols = trans_a ? m : k, b_cols = trans_b ? k : n;
    if (lda < a_cols || ldb < b_cols || ldc < n) {
        cg_error(CG_ERR_ARG,
                 "gemm: leading dims lda=%lld ldb=%lld ldc=%lld shorter than rows "
                 "of %lld, %lld, %lld",
                 (long long)lda, (long long)ldb, (long long)ldc, (long long)a_cols,
                 (long long)b_cols, (long long)n);
        return false;
    }
    return true;
}

void cg_gemm_with_kernel(const cg_gemm_kernel *kernel, bool trans_a, bool trans_b, int64_t m,
                         int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                         const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (!valid_arguments(trans_a, trans_b, m, n, k, lda, ldb, ldc) || m == 0 || n == 0) return;
    // As in BLAS, alpha == 0 does not read A or B.
    if (k == 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    gemm_problem g = {kernel, trans_a, trans_b, m, n, k, alpha, beta, a, b, c, lda, ldb, ldc};
    int threads = threads_for(&g);
    int64_t small_ldb = 0;
    const float *small = is_small(&g) ? small_b(&g, &small_ldb) : NULL;
    if (threads > 1)
        gemm_parallel(&g, small, small_ldb, threads);
    else if (small)
        small_part(&g, small, small_ldb, (range){0, m}, (range){0, n});
    else
        gemm_part(&g, (range){0, m}, (range){0, n});
}

void cg_gemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
             const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
             int64_t ldc) {
#ifdef CG_USE_CBLAS
    if (!valid_arguments(trans_a, trans_b, m, n, k, lda, ldb, ldc) || m == 0 || n == 0) return;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k, alpha, a, (int)lda, b,
                (int)ldb, beta, c, (int)ldc);
#else
    cg_gemm_with_kernel(cg_gemm_select_kernel(), trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb,
                        beta, c, ldc);
#endif
}

void cg_gemm_reference(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                       const float *a, int64_t lda, const float *b, int64_t ldb, float beta,
                       float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; i++) {
        for (int64_t j = 0; j < n; j++) {
            double sum = 0.0;
            for (int64_t p = 0; p < k; p++) {
                float a_ip = trans_a ? a[p * lda + i] : a[i * lda + p];
                float b_pj = trans_b ? b[j * ldb + p] : b[p * ldb + j];
                sum += (double)a_ip * b_pj;
            }
            float *cij = &c[i * ldc + j];
            *cij = beta == 0.0f ? (float)(alpha * sum) : (float)(alpha * sum + beta * *cij);
        }
    }
}

// ---- B packed by the caller ----------------------------------------------------------------

// The k slice of the implicit path: its conv GEMMs are narrow (m = output channels per
// group), so B slivers are reread from L1/L2 by few A slivers; 256 measured 3-5% faster
// than the kernels' 768 on the conv configs (128 was slower).
#define IMPLICIT_KC 256

// The blocking of one cg_gemm_implicit_b call: A packed whole (one kc slice after another),
// then a private B panel per thread.
typedef struct implicit_sizes {
    int threads;
    int64_t kc, nc, m_padded, a_floats, panel_floats;
} implicit_sizes;

static implicit_sizes implicit_sizes_of(const cg_gemm_kernel *kr, int64_t m, int64_t n, int64_t k) {
    gemm_problem g = {.kernel = kr, .m = m, .n = n, .k = k};
    implicit_sizes z = {.threads = threads_for(&g)};
    z.kc = balanced_block(k > 0 ? k : 1, IMPLICIT_KC < kr->kc ? IMPLICIT_KC : kr->kc, 1);
    z.nc = balanced_block(n > 0 ? ceil_div(n, z.threads) : 1, kr->nc, kr->nr);
    z.m_padded = round_up(m, kr->mr);
    // Whole cache lines: the kernels load the packed B slivers with aligned loads.
    z.a_floats = round_up(z.m_padded * k, 16);
    z.panel_floats = round_up(round_up(z.nc, kr->nr) * z.kc, 16);
    return z;
}

int64_t cg_gemm_implicit_workspace(int64_t m, int64_t n, int64_t k) {
    implicit_sizes z = implicit_sizes_of(cg_gemm_select_kernel(), m, n, k);
    return z.a_floats + z.threads * z.panel_floats;
}

// One thread's columns: the usual jc/pc/ic nest, with B's slivers from the callback and A's
// blocks already packed (slice pc starts at pc * m_padded, row block ic at ic * kc there).
static void implicit_part(const gemm_problem *g, const implicit_sizes *z, cg_gemm_pack_b_fn pack_b,
                          const void *context, const float *packed_a, float *packed_b, range cols) {
    const cg_gemm_kernel *kr = g->kernel;
    for (int64_t jc = cols.begin; jc < cols.end; jc += z->nc) {
        range col_block = {jc, min64(jc + z->nc, cols.end)};
        for (int64_t pc = 0; pc < g->k; pc += z->kc) {
            int64_t pe = min64(pc + z->kc, g->k), kcb = pe - pc;
            for (int64_t j = col_block.begin; j < col_block.end; j += kr->nr)
                pack_b(context, pc, pe, j, min64(j + kr->nr, col_block.end), kr->nr,
                       packed_b + (j - col_block.begin) * kcb);
            float beta = pc == 0 ? g->beta : 1.0f;
            for (int64_t ic = 0; ic < g->m; ic += kr->mc) {
                range rows = {ic, min64(ic + kr->mc, g->m)};
                multiply_packed(g, rows, col_block, kcb, packed_a + pc * z->m_padded + ic * kcb,
                                packed_b, beta);
            }
        }
    }
}

typedef struct implicit_job {
    const gemm_problem *g;
    const implicit_sizes *z;
    cg_gemm_pack_b_fn pack_b;
    const void *context;
    float *workspace; // packed A, then one panel buffer per part
} implicit_job;

// Columns part `id` of z->threads, with that part's own panel buffer.
static void implicit_column_part(void *ctx, int64_t id) {
    const implicit_job *j = ctx;
    range cols = split(j->g->n, j->g->kernel->nr, (int)id, j->z->threads);
    float *panels = j->workspace + j->z->a_floats + id * j->z->panel_floats;
    if (cols.begin < cols.end)
        implicit_part(j->g, j->z, j->pack_b, j->context, j->workspace, panels, cols);
}

void cg_gemm_implicit_b(int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                        cg_gemm_pack_b_fn pack_b, const void *context, float beta, float *c,
                        int64_t ldc, float *workspace) {
    if (!valid_arguments(false, false, m, n, k, lda, n, ldc) || m == 0 || n == 0) return;
    if (k == 0 || alpha == 0.0f) {
        scale_c(m, n, beta, c, ldc);
        return;
    }
    const cg_gemm_kernel *kr = cg_gemm_select_kernel();
    implicit_sizes z = implicit_sizes_of(kr, m, n, k);
    gemm_problem g = {kr, false, false, m, n, k, alpha, beta, a, NULL, c, lda, 0, ldc};
    for (int64_t pc = 0; pc < k; pc += z.kc)
        pack_a(&g, (range){0, m}, (range){pc, min64(pc + z.kc, k)}, workspace + pc * z.m_padded);
    implicit_job j = {&g, &z, pack_b, context, workspace};
    cg_parallel_parts(z.threads, implicit_column_part, &j);
}

int cg_gemm_available_kernels(const cg_gemm_kernel *kernels[3]) {
    int count = 0;
#if CG_X86_SIMD
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
        kernels[count++] = &cg_gemm_kernel_avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        kernels[count++] = &cg_gemm_kernel_avx2;
#endif
    kernels[count++] = &cg_gemm_kernel_portable;
    return count;
}

const cg_gemm_kernel *cg_gemm_select_kernel(void) {
    const cg_gemm_kernel *kernels[3];
    cg_gemm_available_kernels(kernels);
    return kernels[0];
}

const char *cg_gemm_kernel_name(void) {
#ifdef CG_USE_CBLAS
    return "cblas";
#else
    return cg_gemm_select_kernel()->name;
#endif
}
