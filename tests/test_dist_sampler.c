// tests/test_dist_sampler.c - the data loader's distributed sampler (io/dataloader.c).
//
// The sampler is pure bookkeeping, so the ranks of a job are simulated here by one loader
// per rank in one process: torch.utils.data.DistributedSampler's rules, checked directly.
#include <string.h>

#include "testing.h"

enum { MAX_N = 64, MAX_WORLD = 8 };

static cg_tensor *labels_0_to(int n) { // x[i] = i, so batches show which samples they hold
    cg_tensor *y = cg_zeros(CG_SHAPE(n));
    for (int i = 0; i < n; i++) y->data[i] = (float)i;
    cg_unscope(y);
    return y;
}

// Every sample index a loader yields until the end of its epoch.
static int drain(cg_dataloader *dl, int *out) {
    cg_tensor *x;
    int k = 0;
    while (cg_dataloader_next(dl, &x, NULL))
        for (int64_t r = 0; r < x->shape[0]; r++) out[k++] = (int)x->data[r];
    return k;
}

static cg_dataloader *rank_loader(cg_tensor *y, int batch, int rank, int world, bool drop) {
    cg_dataloader *dl = cg_dataloader_new(y, NULL, batch, true, 9);
    assert_int_equal(cg_dataloader_set_shard(dl, rank, world, drop), 0);
    return dl;
}

// Shards are disjoint and cover the epoch when world divides N; PyTorch's padding and
// drop_last otherwise; batch k of all ranks together is batch k of one loader with B.
static void test_shards_disjoint_and_covering(void **state) {
    (void)state;
    const int n = 30;
    cg_tensor *y = labels_0_to(n);
    int whole[MAX_N];
    cg_dataloader *one = cg_dataloader_new(y, NULL, 6, true, 9);
    assert_int_equal(drain(one, whole), n);
    for (int world = 1; world <= 4; world++) {
        for (int drop = 0; drop < 2; drop++) {
            int seen[MAX_N] = {0}, total = 0, shard[MAX_WORLD][MAX_N], got[MAX_WORLD];
            int expect = drop ? n / world : (n + world - 1) / world;
            for (int r = 0; r < world; r++) {
                cg_dataloader *dl = rank_loader(y, 6 / (world == 4 ? 2 : world), r, world, drop);
                got[r] = drain(dl, shard[r]);
                assert_int_equal(got[r], expect); // same length on every rank
                assert_int_equal(cg_dataloader_shard_size(dl), expect);
                for (int k = 0; k < got[r]; k++) seen[shard[r][k]]++, total++;
                cg_dataloader_free(dl);
            }
            // Rank r holds positions r, r + world, ... of the epoch's order (padded by
            // repeating its start).
            for (int r = 0; r < world; r++)
                for (int k = 0; k < got[r]; k++)
                    assert_int_equal(shard[r][k], whole[(k * world + r) % n]);
            int padding = total - n;
            assert_int_equal(padding, drop ? -(n % world) : (world - n % world) % world);
            for (int i = 0; i < n; i++) {
                int pos = 0; // position of sample i in the order
                while (whole[pos] != i) pos++;
                int want = pos < total ? 1 + (pos < padding) : 0;
                assert_int_equal(seen[i], want);
            }
        }
    }
    cg_dataloader_free(one);
    cg_free(y);
}

// The same seed gives the same order on every rank; set_epoch gives epoch e's order.
static void test_set_epoch(void **state) {
    (void)state;
    cg_tensor *y = labels_0_to(20);
    cg_dataloader *a = rank_loader(y, 5, 1, 2, false), *b = rank_loader(y, 5, 1, 2, false);
    int first[MAX_N], second[MAX_N], third[MAX_N], again[MAX_N];
    drain(a, first), drain(a, second), drain(a, third); // epochs 0, 1, 2
    assert_memory_not_equal(first, second, 10 * sizeof(int));
    assert_int_equal(cg_dataloader_set_epoch(b, 2), 0);
    assert_int_equal(cg_dataloader_epoch(b), 2);
    drain(b, again);
    assert_memory_equal(third, again, 10 * sizeof(int));
    assert_int_equal(cg_dataloader_set_epoch(b, 0), 0);
    drain(b, again);
    assert_memory_equal(first, again, 10 * sizeof(int));
    cg_test_capture_errors();
    assert_int_equal(cg_dataloader_set_shard(b, 2, 2, false), -1);
    cg_test_expect_error(CG_ERR_ARG, "rank 2 of world size 2");
    assert_int_equal(cg_dataloader_set_epoch(b, -1), -1);
    cg_test_expect_error(CG_ERR_ARG, "set_epoch");
    cg_dataloader_free(a), cg_dataloader_free(b);
    cg_free(y);
}

// Stop after some global batches on `from` ranks, resume on `to` ranks from the state of
// rank 0: together the new ranks read exactly the rest of the epoch, in global-batch order.
static void resume_on(int n, int global_batch, int from, int to, int batches_done) {
    cg_tensor *y = labels_0_to(n);
    int whole[MAX_N];
    cg_dataloader *one = cg_dataloader_new(y, NULL, global_batch, true, 9);
    drain(one, whole);
    cg_dataloader *old = rank_loader(y, global_batch / from, 0, from, false);
    cg_tensor *x, *b;
    for (int k = 0; k < batches_done; k++) assert_true(cg_dataloader_next(old, &x, NULL));
    cg_dataloader_state s = cg_dataloader_get_state(old);
    int done = batches_done * global_batch;
    assert_int_equal(s.sample, done);
    int seen[MAX_N] = {0};
    int per_rank = global_batch / to, steps = -1;
    for (int r = 0; r < to; r++) {
        cg_dataloader *dl = rank_loader(y, per_rank, r, to, false);
        assert_int_equal(cg_dataloader_set_state(dl, &s), 0);
        int k = 0;
        while (cg_dataloader_next(dl, &b, NULL)) {
            // Global batch k after the resume holds order[done + k*B .. done + (k+1)*B).
            for (int64_t i = 0; i < b->shape[0]; i++) {
                int pos = done + (int)((k * per_rank + i) * to + r) % (n - done);
                assert_int_equal((int)b->data[i], whole[pos]);
                seen[(int)b->data[i]]++;
            }
            k++;
        }
        if (steps >= 0) assert_int_equal(k, steps); // every rank the same number of steps
        steps = k;
        cg_dataloader_free(dl);
    }
    for (int p = done; p < n; p++) assert_true(seen[whole[p]] >= 1);    // the rest, all of it
    for (int p = 0; p < done; p++) assert_int_equal(seen[whole[p]], 0); // nothing twice
    cg_dataloader_free(old), cg_dataloader_free(one);
    cg_free(y);
}

static void test_resume_on_other_world_sizes(void **state) {
    (void)state;
    resume_on(48, 8, 2, 4, 2); // at a batch boundary of the new shards
    resume_on(48, 8, 4, 2, 3);
    resume_on(48, 8, 2, 1, 1);
    resume_on(48, 12, 4, 3, 1); // 12 consumed: not a multiple of 3 ranks x 4 = per-rank start
    resume_on(50, 8, 2, 4, 3);  // padded tail
}

// The same world size resumes exactly (the very batches the run would have read).
static void test_resume_same_world_exactly(void **state) {
    (void)state;
    cg_tensor *y = labels_0_to(37);
    cg_dataloader *a = rank_loader(y, 4, 1, 3, false);
    cg_tensor *x;
    cg_dataloader_next(a, &x, NULL), cg_dataloader_next(a, &x, NULL);
    cg_dataloader_state s = cg_dataloader_get_state(a);
    int rest_a[MAX_N], rest_b[MAX_N];
    int na = drain(a, rest_a);
    cg_dataloader *c = rank_loader(y, 4, 1, 3, false);
    assert_int_equal(cg_dataloader_set_state(c, &s), 0);
    assert_int_equal(drain(c, rest_b), na);
    assert_memory_equal(rest_a, rest_b, (size_t)na * sizeof(int));
    cg_dataloader_free(a), cg_dataloader_free(c);
    cg_free(y);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_disjoint_and_covering),
        cmocka_unit_test(test_set_epoch),
        cmocka_unit_test(test_resume_on_other_world_sizes),
        cmocka_unit_test(test_resume_same_world_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
