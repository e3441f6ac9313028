// tests/test_memory.c - scopes keep a training loop's memory flat; cg_keep moves a tensor out
// of a scope; tensors created outside any scope survive; views keep storage alive.
#include <math.h>

#include "cgrad.h"
#include "testing.h"

#define STEPS 10000

// A 2-layer MLP fitted to y = sum(x) with plain SGD, each step inside a scope. After a few
// warm-up steps live_bytes must not move at all (grads of the parameters are allocated in the
// first step and then reused), and the loss must actually go down.
static void test_training_loop_memory_is_flat(void **state) {
    (void)state;
    cg_manual_seed(42);
    // parameters and data: created outside any scope, owned here
    cg_tensor *w1 = cg_requires_grad(cg_normal(CG_SHAPE(4, 16), 0, 0.5f, NULL), true);
    cg_tensor *b1 = cg_requires_grad(cg_zeros(CG_SHAPE(16)), true);
    cg_tensor *w2 = cg_requires_grad(cg_normal(CG_SHAPE(16, 1), 0, 0.25f, NULL), true);
    cg_tensor *b2 = cg_requires_grad(cg_zeros(CG_SHAPE(1)), true);
    cg_tensor *x = cg_uniform(CG_SHAPE(8, 4), -1, 1, NULL);
    cg_tensor *y = cg_sum(x, CG_DIMS(1), true);
    cg_tensor *params[] = {w1, b1, w2, b2};

    int64_t live_after_warmup = -1, max_live = 0, min_live = INT64_MAX;
    float first_loss = 0, last_loss = 0;
    for (int step = 0; step < STEPS; step++) {
        cg_scope_begin();
        cg_tensor *h = cg_relu(cg_add(cg_matmul(x, w1), b1));
        cg_tensor *pred = cg_add(cg_matmul(h, w2), b2);
        cg_tensor *loss = cg_mean(cg_pow(cg_sub(pred, y), 2), CG_ALL_DIMS, false);
        assert_non_null(loss);
        assert_int_equal(cg_backward(loss), 0);
        float l = cg_item(loss);
        if (step == 0) first_loss = l;
        last_loss = l;
        cg_scope_end();
        bool prev = cg_set_grad_enabled(false);
        for (int p = 0; p < 4; p++) {
            cg_tensor *t = params[p];
            for (int64_t i = 0; i < t->numel; i++) t->data[i] -= 0.05f * t->grad->data[i];
            cg_zero_grad(t);
        }
        cg_set_grad_enabled(prev);
        int64_t live = cg_alloc_get_stats().live_bytes;
        if (step == 2) live_after_warmup = live;
        if (step >= 2) {
            if (live > max_live) max_live = live;
            if (live < min_live) min_live = live;
        }
    }
    if (max_live != live_after_warmup || min_live != live_after_warmup)
        fail_msg("live_bytes moved during training: %lld after warm-up, range [%lld, %lld]",
                 (long long)live_after_warmup, (long long)min_live, (long long)max_live);
    if (!(last_loss < 0.1f * first_loss))
        fail_msg("loss did not go down: %g -> %g", first_loss, last_loss);
    // parameters and their grads survived every scope_end
    for (int p = 0; p < 4; p++) {
        assert_non_null(params[p]->grad);
        for (int64_t i = 0; i < params[p]->numel; i++) assert_true(isfinite(params[p]->data[i]));
    }
    int64_t before_free = cg_alloc_get_stats().live_bytes;
    for (int p = 0; p < 4; p++) cg_free(params[p]);
    cg_free(x);
    cg_free(y);
    assert_true(cg_alloc_get_stats().live_bytes < before_free);
}

// Everything created inside a scope is freed at its end: live_bytes returns to where it was.
// A first (warm-up) step allocates what legitimately outlives the scope: w's grad and the
// GEMM's per-thread packing buffers (tensor/gemm.c keeps them for reuse).
static void step(cg_tensor *w) {
    cg_scope_begin();
    assert_int_equal(cg_scope_depth(), 1);
    cg_tensor *a = cg_randn(CG_SHAPE(64, 32), NULL);
    cg_tensor *loss = cg_sum(cg_tanh(cg_matmul(a, w)), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(loss), 0);
    cg_scope_end();
    assert_int_equal(cg_scope_depth(), 0);
}

static void test_scope_frees_everything(void **state) {
    (void)state;
    cg_tensor *w = cg_requires_grad(cg_randn(CG_SHAPE(32, 32), NULL), true);
    int64_t before_warmup = cg_alloc_get_stats().live_bytes;
    step(w);
    assert_non_null(w->grad); // belongs to w, survives the scope
    int64_t grad_bytes = 32 * 32 * (int64_t)sizeof(float);
    assert_true(cg_alloc_get_stats().live_bytes >= before_warmup + grad_bytes);
    int64_t before = cg_alloc_get_stats().live_bytes;
    for (int i = 0; i < 3; i++) {
        step(w);
        int64_t after = cg_alloc_get_stats().live_bytes;
        if (after != before)
            fail_msg("scope %d leaked: live_bytes %lld before, %lld after", i, (long long)before,
                     (long long)after);
    }
    cg_free(w); // frees w and its grad
    assert_true(cg_alloc_get_stats().live_bytes <= before - 2 * grad_bytes);
}

// cg_keep moves a tensor to the enclosing scope (or to the caller), detached from its graph.
static void test_keep_moves_out(void **state) {
    (void)state;
    int64_t before = cg_alloc_get_stats().live_bytes;
    cg_tensor *outer_kept = NULL;
    cg_tensor *x = cg_requires_grad(cg_test_tensor(CG_SHAPE(3), (float[]){1, 2, 3}), true);
    cg_scope_begin(); // outer
    cg_scope_begin(); // inner
    cg_tensor *y = cg_mul_scalar(x, 2);
    assert_non_null(y->node);
    cg_tensor *kept = cg_keep(y);
    assert_ptr_equal(kept, y);
    assert_null(kept->node); // detached: its producers are about to be freed
    assert_false(kept->requires_grad);
    cg_scope_end(); // inner
    // kept now belongs to the outer scope and is still valid
    cg_assert_close(kept, cg_test_tensor(CG_SHAPE(3), (float[]){2, 4, 6}), 0, 0, "kept value");
    outer_kept = cg_keep(cg_add_scalar(kept, 1)); // to the caller
    cg_scope_end();                               // outer: frees `kept`, not outer_kept
    assert_int_equal(cg_scope_depth(), 0);
    assert_null(outer_kept->scope);
    cg_tensor *expected = cg_test_tensor(CG_SHAPE(3), (float[]){3, 5, 7});
    cg_assert_close(outer_kept, expected, 0, 0, "kept to caller");
    cg_free(expected);
    cg_free(outer_kept);
    cg_free(x);
    assert_int_equal(cg_alloc_get_stats().live_bytes, before);
}

// A tensor created with no scope open belongs to the caller and survives later scopes.
static void test_unscoped_tensors_survive(void **state) {
    (void)state;
    cg_tensor *a = cg_full(CG_SHAPE(4, 4), 1.5f);
    assert_null(a->scope);
    for (int round = 0; round < 3; round++) {
        cg_scope_begin();
        cg_tensor *b = cg_mul(a, a);
        assert_non_null(b->scope);
        cg_scope_end();
    }
    for (int i = 0; i < 16; i++) assert_true(a->data[i] == 1.5f);
    // a view created in a scope keeps the storage alive only as long as it lives
    cg_scope_begin();
    cg_tensor *v = cg_reshape(a, CG_SHAPE(16));
    assert_int_equal(a->storage->refcount, 2);
    (void)v;
    cg_scope_end();
    assert_int_equal(a->storage->refcount, 1);
    int64_t before = cg_alloc_get_stats().live_bytes;
    cg_free(a);
    assert_true(cg_alloc_get_stats().live_bytes < before);
}

// Freeing and reallocating the same sizes reuses cached blocks (no growth of live or cached
// bytes over many rounds), and cg_alloc_trim empties the cache.
static void test_allocator_reuse(void **state) {
    (void)state;
    cg_alloc_stats s0 = cg_alloc_get_stats();
    for (int i = 0; i < 1000; i++) {
        void *p = cg_alloc(12345);
        void *q = cg_alloc_zeroed(777);
        assert_non_null(p);
        assert_non_null(q);
        assert_int_equal((uintptr_t)p % 64, 0);
        assert_int_equal((uintptr_t)q % 64, 0);
        for (int k = 0; k < 777; k++) assert_int_equal(((unsigned char *)q)[k], 0);
        ((unsigned char *)q)[0] = 0xff; // dirty the block: the next zeroed alloc must clear it
        cg_dealloc(p);
        cg_dealloc(q);
    }
    cg_alloc_stats s1 = cg_alloc_get_stats();
    assert_int_equal(s1.live_bytes, s0.live_bytes);
    assert_int_equal(s1.live_blocks, s0.live_blocks);
    assert_true(s1.cached_bytes <= s0.cached_bytes + 2 * (12345 + 777) + 2 * 4096);
    cg_dealloc(NULL);
    cg_alloc_trim();
    assert_int_equal(cg_alloc_get_stats().cached_bytes, 0);
}

// A request of a megabyte or more that misses its size class takes a cached block up to 4x
// larger (pages already touched) instead of new pages; a small one never does, and neither
// does one more than 4x smaller. (No cache in the ASan build: nothing to check there.)
static void test_large_request_reuses_larger_block(void **state) {
    (void)state;
    cg_alloc_trim();
    void *big = cg_alloc(8 << 20);
    cg_dealloc(big);
    if (cg_alloc_get_stats().cached_bytes == 0) return; // exact blocks (ASan)
    void *tiny = cg_alloc(1 << 10), *too_small = cg_alloc(1 << 20);
    assert_ptr_not_equal(tiny, big);
    assert_ptr_not_equal(too_small, big); // 8x smaller: fresh pages
    void *quarter = cg_alloc((2 << 20) + 4096);
    assert_ptr_equal(quarter, big);
    assert_true(cg_alloc_get_stats().live_bytes >= (8 << 20)); // counted whole
    cg_dealloc(quarter);
    assert_ptr_equal(cg_alloc(8 << 20), big); // back in its own class
    cg_dealloc(big);
    cg_dealloc(tiny);
    cg_dealloc(too_small);
    cg_alloc_trim();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_training_loop_memory_is_flat, cg_test_teardown),
        cmocka_unit_test_teardown(test_scope_frees_everything, cg_test_teardown),
        cmocka_unit_test_teardown(test_keep_moves_out, cg_test_teardown),
        cmocka_unit_test_teardown(test_unscoped_tensors_survive, cg_test_teardown),
        cmocka_unit_test_teardown(test_allocator_reuse, cg_test_teardown),
        cmocka_unit_test_teardown(test_large_request_reuses_larger_block, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
