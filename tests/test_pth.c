// tests/test_pth.c - .pth files (io/pth.h): state dicts written by torch 1.13's torch.save
// (tests/fixtures/gen_pth.py) load into cgrad models and give torch's logits; every storage
// type, views and shared storages, big-endian files, checkpoint dicts by key path, the
// strict / non-strict report; malicious and legacy files refused by name; cgrad-written
// files read back here and by torch itself (load_state_dict(strict=True)).
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define PTH(name) CG_FIXTURE_DIR "/pth/" name

// The model of gen_pth.py: Conv2d(1,2,3), BatchNorm2d(2), ReLU, Flatten, Linear(8, out).
static cg_module *torch_model(int out) {
    return cg_Sequential(5, (cg_module *[]){cg_Conv2d(1, 2, 3, NULL), cg_BatchNorm2d(2, NULL),
                                            cg_ReLU(), cg_Flatten(1, -1), cg_Linear(8, out, NULL)});
}

static void expect_case(const cg_tensor_list *got, const char *case_name, double rtol) {
    cg_fixture *fx = cg_test_load_fixture("pth.txt");
    const cg_fixture_case *c = cg_fixture_find(fx, case_name);
    assert_non_null(c);
    for (int i = 0; i < got->count; i++) {
        cg_tensor *want = cg_fixture_tensor(c, got->items[i].name);
        if (!want) fail_msg("fixture case %s lacks %s", case_name, got->items[i].name);
        cg_assert_close(got->items[i].tensor, want, rtol, 0, got->items[i].name);
    }
    cg_fixture_free(fx);
}

// Done when: the model trained in torch loads with one call and predicts what torch does.
static void test_model_logits(void **state) {
    (void)state;
    cg_module *m = torch_model(3);
    assert_int_equal(cg_module_load_pth(PTH("model.pth"), m, NULL, NULL), 0);
    cg_module_eval(m);
    cg_fixture *fx = cg_test_load_fixture("pth.txt");
    const cg_fixture_case *c = cg_fixture_find(fx, "model");
    cg_tensor_list sd = cg_module_state_dict(m);
    assert_int_equal(sd.count, 9); // num_batches_tracked (int64 in the file) included
    for (int i = 0; i < sd.count; i++)
        cg_assert_close(sd.items[i].tensor, cg_fixture_tensor(c, sd.items[i].name), 0, 0,
                        sd.items[i].name);
    cg_tensor_list_free(&sd);
    cg_scope_begin();
    cg_tensor *logits = cg_module_forward(m, cg_fixture_tensor(c, "input"));
    cg_assert_close(logits, cg_fixture_tensor(c, "logits"), 1e-5, 1e-5, "logits");
    cg_scope_end();
    cg_fixture_free(fx);
    cg_module_free(m);
}

static void test_every_storage_type(void **state) {
    (void)state;
    cg_tensor_list list;
    assert_int_equal(cg_pth_load(PTH("dtypes.pth"), NULL, &list), 0);
    assert_int_equal(list.count, 12);
    assert_string_equal(list.items[0].name, "f32");    // the file's order
    assert_int_equal(list.items[10].tensor->ndim, 0);  // "scalar"
    assert_int_equal(list.items[11].tensor->numel, 0); // "empty", [0, 4]
    expect_case(&list, "dtypes", 0); // float64 rounds to float as the fixture text does
    cg_pth_free(&list);
}

// Transposes, slices with offsets, stride-0 expands and shared storages, in both byte orders.
static void test_views_and_byte_order(void **state) {
    (void)state;
    const char *files[] = {PTH("views.pth"), PTH("bigendian.pth")};
    for (int f = 0; f < 2; f++) {
        cg_tensor_list list;
        assert_int_equal(cg_pth_load(files[f], "", &list), 0);
        assert_int_equal(list.count, 7);
        assert_int_equal(list.items[1].tensor->shape[0], 5); // "t": base.t()
        expect_case(&list, "views", 0);
        cg_pth_free(&list);
    }
}

static void test_checkpoint_dict_needs_key_path(void **state) {
    (void)state;
    cg_module *m = torch_model(3);
    assert_int_equal(cg_module_load_pth(PTH("checkpoint.pth"), m, NULL, NULL), -1);
    cg_test_expect_error(CG_ERR_FORMAT, "a training checkpoint? keys: epoch, model, optimizer");
    assert_int_equal(
        cg_module_load_pth(PTH("checkpoint.pth"), m, &(cg_load_options){.key_path = "nope"}, NULL),
        -1);
    cg_test_expect_error(CG_ERR_FORMAT, "key path 'nope': no key 'nope' (keys: epoch, model");
    assert_int_equal(cg_module_load_pth(PTH("checkpoint.pth"), m,
                                        &(cg_load_options){.key_path = "optimizer"}, NULL),
                     -1);
    cg_test_expect_error(CG_ERR_FORMAT, "'optimizer' is a dict of more than tensors");
    const char *paths[] = {"model", "nested.model"};
    for (int i = 0; i < 2; i++) {
        cg_tensor_list list;
        assert_int_equal(cg_pth_load(PTH("checkpoint.pth"), paths[i], &list), 0);
        assert_int_equal(list.count, 9);
        expect_case(&list, "model", 0);
        cg_pth_free(&list);
    }
    assert_int_equal(
        cg_module_load_pth(PTH("checkpoint.pth"), m, &(cg_load_options){.key_path = "model"}, NULL),
        0);
    // a key path means nothing to a safetensors file
    assert_int_equal(
        cg_module_load_ex(PTH("model.pth"), m, &(cg_load_options){.key_path = "model"}, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "key_path 'model' is for .pth files");
    cg_module_free(m);
}

// The report of cg_module_load_ex: strict refuses and names, non-strict loads the rest,
// shapes are checked either way.
static void test_strict_and_non_strict(void **state) {
    (void)state;
    cg_module *small = cg_Sequential(1, (cg_module *[]){cg_Conv2d(1, 2, 3, NULL)});
    cg_load_report r;
    assert_int_equal(cg_module_load_pth(PTH("model.pth"), small, NULL, &r), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "unexpected: 1.weight, 1.bias, 1.running_mean");
    assert_int_equal(r.n_missing, 0);
    assert_int_equal(r.n_unexpected, 7);
    cg_load_report_free(&r);
    assert_int_equal(
        cg_module_load_pth(PTH("model.pth"), small, &(cg_load_options){.non_strict = true}, &r), 0);
    assert_int_equal(r.n_unexpected, 7);
    cg_load_report_free(&r);
    cg_tensor_list file;
    assert_int_equal(cg_pth_load(PTH("model.pth"), NULL, &file), 0);
    cg_tensor_list sd = cg_module_state_dict(small);
    cg_assert_close(sd.items[0].tensor, file.items[0].tensor, 0, 0, "0.weight");
    cg_tensor_list_free(&sd);
    cg_pth_free(&file);
    cg_module *wide = torch_model(4);
    assert_int_equal(
        cg_module_load_pth(PTH("model.pth"), wide, &(cg_load_options){.non_strict = true}, NULL),
        -1);
    cg_test_expect_error(CG_ERR_SHAPE, "mis-shaped: 4.weight (file [3,8], model [4,8])");
    cg_module_free(small);
    cg_module_free(wide);
}

// Each refused file and the words its error must contain.
static void test_refused_files(void **state) {
    (void)state;
    const struct {
        const char *file, *message;
    } cases[] = {
        {"legacy.pth", "legacy pre-1.6 format"},
        {"whole_module.pth",
         "global 'torch.nn.modules.container.Sequential': this is a pickled module"},
        {"evil_reduce.pth", "global 'posix.system' is not allowed"},
        {"evil_global.pth", "global 'datetime.date' is not allowed"},
        {"evil_recursion.pth", "stack deeper than 10000"},
        {"evil_huge_size.pth", "does not fit its storage of 4 elements"},
        {"evil_past_storage.pth", "tensor 'w' of size [3,3] (offset 0) does not fit its storage"},
        {"evil_truncated.pth", "no end of central directory record"},
        {"evil_zipbomb_size.pth", "inflates to more than its declared size"},
        {"evil_zipbomb_ratio.pth", "declared size beyond deflate's ratio"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/pth/%s", CG_FIXTURE_DIR, cases[i].file);
        cg_tensor_list list;
        if (cg_pth_load(path, NULL, &list) == 0) fail_msg("%s was accepted", cases[i].file);
        assert_int_equal(list.count, 0);
        cg_test_expect_error(CG_ERR_FORMAT, cases[i].message);
    }
    cg_tensor_list list;
    assert_int_equal(cg_pth_load(PTH("absent.pth"), NULL, &list), -1);
    cg_test_expect_error(CG_ERR_IO, "absent.pth");
    assert_int_equal(cg_pth_load(CG_FIXTURE_DIR "/pth.txt", NULL, &list), -1);
    cg_test_expect_error(CG_ERR_FORMAT, "not a PyTorch zip file");
}

static char out_path[512];

// cgrad writes, cgrad reads back: the same values; and the layout torch's reader expects.
static void test_save_round_trip(void **state) {
    (void)state;
    cg_module *m = torch_model(3), *back = torch_model(3);
    assert_int_equal(cg_module_load_pth(PTH("model.pth"), m, NULL, NULL), 0);
    assert_int_equal(cg_module_save_pth(out_path, m), 0);
    assert_int_equal(cg_test_count_temp_files(out_path), 0);
    assert_int_equal(cg_module_load_pth(out_path, back, NULL, NULL), 0);
    cg_tensor_list a = cg_module_state_dict(m), b = cg_module_state_dict(back);
    for (int i = 0; i < a.count; i++)
        cg_assert_close(b.items[i].tensor, a.items[i].tensor, 0, 0, a.items[i].name);
    cg_tensor_list_free(&a);
    cg_tensor_list_free(&b);
    cg_module_free(m);
    cg_module_free(back);
}

// A failure at any allocation of a load (zip, pickle, views) or a save is a CG_ERR_MEMORY
// error leaving nothing behind: no partial list, no leak, the old file intact.
static void test_allocation_failures(void **state) {
    (void)state;
    int failed = 0, rc = -1;
    for (int64_t n = 0; rc != 0 && n < 100000; n++) {
        cg_tensor_list list;
        cg_clear_error();
        cg_alloc_fail_after(n);
        rc = cg_pth_load(PTH("checkpoint.pth"), "nested.model", &list);
        cg_alloc_fail_after(-1);
        if (rc == 0) {
            assert_int_equal(list.count, 9);
            cg_pth_free(&list);
        } else {
            cg_test_expect_error(CG_ERR_MEMORY, NULL);
            assert_int_equal(list.count, 0);
            failed++;
        }
    }
    assert_int_equal(rc, 0);
    assert_true(failed > 100); // the pickle's values, the storages, the tensors
    cg_module *m = torch_model(3);
    assert_int_equal(cg_module_save_pth(out_path, m), 0);
    for (int64_t n = 0, saved = -1; saved != 0; n++) {
        cg_clear_error();
        cg_alloc_fail_after(n);
        saved = cg_module_save_pth(out_path, m);
        cg_alloc_fail_after(-1);
        if (saved != 0) cg_test_expect_error(CG_ERR_MEMORY, NULL);
        assert_int_equal(cg_module_load_pth(out_path, m, NULL, NULL), 0);
    }
    assert_int_equal(cg_test_count_temp_files(out_path), 0);
    cg_module_free(m);
}

// torch.load(weights_only=True) + load_state_dict(strict=True) of the cgrad-written file,
// compared with model.pth by gen_pth.py --check; skipped (saying so) without torch.
static void test_torch_reads_what_cgrad_writes(void **state) {
    (void)state;
    if (system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") != 0) {
        printf("SKIPPED: /usr/bin/python3 cannot import torch (install python3-torch); the "
               "cgrad-written .pth was not checked by torch\n");
        skip();
    }
    cg_module *m = torch_model(3);
    assert_int_equal(cg_module_load_pth(PTH("model.pth"), m, NULL, NULL), 0);
    assert_int_equal(cg_module_save_pth(out_path, m), 0);
    char command[1200];
    snprintf(command, sizeof command, "/usr/bin/python3 %s/gen_pth.py --check %s", CG_FIXTURE_DIR,
             out_path);
    assert_int_equal(system(command), 0);
    cg_module_free(m);
}

int main(void) {
    snprintf(out_path, sizeof out_path, "%s/cgrad_written.pth", CG_TEST_TMP_DIR);
    const struct CMUnitTest tests[] = {
        // the first forward of the process fills a cache that outlives the test (one-time)
        cmocka_unit_test_teardown(test_model_logits, cg_test_teardown),
        CG_TEST_NO_LEAKS(test_every_storage_type),
        CG_TEST_NO_LEAKS(test_views_and_byte_order),
        CG_TEST_NO_LEAKS(test_checkpoint_dict_needs_key_path),
        CG_TEST_NO_LEAKS(test_strict_and_non_strict),
        CG_TEST_NO_LEAKS(test_refused_files),
        CG_TEST_NO_LEAKS(test_save_round_trip),
        CG_TEST_NO_LEAKS(test_allocation_failures),
        CG_TEST_NO_LEAKS(test_torch_reads_what_cgrad_writes),
    };
    cg_test_capture_errors();
    int rc = cmocka_run_group_tests_name("pth", tests, NULL, NULL);
    remove(out_path);
    return rc;
}
