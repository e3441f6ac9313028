// tests/test_safetensors.c - safetensors round trips, PyTorch interop (files written by
// tests/fixtures/gen_safetensors.py), corrupt files, atomic saves, model and checkpoint
// loading with name-by-name validation, and exact resume of a training run.
#define _XOPEN_SOURCE 700 // dirent, setrlimit, SIGXFSZ
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "cgrad.h"
#include "testing.h"

static char tmp_path[512];
static const char *tmp(const char *name) {
    snprintf(tmp_path, sizeof tmp_path, "%s/st_%s", CG_TEST_TMP_DIR, name);
    return tmp_path;
}

// The CNN of gen_safetensors.py: Conv2d(1,2,3), BatchNorm2d(2), ReLU, Flatten, Linear(8,3).
static cg_module *torch_model(void) {
    return cg_Sequential(5, (cg_module *[]){cg_Conv2d(1, 2, 3, NULL), cg_BatchNorm2d(2, NULL),
                                            cg_ReLU(), cg_Flatten(1, -1), cg_Linear(8, 3, NULL)});
}

static void test_round_trip(void **state) {
    (void)state;
    cg_tensor *a = cg_randn(CG_SHAPE(3, 4), NULL), *b = cg_scalar(-1.5f);
    cg_tensor *c = cg_randn(CG_SHAPE(2, 1, 2, 3), NULL), *e = cg_zeros(CG_SHAPE(0, 5));
    cg_named_tensor items[] = {{"zeta", a}, {"alpha", b}, {"mid.dle", c}, {"empty", e}};
    cg_tensor_list list = {4, items};
    const char *keys[] = {"k2", "k1"}, *values[] = {"v2", "uni\xc3\xa9 \"q\"\n"};
    assert_int_equal(cg_safetensors_save(tmp("rt.safetensors"), &list, 2, keys, values), 0);
    cg_safetensors st;
    assert_int_equal(cg_safetensors_load(tmp("rt.safetensors"), &st), 0);
    assert_int_equal(st.tensors.count, 4);
    // stored in name order
    assert_string_equal(st.tensors.items[0].name, "alpha");
    assert_string_equal(st.tensors.items[3].name, "zeta");
    cg_assert_close(cg_safetensors_find(&st, "zeta"), a, 0, 0, "zeta");
    cg_assert_close(cg_safetensors_find(&st, "alpha"), b, 0, 0, "alpha");
    cg_assert_close(cg_safetensors_find(&st, "mid.dle"), c, 0, 0, "mid.dle");
    assert_int_equal(cg_safetensors_find(&st, "empty")->shape[0], 0);
    assert_null(cg_safetensors_find(&st, "nope"));
    assert_string_equal(cg_safetensors_meta(&st, "k1"), "uni\xc3\xa9 \"q\"\n");
    assert_string_equal(cg_safetensors_meta(&st, "k2"), "v2");
    assert_null(st.tensors.items[0].tensor->scope);
    cg_safetensors_free(&st);
    assert_int_equal(st.tensors.count, 0);
    // the file size is a multiple of 8 up to the data
    uint8_t buf[4096];
    size_t n = cg_test_read_file(tmp("rt.safetensors"), buf, sizeof buf);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | buf[i];
    assert_int_equal(hl % 8, 0);
    assert_int_equal(n, 8 + hl + 4 * (12 + 1 + 12));
    cg_free(a), cg_free(b), cg_free(c), cg_free(e);
}

// The deterministic case of gen_safetensors.py, written by cgrad, is byte-identical.
static void test_bytes_match_reference_writer(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture("safetensors.txt");
    const cg_fixture_case *c = cg_fixture_find(fx, "reference_f32");
    assert_non_null(c);
    const char *names[] = {"B_upper", "a", "layer.bias", "layer.weight", "z\"quote\\back"};
    cg_named_tensor items[5];
    for (int i = 4; i >= 0; i--) { // any input order
        char key[8];
        snprintf(key, sizeof key, "t%d", i);
        snprintf(items[4 - i].name, CG_NAME_MAX, "%s", names[i]);
        items[4 - i].tensor = cg_fixture_tensor(c, key);
    }
    cg_tensor_list list = {5, items};
    const char *keys[] = {"note", "format"};
    const char *values[] = {"tab\there, newline\n, quote \" \xc3\xa9 \x01", "pt"};
    assert_int_equal(cg_safetensors_save(tmp("ours.safetensors"), &list, 2, keys, values), 0);
    static uint8_t ours[4096], ref[4096];
    size_t n1 = cg_test_read_file(tmp("ours.safetensors"), ours, sizeof ours);
    size_t n2 = cg_test_read_file(CG_FIXTURE_DIR "/reference_f32.safetensors", ref, sizeof ref);
    assert_int_equal(n1, n2);
    assert_memory_equal(ours, ref, n1);
    cg_fixture_free(fx);
}

// A torch nn.Module's state_dict (F32 and I64 num_batches_tracked) loads into the same
// architecture built with cgrad's layers.
static void test_load_torch_state_dict(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture("safetensors.txt");
    const cg_fixture_case *c = cg_fixture_find(fx, "torch_model");
    cg_module *m = torch_model();
    assert_int_equal(cg_module_load(CG_FIXTURE_DIR "/torch_model.safetensors", m), 0);
    cg_tensor_list sd = cg_module_state_dict(m);
    assert_int_equal(sd.count, 9);
    for (int i = 0; i < sd.count; i++) {
        cg_tensor *want = cg_fixture_tensor(c, sd.items[i].name);
        if (!want) fail_msg("fixture lacks %s", sd.items[i].name);
        cg_assert_close(sd.items[i].tensor, want, 0, 0, sd.items[i].name);
    }
    cg_tensor_list_free(&sd);
    // and what cgrad writes for it is what the reference writer wrote (F32 except
    // num_batches_tracked, which cgrad stores as F32: PyTorch's load_state_dict converts).
    assert_int_equal(cg_module_save(tmp("model.safetensors"), m), 0);
    cg_safetensors st;
    assert_int_equal(cg_safetensors_load(tmp("model.safetensors"), &st), 0);
    assert_string_equal(cg_safetensors_meta(&st, "format"), "pt");
    assert_int_equal(st.tensors.count, 9);
    cg_safetensors_free(&st);
    cg_module_free(m);
    cg_fixture_free(fx);
}

static void test_dtype_conversion(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture("safetensors.txt");
    const cg_fixture_case *c = cg_fixture_find(fx, "dtypes");
    cg_safetensors st;
    assert_int_equal(cg_safetensors_load(CG_FIXTURE_DIR "/dtypes.safetensors", &st), 0);
    const char *names[] = {"f64", "f16", "bf16", "i64",  "i32",
                           "i16", "i8",  "u8",   "bool", "f32_scalar"};
    for (int i = 0; i < 10; i++) {
        cg_tensor *t = cg_safetensors_find(&st, names[i]);
        if (!t) fail_msg("no tensor %s", names[i]);
        cg_assert_close(t, cg_fixture_tensor(c, names[i]), 1e-7, 0, names[i]);
    }
    cg_safetensors_free(&st);
    cg_fixture_free(fx);
}

// Corrupt versions of a valid file: each gives CG_ERR_FORMAT naming the problem.
static void test_corrupt_files(void **state) {
    (void)state;
    cg_test_capture_errors();
    static uint8_t good[4096], bad[4096];
    size_t n = cg_test_read_file(CG_FIXTURE_DIR "/torch_model.safetensors", good, sizeof good);
    uint64_t hl = 0;
    for (int i = 7; i >= 0; i--) hl = hl << 8 | good[i];
    const char *header = (const char *)good + 8;
    const char *offsets = strstr(header, "\"data_offsets\":[0,");
    assert_non_null(offsets);
    size_t at_offsets = (size_t)(offsets - (const char *)good) + strlen("\"data_offsets\":[");
    const char *dtype = strstr(header, "\"dtype\":\"F32\"");
    size_t at_dtype = (size_t)(dtype - (const char *)good) + strlen("\"dtype\":\"");
    struct {
        const char *what, *message;
    } cases[] = {
        {"truncated", "the file holds"},
        {"trailing", "trailing bytes"},
        {"short", "shorter than the 8-byte header length"},
        {"header_len_huge", "header length"},
        {"header_len_small", "bad JSON header"},
        {"not_json", "bad JSON header"},
        {"trailing_comma", "bad JSON header"},
        {"offset_range", "do not hold"},
        {"dtype", "unsupported dtype 'X32'"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(bad, good, n);
        size_t m = n;
        const char *w = cases[k].what;
        if (!strcmp(w, "truncated")) m = n - 3;
        if (!strcmp(w, "trailing")) bad[m++] = 7;
        if (!strcmp(w, "short")) m = 5;
        if (!strcmp(w, "header_len_huge")) bad[5] = 1;
        if (!strcmp(w, "header_len_small")) bad[0] = (uint8_t)(hl - 16);
        if (!strcmp(w, "not_json")) bad[8] = '[';
        if (!strcmp(w, "trailing_comma")) { // "...}}" -> "..},}"  at the end of the JSON
            size_t end = 8 + hl - 1;
            while (bad[end] == ' ') end--;
            bad[end - 1] = ',';
        }
        if (!strcmp(w, "offset_range")) bad[at_offsets + 2] = '9'; // end changes
        if (!strcmp(w, "dtype")) bad[at_dtype] = 'X';
        cg_test_write_file(tmp("bad.safetensors"), bad, m);
        cg_safetensors st;
        if (cg_safetensors_load(tmp("bad.safetensors"), &st) == 0)
            fail_msg("corruption '%s' was not detected", w);
        assert_int_equal(st.tensors.count, 0);
        if (!strstr(cg_test_last_message(), "bad.safetensors"))
            fail_msg("%s: message does not name the file: %s", w, cg_test_last_message());
        cg_test_expect_error(CG_ERR_FORMAT, cases[k].message);
    }
    // Hand-written headers: a gap before the first tensor, two tensors on the same bytes,
    // a shape too large for the file, unknown keys, duplicates.
    struct {
        const char *json;
        int data_bytes;
        const char *message;
    } handmade[] = {
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "contiguous"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
         8, "contiguous"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
         "larger than the file"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
         "unknown key 'x'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
         "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
         8, "two tensors"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}", 4, "leading zero"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}} x", 4,
         "unexpected bytes"},
        {"{\"__metadata__\":{\"k\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[],"
         "\"data_offsets\":[0,4]}}",
         4, "expected '\"'"},
        {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "lacks data_offsets"},
        {"{\"a\\x\":{}}", 0, "bad escape"},
    };
    for (size_t k = 0; k < sizeof handmade / sizeof handmade[0]; k++) {
        size_t len = strlen(handmade[k].json), padded = (len + 7) / 8 * 8;
        memset(bad, 0, sizeof bad);
        for (int b = 0; b < 8; b++) bad[b] = (uint8_t)(padded >> (8 * b));
        memcpy(bad + 8, handmade[k].json, len);
        memset(bad + 8 + len, ' ', padded - len);
        cg_test_write_file(tmp("bad.safetensors"), bad,
                           8 + padded + (size_t)handmade[k].data_bytes);
        cg_safetensors st;
        if (cg_safetensors_load(tmp("bad.safetensors"), &st) == 0)
            fail_msg("handmade case %zu was not detected", k);
        cg_test_expect_error(CG_ERR_FORMAT, handmade[k].message);
    }
    cg_safetensors st;
    assert_int_equal(cg_safetensors_load(tmp("missing.safetensors"), &st), -1);
    cg_test_expect_error(CG_ERR_IO, "cannot open");
}

// Random corruption never crashes (and anything that loads is internally consistent).
static void test_fuzz(void **state) {
    (void)state;
    cg_test_capture_errors();
    static uint8_t good[4096], bad[4096];
    size_t n = cg_test_read_file(CG_FIXTURE_DIR "/torch_model.safetensors", good, sizeof good);
    cg_rng rng;
    cg_rng_seed(&rng, 77);
    int failed = 0;
    for (int iter = 0; iter < 600; iter++) {
        memcpy(bad, good, n);
        size_t m = n;
        int flips = 1 + (int)(cg_rng_next(&rng) % 3);
        for (int k = 0; k < flips; k++) {
            size_t at = cg_rng_next(&rng) % (iter % 2 ? 400 : m); // mostly the header
            uint8_t pick[] = {'"', '{', '}', '[', ']', ',', ':', '0', '9', ' ', '\\', 0, 0xff};
            bad[at] = iter % 3 ? pick[cg_rng_next(&rng) % sizeof pick] : (uint8_t)cg_rng_next(&rng);
        }
        if (cg_rng_next(&rng) % 5 == 0) m = cg_rng_next(&rng) % n;
        cg_test_write_file(tmp("fuzz.safetensors"), bad, m);
        cg_safetensors st;
        if (cg_safetensors_load(tmp("fuzz.safetensors"), &st) == 0) {
            for (int i = 0; i < st.tensors.count; i++) assert_non_null(st.tensors.items[i].tensor);
            cg_safetensors_free(&st);
        } else {
            failed++;
        }
        cg_clear_error();
    }
    assert_true(failed > 300);
}

static void test_module_load_mismatch(void **state) {
    (void)state;
    cg_test_capture_errors();
    // Linear(8,3) -> Linear(8,4), and no BatchNorm: missing, unexpected and mis-shaped.
    cg_module *m = cg_Sequential(5, (cg_module *[]){cg_Conv2d(1, 2, 3, NULL), cg_ReLU(), cg_ReLU(),
                                                    cg_Flatten(1, -1), cg_Linear(8, 4, NULL)});
    cg_module *extra =
        cg_Sequential(1, (cg_module *[]){cg_Linear(2, 2, &(cg_linear_options){.no_bias = true})});
    cg_module_add_child(m, "head", extra);
    cg_tensor_list sd = cg_module_state_dict(m);
    cg_tensor *before = cg_copy(sd.items[0].tensor); // 0.weight must stay untouched
    assert_int_equal(cg_module_load(CG_FIXTURE_DIR "/torch_model.safetensors", m), -1);
    const char *msg = cg_test_last_message();
    assert_non_null(strstr(msg, "missing: head.0.weight"));
    const char *unexpected = strstr(msg, "unexpected: ");
    assert_non_null(unexpected);
    const char *names[] = {"1.weight", "1.bias", "1.running_mean", "1.running_var",
                           "1.num_batches_tracked"};
    for (int i = 0; i < 5; i++) assert_non_null(strstr(unexpected, names[i]));
    assert_non_null(strstr(msg, "mis-shaped: 4.weight (file [3,8], model [4,8]), 4.bias (file "
                                "[3], model [4])"));
    cg_test_expect_error(CG_ERR_SHAPE, "does not fit the model");
    cg_assert_close(sd.items[0].tensor, before, 0, 0, "0.weight untouched");
    cg_free(before);
    cg_tensor_list_free(&sd);
    cg_module_free(m);
}

// Count files in CG_TEST_TMP_DIR whose name starts with prefix (left-over temporaries).
static int count_files(const char *prefix) {
    DIR *d = opendir(CG_TEST_TMP_DIR);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));)
        n += strncmp(e->d_name, prefix, strlen(prefix)) == 0;
    if (d) closedir(d);
    return n;
}

static void test_atomic_save(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_tensor *small = cg_ones(CG_SHAPE(2)), *big = cg_zeros(CG_SHAPE(64, 1024));
    cg_named_tensor a[] = {{"w", small}}, b[] = {{"w", big}};
    cg_tensor_list la = {1, a}, lb = {1, b};
    char path[512];
    snprintf(path, sizeof path, "%s", tmp("atomic.safetensors"));
    assert_int_equal(cg_safetensors_save(path, &la, 0, NULL, NULL), 0);
    static uint8_t old[256], now[256];
    size_t n_old = cg_test_read_file(path, old, sizeof old);

    // A disk that fills up mid-write (RLIMIT_FSIZE: writes past 4 KiB fail with EFBIG).
    struct rlimit saved, limit;
    getrlimit(RLIMIT_FSIZE, &saved);
    limit = saved;
    limit.rlim_cur = 4096;
    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &limit), 0);
    int rc = cg_safetensors_save(path, &lb, 0, NULL, NULL);
    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, old_handler);
    assert_int_equal(rc, -1);
    cg_test_expect_error(CG_ERR_IO, "the previous file is unchanged");
    assert_int_equal(cg_test_read_file(path, now, sizeof now), n_old);
    assert_memory_equal(now, old, n_old);
    assert_int_equal(count_files("st_atomic.safetensors.tmp"), 0);

    // An unwritable place (a path below a regular file).
    char inside[600];
    snprintf(inside, sizeof inside, "%s/x.safetensors", path);
    assert_int_equal(cg_safetensors_save(inside, &la, 0, NULL, NULL), -1);
    cg_test_expect_error(CG_ERR_IO, "x.safetensors");
    // Rename onto a directory fails after the data was written: temporary removed.
    mkdir(tmp("dir.safetensors"), 0755);
    assert_int_equal(cg_safetensors_save(tmp("dir.safetensors"), &la, 0, NULL, NULL), -1);
    cg_test_expect_error(CG_ERR_IO, "rename failed");
    assert_int_equal(count_files("st_dir.safetensors.tmp"), 0);
    // Bad input is refused before anything is written.
    cg_named_tensor dup[] = {{"w", small}, {"w", small}};
    cg_tensor_list ld = {2, dup};
    assert_int_equal(cg_safetensors_save(path, &ld, 0, NULL, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "two tensors are called 'w'");
    assert_int_equal(cg_test_read_file(path, now, sizeof now), n_old);
    cg_free(small);
    cg_free(big);
}

// ---- resume: a run interrupted by save/load continues exactly as an uninterrupted one ----

typedef struct run {
    cg_module *model;
    cg_optimizer *opt;
    cg_dataloader *dl;
} run;

static run new_run(uint64_t seed, cg_tensor *x, cg_tensor *y) {
    cg_manual_seed(seed);
    run r;
    r.model =
        cg_Sequential(3, (cg_module *[]){cg_Linear(4, 8, NULL), cg_Tanh(), cg_Linear(8, 2, NULL)});
    r.opt = cg_sgd_for(r.model, &(cg_sgd_options){.lr = CG_SET(0.1),
                                                  .momentum = CG_SET(0.9),
                                                  .dampening = CG_SET(0.1),
                                                  .weight_decay = CG_SET(1e-3)});
    r.dl = cg_dataloader_new(x, y, 7, true, seed * 3 + 1);
    return r;
}

static void free_run(run *r) {
    cg_optimizer_free(r->opt);
    cg_module_free(r->model);
    cg_dataloader_free(r->dl);
}

// One step; the loss also uses the global generator (input noise) so its state matters.
static void train_steps(run *r, int steps) {
    for (int s = 0; s < steps; s++) {
        cg_tensor *x, *y;
        if (!cg_dataloader_next(r->dl, &x, &y)) cg_dataloader_next(r->dl, &x, &y);
        cg_scope_begin();
        cg_tensor *noisy = cg_add(x, cg_normal(x->ndim, x->shape, 0.0f, 0.01f, NULL));
        cg_tensor *loss = cg_mse_loss(cg_module_forward(r->model, noisy), y, NULL);
        cg_optimizer_zero_grad(r->opt);
        assert_int_equal(cg_backward(loss), 0);
        assert_int_equal(cg_optimizer_step(r->opt), 0);
        cg_scope_end();
    }
}

static void test_resume_is_exact(void **state) {
    (void)state;
    cg_manual_seed(5);
    cg_tensor *x = cg_randn(CG_SHAPE(30, 4), NULL), *y = cg_randn(CG_SHAPE(30, 2), NULL);
    run a = new_run(1, x, y);
    train_steps(&a, 6); // into the second epoch (5 batches per epoch)
    cg_checkpoint_meta meta = {.epoch = 1,
                               .global_step = 6,
                               .lr = cg_optimizer_lr(a.opt),
                               .has_loader = true,
                               .loader = cg_dataloader_get_state(a.dl)};
    assert_int_equal(cg_checkpoint_save(tmp("run.ckpt"), a.model, a.opt, &meta), 0);
    train_steps(&a, 7);

    run b = new_run(99, x, y); // different weights, loader seed and global generator
    cg_checkpoint_meta got;
    assert_int_equal(cg_checkpoint_load(tmp("run.ckpt"), b.model, b.opt, &got), 0);
    assert_int_equal(got.epoch, 1);
    assert_int_equal(got.global_step, 6);
    assert_true(got.has_loader);
    assert_true(got.lr == 0.1);
    assert_int_equal(cg_dataloader_set_state(b.dl, &got.loader), 0);
    train_steps(&b, 7);

    cg_tensor_list pa = cg_module_state_dict(a.model), pb = cg_module_state_dict(b.model);
    for (int i = 0; i < pa.count; i++)
        cg_assert_close(pb.items[i].tensor, pa.items[i].tensor, 0, 0, pa.items[i].name);
    cg_tensor_list_free(&pa);
    cg_tensor_list_free(&pb);

    // The file holds the optimizer state under "optimizer." names.
    cg_safetensors st;
    assert_int_equal(cg_safetensors_load(tmp("run.ckpt"), &st), 0);
    assert_non_null(cg_safetensors_find(&st, "optimizer.0.momentum_buffer"));
    assert_non_null(cg_safetensors_find(&st, "0.weight"));
    assert_string_equal(cg_safetensors_meta(&st, "global_step"), "6");
    cg_safetensors_free(&st);

    // A model file is not a checkpoint, and a checkpoint does not fit another model.
    cg_test_capture_errors();
    assert_int_equal(cg_module_save(tmp("plain.safetensors"), a.model), 0);
    assert_int_equal(cg_checkpoint_load(tmp("plain.safetensors"), b.model, b.opt, NULL), -1);
    cg_test_expect_error(CG_ERR_FORMAT, "not a cgrad checkpoint");
    cg_module *other = cg_Linear(4, 2, NULL);
    assert_int_equal(cg_checkpoint_load(tmp("run.ckpt"), other, NULL, NULL), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "missing: weight, bias; unexpected: 0.bias, 0.weight");
    cg_module_free(other);
    free_run(&a);
    free_run(&b);
    cg_free(x);
    cg_free(y);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_round_trip, cg_test_teardown),
        cmocka_unit_test_teardown(test_bytes_match_reference_writer, cg_test_teardown),
        cmocka_unit_test_teardown(test_load_torch_state_dict, cg_test_teardown),
        cmocka_unit_test_teardown(test_dtype_conversion, cg_test_teardown),
        cmocka_unit_test_teardown(test_corrupt_files, cg_test_teardown),
        cmocka_unit_test_teardown(test_fuzz, cg_test_teardown),
        cmocka_unit_test_teardown(test_module_load_mismatch, cg_test_teardown),
        cmocka_unit_test_teardown(test_atomic_save, cg_test_teardown),
        cmocka_unit_test_teardown(test_resume_is_exact, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
