// tests/test_mnist.c - IDX reader (plain, gzip, corrupt files) and the MNIST loader.
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cgrad.h"
#include "testing.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static char tmp_path[512];
static const char *tmp(const char *name) {
    snprintf(tmp_path, sizeof tmp_path, "%s/mnist_%s", CG_TEST_TMP_DIR, name);
    return tmp_path;
}

// An IDX header + payload for dims (ubyte), with pixel i = (i * 7) % 256.
static size_t make_idx(uint8_t *buf, int ndim, const uint32_t *dims) {
    size_t n = 0, numel = 1;
    buf[n++] = 0, buf[n++] = 0, buf[n++] = 0x08, buf[n++] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        for (int b = 3; b >= 0; b--) buf[n++] = (uint8_t)(dims[i] >> (8 * b));
        numel *= dims[i];
    }
    for (size_t i = 0; i < numel; i++) buf[n++] = (uint8_t)((i * 7) % 256);
    return n;
}

static void write_file(const char *path, const uint8_t *bytes, size_t n, bool gz) {
    if (gz) {
        gzFile f = gzopen(path, "wb");
        assert_non_null(f);
        if (n) assert_int_equal(gzwrite(f, bytes, (unsigned)n), (int)n);
        gzclose(f);
    } else {
        cg_test_write_file(path, bytes, n);
    }
}

static void check_small(cg_tensor *t) {
    assert_non_null(t);
    assert_int_equal(t->ndim, 3);
    assert_int_equal(t->shape[0], 3);
    assert_int_equal(t->shape[1], 4);
    assert_int_equal(t->shape[2], 5);
    for (int64_t i = 0; i < t->numel; i++) assert_true(t->data[i] == (float)((i * 7) % 256));
    assert_null(t->scope);
}

static void test_idx_plain_and_gz(void **state) {
    (void)state;
    uint8_t buf[256];
    size_t n = make_idx(buf, 3, (uint32_t[]){3, 4, 5});
    write_file(tmp("small.idx"), buf, n, false);
    cg_tensor *t = cg_idx_load(tmp("small.idx"));
    check_small(t);
    cg_free(t);
    write_file(tmp("small.idx.gz"), buf, n, true);
    t = cg_idx_load(tmp("small.idx.gz"));
    check_small(t);
    cg_free(t);
    cg_test_expect_no_error();
}

typedef struct bad_case {
    const char *what;
    cg_status status;
    const char *message;
} bad_case;

// Each corruption of a valid (3,4,5) file, plain and gzipped, gives the right error.
static void test_idx_corrupt(void **state) {
    (void)state;
    cg_test_capture_errors();
    uint8_t good[256], bad[512];
    size_t n = make_idx(good, 3, (uint32_t[]){3, 4, 5});
    const bad_case cases[] = {
        {"truncated", CG_ERR_FORMAT, "truncated: dims [3,4,5] need 60 data bytes, found 59"},
        {"trailing", CG_ERR_FORMAT, "trailing bytes"},
        {"magic", CG_ERR_FORMAT, "bad magic"},
        {"dtype", CG_ERR_FORMAT, "dtype 0x0d (float32) is not supported"},
        {"unknown_dtype", CG_ERR_FORMAT, "unknown dtype 0x42"},
        {"rank0", CG_ERR_FORMAT, "rank 0 is out of range"},
        {"rank9", CG_ERR_FORMAT, "rank 9 is out of range"},
        {"huge_dims", CG_ERR_FORMAT, "hold more than"},
        {"header_cut", CG_ERR_FORMAT, "truncated in the header"},
        {"empty", CG_ERR_FORMAT, "shorter than the 4-byte header"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        memcpy(bad, good, n);
        size_t m = n;
        const char *w = cases[c].what;
        if (!strcmp(w, "truncated")) m = n - 1;
        if (!strcmp(w, "trailing")) bad[m++] = 0;
        if (!strcmp(w, "magic")) bad[0] = 0x1f, bad[1] = 0x00;
        if (!strcmp(w, "dtype")) bad[2] = 0x0D;
        if (!strcmp(w, "unknown_dtype")) bad[2] = 0x42;
        if (!strcmp(w, "rank0")) bad[3] = 0;
        if (!strcmp(w, "rank9")) bad[3] = 9;
        if (!strcmp(w, "huge_dims")) bad[4] = 0x7f; // 2^30-ish images
        if (!strcmp(w, "header_cut")) m = 10;
        if (!strcmp(w, "empty")) m = 0;
        for (int gz = 0; gz < 2; gz++) {
            char name[64];
            snprintf(name, sizeof name, "bad_%s%s", w, gz ? ".gz" : "");
            write_file(tmp(name), bad, m, gz);
            cg_tensor *t = cg_idx_load(tmp(name));
            if (t) fail_msg("case %s (gz %d) loaded", w, gz);
            if (!strstr(cg_test_last_message(), tmp(name)))
                fail_msg("message does not name the file: %s", cg_test_last_message());
            cg_test_expect_error(cases[c].status, cases[c].message);
        }
    }
    assert_null(cg_idx_load(tmp("does_not_exist")));
    cg_test_expect_error(CG_ERR_IO, "cannot open");
}

// A gzip stream cut in the middle, and garbage inside the compressed data.
static void test_idx_corrupt_gzip(void **state) {
    (void)state;
    cg_test_capture_errors();
    uint8_t good[4096], raw[8192];
    size_t n = make_idx(good, 2, (uint32_t[]){40, 50});
    write_file(tmp("g.gz"), good, n, true);
    size_t z = cg_test_read_file(tmp("g.gz"), raw, sizeof raw);
    write_file(tmp("g_cut.gz"), raw, z / 2, false);
    assert_null(cg_idx_load(tmp("g_cut.gz")));
    cg_test_expect_error(CG_ERR_FORMAT, NULL);
    raw[z - 6] ^= 0xff; // the CRC/length trailer
    write_file(tmp("g_crc.gz"), raw, z, false);
    assert_null(cg_idx_load(tmp("g_crc.gz")));
    cg_test_expect_error(CG_ERR_FORMAT, NULL);
}

// Random byte flips (plain and gz) either load a tensor of the right size or give an error;
// never a crash (ASan makes this a real test).
static void test_idx_fuzz(void **state) {
    (void)state;
    cg_test_capture_errors();
    uint8_t good[2048], bad[2048], raw[4096];
    size_t n = make_idx(good, 3, (uint32_t[]){4, 10, 12});
    write_file(tmp("fz.gz"), good, n, true);
    size_t z = cg_test_read_file(tmp("fz.gz"), raw, sizeof raw);
    cg_rng rng;
    cg_rng_seed(&rng, 1234);
    int loaded = 0, failed = 0;
    for (int iter = 0; iter < 400; iter++) {
        bool gz = iter % 2;
        const uint8_t *src = gz ? raw : good;
        size_t m = gz ? z : n;
        memcpy(bad, src, m);
        int flips = 1 + (int)(cg_rng_next(&rng) % 4);
        for (int k = 0; k < flips; k++) {
            size_t at = cg_rng_next(&rng) % (iter % 3 == 0 ? 16 : m); // headers get extra hits
            bad[at] ^= (uint8_t)(1 + cg_rng_next(&rng) % 255);
        }
        if (cg_rng_next(&rng) % 4 == 0) m = cg_rng_next(&rng) % m; // and some truncations
        write_file(tmp("fz_case"), bad, m, false);
        cg_tensor *t = cg_idx_load(tmp("fz_case"));
        if (t) {
            int64_t numel = 1;
            for (int d = 0; d < t->ndim; d++) numel *= t->shape[d];
            assert_int_equal(numel, t->numel);
            loaded++;
            cg_free(t);
        } else {
            assert_true(cg_last_error() == CG_ERR_FORMAT || cg_last_error() == CG_ERR_IO);
            failed++;
        }
        cg_clear_error();
    }
    assert_true(failed > 100); // most corruptions are caught
    (void)loaded;
}

// Write the four standard files (gz for train images, plain for the rest) into a dir.
static const char *make_mnist_dir(int n_images, int n_labels, int label_max) {
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/mnist_dir_%d_%d", CG_TEST_TMP_DIR, n_images, n_labels);
    mkdir(dir, 0755);
    static uint8_t buf[64 * 784 + 64];
    char path[600];
    for (int split = 0; split < 2; split++) {
        const char *name = split ? "t10k" : "train";
        size_t n = make_idx(buf, 3, (uint32_t[]){(uint32_t)n_images, 28, 28});
        snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte%s", dir, name, split ? "" : ".gz");
        write_file(path, buf, n, !split);
        n = make_idx(buf, 1, (uint32_t[]){(uint32_t)n_labels});
        for (int i = 0; i < n_labels; i++) buf[8 + i] = (uint8_t)(i % (label_max + 1));
        snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, name);
        write_file(path, buf, n, false);
    }
    return dir;
}

static void test_mnist_generated(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_mnist m;
    for (int train = 0; train < 2; train++) {
        assert_int_equal(cg_mnist_load(make_mnist_dir(6, 6, 9), train, &m), 0);
        assert_int_equal(m.count, 6);
        assert_int_equal(m.images->ndim, 4);
        assert_int_equal(m.images->shape[1], 1);
        assert_int_equal(m.images->shape[2], 28);
        assert_int_equal(m.images->shape[3], 28);
        assert_int_equal(m.labels->ndim, 1);
        assert_int_equal(m.num_classes, 6);
        assert_true(m.images->data[5] == (float)(35) / 255.0f);
        assert_true(m.labels->data[3] == 3.0f);
        cg_mnist_free(&m);
        assert_null(m.images);
    }
    assert_int_equal(cg_mnist_load(make_mnist_dir(6, 5, 9), true, &m), -1);
    cg_test_expect_error(CG_ERR_FORMAT, "6 train images but 5 labels");
    assert_null(m.images);
    assert_int_equal(cg_mnist_load(CG_TEST_TMP_DIR "/no_such_dir", false, &m), -1);
    cg_test_expect_error(CG_ERR_IO, "no t10k-images-idx3-ubyte[.gz] in");
    cg_mnist_free(&m);
}

static void test_fashion_mnist_real(void **state) {
    (void)state;
    struct stat st;
    if (stat(FASHION_DIR "/t10k-images-idx3-ubyte.gz", &st) != 0) {
        print_message("skipped: %s not installed\n", FASHION_DIR);
        skip();
    }
    cg_mnist m;
    assert_int_equal(cg_mnist_load(FASHION_DIR, false, &m), 0);
    assert_int_equal(m.count, 10000);
    assert_int_equal(m.images->shape[0], 10000);
    assert_int_equal(m.labels->shape[0], 10000);
    assert_int_equal(m.num_classes, 10);
    assert_int_equal(m.kind, CG_MNIST_FASHION);
    // First labels and pixel sum of image 0 checked with Python (gzip + struct):
    // labels [9, 2, 1, 1, 6, 1, 4, 6, 5, 7], sum of image 0's bytes 33456, max byte 255.
    const float first[10] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    for (int i = 0; i < 10; i++) assert_true(m.labels->data[i] == first[i]);
    double sum = 0;
    float lo = 1, hi = 0;
    for (int i = 0; i < 784; i++) sum += m.images->data[i];
    for (int64_t i = 0; i < m.images->numel; i++) {
        lo = m.images->data[i] < lo ? m.images->data[i] : lo;
        hi = m.images->data[i] > hi ? m.images->data[i] : hi;
    }
    assert_true(fabs(sum * 255.0 - 33456.0) < 1e-2);
    assert_true(lo == 0.0f && hi == 1.0f);
    int counts[10] = {0};
    for (int i = 0; i < 10000; i++) {
        float l = m.labels->data[i];
        assert_true(l >= 0 && l <= 9 && l == (float)(int)l);
        counts[(int)l]++;
    }
    for (int c = 0; c < 10; c++) assert_int_equal(counts[c], 1000);
    assert_string_equal(cg_mnist_class_name(m.kind, 9), "Ankle boot");
    cg_mnist_free(&m);
}

// The byte-backed path (cg_mnist_load_bytes + cg_dataloader_new_bytes) yields exactly the
// batches of the float path, at a quarter of the dataset's memory.
static void test_bytes_match_floats(void **state) {
    (void)state;
    cg_mnist f, b;
    assert_int_equal(cg_mnist_load(make_mnist_dir(7, 7, 9), true, &f), 0);
    assert_int_equal(cg_mnist_load_bytes(make_mnist_dir(7, 7, 9), true, &b), 0);
    assert_null(b.images);
    assert_non_null(b.pixels);
    assert_int_equal(b.count, 7);
    assert_int_equal(b.height, 28);
    assert_int_equal(b.num_classes, f.num_classes);
    assert_int_equal(b.kind, f.kind);
    cg_dataloader *lf = cg_dataloader_new(f.images, f.labels, 3, true, 5);
    cg_dataloader *lb = cg_dataloader_new_bytes(b.pixels, b.count, 3, (int64_t[]){1, 28, 28},
                                                1.0f / 255.0f, b.labels, 3, true, 5);
    assert_int_equal(cg_dataloader_set_normalize(lf, 0.25f, 0.5f), 0);
    assert_int_equal(cg_dataloader_set_normalize(lb, 0.25f, 0.5f), 0);
    for (int epoch = 0; epoch < 2; epoch++) {
        cg_tensor *xf, *yf, *xb, *yb;
        int batches = 0;
        while (cg_dataloader_next(lf, &xf, &yf)) {
            assert_true(cg_dataloader_next(lb, &xb, &yb));
            assert_true(cg_same_shape(xf, xb));
            cg_assert_close(xb, xf, 1e-6, 1e-6, "byte batch vs float batch");
            cg_assert_close(yb, yf, 0, 0, "labels");
            batches++;
        }
        assert_false(cg_dataloader_next(lb, &xb, &yb));
        assert_int_equal(batches, 3); // 3 + 3 + 1
    }
    cg_dataloader_free(lf);
    cg_dataloader_free(lb);
    cg_mnist_free(&f);
    cg_mnist_free(&b);
    assert_null(b.pixels);
    cg_test_capture_errors();
    assert_null(cg_dataloader_new_bytes(NULL, 3, 1, (int64_t[]){4}, 1.0f, NULL, 2, false, 0));
    cg_test_expect_error(CG_ERR_ARG, "dataloader");
}

static void test_class_names(void **state) {
    (void)state;
    assert_string_equal(cg_mnist_class_name(CG_MNIST_DIGITS, 7), "7");
    assert_string_equal(cg_mnist_class_name(CG_MNIST_FASHION, 0), "T-shirt/top");
    assert_string_equal(cg_mnist_class_name(CG_MNIST_FASHION, 10), "?");
    cg_tensor *dark = cg_full(CG_SHAPE(2, 1, 28, 28), 0.1f);
    cg_tensor *bright = cg_full(CG_SHAPE(2, 1, 28, 28), 0.3f);
    assert_int_equal(cg_mnist_detect(dark), CG_MNIST_DIGITS);
    assert_int_equal(cg_mnist_detect(bright), CG_MNIST_FASHION);
    cg_free(dark);
    cg_free(bright);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_idx_plain_and_gz, cg_test_teardown),
        cmocka_unit_test_teardown(test_idx_corrupt, cg_test_teardown),
        cmocka_unit_test_teardown(test_idx_corrupt_gzip, cg_test_teardown),
        cmocka_unit_test_teardown(test_idx_fuzz, cg_test_teardown),
        cmocka_unit_test_teardown(test_mnist_generated, cg_test_teardown),
        cmocka_unit_test_teardown(test_fashion_mnist_real, cg_test_teardown),
        cmocka_unit_test_teardown(test_bytes_match_floats, cg_test_teardown),
        cmocka_unit_test_teardown(test_class_names, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
