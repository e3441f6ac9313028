// tests/test_resize_antialias.c - Resize with antialias=True (cg_tf_resize_antialias, the
// `antialias` field of Resize and RandomResizedCrop) against torchvision 0.14's F.resize /
// F.resized_crop on float tensors (tests/fixtures/gen_resize_antialias.py), shrinking and
// growing, with an int size, and its errors.
#include <string.h>

#include "testing.h"

static cg_fixture *fx;

// The functional form and the Resize step (field antialias) on every resize case; crop +
// the functional form on every resized_crop case.
static void test_fixtures(void **state) {
    (void)state;
    int resizes = 0, crops = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        const char *name = cg_fixture_case_name(c);
        cg_tensor *x = cg_fixture_tensor(c, "x"), *want = cg_fixture_tensor(c, "out");
        double size[2], box[4];
        cg_fixture_params(c, "size", size, 2);
        int h = (int)size[0], w = (int)size[1];
        cg_sample s = cg_test_sample_of(x);
        if (strncmp(name, "resize/", 7) == 0) {
            assert_int_equal(cg_tf_resize_antialias(&s, h, w), 0);
            cg_test_check_sample(&s, want, 1e-6, name);
            cg_transform step = cg_t_resize(h, w, CG_INTERP_BILINEAR);
            step.antialias = true;
            s = cg_test_sample_of(x);
            assert_int_equal(cg_transform_apply(&step, 1, &s, NULL), 0);
            resizes++;
        } else {
            cg_fixture_params(c, "box", box, 4);
            assert_int_equal(cg_tf_crop(&s, (int)box[0], (int)box[1], (int)box[2], (int)box[3]), 0);
            assert_int_equal(cg_tf_resize_antialias(&s, h, w), 0);
            crops++;
        }
        cg_test_check_sample(&s, want, 1e-6, name);
    }
    assert_int_equal(resizes, 6);
    assert_int_equal(crops, 2);
}

// RandomResizedCrop with antialias is crop + the antialiased resize at the box it drew.
static void test_random_resized_crop(void **state) {
    (void)state;
    cg_transform step = cg_t_random_resized_crop(6, 5);
    step.antialias = true;
    for (uint64_t seed = 0; seed < 10; seed++) {
        cg_rng rng, replay;
        cg_rng_seed(&rng, seed), replay = rng;
        cg_sample s = {.c = 1, .h = 30, .w = 26, .data = cg_alloc(780 * sizeof(float))};
        for (int k = 0; k < 780; k++) s.data[k] = (float)((k * 13) % 97) / 97;
        cg_sample r = s;
        r.data = cg_alloc(780 * sizeof(float));
        memcpy(r.data, s.data, 780 * sizeof(float));
        assert_int_equal(cg_transform_apply(&step, 1, &s, &rng), 0);
        int box[4];
        assert_int_equal(
            cg_random_resized_crop_params(&replay, 30, 26, step.scale, step.ratio, box), 0);
        assert_int_equal(cg_tf_crop(&r, box[0], box[1], box[2], box[3]), 0);
        assert_int_equal(cg_tf_resize_antialias(&r, 6, 5), 0);
        assert_memory_equal(s.data, r.data, 30 * sizeof(float));
        cg_sample_clear(&s), cg_sample_clear(&r);
    }
}

static void test_errors(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_sample s = {.c = 1, .h = 4, .w = 4, .data = cg_alloc_zeroed(16 * sizeof(float))};
    cg_transform step = cg_t_resize(2, 2, CG_INTERP_NEAREST);
    step.antialias = true;
    assert_int_equal(cg_transform_apply(&step, 1, &s, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG,
                         "resize: antialias is supported for bilinear interpolation only");
    assert_int_equal(cg_tf_resize_antialias(&s, 0, 3), -1);
    cg_test_expect_error(CG_ERR_ARG, "resize_antialias: size (0, 3) must be positive");
    cg_sample_clear(&s);
    assert_int_equal(cg_tf_resize_antialias(&s, 2, 2), -1);
    cg_test_expect_error(CG_ERR_ARG, "resize_antialias: the sample is NULL or holds no image");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fixtures, cg_test_teardown),
        cmocka_unit_test_teardown(test_random_resized_crop, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return cg_test_run_with_fixture("resize_antialias", tests, CG_COUNT(tests),
                                    "resize_antialias.txt", &fx);
}
