// tests/test_norm_kernels.c - the loops of kernels/norm.c against a double-precision
// reference written from the definitions (two-pass mean and variance, the closed-form
// backward), for each layout the norms use (batch: across the batch; instance, group: per
// sample; layer: S = 1), planes on both sides of the vector widths and of the threading
// threshold, 1 to 4 threads, with and without weight/bias and the ReLU; the fused forward
// and backward (a statistic at a time) give the separate calls' bits. Also: the
// statistics keep their precision for values far from 0 (where a plain sum of squares
// would not).

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "kernels/norm.h"

static uint32_t rng_state = 12345u;
static float random_uniform(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
}

static int64_t channel_of(const cg_norm_layout *l, int64_t k) {
    return k / l->S % l->C;
}
static int64_t stat_of(const cg_norm_layout *l, int64_t k) {
    int64_t g = channel_of(l, k) / (l->C / l->G);
    return l->across_batch ? g : k / (l->C * l->S) * l->G + g;
}

static void close_to(double actual, double expected, double tol, const char *what, int64_t i) {
    if (fabs(actual - expected) <= tol * (1.0 + fabs(expected))) return;
    fail_msg("%s[%lld] = %.9g, reference %.9g", what, (long long)i, actual, expected);
}

// The same bits (NaN payloads included).
static void assert_same(const void *a, const void *b, size_t bytes, const char *what) {
    if (memcmp(a, b, bytes) != 0) fail_msg("fused %s differs from the separate calls", what);
}

// cg_norm_forward and cg_norm_backward against the separate calls' results (m, v: the
// statistics; mean, invstd their floats; y; dx, dw, db with the batch's statistics).
static void check_fused(const cg_norm_layout *l, const float *x, const float *dy, const float *W,
                        const float *B, bool relu, const double *m, const double *v,
                        const float *mean, const float *invstd, const float *y, const float *dx,
                        const float *dw, const float *db) {
    int64_t n = l->N * l->C * l->S, ns = cg_norm_stat_count(l);
    double *fm = malloc((size_t)ns * sizeof(double)), *fv = malloc((size_t)ns * sizeof(double));
    float *fs = malloc((size_t)ns * 2 * sizeof(float)), *fy = malloc((size_t)n * sizeof(float));
    float *fdx = malloc((size_t)n * sizeof(float)), *fw = malloc((size_t)l->C * 2 * sizeof(float));
    cg_norm_forward(l, x, 1e-5, W, B, relu, fm, fv, fs, fs + ns, fy);
    assert_same(fm, m, (size_t)ns * sizeof(double), "mean");
    assert_same(fv, v, (size_t)ns * sizeof(double), "var");
    assert_same(fs, mean, (size_t)ns * sizeof(float), "float mean");
    assert_same(fs + ns, invstd, (size_t)ns * sizeof(float), "invstd");
    assert_same(fy, y, (size_t)n * sizeof(float), "y");
    assert_true(
        cg_norm_backward(l, x, dy, relu ? y : NULL, mean, invstd, W, true, fdx, fw, fw + l->C));
    assert_same(fdx, dx, (size_t)n * sizeof(float), "dx");
    assert_same(fw, dw, (size_t)l->C * sizeof(float), "dweight");
    assert_same(fw + l->C, db, (size_t)l->C * sizeof(float), "dbias");
    // dx alone, and the parameters' gradients alone
    assert_true(
        cg_norm_backward(l, x, dy, relu ? y : NULL, mean, invstd, W, true, fdx, NULL, NULL));
    assert_same(fdx, dx, (size_t)n * sizeof(float), "dx alone");
    assert_true(
        cg_norm_backward(l, x, dy, relu ? y : NULL, mean, invstd, W, true, NULL, fw, fw + l->C));
    assert_same(fw, dw, (size_t)l->C * sizeof(float), "dweight alone");
    assert_same(fw + l->C, db, (size_t)l->C * sizeof(float), "dbias alone");
    free(fm), free(fv), free(fs), free(fy), free(fdx), free(fw);
}

// cg_norm_backward with constant statistics against cg_norm_input_grad's dx.
static void check_fused_eval(const cg_norm_layout *l, const float *x, const float *dy,
                             const float *W, const float *relu_y, const float *mean,
                             const float *invstd, const float *dx) {
    int64_t n = l->N * l->C * l->S;
    float *fdx = malloc((size_t)n * sizeof(float));
    assert_true(cg_norm_backward(l, x, dy, relu_y, mean, invstd, W, false, fdx, NULL, NULL));
    assert_same(fdx, dx, (size_t)n * sizeof(float), "dx eval");
    free(fdx);
}

// One layout: forward and backward against the reference.
static void check_layout(const cg_norm_layout *l, bool affine, bool relu) {
    int64_t n = l->N * l->C * l->S, ns = cg_norm_stat_count(l), M = cg_norm_stat_members(l);
    float *x = malloc((size_t)n * sizeof(float)), *dy = malloc((size_t)n * sizeof(float));
    float *y = malloc((size_t)n * sizeof(float)), *dx = malloc((size_t)n * sizeof(float));
    float *w = malloc((size_t)l->C * sizeof(float)), *b = malloc((size_t)l->C * sizeof(float));
    float *mean = malloc((size_t)ns * sizeof(float)), *invstd = malloc((size_t)ns * sizeof(float));
    float *md = malloc((size_t)ns * sizeof(float)), *mdx = malloc((size_t)ns * sizeof(float));
    float *dw = malloc((size_t)l->C * sizeof(float)), *db = malloc((size_t)l->C * sizeof(float));
    double *m = calloc((size_t)ns, sizeof(double)), *v = calloc((size_t)ns, sizeof(double));
    double *rm = calloc((size_t)ns, sizeof(double)), *rv = calloc((size_t)ns, sizeof(double));
    for (int64_t i = 0; i < n; i++) x[i] = 3.0f + random_uniform(), dy[i] = random_uniform();
    for (int64_t c = 0; c < l->C; c++) w[c] = 1.0f + random_uniform(), b[c] = random_uniform();
    const float *W = affine ? w : NULL, *B = affine ? b : NULL;
    // reference statistics: two passes in double
    for (int64_t i = 0; i < n; i++) rm[stat_of(l, i)] += x[i] / (double)M;
    for (int64_t i = 0; i < n; i++) {
        double d = x[i] - rm[stat_of(l, i)];
        rv[stat_of(l, i)] += d * d / (double)M;
    }
    for (int threads = 1; threads <= 4; threads++) {
        cg_set_num_threads(threads);
        cg_norm_stats(l, x, m, v);
        for (int64_t s = 0; s < ns; s++) {
            close_to(m[s], rm[s], 1e-12, "mean", s);
            close_to(v[s], rv[s], 1e-10, "var", s);
            mean[s] = (float)m[s], invstd[s] = (float)(1.0 / sqrt(v[s] + 1e-5));
        }
        cg_norm_apply(l, x, mean, invstd, W, B, relu, y);
        for (int64_t i = 0; i < n; i++) {
            int64_t s = stat_of(l, i), c = channel_of(l, i);
            double r =
                (x[i] - rm[s]) / sqrt(rv[s] + 1e-5) * (affine ? w[c] : 1.0) + (affine ? b[c] : 0.0);
            close_to(y[i], relu && r < 0 ? 0.0 : r, 1e-5, "y", i);
        }
        assert_true(
            cg_norm_grad_stats(l, x, dy, relu ? y : NULL, mean, invstd, W, md, mdx, dw, db));
        cg_norm_input_grad(l, x, dy, relu ? y : NULL, mean, invstd, W, md, mdx, dx);
        // reference backward: g masked by the output, d = g * w, per statistic means
        double *sd = calloc((size_t)ns, sizeof(double)), *sdx = calloc((size_t)ns, sizeof(double));
        double *rdw = calloc((size_t)l->C, sizeof(double)),
               *rdb = calloc((size_t)l->C, sizeof(double));
        for (int64_t i = 0; i < n; i++) {
            int64_t s = stat_of(l, i), c = channel_of(l, i);
            double g = relu && y[i] <= 0 ? 0.0 : dy[i], xhat = (x[i] - rm[s]) / sqrt(rv[s] + 1e-5);
            sd[s] += g * (affine ? w[c] : 1.0) / (double)M;
            sdx[s] += g * (affine ? w[c] : 1.0) * xhat / (double)M;
            rdw[c] += g * xhat, rdb[c] += g;
        }
        for (int64_t i = 0; i < n; i++) {
            int64_t s = stat_of(l, i), c = channel_of(l, i);
            double g = relu && y[i] <= 0 ? 0.0 : dy[i], is = 1.0 / sqrt(rv[s] + 1e-5);
            double xhat = (x[i] - rm[s]) * is;
            close_to(dx[i], is * (g * (affine ? w[c] : 1.0) - sd[s] - xhat * sdx[s]), 1e-4, "dx",
                     i);
        }
        for (int64_t c = 0; c < l->C; c++) {
            close_to(dw[c], rdw[c], 1e-4, "dweight", c);
            close_to(db[c], rdb[c], 1e-5, "dbias", c);
        }
        // each output alone: the same values
        float *alone = malloc((size_t)(l->C > ns ? l->C : ns) * 2 * sizeof(float));
        assert_true(cg_norm_grad_stats(l, x, dy, relu ? y : NULL, mean, invstd, W, NULL, NULL,
                                       alone, alone + l->C));
        for (int64_t c = 0; c < l->C; c++)
            assert_true(alone[c] == dw[c] && alone[l->C + c] == db[c]);
        assert_true(cg_norm_grad_stats(l, x, dy, relu ? y : NULL, mean, invstd, W, alone,
                                       alone + ns, NULL, NULL));
        for (int64_t t = 0; t < ns; t++) assert_true(alone[t] == md[t] && alone[ns + t] == mdx[t]);
        free(alone);
        check_fused(l, x, dy, W, B, relu, m, v, mean, invstd, y, dx, dw, db);
        // constant statistics (eval): dx = invstd * g * w
        cg_norm_input_grad(l, x, dy, relu ? y : NULL, mean, invstd, W, NULL, NULL, dx);
        for (int64_t i = 0; i < n; i++) {
            int64_t s = stat_of(l, i), c = channel_of(l, i);
            double g = relu && y[i] <= 0 ? 0.0 : dy[i];
            close_to(dx[i], g * (affine ? w[c] : 1.0) / sqrt(rv[s] + 1e-5), 1e-5, "dx eval", i);
        }
        check_fused_eval(l, x, dy, W, relu ? y : NULL, mean, invstd, dx);
        free(sd), free(sdx), free(rdw), free(rdb);
    }
    cg_set_num_threads(0);
    free(x), free(dy), free(y), free(dx), free(w), free(b), free(mean), free(invstd), free(md);
    free(mdx), free(dw), free(db), free(m), free(v), free(rm), free(rv);
}

static void test_layouts(void **state) {
    (void)state;
    static const cg_norm_layout layouts[] = {
        {4, 3, 25, 3, true},      // batch norm 2-D, 5x5 planes
        {300, 20, 1, 20, true},   // batch norm 1-D on (N, C): by columns
        {600, 300, 1, 300, true}, // ... above the threading threshold, over two blocks
        {6, 8, 1, 4, false},      // group norm on (N, C)
        {2, 5, 17, 5, true},      // batch norm, planes off the vector width
        {16, 8, 784, 8, true},    // batch norm above the threading threshold
        {6, 4, 1, 4, true},       // batch norm 1-D on (N, C)
        {3, 4, 9, 4, false},      // instance norm
        {2, 6, 13, 3, false},     // group norm, 2 channels per group
        {5, 1, 40, 1, false},     // group norm, one group
        {7, 37, 1, 1, false},     // layer norm over 37 values
        {512, 96, 1, 1, false},   // layer norm above the threading threshold
    };
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        for (int mode = 0; mode < 4; mode++) check_layout(&layouts[i], mode & 1, mode & 2);
}

// The fused calls on NaN, infinities, signed zeros and ReLU ties (a constant channel with
// bias 0 normalises to exactly 0): the separate calls' bits, at 1 to 4 threads.
static void test_fused_special_values(void **state) {
    (void)state;
    static const cg_norm_layout layouts[] = {
        {4, 3, 25, 3, true}, {16, 8, 784, 8, true}, {3, 4, 9, 4, false}, {2, 6, 13, 3, false}};
    for (size_t k = 0; k < sizeof layouts / sizeof *layouts; k++) {
        const cg_norm_layout *l = &layouts[k];
        int64_t n = l->N * l->C * l->S, ns = cg_norm_stat_count(l);
        float *x = malloc((size_t)n * sizeof(float)), *dy = malloc((size_t)n * sizeof(float));
        float *y = malloc((size_t)n * sizeof(float)), *dx = malloc((size_t)n * sizeof(float));
        float *w = malloc((size_t)l->C * 3 * sizeof(float)),
              *st = malloc((size_t)ns * 2 * sizeof(float));
        double *m = malloc((size_t)ns * sizeof(double)), *v = malloc((size_t)ns * sizeof(double));
        for (int64_t i = 0; i < n; i++) {
            int64_t c = i / l->S % l->C;
            x[i] = c == 0 ? 0.5f : random_uniform(); // channel 0 constant: xhat = 0, y = b
            dy[i] = i % 7 == 0 ? -0.0f : i % 11 == 0 ? NAN : random_uniform();
        }
        x[n - 1] = l->C > 2 ? NAN : x[n - 1]; // a NaN statistic
        x[n / 2] = l->C > 2 && n / 2 / l->S % l->C ? INFINITY : x[n / 2];
        for (int64_t c = 0; c < l->C; c++)
            w[c] = c == 1 ? -0.0f : 1.0f + random_uniform(), w[l->C + c] = c == 0 ? 0.0f : -0.25f;
        for (int threads = 1; threads <= 4; threads++)
            for (int relu = 0; relu <= 1; relu++) {
                cg_set_num_threads(threads);
                float *dw = w + 2 * l->C, db[16], md[64], mdx[64]; // C <= 16, stats <= 64
                cg_norm_stats(l, x, m, v);
                for (int64_t t = 0; t < ns; t++)
                    st[t] = (float)m[t], st[ns + t] = cg_norm_invstd(v[t], 1e-5);
                cg_norm_apply(l, x, st, st + ns, w, w + l->C, relu, y);
                assert_true(
                    cg_norm_grad_stats(l, x, dy, relu ? y : NULL, st, st + ns, w, md, mdx, dw, db));
                cg_norm_input_grad(l, x, dy, relu ? y : NULL, st, st + ns, w, md, mdx, dx);
                check_fused(l, x, dy, w, w + l->C, relu, m, v, st, st + ns, y, dx, dw, db);
            }
        cg_set_num_threads(0);
        free(x), free(dy), free(y), free(dx), free(w), free(st), free(m), free(v);
    }
}

// Values 1e4 with spread 1e-2: a one-pass sum of squares in float loses the variance
// entirely; the shifted sums keep it to double precision.
static void test_stats_far_from_zero(void **state) {
    (void)state;
    cg_norm_layout l = {1, 1, 1000, 1, false};
    float x[1000];
    double ref = 0, m, v, rv = 0;
    for (int i = 0; i < 1000; i++) x[i] = 1e4f + 0.01f * random_uniform(), ref += x[i] / 1000.0;
    for (int i = 0; i < 1000; i++) rv += (x[i] - ref) * (x[i] - ref) / 1000.0;
    cg_norm_stats(&l, x, &m, &v);
    assert_true(fabs(m - ref) <= 1e-12 * ref);
    assert_true(fabs(v - rv) <= 1e-9 * rv);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layouts),
        cmocka_unit_test(test_stats_far_from_zero),
        cmocka_unit_test(test_fused_special_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
