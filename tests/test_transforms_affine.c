// tests/test_transforms_affine.c - RandomRotation / RandomAffine (io/transform_affine.c):
// F.rotate and F.affine against torchvision 0.14's tensor backend
// (tests/fixtures/gen_affine.py), the random steps against the functional forms at the
// parameters they drew, their sampling statistics, and their errors.
#include <math.h>
#include <string.h>

#include "testing.h"

static cg_fixture *fx;

// Nearest picks equal torchvision's exactly; bilinear values to float rounding.
static void test_fixtures(void **state) {
    (void)state;
    int rotations = 0, affines = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        const char *name = cg_fixture_case_name(c);
        cg_sample s = cg_test_sample_of(cg_fixture_tensor(c, "x"));
        bool nearest = cg_fixture_param(c, "nearest", 0) != 0;
        cg_interp interp = nearest ? CG_INTERP_NEAREST : CG_INTERP_BILINEAR;
        float fill = (float)cg_fixture_param(c, "fill", 0), center[2];
        double v[2];
        const float *at = NULL;
        if (cg_fixture_has(c, "center")) {
            cg_fixture_params(c, "center", v, 2);
            center[0] = (float)v[0], center[1] = (float)v[1], at = center;
        }
        float angle = (float)cg_fixture_param(c, "angle", 0);
        if (cg_test_starts(name, "rotate")) {
            bool expand = cg_fixture_param(c, "expand", 0) != 0;
            assert_int_equal(cg_tf_rotate(&s, angle, interp, expand, at, fill), 0);
            rotations++;
        } else {
            double t[2], sh[2];
            cg_fixture_params(c, "translate", t, 2), cg_fixture_params(c, "shear", sh, 2);
            float tr[2] = {(float)t[0], (float)t[1]}, shear[2] = {(float)sh[0], (float)sh[1]};
            float scale = (float)cg_fixture_param(c, "scale", 1);
            assert_int_equal(cg_tf_affine(&s, angle, tr, scale, shear, interp, fill, at), 0);
            affines++;
        }
        cg_test_check_sample(&s, cg_fixture_tensor(c, "out"), nearest ? 0 : 2e-6, name);
    }
    assert_int_equal(rotations, 8);
    assert_int_equal(affines, 7);
}

// The steps are the functional forms at the parameters drawn (a copy of the generator
// replays the draws), with the step's interpolation, fill, expand and center.
static void test_steps_replay(void **state) {
    (void)state;
    cg_transform rot = cg_t_random_rotation(40);
    rot.interp = CG_INTERP_BILINEAR, rot.fill = 0.5f, rot.expand = true;
    cg_transform aff = cg_t_random_affine(30);
    aff.translate[0] = 0.2f, aff.translate[1] = 0.1f, aff.scale[0] = 0.8f, aff.scale[1] = 1.2f;
    aff.shear[0] = -10, aff.shear[1] = 10, aff.shear[2] = 0, aff.shear[3] = 5;
    aff.center[0] = (cg_optional)CG_SET(2.0), aff.center[1] = (cg_optional)CG_SET(3.0);
    for (uint64_t seed = 0; seed < 20; seed++) {
        cg_rng rng, replay;
        cg_rng_seed(&rng, seed), replay = rng;
        cg_sample a = {.c = 2, .h = 9, .w = 11, .data = cg_alloc(198 * sizeof(float))};
        for (int k = 0; k < 198; k++) a.data[k] = (float)((k * 37) % 101) / 101;
        cg_sample b = a, c = a, d = a;
        b.data = cg_alloc(198 * sizeof(float)), c.data = cg_alloc(198 * sizeof(float));
        d.data = cg_alloc(198 * sizeof(float));
        memcpy(b.data, a.data, 198 * sizeof(float)), memcpy(c.data, a.data, 198 * sizeof(float));
        memcpy(d.data, a.data, 198 * sizeof(float));
        cg_transform both[2] = {rot, aff};
        assert_int_equal(cg_transform_apply(&both[0], 1, &a, &rng), 0);
        assert_int_equal(cg_transform_apply(&both[1], 1, &c, &rng), 0);
        float angle;
        cg_affine_params p;
        assert_int_equal(cg_random_rotation_params(&replay, rot.degrees, &angle), 0);
        assert_true(angle >= -40 && angle <= 40);
        assert_int_equal(cg_tf_rotate(&b, angle, CG_INTERP_BILINEAR, true, NULL, 0.5f), 0);
        assert_int_equal(cg_random_affine_params(&replay, &aff, 9, 11, &p), 0);
        assert_int_equal(cg_tf_affine(&d, p.angle, p.translate, p.scale, p.shear, CG_INTERP_NEAREST,
                                      0.0f, (float[]){2, 3}),
                         0);
        assert_int_equal(a.h * 1000 + a.w, b.h * 1000 + b.w);
        assert_memory_equal(a.data, b.data, (size_t)(a.c * a.h * a.w) * sizeof(float));
        assert_memory_equal(c.data, d.data, 198 * sizeof(float));
        cg_sample_clear(&a), cg_sample_clear(&b), cg_sample_clear(&c), cg_sample_clear(&d);
    }
}

// The parameters' distributions: uniform angles, scales and shears over their ranges
// (mean and variance of a uniform), translations round(uniform(-m, m)) half to even
// (P(tx = k) for each integer k), and a parameter left unset is never drawn.
static void test_sampling(void **state) {
    (void)state;
    enum { N = 40000 };
    cg_transform t = cg_t_random_affine(30);
    t.degrees[0] = -10, t.degrees[1] = 50;
    t.translate[0] = 0.25f, t.translate[1] = 0; // max_dx = 0.25 * 10 = 2.5
    t.scale[0] = 0.5f, t.scale[1] = 1.5f;
    t.shear[0] = 0, t.shear[1] = 20, t.shear[2] = -4, t.shear[3] = 4;
    cg_rng rng;
    cg_rng_seed(&rng, 3);
    double sa = 0, sa2 = 0, ss = 0, shx = 0, shy = 0;
    int tx[7] = {0};
    for (int k = 0; k < N; k++) {
        cg_affine_params p;
        assert_int_equal(cg_random_affine_params(&rng, &t, 8, 10, &p), 0);
        assert_true(p.angle >= -10 && p.angle <= 50 && p.scale >= 0.5f && p.scale <= 1.5f);
        assert_true(p.shear[0] >= 0 && p.shear[0] <= 20 && fabsf(p.shear[1]) <= 4);
        assert_true(p.translate[1] == 0 && fabsf(p.translate[0]) <= 2);
        sa += p.angle, sa2 += (double)p.angle * p.angle, ss += p.scale;
        shx += p.shear[0], shy += p.shear[1];
        tx[(int)p.translate[0] + 3]++;
    }
    assert_float_equal(sa / N, 20, 0.5);                        // sd 17.3 / sqrt(N) = 0.09
    assert_float_equal(sa2 / N - (sa / N) * (sa / N), 300, 10); // (b - a)^2 / 12
    assert_float_equal(ss / N, 1.0, 0.01), assert_float_equal(shx / N, 10, 0.15);
    assert_float_equal(shy / N, 0, 0.06);
    // uniform(-2.5, 2.5) rounded half to even: -2 gets [-2.5, -1.5] (0.2), -1 (-1.5, -0.5)
    // (0.2), 0 [-0.5, 0.5] (0.2), ... ; +-3 never.
    assert_int_equal(tx[0] + tx[6], 0);
    for (int k = 1; k <= 5; k++) assert_true(fabs(tx[k] / (double)N - 0.2) < 0.01);
    // Unset ranges are not drawn: with only degrees, one draw per call.
    cg_transform only = cg_t_random_affine(10);
    cg_rng a, b;
    cg_rng_seed(&a, 9), b = a;
    cg_affine_params p;
    assert_int_equal(cg_random_affine_params(&a, &only, 8, 8, &p), 0);
    (void)cg_rng_uniform(&b);
    assert_memory_equal(&a, &b, sizeof a);
    assert_true(p.scale == 1 && p.translate[0] == 0 && p.shear[0] == 0 && p.shear[1] == 0);
    float angle;
    double r = 0;
    for (int k = 0; k < N; k++) {
        assert_int_equal(cg_random_rotation_params(&rng, (float[]){-90, 90}, &angle), 0);
        r += angle;
    }
    assert_float_equal(r / N, 0, 0.5);
}

static void test_errors(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_sample s = {.c = 1, .h = 3, .w = 3, .data = cg_alloc_zeroed(9 * sizeof(float))};
    float zero[2] = {0, 0};
    assert_int_equal(cg_tf_affine(&s, 0, zero, 0, zero, CG_INTERP_NEAREST, 0, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "affine: scale 0 must be positive");
    assert_int_equal(cg_tf_affine(&s, 0, NULL, 1, zero, CG_INTERP_NEAREST, 0, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "affine: argument 'translate' is NULL");
    assert_int_equal(cg_tf_rotate(&s, NAN, CG_INTERP_NEAREST, false, NULL, 0), -1);
    cg_test_expect_error(CG_ERR_ARG, "rotate: angle nan and center must be finite");
    assert_int_equal(cg_tf_rotate(&s, 10, (cg_interp)7, false, NULL, 0), -1);
    cg_test_expect_error(CG_ERR_ARG, "rotate: interpolation 7 is not nearest or bilinear");
    cg_transform rot = cg_t_random_rotation(-5);
    assert_int_equal(cg_transform_apply(&rot, 1, &s, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "random_rotation: degrees (5, -5) must be a finite ordered");
    cg_transform aff = cg_t_random_affine(5);
    aff.translate[0] = 1.5f;
    assert_int_equal(cg_transform_apply(&aff, 1, &s, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "random_affine: translate (1.5, 0) must be in [0, 1]");
    aff = cg_t_random_affine(5);
    aff.scale[0] = -1, aff.scale[1] = 2;
    assert_int_equal(cg_transform_apply(&aff, 1, &s, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "scale (-1, 2) positive");
    cg_sample_clear(&s);
    assert_int_equal(cg_tf_rotate(&s, 10, CG_INTERP_NEAREST, false, NULL, 0), -1);
    cg_test_expect_error(CG_ERR_ARG, "rotate: the sample is NULL or holds no image");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_fixtures, cg_test_teardown),
        cmocka_unit_test_teardown(test_steps_replay, cg_test_teardown),
        cmocka_unit_test_teardown(test_sampling, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return cg_test_run_with_fixture("transforms_affine", tests, CG_COUNT(tests), "affine.txt", &fx);
}
