// tests/test_image.c - image loading/preparation and PNG grids, via real PNG files.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

// The test's own private copy of stb to make and decode PNGs independently of the library.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#include <stb/stb_image.h>
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop
#pragma GCC diagnostic ignored "-Wunused-function"

static char tmp_path[512];
static const char *tmp(const char *name) {
    snprintf(tmp_path, sizeof tmp_path, "%s/image_%s", CG_TEST_TMP_DIR, name);
    return tmp_path;
}

// A 60x30 white picture with a black 20x10 rectangle at x 10..29, y 5..14 (dark ink on
// white paper, like a photo of a drawing).
static const char *write_rectangle_png(void) {
    static uint8_t pixels[30 * 60];
    memset(pixels, 255, sizeof pixels);
    for (int y = 5; y < 15; y++)
        for (int x = 10; x < 30; x++) pixels[y * 60 + x] = 0;
    const char *path = tmp("rect.png");
    assert_true(stbi_write_png(path, 60, 30, 1, pixels, 60));
    return path;
}

// Rows [r0, r1) of a 28x28 frame must be ~1 on columns [c0, c1) and 0 elsewhere.
static void expect_block(const cg_tensor *t, int r0, int r1, int c0, int c1) {
    assert_int_equal(t->ndim, 4);
    assert_int_equal(t->shape[2], 28);
    assert_int_equal(t->shape[3], 28);
    for (int y = 0; y < 28; y++)
        for (int x = 0; x < 28; x++) {
            bool inside = y >= r0 && y < r1 && x >= c0 && x < c1;
            float v = t->data[y * 28 + x];
            if (fabsf(v - (inside ? 1.0f : 0.0f)) > 1e-5f)
                fail_msg("pixel (%d,%d) = %g, expected %d", y, x, v, inside);
        }
}

static void test_load_gray(void **state) {
    (void)state;
    cg_tensor *g = cg_image_load_gray(write_rectangle_png());
    assert_non_null(g);
    assert_null(g->scope);
    assert_int_equal(g->shape[2], 30);
    assert_int_equal(g->shape[3], 60);
    assert_true(g->data[0] == 1.0f);
    assert_true(g->data[7 * 60 + 15] == 0.0f);
    cg_free(g);
}

// Default preparation: auto-invert (white border), crop to the rectangle, fit 20x10 into
// 28 (-> 28x14) and centre vertically: rows 7..20 are ink.
static void test_prepare_default(void **state) {
    (void)state;
    cg_tensor *t = cg_image_load_mnist(write_rectangle_png(), NULL);
    assert_non_null(t);
    expect_block(t, 7, 21, 0, 28);
    cg_free(t);
}

// The MNIST digits' 20-pixel box: 20x10, offset (4, 9).
static void test_prepare_box20(void **state) {
    (void)state;
    cg_image_options o = {.box = 20};
    cg_tensor *t = cg_image_load_mnist(write_rectangle_png(), &o);
    assert_non_null(t);
    expect_block(t, 9, 19, 4, 24);
    cg_free(t);
}

// No inversion and no crop: the whole 60x30 frame becomes 28x14 at rows 7..20; its white
// border stays white (1) and the dark rectangle stays dark.
static void test_prepare_no_invert_no_crop(void **state) {
    (void)state;
    cg_image_options o = {.invert = CG_INVERT_NEVER, .no_crop = true};
    cg_tensor *t = cg_image_load_mnist(write_rectangle_png(), &o);
    assert_non_null(t);
    for (int x = 0; x < 28; x++) {
        assert_true(t->data[3 * 28 + x] == 0.0f);            // outside the pasted picture
        assert_float_equal(t->data[7 * 28 + x], 1.0f, 1e-5); // its top border row
    }
    // the rectangle's centre (x 20/60, y 10/30) maps to (9.3, 7 + 4.7)
    assert_true(t->data[(7 + 4) * 28 + 9] < 0.05f);
    cg_free(t);
}

static void test_prepare_from_tensor(void **state) {
    (void)state;
    cg_tensor *g = cg_zeros(CG_SHAPE(10, 10));
    for (int y = 2; y < 8; y++)
        for (int x = 3; x < 6; x++) g->data[y * 10 + x] = 1.0f; // 3 wide, 6 tall
    cg_image_options o = {.size = 28, .box = 20};
    cg_tensor *t = cg_image_prepare_mnist(g, &o);
    expect_block(t, 4, 24, 9, 19); // 10x20 centred
    cg_free(t);
    cg_test_capture_errors();
    o.box = 40;
    assert_null(cg_image_prepare_mnist(g, &o));
    cg_test_expect_error(CG_ERR_ARG, "box");
    cg_free(g);
}

static void test_decode_errors(void **state) {
    (void)state;
    cg_test_capture_errors();
    FILE *f = fopen(tmp("garbage.png"), "wb");
    fputs("this is not an image at all", f);
    fclose(f);
    assert_null(cg_image_load_mnist(tmp("garbage.png"), NULL));
    cg_test_expect_error(CG_ERR_FORMAT, "cannot decode");

    // A real PNG cut in half.
    const char *path = write_rectangle_png();
    uint8_t buf[4096];
    f = fopen(path, "rb");
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(tmp("cut.png"), "wb");
    fwrite(buf, 1, n / 2, f);
    fclose(f);
    assert_null(cg_image_load_gray(tmp("cut.png")));
    cg_test_expect_error(CG_ERR_FORMAT, "cut.png");

    assert_null(cg_image_load_gray(tmp("missing.png")));
    cg_test_expect_error(CG_ERR_IO, "cannot open");
}

// 6 one-channel 3x4 tiles, scale 2, default columns (3): a 28x15 picture.
static void test_grid_gray(void **state) {
    (void)state;
    cg_tensor *k = cg_empty(CG_SHAPE(6, 1, 3, 4));
    for (int64_t i = 0; i < k->numel; i++) k->data[i] = (float)(i % 12) - (i / 12 == 5 ? 100 : 0);
    for (int i = 0; i < 12; i++) k->data[4 * 12 + i] = 3.0f; // a constant tile
    const char *path = tmp("grid.png");
    assert_int_equal(cg_image_save_grid(path, k, 0, 2), 0);
    int w, h, c;
    uint8_t *p = stbi_load(path, &w, &h, &c, 0);
    assert_non_null(p);
    assert_int_equal(w, 3 * (4 * 2 + 1) + 1);
    assert_int_equal(h, 2 * (3 * 2 + 1) + 1);
    assert_int_equal(c, 1);
    assert_int_equal(p[0], 48);                         // border
    assert_int_equal(p[1 * w + 1], 0);                  // tile 0, pixel (0,0) is its minimum
    assert_int_equal(p[1 * w + 2], 0);                  // magnified 2x
    assert_int_equal(p[(1 + 5) * w + 1 + 7], 255);      // tile 0's last pixel is its maximum
    assert_int_equal(p[(1 + 7 + 1) * w + 10 + 1], 128); // tile 4 (row 1, col 1) is constant
    stbi_image_free(p);
    cg_free(k);
}

static void test_grid_rgb_and_errors(void **state) {
    (void)state;
    cg_tensor *img = cg_rand(CG_SHAPE(2, 3, 5, 5), NULL);
    char path[512];
    snprintf(path, sizeof path, "%s", tmp("rgb.png"));
    assert_int_equal(cg_image_save_grid(path, img, 2, 1), 0);
    int w, h, c;
    uint8_t *p = stbi_load(path, &w, &h, &c, 0);
    assert_non_null(p);
    assert_int_equal(w, 2 * 6 + 1);
    assert_int_equal(h, 7);
    assert_int_equal(c, 3);
    stbi_image_free(p);

    cg_test_capture_errors();
    cg_tensor *three_d = cg_zeros(CG_SHAPE(3, 3, 3));
    assert_int_equal(cg_image_save_grid(path, three_d, 0, 1), -1);
    cg_free(three_d);
    cg_test_expect_error(CG_ERR_SHAPE, "(N,C,H,W)");
    // A path inside a regular file cannot be created: the error names it, nothing is left.
    assert_int_equal(cg_image_save_grid(tmp("rgb.png/inside.png"), img, 0, 1), -1);
    cg_test_expect_error(CG_ERR_IO, "inside.png");
    // The old picture is untouched by the failed save.
    p = stbi_load(path, &w, &h, &c, 0);
    assert_non_null(p);
    stbi_image_free(p);
    cg_free(img);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_load_gray, cg_test_teardown),
        cmocka_unit_test_teardown(test_prepare_default, cg_test_teardown),
        cmocka_unit_test_teardown(test_prepare_box20, cg_test_teardown),
        cmocka_unit_test_teardown(test_prepare_no_invert_no_crop, cg_test_teardown),
        cmocka_unit_test_teardown(test_prepare_from_tensor, cg_test_teardown),
        cmocka_unit_test_teardown(test_decode_errors, cg_test_teardown),
        cmocka_unit_test_teardown(test_grid_gray, cg_test_teardown),
        cmocka_unit_test_teardown(test_grid_rgb_and_errors, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
