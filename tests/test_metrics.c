// tests/test_metrics.c - the metrics logger (io/metrics.h): the CSV's contents, the plot
// decoded and measured, bad arguments. The event file written here by
// test_tfevents_written is decoded by tests/tfevents_check.py (its own ctest test).
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../io/metrics_internal.h"
#include "cgrad.h"
#include "testing.h"

// The test's own copy of stb_image, to decode the PNG independently of the library.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wtype-limits"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop
#pragma GCC diagnostic ignored                                                                     \
    "-Wunused-function" // stb declares functions it defines only on request

// A fresh directory CG_TEST_TMP_DIR/metrics_<name> (its old files removed).
static const char *fresh_dir(const char *name) {
    static char dir[512];
    snprintf(dir, sizeof dir, "%s/metrics_%s", CG_TEST_TMP_DIR, name);
    DIR *d = opendir(dir);
    if (d) {
        char path[1024];
        for (struct dirent *e; (e = readdir(d));)
            if (e->d_name[0] != '.')
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name), remove(path);
        closedir(d);
    }
    return dir;
}

static char *read_text(const char *dir, const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return buf;
}

// The CSV is "step,tag,value" then one line per value, exact as %.17g; reopening appends
// without a second header.
static void test_csv_contents(void **state) {
    (void)state;
    const char *dir = fresh_dir("csv");
    cg_metrics_options o = {.formats = CG_METRICS_CSV};
    const double values[] = {2.5, 0.1, 1.0 / 3.0, -7e-300, NAN, INFINITY};
    for (int round = 0; round < 2; round++) {
        cg_metrics *m = cg_metrics_open(dir, &o);
        assert_non_null(m);
        for (int i = 0; i < 6; i++)
            assert_int_equal(
                cg_metrics_log(m, i % 2 ? "test/acc" : "train/loss", 100 * round + i, values[i]),
                0);
        assert_int_equal(cg_metrics_close(m), 0);
    }
    char *text = read_text(dir, "metrics.csv");
    assert_int_equal(strncmp(text, "step,tag,value\n", 15), 0);
    char *line = strtok(text + 15, "\n");
    for (int k = 0; k < 12; k++, line = strtok(NULL, "\n")) {
        assert_non_null(line);
        char tag[64];
        long long step;
        char value[64];
        assert_int_equal(sscanf(line, "%lld,%63[^,],%63s", &step, tag, value), 3);
        int i = k % 6;
        assert_int_equal(step, 100 * (k / 6) + i);
        assert_string_equal(tag, i % 2 ? "test/acc" : "train/loss");
        double v = strtod(value, NULL);
        if (isnan(values[i]))
            assert_true(isnan(v));
        else
            assert_true(v == values[i]); // exactly: %.17g round-trips a double
    }
    assert_null(line);
    char png[1024];
    snprintf(png, sizeof png, "%s/curves.png", dir);
    assert_int_equal(access(png, F_OK), -1); // the PNG format is off: no plot
}

// The colour-0 pixel highest in column x of rows [y0, y1), or -1.
static int top_pixel(const unsigned char *rgb, int width, int x, int y0, int y1) {
    for (int y = y0; y < y1; y++)
        if (!memcmp(rgb + 3 * ((size_t)y * (size_t)width + (size_t)x), cg_plot_colors[0], 3))
            return y;
    return -1;
}

// Two groups, two panels; a falling loss is drawn from the top left to the bottom right
// through every column of its plot area; a constant lr is one flat line in the middle.
static void test_plot(void **state) {
    (void)state;
    const char *dir = fresh_dir("plot");
    cg_metrics_options o = {.formats = CG_METRICS_PNG, .width = 400, .panel_height = 200};
    cg_metrics *m = cg_metrics_open(dir, &o);
    assert_non_null(m);
    for (int step = 0; step < 300; step++) {
        assert_int_equal(cg_metrics_log(m, "train/loss", step, 1.0 / (1 + 0.05 * step)), 0);
        assert_int_equal(cg_metrics_log(m, "lr", step, 0.01), 0);
    }
    assert_int_equal(cg_metrics_close(m), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/curves.png", dir);
    int w, h, ch;
    unsigned char *rgb = stbi_load(path, &w, &h, &ch, 3);
    assert_non_null(rgb);
    assert_int_equal(w, 400);
    assert_int_equal(h, 2 * 200);
    int x0 = CG_PLOT_LEFT, x1 = w - CG_PLOT_RIGHT;
    int y0 = CG_PLOT_TOP, y1 = 200 - CG_PLOT_BOTTOM;
    int last = y0;
    for (int x = x0; x < x1; x++) {
        int y = top_pixel(rgb, w, x, y0, y1);
        assert_true(y >= last); // falls (or stays) from left to right, never a gap
        last = y;
    }
    // 5% padding above the maximum and below the minimum
    int pad = (int)(0.05 / 1.1 * (y1 - y0));
    assert_in_range(top_pixel(rgb, w, x0, y0, y1), y0 + pad - 2, y0 + pad + 2);
    assert_in_range(last, y1 - pad - 4, y1 - pad + 1);
    int flat = top_pixel(rgb, w, x0, 200 + y0, 200 + y1);
    assert_in_range(flat, 200 + (y0 + y1) / 2 - 2, 200 + (y0 + y1) / 2 + 1);
    for (int x = x0; x < x1; x++) assert_int_equal(top_pixel(rgb, w, x, 200 + y0, 200 + y1), flat);
    // nothing of the curves' colour outside the plot areas but the legends' swatches
    int outside = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            if ((x < x0 || x >= x1) &&
                !memcmp(rgb + 3 * ((size_t)y * (size_t)w + (size_t)x), cg_plot_colors[0], 3))
                outside++;
    assert_int_equal(outside, 0);
    stbi_image_free(rgb);
}

// Values the axes cannot tick or map evenly still give a picture, promptly: a tiny range
// on a huge offset (a tick step below the values' precision), a range overflowing to
// infinity, only NaNs, one point.
static void test_plot_degenerate_values(void **state) {
    (void)state;
    const char *dir = fresh_dir("degenerate");
    cg_metrics *m = cg_metrics_open(dir, &(cg_metrics_options){.formats = CG_METRICS_PNG});
    assert_non_null(m);
    for (int step = 0; step < 3; step++) {
        assert_int_equal(cg_metrics_log(m, "offset", step, 1e16 + 2 * step), 0);
        assert_int_equal(cg_metrics_log(m, "huge", step, step % 2 ? 1e308 : -1e308), 0);
        assert_int_equal(cg_metrics_log(m, "nan", step, NAN), 0);
    }
    assert_int_equal(cg_metrics_log(m, "one", INT64_MAX, -1), 0);
    assert_int_equal(cg_metrics_close(m), 0);
    char path[1024];
    snprintf(path, sizeof path, "%s/curves.png", dir);
    int w, h, ch;
    unsigned char *rgb = stbi_load(path, &w, &h, &ch, 3);
    assert_non_null(rgb);
    assert_int_equal(h, 4 * 260);
    stbi_image_free(rgb);
}

static void test_bad_arguments(void **state) {
    (void)state;
    const char *dir = fresh_dir("bad");
    assert_null(cg_metrics_open(dir, &(cg_metrics_options){.width = 10}));
    cg_test_expect_error(CG_ERR_ARG, "metrics_open: width 10 is outside 160..8192");
    char under_file[600];
    snprintf(under_file, sizeof under_file, "%s/metrics_csv/metrics.csv/x/y", CG_TEST_TMP_DIR);
    assert_null(cg_metrics_open(under_file, NULL)); // a directory under a file: ENOTDIR
    cg_test_expect_error(CG_ERR_IO, "metrics.csv/x': Not a directory");
    cg_metrics *m = cg_metrics_open(dir, &(cg_metrics_options){.formats = CG_METRICS_CSV});
    assert_non_null(m);
    assert_int_equal(cg_metrics_log(m, "a,b", 0, 1), -1);
    cg_test_expect_error(CG_ERR_ARG, "metrics_log: tag 'a,b' holds");
    assert_int_equal(cg_metrics_log(m, "", 0, 1), -1);
    cg_test_expect_error(CG_ERR_ARG, "has 0 characters, not 1..63");
    char tag[16];
    for (int i = 0; i < CG_METRICS_MAX_TAGS; i++) {
        snprintf(tag, sizeof tag, "t%d", i);
        assert_int_equal(cg_metrics_log(m, tag, 0, i), 0);
    }
    assert_int_equal(cg_metrics_log(m, "one_more", 0, 1), -1);
    cg_test_expect_error(CG_ERR_ARG, "at most 32 tags");
    assert_int_equal(cg_metrics_close(m), 0);
    assert_int_equal(cg_metrics_log(NULL, "x", 0, 1), -1);
    cg_test_expect_error(CG_ERR_ARG, "metrics_log: the logger is NULL");
}

// The event file (and the CSV it is compared with) for tests/tfevents_check.py: steps that
// take one to ten varint bytes, a NaN, three tags.
static void test_tfevents_written(void **state) {
    (void)state;
    const char *dir = fresh_dir("tfevents");
    cg_metrics *m = cg_metrics_open(dir, NULL);
    assert_non_null(m);
    const int64_t steps[] = {0, 1, 127, 128, 300000, INT64_C(1) << 40, -3};
    for (int i = 0; i < 7; i++) {
        assert_int_equal(cg_metrics_log(m, "train/loss", steps[i], 2.0 / (i + 1)), 0);
        assert_int_equal(cg_metrics_log(m, "train/lr", steps[i], 0.1 * i), 0);
    }
    assert_int_equal(cg_metrics_log(m, "test/accuracy", 128, NAN), 0);
    assert_int_equal(cg_metrics_log(m, "test/accuracy", 300000, 0.875), 0);
    assert_int_equal(cg_metrics_close(m), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        CG_TEST_NO_LEAKS(test_csv_contents),           CG_TEST_NO_LEAKS(test_plot),
        CG_TEST_NO_LEAKS(test_plot_degenerate_values), CG_TEST_NO_LEAKS(test_bad_arguments),
        CG_TEST_NO_LEAKS(test_tfevents_written),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
