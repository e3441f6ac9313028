// tests/test_interpolate.c - cg_interpolate (nearest, bilinear with align_corners both ways;
// by size and by scale factor; up and down; 1-D nearest) against PyTorch's F.interpolate
// (tests/fixtures/gen_layers.py: output and gradient), nn.Upsample's repr and forward, and an
// error for each bad argument. Gradchecks: tests/support/op_cases.def.
#include "cgrad.h"
#include "testing.h"

#define FIXTURE "layers.txt"

static cg_tensor *run_interpolate(cg_tensor **in, const cg_fixture_case *c) {
    double size[2] = {0, 0}, scale[2] = {0, 0};
    cg_fixture_params(c, "size", size, 2);
    cg_fixture_params(c, "scale_factor", scale, 2);
    cg_interpolate_options o = {.mode = cg_fixture_param(c, "mode", 0) ? CG_INTERPOLATE_BILINEAR
                                                                       : CG_INTERPOLATE_NEAREST,
                                .align_corners = cg_fixture_param(c, "align_corners", 0) != 0,
                                .scale_factor_hw = {scale[0], scale[1]}};
    if (in[0]->ndim == 3) { // 1-D reads the scalar
        o.size = (int)size[1];
    } else {
        o.size_hw[0] = (int)size[0];
        o.size_hw[1] = (int)size[1];
    }
    return cg_interpolate(in[0], &o);
}

static const cg_test_op OPS[] = {
    {"interpolate", FIXTURE, 1, {"x"}, run_interpolate, NULL},
};

static void test_upsample_module(void **state) {
    (void)state;
    struct {
        cg_interpolate_options o;
        const char *repr;
    } cases[] = {
        {{.scale_factor = 2}, "Upsample(scale_factor=2.0, mode=nearest)"},
        {{.size_hw = {4, 6}, .mode = CG_INTERPOLATE_BILINEAR, .align_corners = true},
         "Upsample(size=(4, 6), mode=bilinear)"},
        {{.size = 5}, "Upsample(size=5, mode=nearest)"},
        {{.scale_factor_hw = {2, 3}, .mode = CG_INTERPOLATE_BILINEAR},
         "Upsample(scale_factor=(2.0, 3.0), mode=bilinear)"},
    };
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(1, 2, 3, 3), NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cg_module *m = cg_Upsample(&cases[i].o);
        assert_non_null(m);
        char buf[128];
        m->cls->describe(m, buf, sizeof buf);
        assert_string_equal(buf, cases[i].repr);
        cg_assert_close(cg_module_forward(m, x), cg_interpolate(x, &cases[i].o), 0, 0, buf);
        cg_module_free(m);
    }
    cg_scope_end();
}

// Nearest x2 copies every pixel into a 2x2 block; bilinear with align_corners keeps the
// corners; an identity size changes nothing.
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
    cg_tensor *corners = cg_interpolate(
        x, &(cg_interpolate_options){
               .size_hw = {7, 9}, .mode = CG_INTERPOLATE_BILINEAR, .align_corners = true});
    assert_non_null(corners);
    assert_true(cg_get(corners, CG_SHAPE(0, 1, 6, 8)) == cg_get(x, CG_SHAPE(0, 1, 3, 4)));
    assert_true(cg_get(corners, CG_SHAPE(1, 0, 0, 0)) == cg_get(x, CG_SHAPE(1, 0, 0, 0)));
    for (int mode = 0; mode < 2; mode++) {
        cg_tensor *same = cg_interpolate(
            x, &(cg_interpolate_options){.size_hw = {4, 5}, .mode = (cg_interpolate_mode)mode});
        cg_assert_close(same, x, 0, 0, mode ? "bilinear to the same size" : "nearest, same size");
    }
    cg_scope_end();
}

static void test_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(1, 2, 3, 3), NULL);
    assert_null(cg_interpolate(x, NULL));
    cg_test_expect_error(CG_ERR_ARG, "interpolate: give either size or scale_factor (neither");
    assert_null(cg_interpolate(x, &(cg_interpolate_options){.size = 4, .scale_factor = 2}));
    cg_test_expect_error(CG_ERR_ARG, "interpolate: give either size or scale_factor (both");
    assert_null(cg_interpolate(x, &(cg_interpolate_options){.scale_factor = 0.1}));
    cg_test_expect_error(CG_ERR_ARG, "interpolate: output size 0x0 of input [1,2,3,3]");
    assert_null(cg_interpolate(x, &(cg_interpolate_options){.size = -2}));
    cg_test_expect_error(CG_ERR_ARG, "must be positive");
    assert_null(cg_interpolate(x, &(cg_interpolate_options){.size = 4, .align_corners = true}));
    cg_test_expect_error(CG_ERR_ARG, "interpolate: align_corners is only for bilinear");
    assert_null(cg_interpolate(x, &(cg_interpolate_options){.size = 4, .mode = 5}));
    cg_test_expect_error(CG_ERR_ARG, "interpolate: unknown mode 5");
    assert_null(
        cg_interpolate(cg_randn(CG_SHAPE(2, 3, 4), NULL),
                       &(cg_interpolate_options){.size = 4, .mode = CG_INTERPOLATE_BILINEAR}));
    cg_test_expect_error(CG_ERR_SHAPE, "interpolate: bilinear expects a 4-D (N, C, H, W) input, "
                                       "got [2,3,4]");
    assert_null(
        cg_interpolate(cg_randn(CG_SHAPE(3, 4), NULL), &(cg_interpolate_options){.size = 4}));
    cg_test_expect_error(CG_ERR_SHAPE, "interpolate: nearest expects a 3-D (N, C, L) or 4-D");
    assert_null(cg_interpolate(NULL, &(cg_interpolate_options){.size = 4}));
    cg_test_expect_error(CG_ERR_ARG, "interpolate");
    cg_scope_end();
    assert_null(cg_Upsample(NULL));
    cg_test_expect_error(CG_ERR_ARG, "Upsample: give size or scale_factor");
}

int main(void) {
    const struct CMUnitTest extra[] = {
        cmocka_unit_test_teardown(test_upsample_module, cg_test_teardown),
        cmocka_unit_test_teardown(test_invariants, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
    };
    return CG_TEST_RUN("interpolate", OPS, extra, 21);
}
