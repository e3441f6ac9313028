// tests/test_transforms_color.c - ColorJitter (io/transform_color.c): adjust_brightness,
// _contrast, _saturation and _hue against torchvision 0.14's tensor functions at the same
// factors, ColorJitter's ranges against torchvision's for the same arguments
// (tests/fixtures/gen_color.py); the draws (cgrad's generator, so not torch's numbers)
// checked statistically: the order's 24 permutations equally likely, each factor uniform
// over its range, None ranges neither drawn nor applied, and the step = the functional forms
// in the drawn order. Also RandomErasing's value="random" (cg_tf_erase_noise).
#include <math.h>
#include <string.h>

#include "testing.h"

static cg_fixture *fx;

static cg_sample copy_of(const cg_sample *a) {
    cg_sample s = *a;
    size_t n = (size_t)a->c * (size_t)a->h * (size_t)a->w;
    s.data = cg_alloc(n * sizeof(float));
    memcpy(s.data, a->data, n * sizeof(float));
    return s;
}

static void test_functional_fixtures(void **state) {
    (void)state;
    int checked = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        const char *name = cg_fixture_case_name(c);
        if (!cg_test_starts(name, "adjust_")) continue;
        cg_sample s = cg_test_sample_of(cg_fixture_tensor(c, "x"));
        float f = (float)cg_fixture_param(c, "factor", NAN);
        int rc = cg_test_starts(name, "adjust_brightness")   ? cg_tf_adjust_brightness(&s, f)
                 : cg_test_starts(name, "adjust_contrast")   ? cg_tf_adjust_contrast(&s, f)
                 : cg_test_starts(name, "adjust_saturation") ? cg_tf_adjust_saturation(&s, f)
                                                             : cg_tf_adjust_hue(&s, f);
        assert_int_equal(rc, 0);
        cg_tensor *t = cg_empty_unscoped(CG_SHAPE(s.c, s.h, s.w));
        memcpy(t->data, s.data, (size_t)t->numel * sizeof(float));
        cg_assert_close(t, cg_fixture_tensor(c, "out"), 2e-6, 2e-6, name);
        cg_free(t), cg_sample_clear(&s);
        checked++;
    }
    assert_int_equal(checked, 26);
}

// cg_t_color_jitter's ranges are ColorJitter's (the max(0, 1 - v) clip, None as the centre).
static void test_ranges(void **state) {
    (void)state;
    int checked = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        if (!cg_test_starts(cg_fixture_case_name(c), "ranges/")) continue;
        double a[4], r[8];
        cg_fixture_params(c, "args", a, 4), cg_fixture_params(c, "ranges", r, 8);
        cg_transform t = cg_t_color_jitter((float)a[0], (float)a[1], (float)a[2], (float)a[3]);
        for (int k = 0; k < 8; k++) assert_float_equal(t.jitter[k / 2][k % 2], r[k], 1e-6);
        checked++;
    }
    assert_int_equal(checked, 3);
}

// Index of a permutation of 0..3 in 0..23 (Lehmer code).
static int perm_index(const int p[4]) {
    int index = 0;
    for (int i = 0; i < 4; i++) {
        int smaller = 0;
        for (int j = i + 1; j < 4; j++) smaller += p[j] < p[i];
        index = index * (4 - i) + smaller;
    }
    return index;
}

static void test_sampling(void **state) {
    (void)state;
    enum { N = 48000 };
    cg_transform t = cg_t_color_jitter(0.4f, 0.8f, 0.2f, 0.1f);
    cg_rng rng;
    cg_rng_seed(&rng, 21);
    int counts[24] = {0};
    double mean[4] = {0}, var[4] = {0};
    for (int k = 0; k < N; k++) {
        int order[4];
        float f[4];
        assert_int_equal(cg_color_jitter_params(&rng, &t, order, f), 0);
        counts[perm_index(order)]++;
        for (int j = 0; j < 4; j++) {
            assert_true(f[j] >= t.jitter[j][0] && f[j] <= t.jitter[j][1]);
            mean[j] += f[j], var[j] += (double)f[j] * f[j];
        }
    }
    double chi2 = 0, e = N / 24.0;
    for (int k = 0; k < 24; k++) chi2 += (counts[k] - e) * (counts[k] - e) / e;
    assert_true(chi2 < 49.7);     // chi-square, 23 degrees of freedom: p = 0.001
    for (int j = 0; j < 4; j++) { // a uniform's mean and variance over [lo, hi]
        double lo = t.jitter[j][0], hi = t.jitter[j][1], m = mean[j] / N;
        assert_float_equal(m, (lo + hi) / 2, 4 * (hi - lo) / sqrt(12.0 * N));
        assert_float_equal(var[j] / N - m * m, (hi - lo) * (hi - lo) / 12,
                           0.03 * (hi - lo) * (hi - lo));
    }
    // None ranges: NAN factors, and only the permutation is drawn.
    cg_transform none = cg_t_color_jitter(0, 0.5f, 0, 0);
    cg_rng a, b;
    cg_rng_seed(&a, 4), b = a;
    int order[4], replay_order[4];
    float f[4];
    assert_int_equal(cg_color_jitter_params(&a, &none, order, f), 0);
    assert_true(isnan(f[0]) && !isnan(f[1]) && isnan(f[2]) && isnan(f[3]));
    cg_transform all_none = cg_t_color_jitter(0, 0, 0, 0);
    assert_int_equal(cg_color_jitter_params(&b, &all_none, replay_order, f), 0);
    (void)cg_rng_uniform(&b); // the one factor of `none`
    assert_memory_equal(&a, &b, sizeof a);
    assert_memory_equal(order, replay_order, sizeof order);
}

// The step applies the drawn factors in the drawn order, skipping None.
static void test_step_replay(void **state) {
    (void)state;
    cg_transform t = cg_t_color_jitter(0.5f, 0.5f, 0.5f, 0.2f);
    t.jitter[2][0] = t.jitter[2][1] = 1; // saturation None
    for (uint64_t seed = 0; seed < 30; seed++) {
        cg_rng rng, replay;
        cg_rng_seed(&rng, seed), replay = rng;
        cg_sample s = {.c = 3, .h = 4, .w = 5, .data = cg_alloc(60 * sizeof(float))};
        for (int k = 0; k < 60; k++) s.data[k] = (float)((k * 29) % 61) / 61;
        cg_sample r = copy_of(&s);
        assert_int_equal(cg_transform_apply(&t, 1, &s, &rng), 0);
        int order[4];
        float f[4];
        assert_int_equal(cg_color_jitter_params(&replay, &t, order, f), 0);
        assert_true(isnan(f[2]));
        for (int k = 0; k < 4; k++) {
            int fn = order[k];
            if (fn == 0) assert_int_equal(cg_tf_adjust_brightness(&r, f[0]), 0);
            if (fn == 1) assert_int_equal(cg_tf_adjust_contrast(&r, f[1]), 0);
            if (fn == 3) assert_int_equal(cg_tf_adjust_hue(&r, f[3]), 0);
        }
        assert_memory_equal(s.data, r.data, 60 * sizeof(float));
        cg_sample_clear(&s), cg_sample_clear(&r);
    }
}

// value="random": N(0, 1) noise inside the box (mean, variance), the rest unchanged, and
// the step = coin, box, then the noise from the same generator.
static void test_erase_noise(void **state) {
    (void)state;
    cg_sample s = {.c = 2, .h = 60, .w = 50, .data = cg_alloc_zeroed(6000 * sizeof(float))};
    for (int k = 0; k < 6000; k++) s.data[k] = 7.0f;
    cg_rng rng;
    cg_rng_seed(&rng, 8);
    assert_int_equal(cg_tf_erase_noise(&s, 5, 10, 50, 40, &rng), 0);
    double sum = 0, sq = 0;
    int inside = 0;
    for (int c = 0; c < 2; c++)
        for (int y = 0; y < 60; y++)
            for (int x = 0; x < 50; x++) {
                float v = s.data[(c * 60 + y) * 50 + x];
                if (y >= 5 && y < 55 && x >= 10 && x < 50)
                    sum += v, sq += (double)v * v, inside++;
                else
                    assert_true(v == 7.0f);
            }
    assert_int_equal(inside, 4000);
    assert_float_equal(sum / inside, 0, 0.07); // 4.4 standard errors
    assert_float_equal(sq / inside, 1, 0.1);   // var of x^2 is 2: sd 0.022
    cg_sample_clear(&s);
    cg_transform step = cg_t_random_erasing(1.0f, 0.0f);
    step.random_value = true;
    const float scale[2] = {0.02f, 0.33f}, ratio[2] = {0.3f, 3.3f};
    for (uint64_t seed = 0; seed < 20; seed++) {
        cg_rng r, replay;
        cg_rng_seed(&r, seed), replay = r;
        cg_sample a = {.c = 3, .h = 9, .w = 8, .data = cg_alloc_zeroed(216 * sizeof(float))};
        cg_sample b = copy_of(&a);
        assert_int_equal(cg_transform_apply(&step, 1, &a, &r), 0);
        int box[4];
        (void)cg_rng_uniform(&replay); // the coin
        assert_int_equal(cg_random_erasing_params(&replay, 9, 8, scale, ratio, box), 0);
        assert_int_equal(cg_tf_erase_noise(&b, box[0], box[1], box[2], box[3], &replay), 0);
        assert_memory_equal(a.data, b.data, 216 * sizeof(float));
        cg_sample_clear(&a), cg_sample_clear(&b);
    }
}

static void test_errors(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_sample s = {.c = 3, .h = 2, .w = 2, .data = cg_alloc_zeroed(12 * sizeof(float))};
    assert_int_equal(cg_tf_adjust_brightness(&s, -0.5f), -1);
    cg_test_expect_error(CG_ERR_ARG, "adjust_brightness: factor -0.5 is not in [0, inf]");
    assert_int_equal(cg_tf_adjust_hue(&s, 0.6f), -1);
    cg_test_expect_error(CG_ERR_ARG, "adjust_hue: factor 0.6 is not in [-0.5, 0.5]");
    assert_int_equal(cg_tf_erase_noise(&s, 1, 1, 2, 1, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "erase_noise: box (1, 1, 2, 1) is not inside the 2x2 image");
    cg_transform t = cg_t_color_jitter(0.2f, 0, 0, 0.7f);
    assert_int_equal(cg_transform_apply(&t, 1, &s, NULL), -1);
    cg_test_expect_error(
        CG_ERR_ARG, "color_jitter: hue values (-0.7, 0.7) should be ordered within [-0.5, 0.5]");
    t = cg_t_color_jitter(-1, 0, 0, 0);
    assert_int_equal(cg_transform_apply(&t, 1, &s, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "color_jitter: brightness values (2, 0)");
    cg_sample_clear(&s);
    cg_sample four = {.c = 4, .h = 1, .w = 1, .data = cg_alloc_zeroed(4 * sizeof(float))};
    assert_int_equal(cg_tf_adjust_contrast(&four, 1), -1);
    cg_test_expect_error(CG_ERR_ARG, "adjust_contrast: the image has 4 channels; 1 or 3");
    cg_sample_clear(&four);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_functional_fixtures, cg_test_teardown),
        cmocka_unit_test_teardown(test_ranges, cg_test_teardown),
        cmocka_unit_test_teardown(test_sampling, cg_test_teardown),
        cmocka_unit_test_teardown(test_step_replay, cg_test_teardown),
        cmocka_unit_test_teardown(test_erase_noise, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return cg_test_run_with_fixture("transforms_color", tests, CG_COUNT(tests), "color.txt", &fx);
}
