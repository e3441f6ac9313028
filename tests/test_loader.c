// tests/test_loader.c - cg_loader: every sample once per epoch, the same batches whatever
// the number of workers, each batch equal to its samples transformed with the batch's own
// stream, drop_last, the DistributedSampler shares, and errors from workers re-raised.
#define _GNU_SOURCE // SCHED_BATCH
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "testing.h"

enum { N = 23 };

// A user-defined dataset: sample i is a 1x5x6 ramp plus i, label i; index `fail_at` fails,
// index `odd_at` has another size.
typedef struct toy {
    int64_t fail_at, odd_at;
} toy;

static int64_t toy_count(void *self) {
    (void)self;
    return N;
}
static int toy_get(void *self, int64_t i, cg_sample *out) {
    toy *t = self;
    if (i == t->fail_at) {
        cg_error(CG_ERR_IO, "toy: cannot read sample %lld", (long long)i);
        return -1;
    }
    out->c = 1, out->h = 5, out->w = i == t->odd_at ? 7 : 6, out->label = i;
    out->data = cg_alloc(sizeof(float) * (size_t)(out->h * out->w));
    for (int k = 0; k < out->h * out->w; k++) out->data[k] = (float)i + 0.01f * (float)k;
    return 0;
}
static const cg_dataset_vtable toy_vtable = {toy_count, toy_get, NULL};

static const cg_transform *steps(void) {
    static cg_transform t[2];
    t[0] = cg_t_random_crop(4, 4, 1);
    t[1] = cg_t_random_horizontal_flip(0.5f);
    return t;
}

// All batches of two epochs, concatenated (x values then labels).
static float *run(const cg_dataset *d, int workers, int64_t *n_values) {
    cg_loader *dl = cg_loader_new(
        d, steps(), 2,
        &(cg_loader_options){
            .batch = 4, .shuffle = true, .seed = 9, .workers = workers, .prefetch = 2});
    assert_non_null(dl);
    float *all = malloc(sizeof(float) * 2 * N * 17);
    int64_t n = 0;
    for (int epoch = 0; epoch < 2; epoch++) {
        assert_int_equal(cg_loader_epoch(dl), epoch);
        cg_tensor *x, *y;
        int seen[N] = {0}, rc, batches = 0;
        while ((rc = cg_loader_next(dl, &x, &y)) == 1) {
            assert_int_equal(x->shape[1] * x->shape[2] * x->shape[3], 16);
            for (int64_t r = 0; r < y->numel; r++) seen[(int)y->data[r]]++;
            memcpy(all + n, x->data, sizeof(float) * (size_t)x->numel), n += x->numel;
            memcpy(all + n, y->data, sizeof(float) * (size_t)y->numel), n += y->numel;
            batches++;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(batches, 6); // ceil(23 / 4)
        for (int i = 0; i < N; i++) assert_int_equal(seen[i], 1);
    }
    cg_loader_free(dl);
    *n_values = n;
    return all;
}

static void test_deterministic_across_workers(void **state) {
    (void)state;
    toy t = {-1, -1};
    cg_dataset *d = cg_dataset_new(&toy_vtable, &t);
    int64_t n0, n1, n3;
    float *a = run(d, 0, &n0), *b = run(d, 1, &n1), *c = run(d, 3, &n3);
    assert_int_equal(n0, 2 * N * 17);
    assert_int_equal(n0, n1), assert_int_equal(n0, n3);
    assert_memory_equal(a, b, sizeof(float) * (size_t)n0);
    assert_memory_equal(a, c, sizeof(float) * (size_t)n0);
    free(a), free(b), free(c);
    cg_dataset_free(d);
}

// Batch k of epoch e = its samples (read back from the labels) through the steps, drawing
// from cg_loader_batch_rng(seed, e, k) in batch order; epochs differ in order.
static void test_batch_streams(void **state) {
    (void)state;
    toy t = {-1, -1};
    cg_dataset *d = cg_dataset_new(&toy_vtable, &t);
    cg_loader *dl =
        cg_loader_new(d, steps(), 2,
                      &(cg_loader_options){
                          .batch = 5, .shuffle = true, .seed = 3, .workers = 2, .drop_last = true});
    assert_int_equal(cg_loader_num_batches(dl), 4);
    float first[2][5];
    for (int epoch = 0; epoch < 2; epoch++) {
        cg_tensor *x, *y;
        for (int k = 0; cg_loader_next(dl, &x, &y) == 1; k++) {
            assert_int_equal(y->numel, 5);
            cg_rng rng = cg_loader_batch_rng(3, epoch, k);
            for (int r = 0; r < 5; r++) {
                cg_sample s;
                assert_int_equal(cg_dataset_get(d, (int64_t)y->data[r], &s), 0);
                assert_int_equal(cg_transform_apply(steps(), 2, &s, &rng), 0);
                assert_memory_equal(s.data, x->data + r * 16, 16 * sizeof(float));
                cg_sample_clear(&s);
            }
            if (k == 0) memcpy(first[epoch], y->data, sizeof first[epoch]);
        }
    }
    assert_memory_not_equal(first[0], first[1], sizeof first[0]);
    // set_epoch replays an epoch.
    assert_int_equal(cg_loader_set_epoch(dl, 1), 0);
    cg_tensor *x, *y;
    assert_int_equal(cg_loader_next(dl, &x, &y), 1);
    assert_memory_equal(first[1], y->data, sizeof first[1]);
    cg_loader_free(dl);
    cg_dataset_free(d);
}

// DistributedSampler: 23 samples over 3 ranks, 8 each (one repeated from the start of the
// order); with shard_drop_last 7 each and no repeats.
static void test_shards(void **state) {
    (void)state;
    toy t = {-1, -1};
    cg_dataset *d = cg_dataset_new(&toy_vtable, &t);
    for (int drop = 0; drop < 2; drop++) {
        int seen[N] = {0}, total = 0;
        for (int rank = 0; rank < 3; rank++) {
            cg_loader *dl = cg_loader_new(d, NULL, 0,
                                          &(cg_loader_options){.batch = 3,
                                                               .shuffle = true,
                                                               .seed = 5,
                                                               .rank = rank,
                                                               .world = 3,
                                                               .shard_drop_last = drop,
                                                               .workers = rank});
            assert_int_equal(cg_loader_shard_size(dl), drop ? 7 : 8);
            cg_tensor *x, *y;
            while (cg_loader_next(dl, &x, &y) == 1)
                for (int64_t r = 0; r < y->numel; r++) seen[(int)y->data[r]]++, total++;
            cg_loader_free(dl);
        }
        assert_int_equal(total, drop ? 21 : 24);
        int twice = 0, missing = 0;
        for (int i = 0; i < N; i++) twice += seen[i] == 2, missing += seen[i] == 0;
        assert_int_equal(twice, drop ? 0 : 1);
        assert_int_equal(missing, drop ? 2 : 0);
    }
    cg_dataset_free(d);
}

static void test_errors(void **state) {
    (void)state;
    cg_test_capture_errors();
    toy t = {7, -1};
    cg_dataset *d = cg_dataset_new(&toy_vtable, &t);
    for (int workers = 0; workers < 3; workers += 2) {
        cg_loader *dl =
            cg_loader_new(d, NULL, 0, &(cg_loader_options){.batch = 4, .workers = workers});
        cg_tensor *x, *y;
        assert_int_equal(cg_loader_next(dl, &x, &y), 1); // samples 0..3
        assert_int_equal(cg_loader_next(dl, &x, &y), -1);
        assert_null(x);
        cg_test_expect_error(CG_ERR_IO, "toy: cannot read sample 7");
        assert_int_equal(cg_test_error_count(), 1);      // reported once, on this thread
        assert_int_equal(cg_loader_next(dl, &x, &y), 0); // the epoch was abandoned
        assert_int_equal(cg_loader_next(dl, &x, &y), 1); // the next one starts
        cg_loader_free(dl);
        cg_test_capture_errors();
    }
    t = (toy){-1, 2};
    cg_loader *dl = cg_loader_new(d, NULL, 0, &(cg_loader_options){.batch = 4, .workers = 1});
    cg_tensor *x, *y;
    assert_int_equal(cg_loader_next(dl, &x, &y), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "sample 2 is 1x5x7 after the transforms but the batch's "
                                       "first is 1x5x6");
    cg_loader_free(dl);
    assert_null(cg_loader_new(NULL, NULL, 0, NULL));
    cg_test_expect_error(CG_ERR_ARG, "loader: the dataset is NULL");
    assert_null(cg_loader_new(d, NULL, 0, &(cg_loader_options){.rank = 2, .world = 2}));
    cg_test_expect_error(CG_ERR_ARG, "rank 2 of world size 2");
    cg_dataset_free(d);
}

#ifdef SCHED_BATCH
// The thread a sample is read on: its scheduling policy, stored by the dataset.
static _Atomic int policy_seen;
static int policy_get(void *self, int64_t i, cg_sample *out) {
    atomic_store(&policy_seen, sched_getscheduler(0));
    return toy_get(self, i, out);
}
static const cg_dataset_vtable policy_vtable = {toy_count, policy_get, NULL};

// Workers run as batch threads (their wake-up must not preempt the training thread); the
// caller's own thread, which makes the batches with 0 workers, keeps its policy.
static void test_workers_are_batch_threads(void **state) {
    (void)state;
    toy t = {-1, -1};
    cg_dataset *d = cg_dataset_new(&policy_vtable, &t);
    for (int workers = 0; workers < 3; workers += 2) {
        atomic_store(&policy_seen, -1); // before the workers start
        cg_loader *dl = cg_loader_new(d, NULL, 0, &(cg_loader_options){.workers = workers});
        cg_tensor *x, *y;
        assert_int_equal(cg_loader_next(dl, &x, &y), 1);
        assert_int_equal(atomic_load(&policy_seen), workers ? SCHED_BATCH : sched_getscheduler(0));
        cg_loader_free(dl);
    }
    assert_int_equal(sched_getscheduler(0), SCHED_OTHER);
    cg_dataset_free(d);
}
#endif

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_deterministic_across_workers, cg_test_teardown),
        cmocka_unit_test_teardown(test_batch_streams, cg_test_teardown),
        cmocka_unit_test_teardown(test_shards, cg_test_teardown),
        cmocka_unit_test_teardown(test_errors, cg_test_teardown),
#ifdef SCHED_BATCH
        cmocka_unit_test_teardown(test_workers_are_batch_threads, cg_test_teardown),
#endif
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
