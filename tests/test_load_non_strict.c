// tests/test_load_non_strict.c - cg_module_load_ex: PyTorch's load_state_dict(strict=False)
// loads the tensors the file and the model share, reports missing and unexpected names,
// and still refuses shape mismatches (loading nothing); the strict default reports the
// same names and loads nothing.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

static const cg_module_class BOX = {.name = "Box"};

// A module "features.0.weight" [2, 3], "features.0.bias" [2], "head.weight" [1, 2], all
// filled with `value`.
static cg_module *model(float value, int head_width) {
    cg_module *root = cg_module_new(&BOX, NULL, 0);
    cg_module *features = cg_module_add_child(root, "features", cg_module_new(&BOX, NULL, 0));
    cg_module *first = cg_module_add_child(features, "0", cg_module_new(&BOX, NULL, 0));
    cg_module_add_param(first, "weight", cg_full(CG_SHAPE(2, 3), value));
    cg_module_add_param(first, "bias", cg_full(CG_SHAPE(2), value));
    cg_module *head = cg_module_add_child(root, "head", cg_module_new(&BOX, NULL, 0));
    cg_module_add_param(head, "weight", cg_full(CG_SHAPE(1, head_width), value));
    return root;
}

static char path[256];

// A file holding features.0.weight = 7 (shape [2, 3]), head.weight = 7 ([1, w]) and an
// extra "aux.scale" = 7.
static void write_file(int head_width) {
    cg_tensor *w = cg_full(CG_SHAPE(2, 3), 7), *h = cg_full(CG_SHAPE(1, head_width), 7);
    cg_tensor *aux = cg_full(CG_SHAPE(1), 7);
    cg_named_tensor items[3] = {{"features.0.weight", w}, {"head.weight", h}, {"aux.scale", aux}};
    cg_tensor_list list = {3, items};
    const char *key = "format", *value = "pt";
    assert_int_equal(cg_safetensors_save(path, &list, 1, &key, &value), 0);
    cg_free(w), cg_free(h), cg_free(aux);
}

static float first_value(cg_module *m, const char *child, const char *param) {
    cg_tensor_list list = cg_module_named_parameters(m);
    char name[CG_NAME_MAX];
    snprintf(name, sizeof name, "%s.%s", child, param);
    float v = NAN;
    for (int i = 0; i < list.count; i++)
        if (strcmp(list.items[i].name, name) == 0) v = list.items[i].tensor->data[0];
    cg_tensor_list_free(&list);
    return v;
}

static void test_non_strict_loads_the_rest(void **state) {
    (void)state;
    write_file(2);
    cg_module *m = model(1, 2);
    cg_load_report r;
    assert_int_equal(cg_module_load_ex(path, m, &(cg_load_options){.non_strict = true}, &r), 0);
    assert_int_equal(r.n_missing, 1);
    assert_string_equal(r.missing[0], "features.0.bias");
    assert_int_equal(r.n_unexpected, 1);
    assert_string_equal(r.unexpected[0], "aux.scale");
    assert_true(first_value(m, "features.0", "weight") == 7);
    assert_true(first_value(m, "head", "weight") == 7);
    assert_true(first_value(m, "features.0", "bias") == 1); // missing: left as it was
    cg_load_report_free(&r);
    assert_int_equal(r.n_missing, 0);
    assert_null(r.missing);
    // Without a report it loads the same way.
    cg_module *m2 = model(2, 2);
    assert_int_equal(cg_module_load_ex(path, m2, &(cg_load_options){.non_strict = true}, NULL), 0);
    assert_true(first_value(m2, "head", "weight") == 7);
    cg_module_free(m);
    cg_module_free(m2);
}

static void test_strict_refuses_and_reports(void **state) {
    (void)state;
    write_file(2);
    cg_module *m = model(1, 2);
    cg_load_report r;
    assert_int_equal(cg_module_load_ex(path, m, NULL, &r), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "missing: features.0.bias; unexpected: aux.scale");
    assert_int_equal(r.n_missing, 1);
    assert_int_equal(r.n_unexpected, 1);
    assert_true(first_value(m, "head", "weight") == 1); // nothing loaded
    cg_load_report_free(&r);
    assert_int_equal(cg_module_load(path, m), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "does not fit the model");
    cg_module_free(m);
}

// A shape mismatch is an error even when not strict (as PyTorch's size mismatch).
static void test_non_strict_still_checks_shapes(void **state) {
    (void)state;
    write_file(4);
    cg_module *m = model(1, 2);
    cg_load_report r;
    assert_int_equal(cg_module_load_ex(path, m, &(cg_load_options){.non_strict = true}, &r), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "mis-shaped: head.weight (file [1,4], model [1,2])");
    assert_true(first_value(m, "features.0", "weight") == 1);
    cg_load_report_free(&r);
    assert_int_equal(cg_module_load_ex(path, NULL, NULL, &r), -1);
    cg_test_expect_error(CG_ERR_ARG, "module_load: module is NULL");
    assert_int_equal(r.n_missing + r.n_unexpected, 0);
    cg_module_free(m);
}

int main(void) {
    snprintf(path, sizeof path, "%s/non_strict.safetensors", CG_TEST_TMP_DIR);
    const struct CMUnitTest tests[] = {
        CG_TEST_NO_LEAKS(test_non_strict_loads_the_rest),
        CG_TEST_NO_LEAKS(test_strict_refuses_and_reports),
        CG_TEST_NO_LEAKS(test_non_strict_still_checks_shapes),
    };
    cg_test_capture_errors();
    int rc = cmocka_run_group_tests_name("load_non_strict", tests, NULL, NULL);
    remove(path);
    return rc;
}
