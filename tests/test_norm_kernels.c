// tests/test_norm_kernels.c - the loops of kernels/norm.c against a double-precision
// reference written from the definitions (two-pass mean and variance, the closed-form
// backward), for each layout the norms use (batch: across the batch; instance, group: per
// sample; layer: S = 1), planes on both sides of the vector widths and of the threading
// threshold, 1 to 4 threads, with and without weight/bias and the ReLU. Also: the
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
        // constant statistics (eval): dx = invstd * g * w
        cg_norm_input_grad(l, x, dy, relu ? y : NULL, mean, invstd, W, NULL, NULL, dx);
        for (int64_t i = 0; i < n; i++) {
            int64_t s = stat_of(l, i), c = channel_of(l, i);
            double g = relu && y[i] <= 0 ? 0.0 : dy[i];
            close_to(dx[i], g * (affine ? w[c] : 1.0) / sqrt(rv[s] + 1e-5), 1e-5, "dx eval", i);
        }
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
