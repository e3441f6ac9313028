// tests/test_image_folder.c - ImageFolder against torchvision 0.14 on a generated tree
// (tests/fixtures/gen_image_folder.py: classes, order, labels, PIL's convert for L / RGB /
// RGBA), bad files refused by name or skipped with a report, and the other datasets.
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testing.h"

#define ROOT CG_FIXTURE_DIR "/image_folder"

static void test_matches_torchvision(void **state) {
    (void)state;
    FILE *f = fopen(CG_FIXTURE_DIR "/image_folder_list.txt", "r");
    assert_non_null(f);
    cg_dataset *d = cg_image_folder_new(ROOT, NULL);
    assert_non_null(d);
    char name[256];
    int n = 0, idx = 0;
    assert_int_equal(fscanf(f, "classes %d\n", &n), 1);
    assert_int_equal(cg_image_folder_num_classes(d), n);
    for (int i = 0; i < n; i++) {
        assert_int_equal(fscanf(f, "%255s %d\n", name, &idx), 2);
        assert_string_equal(cg_image_folder_class(d, idx), name);
    }
    assert_int_equal(fscanf(f, "samples %d\n", &n), 1);
    assert_int_equal(cg_dataset_count(d), n);
    cg_fixture *fx = cg_fixture_load("image_folder.txt");
    assert_non_null(fx);
    for (int i = 0; i < n; i++) {
        assert_int_equal(fscanf(f, "%255s %d\n", name, &idx), 2);
        const char *path = cg_image_folder_path(d, i);
        assert_string_equal(path + strlen(ROOT) + 1, name);
        assert_int_equal(cg_image_folder_label(d, i), idx);
        cg_sample s;
        assert_int_equal(cg_dataset_get(d, i, &s), 0); // RGB by default
        assert_int_equal(s.label, idx);
        assert_int_equal(s.c, 3);
        char key[32];
        snprintf(key, sizeof key, "pixels/%d", i);
        const cg_fixture_case *c = cg_fixture_find(fx, key);
        // stb's JPEG decoder rounds its IDCT and colour conversion unlike libjpeg's.
        double tol = cg_fixture_param(c, "jpeg", 0) ? 8 : 0;
        const char *modes[] = {"L", "RGB", "RGBA"};
        int channels[] = {1, 3, 4};
        for (int m = 0; m < 3; m++) {
            const cg_tensor *want = cg_fixture_tensor(c, modes[m]);
            int w = 0, h = 0;
            uint8_t *px = cg_image_load_pixels(path, channels[m], &w, &h);
            assert_non_null(px);
            cg_tensor *got = cg_empty_unscoped(CG_SHAPE(h, w, channels[m]));
            for (int64_t k = 0; k < got->numel; k++) got->data[k] = px[k];
            cg_assert_close(got, want, 0, tol, path);
            cg_free(got);
            cg_dealloc(px);
        }
        cg_sample_clear(&s);
    }
    cg_fixture_free(fx);
    fclose(f);
    cg_dataset_free(d);
}

// A tree of good and bad files: each bad one is refused by name, or left out and reported.
static void test_bad_files(void **state) {
    (void)state;
    cg_test_capture_errors();
    const char *root = CG_TEST_TMP_DIR "/bad_folder";
    char p[512];
    mkdir(root, 0755);
    snprintf(p, sizeof p, "%s/good", root), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/bad", root), mkdir(p, 0755);
    uint8_t png[4096], jpg[4096];
    size_t n_png = cg_test_read_file(ROOT "/cat/a.png", png, sizeof png);
    size_t n_jpg = cg_test_read_file(ROOT "/cat/b.JPG", jpg, sizeof jpg);
    snprintf(p, sizeof p, "%s/good/ok.png", root), cg_test_write_file(p, png, n_png);
    snprintf(p, sizeof p, "%s/bad/truncated.png", root), cg_test_write_file(p, png, 20);
    snprintf(p, sizeof p, "%s/bad/jpeg_named.png", root), cg_test_write_file(p, jpg, n_jpg);
    snprintf(p, sizeof p, "%s/bad/garbage.jpg", root), cg_test_write_file(p, "hello world", 11);
    snprintf(p, sizeof p, "%s/bad/image.webp", root), cg_test_write_file(p, "RIFF", 4);
    uint8_t huge[4096];
    memcpy(huge, png, n_png);
    for (int k = 16; k < 24; k += 4) // width and height 10000: 100 M pixels in 500 bytes
        huge[k] = 0, huge[k + 1] = 0, huge[k + 2] = 0x27, huge[k + 3] = 0x10;
    snprintf(p, sizeof p, "%s/bad/huge.png", root), cg_test_write_file(p, huge, n_png);

    assert_null(cg_image_folder_new(root, NULL));
    cg_test_expect_error(CG_ERR_FORMAT, "bad_folder/bad/garbage.jpg is not a PNG, JPEG or BMP");
    cg_dataset *d = cg_image_folder_new(root, &(cg_image_folder_options){.bad = CG_BAD_FILE_SKIP});
    assert_non_null(d);
    assert_int_equal(cg_dataset_count(d), 1);
    assert_int_equal(cg_image_folder_num_classes(d), 2);
    assert_int_equal(cg_image_folder_label(d, 0), 1); // "bad" sorts before "good"
    const char *report = cg_image_folder_report(d);
    assert_non_null(strstr(report, "bad/garbage.jpg: is not a PNG, JPEG or BMP"));
    assert_non_null(
        strstr(report, "bad/jpeg_named.png: holds a JPEG, not what its extension says"));
    assert_non_null(strstr(report, "bad/image.webp: an unsupported format"));
    assert_non_null(strstr(report, "bad/truncated.png: cannot be decoded"));
    assert_non_null(strstr(report, "bad/huge.png: cannot be decoded"));
    assert_non_null(strstr(report, "beyond the limits"));
    assert_non_null(strstr(report, "/bad: an empty class"));
    cg_dataset_free(d);
    cg_test_expect_no_error();

    // An empty class fails by default, naming it; no class at all too.
    rmdir(CG_TEST_TMP_DIR "/empty_root/nothing"); // from an earlier run
    snprintf(p, sizeof p, "%s/empty_root", CG_TEST_TMP_DIR), mkdir(p, 0755);
    assert_null(cg_image_folder_new(p, NULL));
    cg_test_expect_error(CG_ERR_FORMAT, "no class folders found in");
    snprintf(p, sizeof p, "%s/empty_root/nothing", CG_TEST_TMP_DIR), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/empty_root", CG_TEST_TMP_DIR);
    assert_null(cg_image_folder_new(p, NULL));
    cg_test_expect_error(CG_ERR_FORMAT, "class 'nothing'");
    assert_null(cg_image_folder_new(CG_TEST_TMP_DIR "/no_such_dir", NULL));
    cg_test_expect_error(CG_ERR_IO, "no_such_dir");
    assert_null(cg_image_folder_new(ROOT, &(cg_image_folder_options){.channels = 2}));
    cg_test_expect_error(CG_ERR_ARG, "channels must be 1, 3 or 4, got 2");
}

// The cache hands out the same pixels; the tensor and byte datasets as the IDX path uses.
static void test_cache_and_array_datasets(void **state) {
    (void)state;
    cg_dataset *a = cg_image_folder_new(ROOT, &(cg_image_folder_options){.channels = 1});
    // The cached one opened through a root spelled with trailing slashes: the same pictures.
    cg_dataset *b =
        cg_image_folder_new(ROOT "//", &(cg_image_folder_options){.channels = 1, .cache = true});
    for (int round = 0; round < 2; round++)
        for (int64_t i = 0; i < cg_dataset_count(a); i++) {
            cg_sample x, y;
            assert_int_equal(cg_dataset_get(a, i, &x), 0);
            assert_int_equal(cg_dataset_get(b, i, &y), 0);
            assert_int_equal(x.h * x.w, y.h * y.w);
            assert_memory_equal(x.bytes, y.bytes, (size_t)(x.h * x.w));
            cg_sample_clear(&x), cg_sample_clear(&y);
        }
    cg_dataset_free(a), cg_dataset_free(b);

    uint8_t px[2 * 2 * 2 * 3]; // 2 samples, CHW (2, 2, 3)
    for (int i = 0; i < 24; i++) px[i] = (uint8_t)i;
    cg_tensor *labels = cg_test_tensor(CG_SHAPE(2), (float[]){4, 7});
    cg_dataset *d = cg_bytes_dataset_new(px, 2, 2, 2, 3, labels);
    cg_sample s;
    assert_int_equal(cg_dataset_get(d, 1, &s), 0);
    assert_int_equal(s.label, 7);
    assert_int_equal(s.bytes[0], 12), assert_int_equal(s.bytes[1], 18); // HWC
    assert_int_equal(cg_tf_to_tensor(&s), 0);
    for (int k = 0; k < 12; k++) assert_float_equal(s.data[k], (12 + k) / 255.0f, 0);
    cg_sample_clear(&s);
    cg_test_capture_errors();
    assert_int_equal(cg_dataset_get(d, 2, &s), -1);
    cg_test_expect_error(CG_ERR_ARG, "dataset_get: index 2 out of range for 2 samples");
    cg_dataset_free(d);
    cg_free(labels);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_matches_torchvision, cg_test_teardown),
        cmocka_unit_test_teardown(test_bad_files, cg_test_teardown),
        cmocka_unit_test_teardown(test_cache_and_array_datasets, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
