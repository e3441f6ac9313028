// tests/test_elementwise_kernels.c - the raw loops of kernels/elementwise.c against their
// definitions: every element, sizes on both sides of the vector widths and of the threading
// threshold, 1 and 2 threads, special values.

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "cgrad.h"
#include "kernels/elementwise.h"
#include "kernels/pool.h"

static uint32_t rng_state = 777u;

static float random_uniform(void) {
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)(rng_state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
}

// MaxPool2d(2) on planes of odd and even sizes, rows shorter and longer than a vector, values
// from a small set (ties, -0 and +0): each output is its window's maximum and its index the
// first input (row-major) equal to it; a NaN makes the kernel decline the plane. The
// one-pass backward on the same planes.
static void test_max_pool_2x2(void **state) {
    (void)state;
    static const int64_t planes[][2] = {{2, 2},  {5, 7},  {14, 14}, {28, 28},
                                        {9, 40}, {4, 33}, {3, 65}};
    static const float values[] = {0.0f, -0.0f, 1.0f, -1.0f, 2.5f, -INFINITY, INFINITY};
    for (size_t i = 0; i < sizeof planes / sizeof planes[0]; i++) {
        int64_t H = planes[i][0], W = planes[i][1], OH = H / 2, OW = W / 2;
        float *x = malloc((size_t)(H * W) * sizeof(float));
        float *y = malloc((size_t)(OH * OW) * sizeof(float)),
              *at = malloc((size_t)(OH * OW) * sizeof(float));
        for (int64_t j = 0; j < H * W; j++)
            x[j] = values[(int)((random_uniform() + 1.0f) * 3.5f) % 7];
        assert_true(cg_max_pool_2x2_plane(x, H, W, OH, OW, y, at));
        for (int64_t oh = 0; oh < OH; oh++)
            for (int64_t ow = 0; ow < OW; ow++) {
                int64_t tap[4] = {2 * oh * W + 2 * ow, 2 * oh * W + 2 * ow + 1,
                                  (2 * oh + 1) * W + 2 * ow, (2 * oh + 1) * W + 2 * ow + 1};
                float best = x[tap[0]];
                for (int k = 1; k < 4; k++) best = x[tap[k]] > best ? x[tap[k]] : best;
                int64_t first = tap[3];
                for (int k = 3; k >= 0; k--)
                    if (x[tap[k]] == best) first = tap[k];
                assert_true(y[oh * OW + ow] == best);
                assert_int_equal((int64_t)at[oh * OW + ow], first);
                assert_true(x[first] == best);
            }
        // The one-pass backward equals a zero fill and a scatter of dy to the argmax, on
        // every input (odd sizes: the uncovered last row and column get 0). dx starts as
        // NaN so an input it failed to write shows.
        float *dy = malloc((size_t)(OH * OW) * sizeof(float)),
              *dx = malloc((size_t)(H * W) * sizeof(float)),
              *want = calloc((size_t)(H * W), sizeof(float));
        for (int64_t j = 0; j < OH * OW; j++) dy[j] = random_uniform() + 2.0f; // never 0
        for (int64_t j = 0; j < H * W; j++) dx[j] = NAN;
        for (int64_t j = 0; j < OH * OW; j++) want[(int64_t)at[j]] += dy[j];
        cg_max_pool_2x2_backward_plane(dy, at, H, W, OH, OW, dx);
        for (int64_t j = 0; j < H * W; j++) assert_true(dx[j] == want[j]);
        free(dy);
        free(dx);
        free(want);
        x[2 * (OH - 1) * W + 1] = NAN; // in the last row of windows
        assert_false(cg_max_pool_2x2_plane(x, H, W, OH, OW, y, at));
        free(x);
        free(y);
        free(at);
    }
}

// Any window inside the plane: kernels 1-4 (square and not), strides 1-3 (loads and
// gathers), dilation 1-2, rows shorter and longer than 16 outputs, values from a small set
// (ties, -0 and +0, infinities) with NaNs in some planes. Each output against PyTorch's
// rule written out: taps row-major, replace when greater or NaN, starting from -inf at the
// first tap. The result is compared bit for bit, so -0 / +0 and which NaN tap count.
static void test_max_pool_inside(void **state) {
    (void)state;
    static const float values[] = {0.0f, -0.0f, 1.0f, -1.0f, 2.5f, -INFINITY, INFINITY, NAN};
    static const int64_t shapes[][8] = {
        // H, W, kh, kw, sh, sw, dh, dw
        {1, 784, 1, 4, 1, 4, 1, 1}, {1, 50, 1, 3, 1, 1, 1, 1},  {1, 41, 1, 2, 1, 3, 1, 2},
        {7, 7, 3, 3, 2, 2, 1, 1},   {28, 28, 3, 3, 1, 1, 1, 1}, {9, 40, 2, 3, 2, 2, 2, 1},
        {5, 33, 4, 1, 1, 2, 1, 1},  {12, 70, 3, 2, 3, 1, 1, 3}, {2, 2, 2, 2, 2, 2, 1, 1},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int with_nan = 0; with_nan < 2; with_nan++) {
            const int64_t *s = shapes[i], H = s[0], W = s[1];
            cg_pool_taps t = {{s[2], s[3]}, {s[4], s[5]}, {s[6], s[7]}};
            int64_t OH = (H - (t.kernel[0] - 1) * t.dilation[0] - 1) / t.stride[0] + 1;
            int64_t OW = (W - (t.kernel[1] - 1) * t.dilation[1] - 1) / t.stride[1] + 1;
            float *x = malloc((size_t)(H * W) * sizeof(float));
            float *y = malloc((size_t)(OH * OW) * sizeof(float)),
                  *at = malloc((size_t)(OH * OW) * sizeof(float));
            for (int64_t j = 0; j < H * W; j++) {
                int k = (int)((random_uniform() + 1.0f) * 4.0f) % (with_nan ? 8 : 7);
                x[j] = values[k];
            }
            cg_max_pool_inside_plane(x, H, W, OH, OW, &t, y, at);
            for (int64_t oh = 0; oh < OH; oh++)
                for (int64_t ow = 0; ow < OW; ow++) {
                    int64_t start = oh * t.stride[0] * W + ow * t.stride[1], want_at = start;
                    float best = -INFINITY;
                    for (int64_t h = 0; h < t.kernel[0]; h++)
                        for (int64_t c = 0; c < t.kernel[1]; c++) {
                            int64_t a = start + h * t.dilation[0] * W + c * t.dilation[1];
                            if (x[a] > best || isnan(x[a])) best = x[a], want_at = a;
                        }
                    float got = y[oh * OW + ow];
                    assert_int_equal((int64_t)at[oh * OW + ow], want_at);
                    assert_true(isnan(best) ? isnan(got)
                                            : got == best && signbit(got) == signbit(best));
                }
            free(x);
            free(y);
            free(at);
        }
}

static const int64_t sizes[] = {0,  1,   15,   16,   17,    31,    32,
                                33, 100, 4095, 4097, 65536, 65537, 200003};

// dx = x <= 0 ? 0 : g, exactly, for every element (including x = 0, -0, NaN and g = inf, NaN).
static void check_relu_grad(int64_t n, int threads, bool in_place) {
    float *x = malloc((size_t)(n + 1) * sizeof(float)),
          *g = malloc((size_t)(n + 1) * sizeof(float));
    float *dx = malloc((size_t)(n + 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) {
        x[i] = random_uniform();
        g[i] = random_uniform();
    }
    static const float special_x[] = {0.0f, -0.0f, NAN, INFINITY, -INFINITY, 1e-38f, -1e-38f};
    for (int64_t i = 0; i < n && i < 7; i++) x[i] = special_x[i];
    if (n > 10) g[8] = INFINITY, g[9] = NAN, x[8] = -1.0f, x[9] = -2.0f, g[10] = NAN, x[10] = 1.0f;
    float *g_copy = malloc((size_t)(n + 1) * sizeof(float));
    for (int64_t i = 0; i < n; i++) g_copy[i] = g[i];
    cg_set_num_threads(threads);
    cg_relu_grad(x, g, in_place ? g : dx, n);
    cg_set_num_threads(0);
    const float *out = in_place ? g : dx;
    for (int64_t i = 0; i < n; i++) {
        float want = x[i] <= 0.0f ? 0.0f : g_copy[i]; // NaN x: g, as PyTorch
        bool same =
            isnan(want) ? isnan(out[i]) : out[i] == want && !signbit(out[i]) == !signbit(want);
        if (!same)
            fail_msg("n=%lld threads=%d: dx[%lld] = %g for x %g, g %g; want %g", (long long)n,
                     threads, (long long)i, out[i], x[i], g_copy[i], want);
    }
    free(x);
    free(g);
    free(dx);
    free(g_copy);
}

static void test_relu_grad(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int threads = 1; threads <= 2; threads++) {
            check_relu_grad(sizes[s], threads, false);
            check_relu_grad(sizes[s], threads, true);
        }
}

// The sum against a double running sum, within the bound elementwise.h states (with
// margin), and bit-identical whatever the thread count.
static void test_sum_floats(void **state) {
    (void)state;
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        float *x = malloc((size_t)(n + 1) * sizeof(float));
        double want = 0.0, magnitude = 0.0;
        for (int64_t i = 0; i < n; i++) {
            x[i] = random_uniform() + 0.25f;
            want += x[i];
            magnitude += fabs(x[i]);
        }
        cg_set_num_threads(1);
        double one = cg_sum_floats(x, n);
        cg_set_num_threads(2);
        double two = cg_sum_floats(x, n);
        cg_set_num_threads(0);
        double bound = ((double)n / 32 + 2) * FLT_EPSILON * magnitude;
        if (!(fabs(one - want) <= bound))
            fail_msg("n=%lld: sum %.17g, want %.17g (bound %.3g)", (long long)n, one, want, bound);
        assert_true(one == two);
        free(x);
    }
    float ones[100];
    for (int i = 0; i < 100; i++) ones[i] = 1.0f;
    assert_true(cg_sum_floats(ones, 100) == 100.0);
    assert_true(cg_sum_floats(ones, 0) == 0.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_grad),
        cmocka_unit_test(test_sum_floats),
        cmocka_unit_test(test_max_pool_2x2),
        cmocka_unit_test(test_max_pool_inside),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
