// tests/test_loader_resume.c - cg_loader's checkpoint state: a loader rebuilt and given the
// state saved mid-epoch (directly or through a cg_checkpoint file) hands out exactly the
// batches the first one would have, with another number of workers; a state at an epoch's
// end, another batch size, another seed and a position off the batch grid.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

enum { N = 29, BATCH = 4, SIDE = 6 };

static int64_t toy_count(void *self) {
    (void)self;
    return N;
}
// Sample i: a 1 x 6 x 6 ramp plus i, label i.
static int toy_get(void *self, int64_t i, cg_sample *out) {
    (void)self;
    out->c = 1, out->h = SIDE, out->w = SIDE, out->label = i;
    out->data = cg_alloc(sizeof(float) * SIDE * SIDE);
    for (int k = 0; k < SIDE * SIDE; k++) out->data[k] = (float)i + 0.01f * (float)k;
    return 0;
}
static const cg_dataset_vtable toy_vtable = {toy_count, toy_get, NULL};

// Random steps, so every batch's own stream shows in its values.
static const cg_transform steps[] = {
    {.kind = CG_T_RANDOM_CROP, .height = 4, .width = 4, .pad = {1, 1, 1, 1}},
    {.kind = CG_T_RANDOM_HFLIP, .p = 0.5f}};

static cg_loader *loader(const cg_dataset *d, int workers, int batch, uint64_t seed) {
    cg_loader *dl = cg_loader_new(
        d, steps, 2,
        &(cg_loader_options){.batch = batch, .shuffle = true, .seed = seed, .workers = workers});
    assert_non_null(dl);
    return dl;
}

// The next `n` batches (crossing epoch ends, which count as a batch of nothing) appended
// to out: x values then labels; returns the floats written.
static int64_t take(cg_loader *dl, int n, float *out) {
    int64_t at = 0;
    for (int k = 0; k < n; k++) {
        cg_tensor *x, *y;
        int rc = cg_loader_next(dl, &x, &y);
        assert_true(rc >= 0);
        if (rc == 0) continue;
        memcpy(out + at, x->data, sizeof(float) * (size_t)x->numel), at += x->numel;
        memcpy(out + at, y->data, sizeof(float) * (size_t)y->numel), at += y->numel;
    }
    return at;
}

static void compare_from(const cg_dataset *d, cg_loader *first, int workers) {
    cg_dataloader_state st = cg_loader_get_state(first);
    enum { LOTS = 20 * BATCH * 17 };
    float *want = malloc(sizeof(float) * LOTS), *got = malloc(sizeof(float) * LOTS);
    int64_t n = take(first, 15, want); // the rest of this epoch and into the next two
    cg_loader *second = loader(d, workers, BATCH, 3);
    assert_int_equal(cg_loader_set_state(second, &st), 0);
    assert_int_equal(cg_loader_epoch(second), st.epoch);
    assert_int_equal(take(second, 15, got), n);
    assert_memory_equal(want, got, sizeof(float) * (size_t)n);
    cg_loader_free(second);
    free(want), free(got);
}

static void test_resume_mid_epoch(void **state) {
    (void)state;
    cg_dataset *d = cg_dataset_new(&toy_vtable, NULL);
    cg_loader *dl = loader(d, 2, BATCH, 3);
    float *scratch = malloc(sizeof(float) * 20 * BATCH * 17);
    take(dl, 8 + 1 + 3, scratch); // epoch 0 (8 batches and its end), 3 batches of epoch 1
    cg_dataloader_state st = cg_loader_get_state(dl);
    assert_int_equal(st.epoch, 1), assert_int_equal(st.batch, 3);
    assert_int_equal(st.sample, 3 * BATCH), assert_int_equal(st.world, 1);
    compare_from(d, dl, 0); // resumed by a loader decoding on the calling thread; the
                            // first loader moved on 15 calls: epoch 3, batch 0
    take(dl, 2, scratch);
    st = cg_loader_get_state(dl);
    assert_int_equal(st.epoch, 3), assert_int_equal(st.batch, 2);
    compare_from(d, dl, 1); // by one worker, mid-epoch again; then 6 + end + 8 calls on
    st = cg_loader_get_state(dl);
    assert_int_equal(st.epoch, 4), assert_int_equal(st.batch, 8); // at epoch 4's end
    compare_from(d, dl, 2);
    free(scratch);
    cg_loader_free(dl);
    cg_dataset_free(d);
}

// Through a checkpoint file: cg_checkpoint_meta's `loader` carries the state.
static void test_resume_through_checkpoint(void **state) {
    (void)state;
    cg_dataset *d = cg_dataset_new(&toy_vtable, NULL);
    cg_loader *dl = loader(d, 2, BATCH, 3);
    float *want = malloc(sizeof(float) * 20 * BATCH * 17),
          *got = malloc(sizeof(float) * 20 * BATCH * 17);
    take(dl, 5, want);
    cg_module *model = cg_Linear(2, 1, NULL);
    cg_optimizer *opt = cg_sgd_for(model, &(cg_sgd_options){.lr = CG_SET(0.1)});
    char path[512];
    snprintf(path, sizeof path, "%s/loader_resume.ckpt", CG_TEST_TMP_DIR);
    cg_checkpoint_meta meta = {.epoch = 0, .has_loader = true, .loader = cg_loader_get_state(dl)};
    assert_int_equal(cg_checkpoint_save(path, model, opt, &meta), 0);
    int64_t n = take(dl, 10, want);
    cg_checkpoint_meta back;
    assert_int_equal(cg_checkpoint_load(path, model, opt, &back), 0);
    assert_true(back.has_loader);
    cg_loader *resumed = loader(d, 1, BATCH, 3);
    assert_int_equal(cg_loader_set_state(resumed, &back.loader), 0);
    assert_int_equal(take(resumed, 10, got), n);
    assert_memory_equal(want, got, sizeof(float) * (size_t)n);
    remove(path);
    cg_optimizer_free(opt), cg_module_free(model);
    cg_loader_free(resumed), cg_loader_free(dl), cg_dataset_free(d);
    free(want), free(got);
}

// Another batch size continues at the samples read when that is one of its batch
// boundaries; otherwise, or from another seed, a clear error.
static void test_other_loaders(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_dataset *d = cg_dataset_new(&toy_vtable, NULL);
    cg_loader *dl = loader(d, 0, BATCH, 3);
    float *scratch = malloc(sizeof(float) * 20 * BATCH * 17);
    take(dl, 4, scratch); // 16 samples read
    cg_dataloader_state st = cg_loader_get_state(dl);
    cg_loader *eight = loader(d, 0, 8, 3);
    assert_int_equal(cg_loader_set_state(eight, &st), 0);
    cg_tensor *x, *y;
    assert_int_equal(cg_loader_next(eight, &x, &y), 1); // samples 16..23 of the order
    float labels[8];
    memcpy(labels, y->data, sizeof labels);
    take(dl, 2, scratch); // samples 16..23 in two batches of 4
    cg_loader *four = loader(d, 0, BATCH, 3);
    st.batch = 4, st.sample = 16;
    assert_int_equal(cg_loader_set_state(four, &st), 0);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(cg_loader_next(four, &x, &y), 1);
        assert_memory_equal(labels + 4 * k, y->data, 4 * sizeof(float));
    }
    cg_loader *five = loader(d, 0, 5, 3);
    assert_int_equal(cg_loader_set_state(five, &st), -1);
    cg_test_expect_error(CG_ERR_ARG, "loader_set_state: batch 4 (sample 16) is not a batch "
                                     "boundary of this loader's 6 batches of 5 x 1 ranks");
    cg_loader *other = loader(d, 0, BATCH, 4);
    assert_int_equal(cg_loader_set_state(other, &st), -1);
    cg_test_expect_error(CG_ERR_ARG, "comes from a loader with another seed than this one's 4");
    assert_int_equal(cg_loader_set_state(other, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "loader_set_state: argument 'state' is NULL");
    free(scratch);
    cg_loader_free(dl), cg_loader_free(eight), cg_loader_free(four), cg_loader_free(five);
    cg_loader_free(other), cg_dataset_free(d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_resume_mid_epoch, cg_test_teardown),
        cmocka_unit_test_teardown(test_resume_through_checkpoint, cg_test_teardown),
        cmocka_unit_test_teardown(test_other_loaders, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
