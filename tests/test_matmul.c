// tests/test_matmul.c - cg_matmul in every torch.matmul case against PyTorch
// (tests/fixtures/tensor_ops.txt), plus larger odd sizes against a double-precision loop so
// the blocked GEMM's edge handling is exercised.
#include <math.h>
#include <stdlib.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "tensor_ops.txt"

static cg_tensor *run_matmul(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return cg_matmul(in[0], in[1]);
}

// Dot products of up to 5 terms: summation order may differ from PyTorch's.
static const cg_test_tolerance MATMUL_TOL = {1e-5, 1e-5, 1e-4, 1e-5};

static const cg_test_op OPS[] = {
    {"matmul", FIXTURE, 2, {"a", "b"}, run_matmul, &MATMUL_TOL},
};

// C = A B in double for A (m,k), B (k,n).
static cg_tensor *reference_matmul(const cg_tensor *a, const cg_tensor *b) {
    int64_t m = a->shape[0], k = a->shape[1], n = b->shape[1];
    cg_tensor *c = cg_zeros(CG_SHAPE(m, n));
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double acc = 0;
            for (int64_t p = 0; p < k; p++) acc += (double)a->data[i * k + p] * b->data[p * n + j];
            c->data[i * n + j] = (float)acc;
        }
    return c;
}

// Sizes that are not multiples of any register block or cache tile.
static void test_matmul_odd_sizes(void **state) {
    (void)state;
    const int64_t sizes[][3] = {{1, 1, 1},     {7, 5, 3},   {37, 53, 29}, {64, 64, 64},
                                {65, 17, 129}, {3, 300, 2}, {130, 1, 70}, {200, 300, 150}};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        cg_scope_begin();
        int64_t m = sizes[s][0], k = sizes[s][1], n = sizes[s][2];
        cg_tensor *a = cg_randn(CG_SHAPE(m, k), NULL);
        cg_tensor *b = cg_randn(CG_SHAPE(k, n), NULL);
        char what[64];
        snprintf(what, sizeof what, "matmul [%lld,%lld]x[%lld,%lld]", (long long)m, (long long)k,
                 (long long)k, (long long)n);
        // Float32 accumulation of k terms of size ~1: error grows like sqrt(k) ulp.
        cg_assert_close(cg_matmul(a, b), reference_matmul(a, b), 1e-4, 1e-4 * sqrt((double)k),
                        what);
        cg_scope_end();
    }
}

// Gradients of a larger product: dA = G B^T, dB = A^T G, computed independently with the
// double loop.
static void test_matmul_grad_formula(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *a = cg_requires_grad(cg_randn(CG_SHAPE(19, 23), NULL), true);
    cg_tensor *b = cg_requires_grad(cg_randn(CG_SHAPE(23, 11), NULL), true);
    cg_tensor *g = cg_randn(CG_SHAPE(19, 11), NULL);
    cg_tensor *c = cg_matmul(a, b);
    assert_int_equal(cg_backward_ex(c, g, false), 0);
    cg_tensor *bt = cg_transpose(cg_detach(b), 0, 1);
    cg_tensor *at = cg_transpose(cg_detach(a), 0, 1);
    cg_assert_close(a->grad, reference_matmul(g, bt), 1e-4, 1e-4, "dA = G B^T");
    cg_assert_close(b->grad, reference_matmul(at, g), 1e-4, 1e-4, "dB = A^T G");
    cg_scope_end();
}

// Batched with broadcasting: every batch entry equals the 2-D product of its slices.
static void test_matmul_batch_broadcast_slices(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *a = cg_randn(CG_SHAPE(3, 1, 4, 5), NULL);
    cg_tensor *b = cg_randn(CG_SHAPE(2, 5, 6), NULL);
    cg_tensor *c = cg_matmul(a, b);
    assert_non_null(c);
    assert_int_equal(c->ndim, 4);
    assert_true(c->shape[0] == 3 && c->shape[1] == 2 && c->shape[2] == 4 && c->shape[3] == 6);
    for (int64_t i = 0; i < 3; i++)
        for (int64_t j = 0; j < 2; j++) {
            cg_tensor *ai = cg_from_data(CG_SHAPE(4, 5), a->data + i * 20);
            cg_tensor *bj = cg_from_data(CG_SHAPE(5, 6), b->data + j * 30);
            cg_tensor *cij = cg_from_data(CG_SHAPE(4, 6), c->data + (i * 2 + j) * 24);
            cg_assert_close(cij, reference_matmul(ai, bj), 1e-5, 1e-5, "batch slice");
        }
    cg_scope_end();
}

// The fast GEMM agrees with the reference loop for all transpose flags and alpha/beta.
static void test_gemm_against_reference(void **state) {
    (void)state;
    const int64_t m = 33, n = 45, k = 27;
    cg_rng rng;
    cg_rng_seed(&rng, 99);
    float *a = malloc(sizeof(float) * m * k), *b = malloc(sizeof(float) * k * n);
    float *c1 = malloc(sizeof(float) * m * n), *c2 = malloc(sizeof(float) * m * n);
    for (int64_t i = 0; i < m * k; i++) a[i] = cg_rng_normal(&rng);
    for (int64_t i = 0; i < k * n; i++) b[i] = cg_rng_normal(&rng);
    for (int flags = 0; flags < 4; flags++) {
        bool ta = flags & 1, tb = flags & 2;
        for (int64_t i = 0; i < m * n; i++) c1[i] = c2[i] = cg_rng_normal(&rng);
        cg_gemm(ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 2.0f, c1, n);
        cg_gemm_reference(ta, tb, m, n, k, 0.5f, a, ta ? m : k, b, tb ? k : n, 2.0f, c2, n);
        for (int64_t i = 0; i < m * n; i++)
            if (fabsf(c1[i] - c2[i]) > 1e-4f * (1 + fabsf(c2[i])))
                fail_msg("gemm (%s) trans_a=%d trans_b=%d: c[%lld] = %.9g, reference %.9g",
                         cg_gemm_kernel_name(), ta, tb, (long long)i, c1[i], c2[i]);
    }
    // beta = 0 ignores NaN in C (BLAS convention, documented in tensor/gemm.h).
    for (int64_t i = 0; i < m * n; i++) c1[i] = NAN;
    cg_gemm(false, false, m, n, k, 1.0f, a, k, b, n, 0.0f, c1, n);
    for (int64_t i = 0; i < m * n; i++) assert_false(isnan(c1[i]));
    free(a);
    free(b);
    free(c1);
    free(c2);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cg_test_op_unit_test(&OPS[0]),
        cmocka_unit_test_teardown(test_matmul_odd_sizes, cg_test_teardown),
        cmocka_unit_test_teardown(test_matmul_grad_formula, cg_test_teardown),
        cmocka_unit_test_teardown(test_matmul_batch_broadcast_slices, cg_test_teardown),
        cmocka_unit_test_teardown(test_gemm_against_reference, cg_test_teardown),
    };
    cg_manual_seed(11);
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("matmul", tests, NULL, NULL);
}
