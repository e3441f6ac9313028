// tests/test_conv_kernels.c - the convolution driver (kernels/conv_driver.c) and each of its
// algorithms, on raw floats, against a direct triple loop in double precision.
//
// Every direction (forward, transposed, weight gradient) over many geometries: odd sizes,
// groups, depthwise, dilation, stride, asymmetric padding, 1x1 pointwise, batch 1 and
// batches larger than the thread count, at 1 and 2 threads (which take the batched and the
// image-parallel plans), with each algorithm setting (exact im2col + GEMM, automatic,
// Winograd forced where it applies, implicit GEMM forced for every forward it can run, direct
// loops forced for every direction). Also: weight gradients shaped for the direct path's
// 16-channel blocks, and the direct weight gradient's bits repeating at a given thread count;
// a workspace that cannot be allocated makes the driver return -1 with CG_ERR_MEMORY before it
// reads or writes anything.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conv_shapes.h"
#include "kernels/conv_kernels.h"
#include "testing.h"

// n standard-normal floats from cgrad's generator, in a plain buffer the caller frees.
static float *random_floats(int64_t n) {
    float *x = malloc((size_t)(n > 0 ? n : 1) * sizeof(float));
    cg_tensor *t = cg_randn(CG_SHAPE(n > 0 ? n : 1), NULL);
    assert_non_null(t);
    memcpy(x, t->data, (size_t)(n > 0 ? n : 1) * sizeof(float));
    cg_free(t);
    return x;
}

// Calls visit(n, o, c, oh, ow, ih, iw, widx) for every (output, tap) pair inside the image.
#define FOR_EACH_TAP(g, body)                                                                      \
    do {                                                                                           \
        int64_t Cg = (g)->image_channels / (g)->groups, Og = (g)->cols_channels / (g)->groups;     \
        for (int64_t n = 0; n < (g)->batch; n++)                                                   \
            for (int64_t o = 0; o < (g)->cols_channels; o++)                                       \
                for (int64_t oh = 0; oh < (g)->cols_h; oh++)                                       \
                    for (int64_t ow = 0; ow < (g)->cols_w; ow++)                                   \
                        for (int64_t cc = 0; cc < Cg; cc++)                                        \
                            for (int64_t ki = 0; ki < (g)->kernel_h; ki++)                         \
                                for (int64_t kj = 0; kj < (g)->kernel_w; kj++) {                   \
                                    int64_t ih =                                                   \
                                        oh * (g)->stride_h - (g)->pad_top + ki * (g)->dilation_h;  \
                                    int64_t iw =                                                   \
                                        ow * (g)->stride_w - (g)->pad_left + kj * (g)->dilation_w; \
                                    if (ih < 0 || ih >= (g)->image_h || iw < 0 ||                  \
                                        iw >= (g)->image_w)                                        \
                                        continue;                                                  \
                                    int64_t c = o / Og * Cg + cc;                                  \
                                    int64_t xi =                                                   \
                                        ((n * (g)->image_channels + c) * (g)->image_h + ih) *      \
                                            (g)->image_w +                                         \
                                        iw;                                                        \
                                    int64_t yi =                                                   \
                                        ((n * (g)->cols_channels + o) * (g)->cols_h + oh) *        \
                                            (g)->cols_w +                                          \
                                        ow;                                                        \
                                    int64_t wi =                                                   \
                                        ((o * Cg + cc) * (g)->kernel_h + ki) * (g)->kernel_w + kj; \
                                    body;                                                          \
                                }                                                                  \
    } while (0)

// The three directions by definition, in double.
static void reference(cg_conv_direction d, const cg_conv_geometry *g, const float *image,
                      const float *columns, const float *weight, const float *bias, double *out) {
    int64_t isz = g->batch * g->image_channels * g->image_h * g->image_w;
    int64_t csz = g->batch * g->cols_channels * g->cols_h * g->cols_w;
    int64_t wsz = g->cols_channels * cg_conv_col_rows(g);
    int64_t n_out = d == CG_CONV_FORWARD ? csz : d == CG_CONV_TRANSPOSED ? isz : wsz;
    for (int64_t i = 0; i < n_out; i++) out[i] = 0.0;
    if (d == CG_CONV_FORWARD) FOR_EACH_TAP(g, out[yi] += (double)weight[wi] * image[xi]);
    if (d == CG_CONV_TRANSPOSED) FOR_EACH_TAP(g, out[xi] += (double)weight[wi] * columns[yi]);
    if (d == CG_CONV_WEIGHT_GRAD) FOR_EACH_TAP(g, out[wi] += (double)columns[yi] * image[xi]);
    if (!bias || d == CG_CONV_WEIGHT_GRAD) return;
    int64_t channels = d == CG_CONV_FORWARD ? g->cols_channels : g->image_channels;
    int64_t positions = d == CG_CONV_FORWARD ? g->cols_h * g->cols_w : g->image_h * g->image_w;
    for (int64_t i = 0; i < n_out; i++) out[i] += bias[i / positions % channels];
}

static const char *direction_name(cg_conv_direction d) {
    return d == CG_CONV_FORWARD ? "forward" : d == CG_CONV_TRANSPOSED ? "transposed" : "weight";
}

// One direction of one shape run through the driver next to the reference: random
// operands (and out, which the weight gradient adds to), `expected` in double.
// With a bias, the weight gradient's `bias` is dbias (random, added to) and expected_bias
// its value: the initial one plus each channel's sum of the columns, with bias_scale the sum
// of their magnitudes (the scale of the rounding error).
typedef struct problem {
    int64_t n_out;
    float *image, *columns, *weight, *bias, *out;
    double *expected, *expected_bias, *bias_scale;
} problem;

static problem run_problem(const conv_shape *s, cg_conv_direction d, bool with_bias, bool relu) {
    cg_conv_geometry g = conv_shape_geometry(s);
    int64_t isz = g.batch * g.image_channels * g.image_h * g.image_w;
    int64_t csz = g.batch * g.cols_channels * g.cols_h * g.cols_w;
    int64_t wsz = g.cols_channels * cg_conv_col_rows(&g);
    problem p = {.n_out = d == CG_CONV_FORWARD ? csz : d == CG_CONV_TRANSPOSED ? isz : wsz};
    p.image = random_floats(isz), p.columns = random_floats(csz), p.weight = random_floats(wsz);
    p.bias = with_bias ? random_floats(d == CG_CONV_TRANSPOSED ? g.image_channels : g.cols_channels)
                       : NULL;
    p.out = random_floats(p.n_out);
    p.expected = malloc((size_t)p.n_out * sizeof(double));
    reference(d, &g, p.image, p.columns, p.weight, p.bias, p.expected);
    if (d == CG_CONV_WEIGHT_GRAD)
        for (int64_t i = 0; i < p.n_out; i++) p.expected[i] += p.out[i];
    if (relu) // conv2d_relu's epilogue, after the bias
        for (int64_t i = 0; i < p.n_out; i++) p.expected[i] = p.expected[i] < 0 ? 0 : p.expected[i];
    cg_conv_operands x = {.image = p.image,
                          .columns = p.columns,
                          .weight = p.weight,
                          .bias = p.bias,
                          .out = p.out,
                          .relu = relu};
    if (d == CG_CONV_WEIGHT_GRAD && with_bias) {
        int64_t positions = g.cols_h * g.cols_w;
        p.expected_bias = calloc((size_t)g.cols_channels, sizeof(double));
        p.bias_scale = calloc((size_t)g.cols_channels, sizeof(double));
        for (int64_t o = 0; o < g.cols_channels; o++) p.expected_bias[o] = p.bias[o];
        for (int64_t i = 0; i < csz; i++) {
            p.expected_bias[i / positions % g.cols_channels] += p.columns[i];
            p.bias_scale[i / positions % g.cols_channels] += fabs(p.columns[i]);
        }
        x.bias = NULL, x.dbias = p.bias;
    }
    assert_int_equal(cg_conv_execute(d, &g, &x), 0);
    return p;
}

static void problem_free(problem *p) {
    free(p->image), free(p->columns), free(p->weight), free(p->bias), free(p->out);
    free(p->expected), free(p->expected_bias), free(p->bias_scale);
}

// Runs one direction of one shape and compares every element with the reference
// (relu: with the ReLU epilogue, forward and transposed).
static void check(const conv_shape *s, cg_conv_direction d, bool with_bias, bool relu) {
    problem p = run_problem(s, d, with_bias, relu);
    for (int64_t i = 0; i < p.n_out; i++) {
        double tol = 1e-4 * (1.0 + fabs(p.expected[i]));
        if (fabs(p.out[i] - p.expected[i]) > tol)
            fail_msg("%s N%lld C%lld O%lld %lldx%lld k%lldx%lld s%lld,%lld d%lld,%lld "
                     "p%lld,%lld,%lld,%lld g%lld (%s, %d threads%s): [%lld] = %.7g, expected %.7g",
                     direction_name(d), (long long)s->n, (long long)s->c, (long long)s->o,
                     (long long)s->h, (long long)s->w, (long long)s->kh, (long long)s->kw,
                     (long long)s->sh, (long long)s->sw, (long long)s->dh, (long long)s->dw,
                     (long long)s->pt, (long long)s->pb, (long long)s->pl, (long long)s->pr,
                     (long long)s->groups, cg_conv_algorithm_name(cg_conv_get_algorithm()),
                     cg_num_threads(), relu ? ", relu" : "", (long long)i, p.out[i], p.expected[i]);
    }
    for (int64_t o = 0; p.expected_bias && o < s->o; o++)
        if (fabs(p.bias[o] - p.expected_bias[o]) > 1e-6 * (1.0 + p.bias_scale[o]))
            fail_msg("dbias N%lld C%lld O%lld %lldx%lld (%s, %d threads): [%lld] = %.7g, expected "
                     "%.7g",
                     (long long)s->n, (long long)s->c, (long long)s->o, (long long)s->h,
                     (long long)s->w, cg_conv_algorithm_name(cg_conv_get_algorithm()),
                     cg_num_threads(), (long long)o, p.bias[o], p.expected_bias[o]);
    problem_free(&p);
}

static void every_shape_every_direction(void **state) {
    (void)state;
    const int threads[] = {1, 2};
    const cg_conv_algorithm algorithms[] = {CG_CONV_ALGO_EXACT, CG_CONV_ALGO_AUTO,
                                            CG_CONV_ALGO_WINOGRAD, CG_CONV_ALGO_IMPLICIT,
                                            CG_CONV_ALGO_DIRECT};
    for (size_t t = 0; t < 2; t++)
        for (size_t a = 0; a < sizeof algorithms / sizeof algorithms[0]; a++) {
            cg_set_num_threads(threads[t]);
            cg_conv_set_algorithm(algorithms[a]);
            for (size_t i = 0; i < (size_t)conv_n_shapes; i++)
                for (int d = CG_CONV_FORWARD; d <= CG_CONV_WEIGHT_GRAD; d++) {
                    check(&conv_shapes[i], (cg_conv_direction)d, false, false);
                    check(&conv_shapes[i], (cg_conv_direction)d, true, false); // weight: with dbias
                    if (d != CG_CONV_WEIGHT_GRAD)
                        check(&conv_shapes[i], (cg_conv_direction)d, true, true);
                }
        }
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
    cg_set_num_threads(0);
}

// The direct path's portable loops (what a CPU without AVX-512 runs), every shape and
// direction, at 1 and 2 threads.
static void direct_portable_every_shape(void **state) {
    (void)state;
    cg_conv_direct_use_portable(true);
    cg_conv_set_algorithm(CG_CONV_ALGO_DIRECT);
    for (int t = 1; t <= 2; t++) {
        cg_set_num_threads(t);
        for (size_t i = 0; i < (size_t)conv_n_shapes; i++)
            for (int d = CG_CONV_FORWARD; d <= CG_CONV_WEIGHT_GRAD; d++) {
                check(&conv_shapes[i], (cg_conv_direction)d, true, false);
                if (d != CG_CONV_WEIGHT_GRAD)
                    check(&conv_shapes[i], (cg_conv_direction)d, true, true);
            }
    }
    cg_conv_direct_use_portable(false);
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
    cg_set_num_threads(0);
}

// Weight gradients for the direct path's narrow channel blocks (16 channels x 28 taps, groups
// of at most 16 output channels; forced direct loops take them below 16 channels when the taps
// are too deep for row blocks): 1 to 16 channels per group, groups, tap counts that are not a
// multiple of 28 (and fewer than 28), batch 1 and batches larger than the thread count; and 17
// channels, the first group the 32-channel blocks take.
static const conv_shape narrow_wgrad_shapes[] = {
    // n, c, o, h, w, kh, kw, sh, sw, dh, dw, pt, pb, pl, pr, groups
    {1, 24, 6, 9, 10, 3, 5, 1, 1, 1, 1, 1, 1, 2, 2, 2},   // 3 per group, 180 taps, batch 1
    {3, 36, 45, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},   // 15 per group, 108 taps
    {2, 48, 4, 8, 11, 3, 3, 2, 1, 1, 1, 1, 1, 1, 1, 4},   // 1 per group, strided
    {2, 24, 32, 8, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},   // 16 per group, 2 groups
    {1, 2, 16, 10, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  // 18 taps: one short block
    {2, 8, 26, 9, 9, 5, 5, 1, 1, 2, 2, 2, 2, 2, 2, 2},    // 13 per group, 100 taps, dilated
    {4, 16, 16, 12, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, // the ResNet's 16 -> 16 layers' kind
    {1, 32, 24, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2}, // batch 1, 2 threads share blocks
    {2, 12, 34, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},   // 17 per group: 32-channel blocks
};

// The weight gradient (with and without the bias gradient) of each shape above through the
// forced direct loops, AVX-512 (where the CPU has it) and portable, at 1 and 2 threads.
static void direct_narrow_weight_gradient(void **state) {
    (void)state;
    cg_conv_set_algorithm(CG_CONV_ALGO_DIRECT);
    for (int portable = 0; portable <= 1; portable++) {
        cg_conv_direct_use_portable(portable);
        for (int t = 1; t <= 2; t++) {
            cg_set_num_threads(t);
            for (size_t i = 0; i < sizeof narrow_wgrad_shapes / sizeof narrow_wgrad_shapes[0];
                 i++) {
                check(&narrow_wgrad_shapes[i], CG_CONV_WEIGHT_GRAD, false, false);
                check(&narrow_wgrad_shapes[i], CG_CONV_WEIGHT_GRAD, true, false);
            }
        }
    }
    cg_conv_direct_use_portable(false);
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
    cg_set_num_threads(0);
}

// The same weight gradient twice at the same thread count gives the same bits (the threads'
// sums are added in a fixed order), through the direct path's channel blocks of both widths.
static void direct_weight_gradient_is_deterministic(void **state) {
    (void)state;
    cg_conv_set_algorithm(CG_CONV_ALGO_DIRECT);
    for (int t = 1; t <= 2; t++) {
        cg_set_num_threads(t);
        for (size_t i = 0; i < sizeof narrow_wgrad_shapes / sizeof narrow_wgrad_shapes[0]; i++) {
            cg_conv_geometry g = conv_shape_geometry(&narrow_wgrad_shapes[i]);
            int64_t isz = g.batch * g.image_channels * g.image_h * g.image_w;
            int64_t csz = g.batch * g.cols_channels * g.cols_h * g.cols_w;
            int64_t wsz = g.cols_channels * cg_conv_col_rows(&g);
            float *image = random_floats(isz), *columns = random_floats(csz);
            float *first = calloc((size_t)wsz, sizeof(float));
            float *second = calloc((size_t)wsz, sizeof(float));
            cg_conv_operands x = {.image = image, .columns = columns, .out = first};
            assert_int_equal(cg_conv_execute(CG_CONV_WEIGHT_GRAD, &g, &x), 0);
            x.out = second;
            assert_int_equal(cg_conv_execute(CG_CONV_WEIGHT_GRAD, &g, &x), 0);
            assert_memory_equal(first, second, (size_t)wsz * sizeof(float));
            free(image), free(columns), free(first), free(second);
        }
    }
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
    cg_set_num_threads(0);
}

// Winograd fits exactly 3x3, stride 1, dilation 1, one group; the driver takes it when
// forced or when the channels are wide enough to pay for the transforms, never under EXACT
// (tests/test_conv_strategy.c pins every rule).
static void winograd_is_chosen_by_shape(void **state) {
    (void)state;
    cg_conv_geometry g = conv_shape_geometry(&conv_shapes[1]);
    assert_true(cg_conv_winograd_fits(&g));
    g = conv_shape_geometry(&conv_shapes[5]); // groups 2
    assert_false(cg_conv_winograd_fits(&g));
    g = conv_shape_geometry(&conv_shapes[13]); // dilation 2
    assert_false(cg_conv_winograd_fits(&g));
    g = conv_shape_geometry(&conv_shapes[10]); // stride 2
    assert_false(cg_conv_winograd_fits(&g));
    g = conv_shape_geometry(&conv_shapes[1]);
    cg_conv_set_algorithm(CG_CONV_ALGO_WINOGRAD);
    assert_int_equal(cg_conv_strategy_of(CG_CONV_FORWARD, &g), CG_CONV_STRATEGY_WINOGRAD);
    cg_conv_set_algorithm(CG_CONV_ALGO_EXACT);
    assert_int_not_equal(cg_conv_strategy_of(CG_CONV_FORWARD, &g), CG_CONV_STRATEGY_WINOGRAD);
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
}

// max |out - exact| / max |exact| of one direction under the current algorithm setting
// (the weight gradient's starting values cancel: both sides add the same ones).
static double normwise_error(const conv_shape *s, cg_conv_direction d) {
    problem p = run_problem(s, d, false, false);
    double err = 0.0, scale = 0.0;
    for (int64_t i = 0; i < p.n_out; i++) {
        err = fmax(err, fabs(p.out[i] - p.expected[i]));
        scale = fmax(scale, fabs(p.expected[i]));
    }
    problem_free(&p);
    return err / scale;
}

// The documented bound (kernels/conv_algorithm.h): Winograd's normwise error stays below
// 1e-6 (relative to the largest output) on a 64 -> 64 channel 3x3 convolution of normal
// data, in every direction; the exact path's is printed next to it for comparison.
static void winograd_error_is_bounded(void **state) {
    (void)state;
    const conv_shape s = {2, 64, 64, 15, 18, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    for (int d = CG_CONV_FORWARD; d <= CG_CONV_WEIGHT_GRAD; d++) {
        cg_conv_set_algorithm(CG_CONV_ALGO_EXACT);
        double exact = normwise_error(&s, (cg_conv_direction)d);
        cg_conv_set_algorithm(CG_CONV_ALGO_WINOGRAD);
        double wino = normwise_error(&s, (cg_conv_direction)d);
        print_message("%-10s normwise error: exact %.2e, winograd %.2e\n",
                      direction_name((cg_conv_direction)d), exact, wino);
        assert_true(wino < 1e-6);
    }
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
}

// A geometry whose column buffer is far beyond any allocator: the driver reports
// CG_ERR_MEMORY and returns -1 on the calling thread, before touching the (absent) data.
static void workspace_failure_is_reported(void **state) {
    (void)state;
    cg_test_capture_errors();
    conv_shape s = {1, (int64_t)1 << 26, 1, 3, (int64_t)1 << 30, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    cg_conv_geometry g = conv_shape_geometry(&s);
    cg_conv_set_algorithm(CG_CONV_ALGO_EXACT);
    for (int t = 1; t <= 2; t++) {
        cg_set_num_threads(t);
        for (int d = CG_CONV_FORWARD; d <= CG_CONV_WEIGHT_GRAD; d++) {
            cg_conv_operands x = {.out = NULL};
            assert_int_equal(cg_conv_execute((cg_conv_direction)d, &g, &x), -1);
            cg_test_expect_error(CG_ERR_MEMORY, "alloc");
        }
    }
    cg_conv_set_algorithm(CG_CONV_ALGO_AUTO);
    cg_set_num_threads(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_shape_every_direction),
        cmocka_unit_test(direct_portable_every_shape),
        cmocka_unit_test(direct_narrow_weight_gradient),
        cmocka_unit_test(direct_weight_gradient_is_deterministic),
        cmocka_unit_test(winograd_is_chosen_by_shape),
        cmocka_unit_test(winograd_error_is_bounded),
        cmocka_unit_test(workspace_failure_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
