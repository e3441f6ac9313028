// tests/test_alloc_failure.c - a failed allocation anywhere in building a list or writing a
// file propagates: the caller gets an error, never a partial result reported as success.
// cg_alloc_fail_after(n) fails the (n+1)-th allocation; each test walks n over every
// allocation the call makes.
#define _POSIX_C_SOURCE 200809L // open_memstream
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cgrad.h"
#include "testing.h"

static cg_module *model(void) {
    cg_module *layers[] = {cg_Conv2d(1, 2, 3, NULL), cg_BatchNorm2d(2, NULL), cg_ReLU(),
                           cg_Flatten(1, -1), cg_Linear(8, 3, NULL)};
    return cg_Sequential(5, layers);
}

// state_dict under a failure at every allocation it makes: the whole list or {-1, NULL}.
static void test_state_dict_is_whole_or_failed(void **state) {
    (void)state;
    cg_module *m = model();
    cg_tensor_list full = cg_module_state_dict(m);
    assert_true(full.count > 8);
    int failed = 0;
    for (int64_t n = 0; n < 64; n++) {
        cg_clear_error();
        cg_alloc_fail_after(n);
        cg_tensor_list l = cg_module_state_dict(m);
        cg_alloc_fail_after(-1);
        if (l.count < 0) {
            assert_null(l.items);
            assert_int_equal(cg_last_error(), CG_ERR_MEMORY);
            failed++;
        } else {
            assert_int_equal(l.count, full.count); // never a partial list
        }
        cg_tensor_list_free(&l);
    }
    assert_true(failed > 0); // the injected failure did hit the list's growth
    cg_tensor_list_free(&full);
    cg_module_free(m);
}

// module_save under a failure at every allocation: -1 with an error, and the file already
// there keeps its old contents (loads and matches).
static void test_module_save_fails_whole(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/alloc_failure.safetensors", CG_TEST_TMP_DIR);
    cg_module *m = model();
    assert_int_equal(cg_module_save(path, m), 0);
    struct stat before;
    assert_int_equal(stat(path, &before), 0);
    int failed = 0;
    for (int64_t n = 0; n < 256; n++) {
        cg_clear_error();
        cg_alloc_fail_after(n);
        int rc = cg_module_save(path, m);
        cg_alloc_fail_after(-1);
        if (rc != 0) {
            assert_int_equal(cg_last_error(), CG_ERR_MEMORY);
            failed++;
        }
        struct stat after;
        assert_int_equal(stat(path, &after), 0);
        assert_int_equal(after.st_size, before.st_size);
        assert_int_equal(cg_module_load(path, m), 0);
    }
    assert_true(failed > 0);
    cg_module_free(m);
}

// The printer lays the whole tensor out first: under a failure it prints nothing, never a
// tensor with a piece missing.
static char *print_to_string(const cg_tensor *t, size_t *size) {
    char *text = NULL;
    FILE *out = open_memstream(&text, size);
    cg_fprint(out, t);
    fclose(out);
    return text;
}

static void test_print_fails_whole(void **state) {
    (void)state;
    cg_tensor *t = cg_arange(0, 200, 1);
    size_t full_size;
    char *full = print_to_string(t, &full_size);
    int failed = 0;
    for (int64_t n = 0; n < 16; n++) {
        size_t size;
        cg_alloc_fail_after(n);
        char *text = print_to_string(t, &size);
        cg_alloc_fail_after(-1);
        if (size == 0)
            failed++;
        else
            assert_string_equal(text, full);
        free(text);
    }
    assert_true(failed > 0);
    free(full);
    cg_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_state_dict_is_whole_or_failed, cg_test_teardown),
        cmocka_unit_test_teardown(test_module_save_fails_whole, cg_test_teardown),
        cmocka_unit_test_teardown(test_print_fails_whole, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("alloc_failure", tests, NULL, NULL);
}
