// tests/test_dataloader.c - shuffled mini-batches: coverage, reproducibility, partial
// batches, normalisation and checkpointable state.
#include <string.h>

#include "cgrad.h"
#include "testing.h"

// x (n,2,3) with sample i's values 6i .. 6i+5; y (n) = i.
static void make_data(int64_t n, cg_tensor **x, cg_tensor **y) {
    *x = cg_empty(CG_SHAPE(n, 2, 3));
    *y = cg_empty(CG_SHAPE(n));
    for (int64_t i = 0; i < n * 6; i++) (*x)->data[i] = (float)i;
    for (int64_t i = 0; i < n; i++) (*y)->data[i] = (float)i;
}

// One epoch's sample order (y values) into order[]; returns the number of samples seen and
// checks that every x row matches its label.
static int64_t run_epoch(cg_dataloader *dl, int64_t *order, int64_t *batch_sizes, int *n_batches) {
    cg_tensor *xb, *yb;
    int64_t seen = 0;
    *n_batches = 0;
    while (cg_dataloader_next(dl, &xb, &yb)) {
        assert_int_equal(xb->shape[0], yb->shape[0]);
        assert_int_equal(xb->ndim, 3);
        assert_int_equal(xb->shape[1], 2);
        assert_int_equal(xb->shape[2], 3);
        for (int64_t r = 0; r < yb->shape[0]; r++) {
            int64_t id = (int64_t)yb->data[r];
            for (int k = 0; k < 6; k++) assert_true(xb->data[r * 6 + k] == (float)(id * 6 + k));
            order[seen++] = id;
        }
        if (batch_sizes) batch_sizes[*n_batches] = yb->shape[0];
        (*n_batches)++;
    }
    assert_null(xb);
    return seen;
}

static void test_epoch_covers_every_sample_once(void **state) {
    (void)state;
    cg_tensor *x, *y;
    make_data(103, &x, &y);
    cg_dataloader *dl = cg_dataloader_new(x, y, 10, true, 7);
    assert_non_null(dl);
    assert_int_equal(cg_dataloader_num_batches(dl), 11);
    int64_t order[103], sizes[16], previous[103];
    int nb;
    for (int epoch = 0; epoch < 3; epoch++) {
        assert_int_equal(cg_dataloader_epoch(dl), epoch);
        assert_int_equal(run_epoch(dl, order, sizes, &nb), 103);
        assert_int_equal(nb, 11);
        for (int b = 0; b < 10; b++) assert_int_equal(sizes[b], 10);
        assert_int_equal(sizes[10], 3); // the last partial batch
        int count[103] = {0};
        for (int i = 0; i < 103; i++) count[order[i]]++;
        for (int i = 0; i < 103; i++) assert_int_equal(count[i], 1);
        bool sorted = true;
        for (int i = 0; i < 103; i++) sorted = sorted && order[i] == i;
        assert_false(sorted);                                                  // shuffled
        if (epoch > 0) assert_memory_not_equal(order, previous, sizeof order); // reshuffled
        memcpy(previous, order, sizeof order);
    }
    cg_dataloader_free(dl);
    cg_free(x);
    cg_free(y);
}

static void test_same_seed_same_order(void **state) {
    (void)state;
    cg_tensor *x, *y;
    make_data(50, &x, &y);
    cg_dataloader *a = cg_dataloader_new(x, y, 8, true, 99);
    cg_dataloader *b = cg_dataloader_new(x, y, 8, true, 99);
    cg_dataloader *c = cg_dataloader_new(x, y, 8, true, 100);
    int64_t oa[50], ob[50], oc[50];
    int nb;
    cg_manual_seed(1);
    for (int epoch = 0; epoch < 2; epoch++) {
        run_epoch(a, oa, NULL, &nb);
        cg_rng_next(NULL); // the global generator does not influence the loader
        run_epoch(b, ob, NULL, &nb);
        run_epoch(c, oc, NULL, &nb);
        assert_memory_equal(oa, ob, sizeof oa);
        assert_memory_not_equal(oa, oc, sizeof oa);
    }
    cg_dataloader_free(a);
    cg_dataloader_free(b);
    cg_dataloader_free(c);
    cg_free(x);
    cg_free(y);
}

static void test_no_shuffle_and_drop_last(void **state) {
    (void)state;
    cg_tensor *x, *y;
    make_data(23, &x, &y);
    cg_dataloader *dl = cg_dataloader_new(x, y, 5, false, 0);
    cg_dataloader_set_drop_last(dl, true);
    assert_int_equal(cg_dataloader_num_batches(dl), 4);
    int64_t order[23], sizes[8];
    int nb;
    assert_int_equal(run_epoch(dl, order, sizes, &nb), 20);
    assert_int_equal(nb, 4);
    for (int i = 0; i < 20; i++) assert_int_equal(order[i], i);
    cg_dataloader_set_drop_last(dl, false);
    assert_int_equal(run_epoch(dl, order, sizes, &nb), 23);
    assert_int_equal(sizes[4], 3);
    cg_dataloader_free(dl);

    // A batch larger than the dataset: one partial batch, or none with drop_last.
    dl = cg_dataloader_new(x, y, 64, true, 3);
    assert_int_equal(run_epoch(dl, order, sizes, &nb), 23);
    assert_int_equal(nb, 1);
    cg_dataloader_set_drop_last(dl, true);
    assert_int_equal(run_epoch(dl, order, sizes, &nb), 0);
    cg_dataloader_free(dl);
    cg_free(x);
    cg_free(y);
}

static void test_normalize_and_unlabelled(void **state) {
    (void)state;
    cg_tensor *x, *y;
    make_data(4, &x, &y);
    cg_dataloader *dl = cg_dataloader_new(x, NULL, 4, false, 0);
    assert_int_equal(cg_dataloader_set_normalize(dl, 0.5f, 2.0f), 0);
    cg_tensor *xb, *yb;
    assert_true(cg_dataloader_next(dl, &xb, &yb));
    assert_null(yb);
    for (int i = 0; i < 24; i++) assert_float_equal(xb->data[i], ((float)i - 0.5f) / 2.0f, 1e-6);
    assert_true(x->data[1] == 1.0f); // the dataset itself is untouched
    cg_test_capture_errors();
    assert_int_equal(cg_dataloader_set_normalize(dl, 0, 0), -1);
    cg_test_expect_error(CG_ERR_ARG, "std must be > 0");
    cg_dataloader_free(dl);
    cg_free(x);
    cg_free(y);
}

// Batches reuse the loader's buffers: the same tensors come back and nothing is allocated.
static void test_no_allocation_per_batch(void **state) {
    (void)state;
    cg_tensor *x, *y;
    make_data(40, &x, &y);
    cg_dataloader *dl = cg_dataloader_new(x, y, 8, true, 5);
    cg_tensor *xb, *yb, *first = NULL;
    cg_dataloader_next(dl, &xb, &yb);
    first = xb;
    int64_t live = cg_alloc_get_stats().live_bytes;
    for (int i = 0; i < 20; i++) {
        if (!cg_dataloader_next(dl, &xb, &yb)) continue;
        assert_ptr_equal(xb, first);
    }
    assert_int_equal(cg_alloc_get_stats().live_bytes, live);
    cg_dataloader_free(dl);
    cg_free(x);
    cg_free(y);
}

// Restoring a saved state (mid-epoch and at an epoch boundary) gives the same next batches,
// also in a fresh loader built with another seed.
static void test_state_restore(void **state) {
    (void)state;
    cg_tensor *x, *y;
    make_data(37, &x, &y);
    cg_dataloader *dl = cg_dataloader_new(x, y, 6, true, 11);
    cg_tensor *xb, *yb;
    int64_t order[37], expected[64], got[64];
    int nb;
    run_epoch(dl, order, NULL, &nb); // epoch 0
    for (int mid = 0; mid < 2; mid++) {
        if (mid) cg_dataloader_next(dl, &xb, &yb), cg_dataloader_next(dl, &xb, &yb);
        cg_dataloader_state s = cg_dataloader_get_state(dl);
        int n = 0;
        for (int i = 0; i < 9; i++) // crosses into the next epoch
            if (cg_dataloader_next(dl, &xb, &yb))
                for (int r = 0; r < yb->shape[0]; r++) expected[n++] = (int64_t)yb->data[r];
        cg_dataloader *other = cg_dataloader_new(x, y, 6, true, 12345);
        assert_int_equal(cg_dataloader_set_state(other, &s), 0);
        assert_int_equal(cg_dataloader_epoch(other), s.epoch);
        int m = 0;
        for (int i = 0; i < 9; i++)
            if (cg_dataloader_next(other, &xb, &yb))
                for (int r = 0; r < yb->shape[0]; r++) got[m++] = (int64_t)yb->data[r];
        assert_int_equal(n, m);
        assert_memory_equal(expected, got, (size_t)n * sizeof *got);
        cg_dataloader_free(other);
    }
    cg_test_capture_errors();
    cg_dataloader_state bad = cg_dataloader_get_state(dl);
    bad.batch = 100;
    assert_int_equal(cg_dataloader_set_state(dl, &bad), -1);
    cg_test_expect_error(CG_ERR_ARG, "out of range");
    cg_dataloader_free(dl);
    cg_free(x);
    cg_free(y);
}

static void test_reset_and_errors(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_tensor *x, *y;
    make_data(10, &x, &y);
    cg_dataloader *dl = cg_dataloader_new(x, y, 3, true, 2);
    cg_tensor *xb, *yb;
    cg_dataloader_next(dl, &xb, &yb);
    float first = yb->data[0];
    cg_dataloader_next(dl, &xb, &yb);
    cg_dataloader_reset(dl);
    cg_dataloader_next(dl, &xb, &yb);
    assert_true(yb->data[0] == first);
    cg_dataloader_free(dl);

    assert_null(cg_dataloader_new(x, y, 0, true, 0));
    cg_test_expect_error(CG_ERR_ARG, "batch must be >= 1");
    cg_tensor *short_y = cg_zeros(CG_SHAPE(9));
    assert_null(cg_dataloader_new(x, short_y, 2, true, 0));
    cg_test_expect_error(CG_ERR_SHAPE, "different numbers of rows");
    assert_null(cg_dataloader_new(NULL, y, 2, true, 0));
    cg_test_expect_error(CG_ERR_ARG, NULL);
    cg_free(short_y);
    cg_free(x);
    cg_free(y);
}

// Created inside a scope, the loader's buffers survive the scope.
static void test_scope_independent(void **state) {
    (void)state;
    cg_tensor *x, *y;
    make_data(12, &x, &y);
    cg_scope_begin();
    cg_dataloader *dl = cg_dataloader_new(x, y, 5, false, 0);
    cg_scope_end();
    cg_tensor *xb, *yb;
    int64_t order[12];
    int nb;
    for (int e = 0; e < 2; e++) {
        cg_scope_begin();
        assert_int_equal(run_epoch(dl, order, NULL, &nb), 12);
        cg_scope_end();
    }
    (void)xb, (void)yb;
    cg_dataloader_free(dl);
    cg_free(x);
    cg_free(y);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_epoch_covers_every_sample_once, cg_test_teardown),
        cmocka_unit_test_teardown(test_same_seed_same_order, cg_test_teardown),
        cmocka_unit_test_teardown(test_no_shuffle_and_drop_last, cg_test_teardown),
        cmocka_unit_test_teardown(test_normalize_and_unlabelled, cg_test_teardown),
        cmocka_unit_test_teardown(test_no_allocation_per_batch, cg_test_teardown),
        cmocka_unit_test_teardown(test_state_restore, cg_test_teardown),
        cmocka_unit_test_teardown(test_reset_and_errors, cg_test_teardown),
        cmocka_unit_test_teardown(test_scope_independent, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
