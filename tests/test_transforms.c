// tests/test_transforms.c - io/transforms.h against torchvision 0.14's tensor-backed
// functional ops (tests/fixtures/gen_transforms.py), the random steps against the same ops
// at the parameters they drew, and their sampling statistics.
#include <math.h>
#include <string.h>

#include "testing.h"

static cg_fixture *fx;

// Every deterministic case: the functional form and the step in a Compose.
static void test_deterministic(void **state) {
    (void)state;
    int checked = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        const char *name = cg_fixture_case_name(c);
        cg_tensor *x = cg_fixture_tensor(c, "x"), *want = cg_fixture_tensor(c, "out");
        double p[8] = {0};
        cg_sample s = cg_test_sample_of(x), t = cg_test_sample_of(x);
        cg_transform step;
        int rc = 0;
        if (cg_test_starts(name, "to_tensor")) { // x is (H, W, C) byte values
            cg_sample_clear(&s), cg_sample_clear(&t);
            s = (cg_sample){.c = (int)x->shape[2], .h = (int)x->shape[0], .w = (int)x->shape[1]};
            s.bytes = cg_alloc((size_t)x->numel);
            for (int64_t k = 0; k < x->numel; k++) s.bytes[k] = (uint8_t)x->data[k];
            t = s;
            t.bytes = cg_alloc((size_t)x->numel);
            memcpy(t.bytes, s.bytes, (size_t)x->numel);
            rc = cg_tf_to_tensor(&s);
            step = cg_t_to_tensor();
        } else if (cg_test_starts(name, "normalize")) {
            float mean[3], std[3];
            double m[3], d[3];
            cg_fixture_params(c, "mean", m, 3), cg_fixture_params(c, "std", d, 3);
            for (int k = 0; k < 3; k++) mean[k] = (float)m[k], std[k] = (float)d[k];
            rc = cg_tf_normalize(&s, mean, std);
            step = cg_t_normalize(3, mean, std);
        } else if (cg_test_starts(name, "resized_crop")) {
            double box[4];
            cg_fixture_params(c, "box", box, 4), cg_fixture_params(c, "size", p, 2);
            rc = cg_tf_crop(&s, (int)box[0], (int)box[1], (int)box[2], (int)box[3]) ||
                 cg_tf_resize(&s, (int)p[0], (int)p[1], CG_INTERP_BILINEAR);
            step = cg_t_to_tensor(); // random: checked in test_random_resized_crop
            cg_sample_clear(&t);
        } else if (cg_test_starts(name, "resize")) {
            cg_fixture_params(c, "size", p, 2);
            cg_interp in =
                cg_fixture_param(c, "nearest", 0) ? CG_INTERP_NEAREST : CG_INTERP_BILINEAR;
            rc = cg_tf_resize(&s, (int)p[0], (int)p[1], in);
            step = cg_t_resize((int)p[0], (int)p[1], in);
        } else if (cg_test_starts(name, "center_crop")) {
            cg_fixture_params(c, "size", p, 2);
            rc = cg_tf_center_crop(&s, (int)p[0], (int)p[1]);
            step = cg_t_center_crop((int)p[0], (int)p[1]);
        } else if (cg_test_starts(name, "pad")) {
            cg_fixture_params(c, "pad", p, 4);
            cg_border_mode mode = (cg_border_mode)cg_fixture_param(c, "mode", 0);
            float fill = (float)cg_fixture_param(c, "fill", 0);
            rc = cg_tf_pad(&s, (int)p[0], (int)p[1], (int)p[2], (int)p[3], mode, fill);
            step = cg_t_pad((int)p[0], (int)p[1], (int)p[2], (int)p[3], mode, fill);
        } else if (cg_test_starts(name, "crop")) {
            cg_fixture_params(c, "box", p, 4);
            rc = cg_tf_crop(&s, (int)p[0], (int)p[1], (int)p[2], (int)p[3]);
            step = cg_t_center_crop(0, 0); // no step form: crop is only functional
            cg_sample_clear(&t);
        } else if (cg_test_starts(name, "erase")) {
            cg_fixture_params(c, "box", p, 4);
            rc = cg_tf_erase(&s, (int)p[0], (int)p[1], (int)p[2], (int)p[3],
                             (float)cg_fixture_param(c, "value", 0));
            step = cg_t_to_tensor(); // random: checked in test_random_erasing
            cg_sample_clear(&t);
        } else if (cg_test_starts(name, "hflip") || cg_test_starts(name, "vflip")) {
            bool h = cg_test_starts(name, "hflip");
            rc = h ? cg_tf_hflip(&s) : cg_tf_vflip(&s);
            step = h ? cg_t_random_horizontal_flip(1.0f) : cg_t_random_vertical_flip(1.0f);
        } else if (cg_test_starts(name, "rgb_to_grayscale")) {
            int ch = (int)cg_fixture_param(c, "channels", 1);
            rc = cg_tf_rgb_to_grayscale(&s, ch);
            step = cg_t_grayscale(ch);
        } else if (cg_test_starts(name, "random_")) { // the random steps' tests below read these
            cg_sample_clear(&s), cg_sample_clear(&t);
            continue;
        } else {
            fail_msg("%s: a case of gen_transforms.py that no test reads", name);
        }
        assert_int_equal(rc, 0);
        bool bilinear =
            cg_test_starts(name, "resize/bilinear") || cg_test_starts(name, "resized_crop");
        cg_test_check_sample(&s, want, bilinear ? 1e-6 : 0, name);
        if (t.data || t.bytes) {
            assert_int_equal(cg_transform_apply(&step, 1, &t, NULL), 0);
            cg_test_check_sample(&t, want, bilinear ? 1e-6 : 0, name);
        }
        checked++;
    }
    assert_true(checked > 0);
}

// RandomCrop: the window drawn is the one torchvision's pad + crop gives at the parameters
// drawn (replayed from a copy of the generator).
static void test_random_crop_matches(void **state) {
    (void)state;
    int cases = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        if (!cg_test_starts(cg_fixture_case_name(c), "random_crop")) continue;
        cases++;
        double size[2], pos[2];
        cg_fixture_params(c, "size", size, 2), cg_fixture_params(c, "positions", pos, 2);
        cg_transform step =
            cg_t_random_crop((int)size[0], (int)size[1], (int)cg_fixture_param(c, "padding", 0));
        step.pad_if_needed = cg_fixture_param(c, "if_needed", 0) != 0;
        step.pad_mode = (cg_border_mode)cg_fixture_param(c, "mode", 0);
        step.fill = (float)cg_fixture_param(c, "fill", 0);
        cg_tensor *windows = cg_fixture_tensor(c, "windows");
        int64_t plane = windows->numel / windows->shape[0];
        for (uint64_t seed = 0; seed < 20; seed++) {
            cg_rng rng, replay;
            cg_rng_seed(&rng, seed);
            replay = rng;
            cg_sample s = cg_test_sample_of(cg_fixture_tensor(c, "x"));
            assert_int_equal(cg_transform_apply(&step, 1, &s, &rng), 0);
            int top, left;
            int ph = (int)pos[0] + (int)size[0] - 1, pw = (int)pos[1] + (int)size[1] - 1;
            assert_int_equal(
                cg_random_crop_params(&replay, ph, pw, (int)size[0], (int)size[1], &top, &left), 0);
            cg_tensor *want = cg_empty_unscoped(CG_SHAPE(s.c, s.h, s.w));
            memcpy(want->data, windows->data + (top * (int)pos[1] + left) * plane,
                   (size_t)plane * sizeof(float));
            cg_test_check_sample(&s, want, 0, cg_fixture_case_name(c));
            cg_free(want);
        }
    }
    assert_int_equal(cases, 4);
}

// Every position of RandomCrop is equally likely; flips happen with probability p.
static void test_random_statistics(void **state) {
    (void)state;
    enum { DRAWS = 30000, H = 4, W = 5 }; // 2 x 3 positions for a 3x3 crop
    int counts[6] = {0};
    cg_rng rng;
    cg_rng_seed(&rng, 7);
    for (int i = 0; i < DRAWS; i++) {
        int top, left;
        assert_int_equal(cg_random_crop_params(&rng, H, W, 3, 3, &top, &left), 0);
        counts[top * 3 + left]++;
    }
    double chi2 = 0, e = DRAWS / 6.0;
    for (int k = 0; k < 6; k++) chi2 += (counts[k] - e) * (counts[k] - e) / e;
    assert_true(chi2 < 20.5); // chi-square, 5 degrees of freedom: p = 0.001
    cg_transform flip = cg_t_random_horizontal_flip(0.3f);
    int flipped = 0;
    for (int i = 0; i < 10000; i++) {
        cg_sample s = {.c = 1, .h = 1, .w = 2, .data = cg_alloc(2 * sizeof(float))};
        s.data[0] = 0, s.data[1] = 1;
        assert_int_equal(cg_transform_apply(&flip, 1, &s, &rng), 0);
        flipped += s.data[0] == 1;
        cg_sample_clear(&s);
    }
    assert_true(fabs((double)flipped - 3000.0) < 4 * sqrt(10000 * 0.3 * 0.7));
}

// RandomResizedCrop: its parameters have torchvision's distribution (means over 20000
// draws, the fallback included), and the step is crop + resize at the drawn box.
static void test_random_resized_crop(void **state) {
    (void)state;
    const float scale[2] = {0.08f, 1.0f}, ratio[2] = {3.0f / 4.0f, 4.0f / 3.0f};
    int cases = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        if (!cg_test_starts(cg_fixture_case_name(c), "random_resized_crop_stats")) continue;
        cases++;
        double img[2];
        cg_fixture_params(c, "image", img, 2);
        int h = (int)img[0], w = (int)img[1];
        cg_rng rng;
        cg_rng_seed(&rng, 11);
        double area = 0, logr = 0;
        for (int k = 0; k < 20000; k++) {
            int box[4];
            assert_int_equal(cg_random_resized_crop_params(&rng, h, w, scale, ratio, box), 0);
            assert_true(box[0] >= 0 && box[1] >= 0 && box[0] + box[2] <= h && box[1] + box[3] <= w);
            area += (double)box[2] * box[3] / (h * w), logr += log((double)box[3] / box[2]);
        }
        assert_float_equal(area / 20000, cg_fixture_param(c, "mean_area", 0), 0.01);
        assert_float_equal(logr / 20000, cg_fixture_param(c, "mean_log_ratio", 0), 0.01);
    }
    assert_int_equal(cases, 2);
    cg_transform step = cg_t_random_resized_crop(5, 6);
    for (uint64_t seed = 0; seed < 10; seed++) {
        cg_rng rng, replay;
        cg_rng_seed(&rng, seed), replay = rng;
        cg_sample s = {.c = 2, .h = 9, .w = 8, .data = cg_alloc(2 * 9 * 8 * sizeof(float))};
        for (int k = 0; k < 144; k++) s.data[k] = (float)k;
        cg_sample r = s;
        r.data = cg_alloc(144 * sizeof(float));
        memcpy(r.data, s.data, 144 * sizeof(float));
        assert_int_equal(cg_transform_apply(&step, 1, &s, &rng), 0);
        int box[4];
        assert_int_equal(cg_random_resized_crop_params(&replay, 9, 8, scale, ratio, box), 0);
        assert_int_equal(cg_tf_crop(&r, box[0], box[1], box[2], box[3]), 0);
        assert_int_equal(cg_tf_resize(&r, 5, 6, CG_INTERP_BILINEAR), 0);
        assert_int_equal(s.h * s.w, 30);
        assert_memory_equal(s.data, r.data, 60 * sizeof(float));
        cg_sample_clear(&s), cg_sample_clear(&r);
    }
}

// RandomErasing: torchvision's box distribution, and the step = a coin, then F.erase at the
// box drawn.
static void test_random_erasing(void **state) {
    (void)state;
    const cg_fixture_case *c = cg_fixture_find(fx, "random_erasing_stats/40x30");
    assert_non_null(c);
    const float scale[2] = {0.02f, 0.33f}, ratio[2] = {0.3f, 3.3f};
    cg_rng rng;
    cg_rng_seed(&rng, 5);
    double area = 0, logr = 0;
    int boxes = 0;
    for (int k = 0; k < 20000; k++) {
        int box[4];
        assert_int_equal(cg_random_erasing_params(&rng, 40, 30, scale, ratio, box), 0);
        assert_true(box[0] + box[2] <= 40 && box[1] + box[3] <= 30);
        area += box[2] * box[3] / 1200.0;
        if (box[2]) logr += log((double)box[2] / box[3]), boxes++;
    }
    assert_float_equal(area / 20000, cg_fixture_param(c, "mean_area", 0), 0.01);
    assert_float_equal(logr / boxes, cg_fixture_param(c, "mean_log_ratio", 0), 0.03);
    cg_transform step = cg_t_random_erasing(0.5f, -1.0f);
    int erased = 0;
    for (uint64_t seed = 0; seed < 200; seed++) {
        cg_rng r, replay;
        cg_rng_seed(&r, seed), replay = r;
        cg_sample s = {.c = 2, .h = 8, .w = 7, .data = cg_alloc_zeroed(112 * sizeof(float))};
        cg_sample e = {.c = 2, .h = 8, .w = 7, .data = cg_alloc_zeroed(112 * sizeof(float))};
        assert_int_equal(cg_transform_apply(&step, 1, &s, &r), 0);
        int box[4];
        if (cg_rng_uniform(&replay) < 0.5f) {
            assert_int_equal(cg_random_erasing_params(&replay, 8, 7, scale, ratio, box), 0);
            assert_int_equal(cg_tf_erase(&e, box[0], box[1], box[2], box[3], -1.0f), 0);
            erased++;
        }
        assert_memory_equal(s.data, e.data, 112 * sizeof(float));
        cg_sample_clear(&s), cg_sample_clear(&e);
    }
    assert_true(erased > 60 && erased < 140);
}

static void test_errors(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_sample s = {.c = 1, .h = 3, .w = 3, .data = cg_alloc_zeroed(9 * sizeof(float))};
    assert_int_equal(cg_tf_pad(&s, 3, 0, 0, 0, CG_BORDER_REFLECT, 0), -1);
    cg_test_expect_error(CG_ERR_ARG, "pad: padding (3, 0, 0, 0)");
    assert_int_equal(cg_tf_normalize(&s, (float[]){0}, (float[]){0}), -1);
    cg_test_expect_error(CG_ERR_ARG, "std evaluated to zero");
    assert_int_equal(cg_tf_rgb_to_grayscale(&s, 1), -1);
    cg_test_expect_error(CG_ERR_ARG, "needs 3 input channels (got 1)");
    cg_transform crop = cg_t_random_crop(4, 4, 0);
    assert_int_equal(cg_transform_apply(&crop, 1, &s, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG,
                         "required crop size (4, 4) is larger than input image size (3, 3)");
    cg_transform norm = cg_t_normalize(3, (float[]){0, 0, 0}, (float[]){1, 1, 1});
    assert_int_equal(cg_transform_apply(&norm, 1, &s, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "normalize: 3 mean/std values for a 1-channel image");
    assert_int_equal(cg_tf_resize(&s, 0, 2, CG_INTERP_BILINEAR), -1);
    cg_test_expect_error(CG_ERR_ARG, "resize: size (0, 2)");
    cg_sample_clear(&s);
    assert_int_equal(cg_tf_hflip(&s), -1);
    cg_test_expect_error(CG_ERR_ARG, "hflip: the sample is NULL or holds no image");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_deterministic, cg_test_teardown),
        cmocka_unit_test_teardown(test_random_crop_matches, cg_test_teardown),
        cmocka_unit_test_teardown(test_random_statistics, cg_test_teardown),
        cmocka_unit_test_teardown(test_random_resized_crop, cg_test_teardown),
        cmocka_unit_test_teardown(test_random_erasing, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return cg_test_run_with_fixture("transforms", tests, CG_COUNT(tests), "transforms.txt", &fx);
}
