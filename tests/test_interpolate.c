// tests/test_interpolate.c - cg_interpolate in every mode (nearest, nearest-exact, linear,
// bilinear, bicubic, trilinear, area; align_corners both ways, antialias,
// recompute_scale_factor; by size and by scale factor; down, up and equal; 1-, 2- and 3-D
// spatial) against PyTorch's F.interpolate (tests/fixtures/gen_resize.py and the first cases
// in gen_layers.py: output and input gradient), nn.Upsample's repr and forward, and an error
// for each bad option. Gradchecks: tests/support/op_cases.def.
#include <math.h>

#include "cgrad.h"
#include "testing.h"

// The last `dims` entries of a param (layers.txt writes a pair even for 1-D), 0 if absent.
static void spatial_param(const cg_fixture_case *c, const char *key, int dims, double *v) {
    double all[3] = {0, 0, 0};
    int n = cg_fixture_params(c, key, all, 3);
    for (int d = 0; d < dims; d++) v[d] = n >= dims ? all[n - dims + d] : 0;
}

static cg_tensor *run_interpolate(cg_tensor **in, const cg_fixture_case *c) {
    int dims = in[0]->ndim - 2;
    double size[3], scale[3];
    spatial_param(c, "size", dims, size);
    spatial_param(c, "scale_factor", dims, scale);
    cg_interpolate_options o = {.mode = (cg_interpolate_mode)cg_fixture_param(c, "mode", 0),
                                .align_corners = cg_fixture_param(c, "align_corners", 0) != 0,
                                .antialias = cg_fixture_param(c, "antialias", 0) != 0,
                                .recompute_scale_factor = cg_fixture_param(c, "recompute", 0) != 0};
    if (dims == 1 || cg_fixture_param(c, "scalar", 0) != 0) {
        o.size = (int)size[0];
        o.scale_factor = scale[0];
    } else if (dims == 2) {
        for (int d = 0; d < 2; d++) o.size_hw[d] = (int)size[d], o.scale_factor_hw[d] = scale[d];
    } else {
        for (int d = 0; d < 3; d++) o.size_dhw[d] = (int)size[d], o.scale_factor_dhw[d] = scale[d];
    }
    return cg_interpolate(in[0], &o);
}

// PyTorch's kernels are built with FMA contraction: sums of up to 4 x 4 (bicubic) or more
// (antialias) products round differently at the 1e-6 level of the terms.
static const cg_test_tolerance RESIZE_TOL = {1e-5, 1e-5, 1e-4, 1e-5};

static const cg_test_op OPS[] = {
    {"interpolate", "resize.txt", 1, {"x"}, run_interpolate, &RESIZE_TOL},
    {"interpolate", "layers.txt", 1, {"x"}, run_interpolate, NULL},
};

static void test_upsample_module(void **state) {
    (void)state;
    struct {
        cg_interpolate_options o;
        const char *repr;
        int rank;
    } cases[] = {
        {{.scale_factor = 2}, "Upsample(scale_factor=2.0, mode=nearest)", 4},
        {{.size_hw = {4, 6}, .mode = CG_INTERPOLATE_BILINEAR, .align_corners = true},
         "Upsample(size=(4, 6), mode=bilinear)",
         4},
        {{.size = 5}, "Upsample(size=5, mode=nearest)", 4},
        {{.scale_factor_hw = {2, 3.5},
          .mode = CG_INTERPOLATE_NEAREST_EXACT,
          .recompute_scale_factor = true},
         "Upsample(scale_factor=(2.0, 3.5), mode=nearest-exact)",
         4},
        {{.scale_factor = 0.5, .mode = CG_INTERPOLATE_BICUBIC, .antialias = true},
         "Upsample(scale_factor=0.5, mode=bicubic)",
         4},
        {{.size = 7, .mode = CG_INTERPOLATE_LINEAR}, "Upsample(size=7, mode=linear)", 3},
        {{.size_dhw = {2, 3, 4}, .mode = CG_INTERPOLATE_TRILINEAR},
         "Upsample(size=(2, 3, 4), mode=trilinear)",
         5},
        {{.scale_factor = 1.5, .mode = CG_INTERPOLATE_AREA},
         "Upsample(scale_factor=1.5, mode=area)",
         5},
    };
    cg_scope_begin();
    cg_tensor *x[6] = {NULL,
                       NULL,
                       NULL,
                       cg_randn(CG_SHAPE(1, 2, 5), NULL),
                       cg_randn(CG_SHAPE(1, 2, 3, 3), NULL),
                       cg_randn(CG_SHAPE(1, 1, 2, 3, 3), NULL)};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cg_module *m = cg_Upsample(&cases[i].o);
        assert_non_null(m);
        assert_string_equal(cg_test_describe(m), cases[i].repr);
        cg_tensor *in = x[cases[i].rank];
        cg_assert_close(cg_module_forward(m, in), cg_interpolate(in, &cases[i].o), 0, 0,
                        cases[i].repr);
        cg_module_free(m);
    }
    cg_scope_end();
}

// Nearest x2 copies every pixel into a 2x2 block; the corners stay with align_corners; an
// equal size changes nothing in any mode; area to a divisor is average pooling; nearest
// given scale_factor 2.1 (output twice the input) reads floor(o / 2.1), not o / 2.
static void test_invariants(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 3, 4, 5), NULL);
    cg_tensor *up = cg_interpolate(x, &(cg_interpolate_options){.scale_factor = 2});
    assert_non_null(up);
    for (int64_t i = 0; i < 8; i++)
        for (int64_t j = 0; j < 10; j++)
            assert_true(cg_get(up, CG_SHAPE(1, 2, i, j)) ==
                        cg_get(x, CG_SHAPE(1, 2, i / 2, j / 2)));
    for (int mode = CG_INTERPOLATE_BILINEAR; mode <= CG_INTERPOLATE_BICUBIC; mode += 3) {
        cg_tensor *corners = cg_interpolate(
            x, &(cg_interpolate_options){
                   .size_hw = {7, 9}, .mode = (cg_interpolate_mode)mode, .align_corners = true});
        assert_true(fabsf(cg_get(corners, CG_SHAPE(0, 1, 6, 8)) - cg_get(x, CG_SHAPE(0, 1, 3, 4))) <
                    1e-6f);
        assert_true(fabsf(cg_get(corners, CG_SHAPE(1, 0, 0, 0)) - cg_get(x, CG_SHAPE(1, 0, 0, 0))) <
                    1e-6f);
    }
    for (int mode = 0; mode < CG_INTERPOLATE_MODE_COUNT; mode++) {
        if (mode == CG_INTERPOLATE_LINEAR || mode == CG_INTERPOLATE_TRILINEAR) continue;
        cg_tensor *same = cg_interpolate(
            x, &(cg_interpolate_options){.size_hw = {4, 5}, .mode = (cg_interpolate_mode)mode});
        cg_assert_close(same, x, 0, 1e-6, cg_interpolate_mode_name((cg_interpolate_mode)mode));
    }
    cg_tensor *area = cg_interpolate(
        x, &(cg_interpolate_options){.scale_factor = 0.5, .mode = CG_INTERPOLATE_AREA});
    cg_assert_close(area, cg_adaptive_avg_pool2d(x, 2, 2), 1e-6, 1e-6, "area = adaptive avg pool");
    cg_tensor *line = cg_randn(CG_SHAPE(1, 1, 5), NULL);
    cg_tensor *twice = cg_interpolate(line, &(cg_interpolate_options){.scale_factor = 2.1});
    assert_int_equal(twice->shape[2], 10);
    for (int64_t o = 0; o < 10; o++)
        assert_true(cg_get(twice, CG_SHAPE(0, 0, o)) ==
                    cg_get(line, CG_SHAPE(0, 0, (int64_t)floorf((float)o * (float)(1 / 2.1)))));
    cg_scope_end();
}

// Gradchecks of the 5-D modes (op_cases.def holds inputs up to 4-D).
static cg_tensor *resize(cg_tensor **in, void *ctx) {
    return cg_interpolate(in[0], ctx);
}
static void test_gradcheck_volumetric(void **state) {
    (void)state;
    const cg_interpolate_options options[] = {
        {.size_dhw = {3, 2, 4}, .mode = CG_INTERPOLATE_TRILINEAR},
        {.scale_factor = 1.5, .mode = CG_INTERPOLATE_TRILINEAR, .align_corners = true},
        {.scale_factor_dhw = {1.5, 2, 0.7}},
        {.size_dhw = {1, 3, 2}, .mode = CG_INTERPOLATE_AREA},
        {.scale_factor = 1.7, .mode = CG_INTERPOLATE_NEAREST_EXACT},
    };
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
        cg_scope_begin();
        cg_tensor *x = cg_requires_grad(cg_randn(CG_SHAPE(1, 2, 2, 3, 3), NULL), true);
        cg_test_gradcheck(resize, (void *)&options[i], 1, &x,
                          cg_interpolate_mode_name(options[i].mode));
        cg_scope_end();
    }
}

static void expect_refused(cg_tensor *x, cg_interpolate_options o, cg_status status,
                           const char *message) {
    assert_null(cg_interpolate(x, &o));
    cg_test_expect_error(status, message);
}

static void test_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(1, 2, 3, 3), NULL);
    cg_tensor *x1 = cg_randn(CG_SHAPE(2, 3, 4), NULL),
              *x3 = cg_randn(CG_SHAPE(1, 1, 2, 2, 2), NULL);
    assert_null(cg_interpolate(x, NULL));
    cg_test_expect_error(CG_ERR_ARG, "interpolate: give size or scale_factor (options NULL)");
    expect_refused(x, (cg_interpolate_options){0}, CG_ERR_ARG,
                   "interpolate: give either size or scale_factor (neither");
    expect_refused(x, (cg_interpolate_options){.size = 4, .scale_factor = 2}, CG_ERR_ARG,
                   "interpolate: give either size or scale_factor (both");
    // floating options: finite and > 0, and an output size that fits
    expect_refused(x, (cg_interpolate_options){.scale_factor = NAN}, CG_ERR_ARG,
                   "interpolate: scale_factor nan must be finite and > 0");
    expect_refused(x, (cg_interpolate_options){.scale_factor = INFINITY}, CG_ERR_ARG,
                   "interpolate: scale_factor inf must be finite");
    expect_refused(x, (cg_interpolate_options){.scale_factor_hw = {2, -INFINITY}}, CG_ERR_ARG,
                   "interpolate: scale_factor_hw[1] -inf must be finite");
    expect_refused(x, (cg_interpolate_options){.scale_factor = -2}, CG_ERR_ARG,
                   "interpolate: scale_factor -2 must be finite and > 0");
    expect_refused(x, (cg_interpolate_options){.scale_factor_hw = {0, 2}}, CG_ERR_ARG,
                   "interpolate: scale_factor_hw[0] 0 must be finite and > 0");
    expect_refused(x, (cg_interpolate_options){.scale_factor = 1e30}, CG_ERR_ARG,
                   "interpolate: scale_factor 1e+30 of input [1,2,3,3] gives output size");
    expect_refused(x, (cg_interpolate_options){.scale_factor = 0.1}, CG_ERR_ARG,
                   "gives output size 0, outside [1, 2147483647]");
    expect_refused(x, (cg_interpolate_options){.size = -2}, CG_ERR_ARG,
                   "interpolate: size -2 must be > 0");
    expect_refused(x, (cg_interpolate_options){.size_hw = {4, 0}}, CG_ERR_ARG,
                   "interpolate: size_hw[1] 0 must be > 0");
    // options that do not fit the mode
    expect_refused(x, (cg_interpolate_options){.size = 4, .align_corners = true}, CG_ERR_ARG,
                   "interpolate: align_corners is only for the interpolating modes");
    expect_refused(
        x, (cg_interpolate_options){.size = 4, .mode = CG_INTERPOLATE_AREA, .align_corners = true},
        CG_ERR_ARG, "(mode area)");
    expect_refused(x, (cg_interpolate_options){.size = 4, .antialias = true}, CG_ERR_ARG,
                   "interpolate: antialias is only for bilinear and bicubic (mode nearest)");
    expect_refused(x, (cg_interpolate_options){.size = 4, .recompute_scale_factor = true},
                   CG_ERR_ARG, "recompute_scale_factor is not meaningful with an explicit size");
    expect_refused(x, (cg_interpolate_options){.size = 4, .mode = 9}, CG_ERR_ARG,
                   "interpolate: unknown mode 9");
    // ranks
    expect_refused(x1, (cg_interpolate_options){.size = 4, .mode = CG_INTERPOLATE_BILINEAR},
                   CG_ERR_SHAPE,
                   "interpolate: mode bilinear expects a 4-D (N, C, H, W) input, got [2,3,4]");
    expect_refused(x, (cg_interpolate_options){.size = 4, .mode = CG_INTERPOLATE_LINEAR},
                   CG_ERR_SHAPE, "mode linear expects a 3-D (N, C, L) input");
    expect_refused(x3, (cg_interpolate_options){.size = 4, .mode = CG_INTERPOLATE_BICUBIC},
                   CG_ERR_SHAPE, "mode bicubic expects a 4-D");
    expect_refused(x, (cg_interpolate_options){.size = 4, .mode = CG_INTERPOLATE_TRILINEAR},
                   CG_ERR_SHAPE, "mode trilinear expects a 5-D (N, C, D, H, W) input");
    expect_refused(cg_randn(CG_SHAPE(3, 4), NULL), (cg_interpolate_options){.size = 4},
                   CG_ERR_SHAPE, "interpolate: mode nearest expects a 3-D (N, C, L), 4-D");
    expect_refused(cg_zeros(CG_SHAPE(1, 2, 0, 3)), (cg_interpolate_options){.size = 4},
                   CG_ERR_SHAPE, "has an empty spatial dim");
    expect_refused(x1, (cg_interpolate_options){.size_hw = {4, 4}}, CG_ERR_ARG,
                   "interpolate: size_hw/scale_factor_hw is for a 4-D (N, C, H, W) input; an "
                   "input with 1 spatial dim reads the scalar size or scale_factor");
    expect_refused(x, (cg_interpolate_options){.scale_factor_dhw = {2, 2, 2}}, CG_ERR_ARG,
                   "size_dhw/scale_factor_dhw is for a 5-D");
    expect_refused(x3, (cg_interpolate_options){.size_hw = {2, 2}}, CG_ERR_ARG,
                   "or the _dhw triple");
    assert_null(cg_interpolate(NULL, &(cg_interpolate_options){.size = 4}));
    cg_test_expect_error(CG_ERR_ARG, "interpolate");
    cg_scope_end();
    assert_null(cg_Upsample(NULL));
    cg_test_expect_error(CG_ERR_ARG, "Upsample: give size or scale_factor");
    assert_null(cg_Upsample(&(cg_interpolate_options){.scale_factor = NAN}));
    cg_test_expect_error(CG_ERR_ARG, "Upsample: scale_factor nan must be finite and > 0");
    assert_null(cg_Upsample(&(cg_interpolate_options){.size = 2, .antialias = true}));
    cg_test_expect_error(CG_ERR_ARG, "Upsample: antialias is only for bilinear and bicubic");
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_upsample_module, cg_test_teardown),
        cmocka_unit_test_teardown(test_invariants, cg_test_teardown),
        cmocka_unit_test_teardown(test_gradcheck_volumetric, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("interpolate", OPS, extra, 21);
}
