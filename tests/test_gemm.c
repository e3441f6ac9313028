// tests/test_gemm.c - cg_gemm (every kernel this CPU runs) against cg_gemm_reference.
//
// Sizes cover 1, primes, both sides of each kernel's MR/NR tile and of its MC/KC/NC cache
// blocks, all four transpose combinations, padded leading dimensions, alpha/beta variants
// (beta == 0 on a NaN-filled C) and 1 and 2 threads; and cg_gemm_implicit_b (B packed by a
// callback) on sizes across its k slice and the MC/NC blocks.

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "kernels/gemm.h"
#include "kernels/gemm_kernels_internal.h"

// A value padding entries of C (between n and ldc) must keep.
#define SENTINEL 12345.0f

typedef struct gemm_case {
    bool trans_a, trans_b;
    int64_t m, n, k;
    float alpha, beta;
    int64_t pad_a, pad_b, pad_c; // extra elements per stored row
} gemm_case;

static uint32_t rng_state = 12345u;

static float random_uniform(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
}

static float *random_buffer(int64_t count) {
    float *x = malloc((size_t)(count > 0 ? count : 1) * sizeof(float));
    for (int64_t i = 0; i < count; i++) x[i] = random_uniform();
    return x;
}

typedef struct operands {
    float *a, *b, *c, *c_expected, *c_start;
    int64_t lda, ldb, ldc, a_rows, b_rows;
} operands;

static operands make_operands(const gemm_case *t) {
    operands o;
    o.lda = (t->trans_a ? t->m : t->k) + t->pad_a;
    o.ldb = (t->trans_b ? t->k : t->n) + t->pad_b;
    o.ldc = t->n + t->pad_c;
    o.a_rows = t->trans_a ? t->k : t->m;
    o.b_rows = t->trans_b ? t->n : t->k;
    o.a = random_buffer(o.a_rows * o.lda);
    o.b = random_buffer(o.b_rows * o.ldb);
    o.c_start = random_buffer(t->m * o.ldc);
    for (int64_t i = 0; i < t->m; i++)
        for (int64_t j = 0; j < o.ldc; j++) {
            float *x = &o.c_start[i * o.ldc + j];
            // beta == 0 must ignore C entirely, so give it NaN to prove it does.
            if (j >= t->n)
                *x = SENTINEL;
            else if (t->beta == 0.0f)
                *x = NAN;
        }
    size_t c_bytes = (size_t)(t->m * o.ldc > 0 ? t->m * o.ldc : 1) * sizeof(float);
    o.c = malloc(c_bytes);
    o.c_expected = malloc(c_bytes);
    memcpy(o.c, o.c_start, c_bytes);
    memcpy(o.c_expected, o.c_start, c_bytes);
    return o;
}

static void free_operands(operands *o) {
    free(o->a);
    free(o->b);
    free(o->c);
    free(o->c_expected);
    free(o->c_start);
}

// Rounding error bound for one element: float accumulation over k terms errs by at most
// about k * eps * sum |a_ip b_pj| (plus one rounding each for alpha, beta and the add).
static double error_bound(const gemm_case *t, const operands *o, int64_t i, int64_t j) {
    double magnitude = 0.0;
    for (int64_t p = 0; p < t->k; p++) {
        float a_ip = t->trans_a ? o->a[p * o->lda + i] : o->a[i * o->lda + p];
        float b_pj = t->trans_b ? o->b[j * o->ldb + p] : o->b[p * o->ldb + j];
        magnitude += fabs((double)a_ip * b_pj);
    }
    double start = t->beta == 0.0f ? 0.0 : fabs((double)t->beta * o->c_start[i * o->ldc + j]);
    return (double)(t->k + 4) * FLT_EPSILON * (fabs((double)t->alpha) * magnitude + start) + 1e-30;
}

static void describe(const gemm_case *t, const char *kernel, int threads, char *out, size_t n) {
    snprintf(out, n, "%s %d thr %c%c m=%lld n=%lld k=%lld alpha=%g beta=%g pad=%lld,%lld,%lld",
             kernel, threads, t->trans_a ? 'T' : 'N', t->trans_b ? 'T' : 'N', (long long)t->m,
             (long long)t->n, (long long)t->k, t->alpha, t->beta, (long long)t->pad_a,
             (long long)t->pad_b, (long long)t->pad_c);
}

static void check_element(const gemm_case *t, const operands *o, int64_t i, int64_t j,
                          const char *what) {
    float got = o->c[i * o->ldc + j], want = o->c_expected[i * o->ldc + j];
    if (j >= t->n) {
        if (got != SENTINEL)
            fail_msg("%s: wrote padding C[%lld][%lld]", what, (long long)i, (long long)j);
        return;
    }
    double bound = error_bound(t, o, i, j);
    if (!(fabs((double)got - want) <= bound))
        fail_msg("%s: C[%lld][%lld] = %.9g, want %.9g (bound %.3g)", what, (long long)i,
                 (long long)j, got, want, bound);
}

// Runs one case through `kernel` with `threads` threads and compares with the reference.
static void check_case(const cg_gemm_kernel *kernel, const gemm_case *t, int threads) {
    operands o = make_operands(t);
    cg_gemm_reference(t->trans_a, t->trans_b, t->m, t->n, t->k, t->alpha, o.a, o.lda, o.b, o.ldb,
                      t->beta, o.c_expected, o.ldc);
    cg_set_num_threads(threads);
    if (kernel)
        cg_gemm_with_kernel(kernel, t->trans_a, t->trans_b, t->m, t->n, t->k, t->alpha, o.a, o.lda,
                            o.b, o.ldb, t->beta, o.c, o.ldc);
    else
        cg_gemm(t->trans_a, t->trans_b, t->m, t->n, t->k, t->alpha, o.a, o.lda, o.b, o.ldb, t->beta,
                o.c, o.ldc);
    cg_set_num_threads(0);
    char what[200];
    describe(t, kernel ? kernel->name : "cg_gemm", threads, what, sizeof what);
    for (int64_t i = 0; i < t->m; i++)
        for (int64_t j = 0; j < o.ldc; j++) check_element(t, &o, i, j, what);
    free_operands(&o);
}

// The case under every available kernel, all four transpose combinations, 1 and 2 threads;
// kernels with a small-problem path also run without it, so the packed path is checked at
// small sizes too.
static void check_everywhere(gemm_case t) {
    const cg_gemm_kernel *kernels[3];
    int count = cg_gemm_available_kernels(kernels);
    for (int combo = 0; combo < 4; combo++) {
        t.trans_a = combo & 1;
        t.trans_b = combo >> 1;
        for (int threads = 1; threads <= 2; threads++)
            for (int i = 0; i < count; i++) {
                check_case(kernels[i], &t, threads);
                if (!kernels[i]->run_small) continue;
                cg_gemm_kernel packed_only = *kernels[i];
                packed_only.run_small = NULL;
                check_case(&packed_only, &t, threads);
            }
    }
}

static gemm_case plain(int64_t m, int64_t n, int64_t k) {
    return (gemm_case){.m = m, .n = n, .k = k, .alpha = 1.0f, .beta = 0.0f};
}

static void test_small_sizes(void **state) {
    (void)state;
    static const int64_t sizes[] = {1, 2, 3, 5, 7, 8, 13, 17};
    for (size_t i = 0; i < 8; i++)
        for (size_t j = 0; j < 8; j++)
            for (size_t p = 0; p < 8; p++) check_everywhere(plain(sizes[i], sizes[j], sizes[p]));
}

// Both sides of every kernel's tile sizes (4x8, 6x16, 8x48) and their multiples.
static void test_tile_edges(void **state) {
    (void)state;
    static const int64_t rows[] = {3, 4, 5, 6, 7, 8, 9, 12, 13, 15, 16, 17, 23, 24, 25, 43};
    static const int64_t cols[] = {7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 48, 49, 95, 96, 97};
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        for (size_t j = 0; j < sizeof cols / sizeof cols[0]; j++)
            check_everywhere(plain(rows[i], cols[j], 11));
}

// Around the small-problem limits (128^3 multiply-adds, a 128 x 128 op(B)), with a padded
// operand, which the in-place path reads with its stride.
static void test_small_path_limits(void **state) {
    (void)state;
    check_everywhere(plain(128, 128, 128));
    check_everywhere(plain(129, 128, 128));
    check_everywhere(plain(200, 60, 150));
    // The small CNN's Linear(784, 10) on a batch of 64: forward, input and weight gradient
    // shapes; at 2 threads the in-place path runs split between the threads.
    check_everywhere(plain(64, 10, 784));
    check_everywhere(plain(64, 784, 10));
    check_everywhere(plain(10, 784, 64));
    gemm_case t = plain(33, 65, 31);
    t.pad_a = 3;
    t.pad_b = 5;
    t.beta = 0.5f;
    check_everywhere(t);
}

// Both sides of the cache blocks: k slices (beta applies only to the first), row blocks and
// column blocks, with the threshold sizes large enough to take the threaded path.
static void test_block_edges(void **state) {
    (void)state;
    static const int64_t ks[] = {255, 256, 257, 767, 768, 769, 1537};
    for (size_t p = 0; p < sizeof ks / sizeof ks[0]; p++) {
        gemm_case t = plain(19, 37, ks[p]);
        t.beta = 0.5f;
        check_everywhere(t);
    }
    static const int64_t ms[] = {127, 128, 129, 143, 144, 145, 289};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) check_everywhere(plain(ms[i], 45, 9));
    check_everywhere(plain(3, 1537, 5));
    check_everywhere(plain(3, 2049, 5));
    check_everywhere(plain(2, 4097, 3));
}

static void test_leading_dimensions(void **state) {
    (void)state;
    gemm_case t = plain(23, 41, 19);
    t.beta = 1.0f;
    for (int pad = 1; pad <= 17; pad += 8) {
        t.pad_a = pad;
        t.pad_b = pad + 3;
        t.pad_c = pad + 1;
        check_everywhere(t);
    }
}

static void test_alpha_beta(void **state) {
    (void)state;
    static const float alphas[] = {1.0f, -0.5f, 2.0f};
    static const float betas[] = {0.0f, 1.0f, -1.5f, 0.25f};
    for (size_t i = 0; i < 3; i++)
        for (size_t j = 0; j < 4; j++) {
            gemm_case t = plain(29, 35, 30);
            t.alpha = alphas[i];
            t.beta = betas[j];
            check_everywhere(t);
        }
}

// Shapes big enough to use two threads: tall-skinny im2col conv shapes and square ones.
static void test_threaded_shapes(void **state) {
    (void)state;
    check_everywhere(plain(32, 3000, 27));
    check_everywhere(plain(64, 1031, 147));
    gemm_case t = plain(131, 127, 401);
    t.beta = -1.0f;
    check_everywhere(t);
    check_everywhere(plain(1, 5000, 300));
    check_everywhere(plain(5000, 1, 300));
}

// alpha == 0 or k == 0: C = beta * C, and beta == 0 clears NaN.
static void test_degenerate(void **state) {
    (void)state;
    gemm_case t = plain(5, 6, 0);
    check_everywhere(t);
    t.beta = 3.0f;
    check_everywhere(t);
    t = plain(5, 6, 7);
    t.alpha = 0.0f;
    check_everywhere(t);
    t.beta = 2.0f;
    check_everywhere(t);
    check_everywhere(plain(0, 6, 7));
    check_everywhere(plain(5, 0, 7));
}

// The public entry point with the kernel it picks for this CPU.
static void test_public_entry(void **state) {
    (void)state;
    const char *name = cg_gemm_kernel_name();
    assert_non_null(name);
    assert_true(strlen(name) > 0);
    gemm_case t = plain(70, 90, 100);
    t.trans_b = true;
    t.beta = 0.5f;
    check_case(NULL, &t, 1);
    check_case(NULL, &t, 2);
}

static void test_num_threads(void **state) {
    (void)state;
    int initial = cg_num_threads();
    assert_true(initial >= 1);
    cg_set_num_threads(3);
    assert_int_equal(cg_num_threads(), 3);
    cg_set_num_threads(0);
    assert_int_equal(cg_num_threads(), initial);
    cg_set_num_threads(-2);
    assert_int_equal(cg_num_threads(), initial);
}

// cg_gemm_implicit_b's callback for a B stored (k, n) with row stride ldb: the sliver copied
// from it, zero past j1.
typedef struct stored_b {
    const float *b;
    int64_t ldb;
} stored_b;

static void pack_stored(const void *context, int64_t k0, int64_t k1, int64_t j0, int64_t j1, int nr,
                        float *dst) {
    const stored_b *s = context;
    for (int64_t p = k0; p < k1; p++, dst += nr)
        for (int j = 0; j < nr; j++) dst[j] = j0 + j < j1 ? s->b[p * s->ldb + j0 + j] : 0.0f;
}

static void check_implicit(const gemm_case *t, int threads) {
    operands o = make_operands(t);
    cg_gemm_reference(false, false, t->m, t->n, t->k, t->alpha, o.a, o.lda, o.b, o.ldb, t->beta,
                      o.c_expected, o.ldc);
    cg_set_num_threads(threads);
    int64_t floats = cg_gemm_implicit_workspace(t->m, t->n, t->k);
    float *workspace = cg_alloc((size_t)(floats > 0 ? floats : 1) * sizeof(float));
    assert_non_null(workspace);
    stored_b s = {o.b, o.ldb};
    cg_gemm_implicit_b(t->m, t->n, t->k, t->alpha, o.a, o.lda, pack_stored, &s, t->beta, o.c, o.ldc,
                       workspace);
    cg_dealloc(workspace);
    cg_set_num_threads(0);
    char what[200];
    describe(t, "implicit_b", threads, what, sizeof what);
    for (int64_t i = 0; i < t->m; i++)
        for (int64_t j = 0; j < o.ldc; j++) check_element(t, &o, i, j, what);
    free_operands(&o);
}

// Tiles and edges, two k slices (k > 256), more rows than MC (144), more columns than NC
// per thread, padded leading dimensions, alpha/beta, 1 and 2 threads.
static void test_implicit_b(void **state) {
    (void)state;
    const int64_t sizes[][3] = {{1, 1, 1},       {7, 13, 5},     {8, 48, 16}, {64, 784, 288},
                                {150, 100, 300}, {33, 3100, 70}, {5, 0, 3},   {4, 6, 0}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (int threads = 1; threads <= 2; threads++) {
            gemm_case t = plain(sizes[i][0], sizes[i][1], sizes[i][2]);
            check_implicit(&t, threads);
            t.alpha = 2.0f, t.beta = 0.5f, t.pad_a = 3, t.pad_b = 5, t.pad_c = 2;
            check_implicit(&t, threads);
        }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_sizes), cmocka_unit_test(test_tile_edges),
        cmocka_unit_test(test_block_edges), cmocka_unit_test(test_leading_dimensions),
        cmocka_unit_test(test_alpha_beta),  cmocka_unit_test(test_threaded_shapes),
        cmocka_unit_test(test_degenerate),  cmocka_unit_test(test_public_entry),
        cmocka_unit_test(test_num_threads), cmocka_unit_test(test_small_path_limits),
        cmocka_unit_test(test_implicit_b),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
