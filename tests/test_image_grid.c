// tests/test_image_grid.c - cg_image_save_grid_ex: automatic magnification of small tiles
// (3x3 kernels become 63x63), the label strip under each tile with its index, and the
// picture's size formula; read back with cg_image_load_gray.
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define PATH CG_TEST_TMP_DIR "/grid_labels.png"

// Pixel (y, x) of a loaded (H, W) picture as a byte.
static int px(const cg_tensor *pic, int64_t y, int64_t x) {
    return (int)(pic->data[y * pic->shape[pic->ndim - 1] + x] * 255.0f + 0.5f);
}

static void test_kernels_scaled_and_labelled(void **state) {
    (void)state;
    cg_tensor *k = cg_randn(CG_SHAPE(8, 1, 3, 3), NULL);
    assert_int_equal(
        cg_image_save_grid_ex(PATH, k, &(cg_grid_options){.columns = 4, .labels = true}), 0);
    cg_tensor *pic = cg_image_load_gray(PATH);
    assert_non_null(pic);
    // scale 21: 63-pixel tiles, label strip 14 (digits drawn 2x), 1-pixel borders.
    int64_t h = pic->shape[pic->ndim - 2], w = pic->shape[pic->ndim - 1];
    assert_int_equal(w, 4 * (63 + 1) + 1);
    assert_int_equal(h, 2 * (63 + 14 + 1) + 1);
    // Tile 5 (row 1, column 1) is labelled "5": the glyph's top row is 3 white pixels of 2x2.
    int64_t ox = 1 + 64, oy = 1 + 78, label_y = oy + 63 + 2;
    for (int x = 0; x < 6; x++) assert_int_equal(px(pic, label_y, ox + 2 + x), 255);
    assert_int_equal(px(pic, label_y, ox + 2 + 6), 48); // after the glyph: the strip's gray
    assert_int_equal(px(pic, label_y - 1, ox + 2), 48); // above the glyph
    // A tile is one kernel value per 21x21 block.
    assert_int_equal(px(pic, oy, ox), px(pic, oy + 20, ox + 20));
    cg_free(pic);
    // Without labels and with scale 1 the size is cg_image_save_grid's.
    assert_int_equal(cg_image_save_grid_ex(PATH, k, &(cg_grid_options){.scale = 1}), 0);
    pic = cg_image_load_gray(PATH);
    assert_int_equal(pic->shape[pic->ndim - 1], 3 * 4 + 1);
    assert_int_equal(pic->shape[pic->ndim - 2], 3 * 4 + 1);
    cg_free(pic);
    // 28x28 maps are magnified twice; NULL options are the defaults.
    cg_tensor *maps = cg_rand(CG_SHAPE(1, 2, 28, 28), NULL);
    assert_int_equal(cg_image_save_grid_ex(PATH, maps, NULL), 0);
    pic = cg_image_load_gray(PATH);
    assert_int_equal(pic->shape[pic->ndim - 1], 2 * 57 + 1);
    cg_free(pic);
    cg_tensor *cube = cg_zeros(CG_SHAPE(3, 3, 3));
    assert_int_equal(cg_image_save_grid_ex(PATH, cube, NULL), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "image_save_grid: images must be (N,C,H,W) or (H,W)");
    cg_free(k), cg_free(maps), cg_free(cube);
    remove(PATH);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        CG_TEST_NO_LEAKS(test_kernels_scaled_and_labelled),
    };
    cg_manual_seed(3);
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("image_grid", tests, NULL, NULL);
}
