// tests/test_thread_state.c - what is per thread: grad mode (as torch.no_grad) and scopes.
// A second application thread changing its own state must leave the first thread's
// untouched.
#include <pthread.h>

#include "cgrad.h"
#include "testing.h"

typedef struct seen {
    bool grad_enabled_at_start, recorded_with_grad_off;
    int scope_depth_at_start, scope_depth_inside;
} seen;

// Runs on a second thread while the main thread has grad enabled and one scope open.
static void *other_thread(void *arg) {
    seen *s = arg;
    s->grad_enabled_at_start = cg_is_grad_enabled();
    s->scope_depth_at_start = cg_scope_depth();
    cg_set_grad_enabled(false);
    cg_scope_begin();
    s->scope_depth_inside = cg_scope_depth();
    cg_tensor *x = cg_requires_grad(cg_ones(CG_SHAPE(3)), true);
    cg_tensor *y = cg_mul_scalar(x, 2);
    s->recorded_with_grad_off = y && y->node != NULL;
    cg_scope_end(); // frees x and y: they are in this thread's scope
    return NULL;
}

static void test_grad_mode_and_scopes_are_per_thread(void **state) {
    (void)state;
    cg_scope_begin();
    seen s = {0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, other_thread, &s), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_true(s.grad_enabled_at_start);        // a new thread starts with grad on
    assert_int_equal(s.scope_depth_at_start, 0); // and with no scope of its own
    assert_int_equal(s.scope_depth_inside, 1);
    assert_false(s.recorded_with_grad_off);
    // The other thread's no_grad and scope left this thread's alone.
    assert_true(cg_is_grad_enabled());
    assert_int_equal(cg_scope_depth(), 1);
    cg_tensor *x = cg_requires_grad(cg_ones(CG_SHAPE(3)), true);
    cg_tensor *y = cg_mul_scalar(x, 2);
    assert_non_null(y->node);
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_grad_mode_and_scopes_are_per_thread, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("thread_state", tests, NULL, NULL);
}
