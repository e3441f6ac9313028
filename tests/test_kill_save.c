// tests/test_kill_save.c - saves that die: SIGKILL at random moments during
// cg_checkpoint_save, and a full disk. The previous checkpoint must always load intact
// (every tensor from one single save) and temporary files must stay bounded.
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "testing.h"

#define KILLS 80

typedef struct run {
    cg_module *model;
    cg_optimizer *opt;
} run;

// A ~2 MB model with Adam state, every value equal to `v` (a save's signature).
static run make_run(float v) {
    run r;
    r.model =
        cg_Sequential(2, (cg_module *[]){cg_Linear(256, 512, NULL), cg_Linear(512, 256, NULL)});
    r.opt = cg_adam_for(r.model, &(cg_adam_options){.lr = CG_SET(0.01)});
    cg_tensor_list params = cg_module_named_parameters(r.model);
    for (int i = 0; i < params.count; i++) {
        cg_fill_(params.items[i].tensor, v);
        params.items[i].tensor->grad =
            cg_full(params.items[i].tensor->ndim, params.items[i].tensor->shape, 0.0f);
        cg_unscope(params.items[i].tensor->grad);
    }
    cg_tensor_list_free(&params);
    cg_tensor_list state = cg_optimizer_state(r.opt); // creates the Adam buffers
    for (int i = 0; i < state.count; i++) cg_fill_(state.items[i].tensor, v);
    cg_tensor_list_free(&state);
    return r;
}

static void free_run(run *r) {
    cg_optimizer_free(r->opt);
    cg_module_free(r->model);
}

// The loaded model holds one value everywhere, which is one of the saved signatures.
static float loaded_signature(const char *path) {
    run r = make_run(-1.0f);
    cg_checkpoint_meta meta;
    assert_int_equal(cg_checkpoint_load(path, r.model, r.opt, &meta), 0);
    float v = (float)meta.epoch;
    cg_tensor_list all = cg_module_state_dict(r.model);
    for (int i = 0; i < all.count; i++)
        for (int64_t k = 0; k < all.items[i].tensor->numel; k++)
            if (all.items[i].tensor->data[k] != v)
                fail_msg("%s[%lld] = %g but the file is the save of epoch %g", all.items[i].name,
                         (long long)k, all.items[i].tensor->data[k], v);
    cg_tensor_list_free(&all);
    all = cg_optimizer_state(r.opt);
    for (int i = 0; i < all.count; i++)
        if (all.items[i].tensor->data[0] != v)
            fail_msg("optimizer %s = %g but the file is the save of epoch %g", all.items[i].name,
                     all.items[i].tensor->data[0], v);
    cg_tensor_list_free(&all);
    free_run(&r);
    return v;
}

static void save_epoch(const char *path, float v) {
    run r = make_run(v);
    cg_checkpoint_meta meta = {.epoch = (int64_t)v, .lr = 0.01};
    assert_int_equal(cg_checkpoint_save(path, r.model, r.opt, &meta), 0);
    free_run(&r);
}

// Child i saves epochs 1000*(i+1) + 1, + 2, ... in a loop until it is killed.
static void test_kill_during_save(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/kill_save.ckpt", CG_TEST_TMP_DIR);
    save_epoch(path, 0);
    srand(12345);
    int max_temps = 0, mid_save = 0, from_children = 0;
    for (int i = 0; i < KILLS; i++) {
        fflush(NULL);
        pid_t child = fork();
        if (child == 0) {
            for (int k = 1;; k++) {
                run r = make_run((float)(1000 * (i + 1) + k));
                cg_checkpoint_meta meta = {.epoch = 1000 * (i + 1) + k, .lr = 0.01};
                cg_checkpoint_save(path, r.model, r.opt, &meta);
                free_run(&r);
            }
        }
        struct timespec pause = {0, (rand() % 40000) * 1000L}; // in the first few saves
        nanosleep(&pause, NULL);
        kill(child, SIGKILL);
        assert_int_equal(waitpid(child, NULL, 0), child);
        int temps = cg_test_count_temp_files(path);
        max_temps = temps > max_temps ? temps : max_temps;
        mid_save += temps > 0;
        float v = loaded_signature(path); // also removes the dead child's temporary file
        // The first save, or a complete save of this or an earlier child.
        assert_true(v == 0 || (v >= 1000 && (int)v / 1000 <= i + 1));
        from_children += v != 0;
        assert_int_equal(cg_test_count_temp_files(path), 0);
    }
    // Each kill leaves at most the one file the child was writing, removed by the next
    // save or load of the path.
    assert_true(max_temps <= 1);
    printf("kill_save: %d kills, %d during a write, checkpoint from a child after %d\n", KILLS,
           mid_save, from_children);
    unlink(path);
}

// A save that hits the file size limit (as a full disk: the write fails) reports
// CG_ERR_IO, keeps the previous checkpoint and leaves no temporary file.
static void full_disk_child(const char *path) {
    signal(SIGXFSZ, SIG_IGN); // write() then fails with EFBIG instead of killing us
    struct rlimit limit = {64 * 1024, 64 * 1024};
    setrlimit(RLIMIT_FSIZE, &limit);
    run r = make_run(7.0f);
    cg_checkpoint_meta meta = {.epoch = 7, .lr = 0.01};
    cg_set_error_handler(NULL, NULL);
    int rc = cg_checkpoint_save(path, r.model, r.opt, &meta);
    _exit(rc == -1 && cg_last_error() == CG_ERR_IO ? 0 : 1);
}

static void expect_full_disk_safe(const char *path) {
    save_epoch(path, 3.0f);
    fflush(NULL);
    pid_t child = fork();
    if (child == 0) full_disk_child(path);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(cg_test_count_temp_files(path), 0);
    assert_true(loaded_signature(path) == 3.0f);
    unlink(path);
}

static void test_full_disk(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/full_disk.ckpt", CG_TEST_TMP_DIR);
    expect_full_disk_safe(path);
    // A real ENOSPC on a tiny tmpfs when we may mount one (root); skipped otherwise.
    char dir[400], cmd[1200];
    snprintf(dir, sizeof dir, "%s/tiny_fs", CG_TEST_TMP_DIR);
    mkdir(dir, 0755);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=8m tmpfs '%s' 2>/dev/null", dir);
    if (geteuid() != 0 || system(cmd) != 0) return;
    snprintf(path, sizeof path, "%s/run.ckpt", dir);
    save_epoch(path, 3.0f); // 3 MB; then fill the rest of the disk
    snprintf(cmd, sizeof cmd, "dd if=/dev/zero of='%s/filler' bs=64k 2>/dev/null", dir);
    (void)system(cmd);
    run r = make_run(9.0f);
    cg_checkpoint_meta meta = {.epoch = 9, .lr = 0.01};
    assert_int_equal(cg_checkpoint_save(path, r.model, r.opt, &meta), -1);
    cg_test_expect_error(CG_ERR_IO, "the previous file is unchanged");
    free_run(&r);
    assert_int_equal(cg_test_count_temp_files(path), 0);
    assert_true(loaded_signature(path) == 3.0f);
    snprintf(cmd, sizeof cmd, "umount '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_kill_during_save, cg_test_teardown),
        cmocka_unit_test_teardown(test_full_disk, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("kill_save", tests, NULL, NULL);
}
