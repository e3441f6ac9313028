// tests/test_scope_warning.c - the hint for a training loop that forgets its scope: live
// tensors growing across backward passes with no scope open are warned about once, and a
// scoped loop gets no warning.
#include <string.h>

#include "cgrad.h"
#include "testing.h"

// The unscoped steps leak their graphs on purpose: LeakSanitizer is told not to count them.
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define LEAKS_ON_PURPOSE(...) (__lsan_disable(), __VA_ARGS__, __lsan_enable())
#else
#define LEAKS_ON_PURPOSE(...) (__VA_ARGS__)
#endif

static int warnings;
static char last_warning[512];

static void count_warning(const char *message, void *userdata) {
    (void)userdata;
    warnings++;
    strncpy(last_warning, message, sizeof last_warning - 1);
}

// One step of y = sum((w * x)^2): with `scoped`, inside a scope; without, its tensors stay.
static void step(cg_tensor *w, cg_tensor *x, bool scoped) {
    if (scoped) cg_scope_begin();
    cg_tensor *loss = cg_sum(cg_pow(cg_mul(w, x), 2), CG_ALL_DIMS, false);
    assert_int_equal(cg_backward(loss), 0);
    cg_zero_grad(w);
    if (scoped) cg_scope_end();
}

static void test_scoped_loop_is_quiet_unscoped_loop_is_warned_once(void **state) {
    (void)state;
    cg_set_warning_handler(count_warning, NULL);
    cg_tensor *w = cg_requires_grad(cg_ones(CG_SHAPE(4)), true), *x = cg_ones(CG_SHAPE(4));
    for (int i = 0; i < 6; i++) step(w, x, true);
    assert_int_equal(warnings, 0);
    for (int i = 0; i < 6; i++) LEAKS_ON_PURPOSE(step(w, x, false));
    assert_int_equal(warnings, 1);
    assert_non_null(strstr(last_warning, "no scope is open"));
    cg_set_warning_handler(NULL, NULL);
    cg_free(w);
    cg_free(x);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scoped_loop_is_quiet_unscoped_loop_is_warned_once),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("scope_warning", tests, NULL, NULL);
}
