// tests/support/testing.c - see testing.h.
#define _POSIX_C_SOURCE 200809L // popen
#include "testing.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const cg_test_tolerance cg_test_default_tolerance = {1e-5, 1e-6, 1e-4, 1e-5};

// ---- comparing tensors ----------------------------------------------------------------

static void format_index(const cg_tensor *t, int64_t flat, char *buf, size_t size) {
    int64_t index[CG_MAX_DIMS];
    for (int d = t->ndim - 1; d >= 0; d--) {
        int64_t n = t->shape[d] > 0 ? t->shape[d] : 1;
        index[d] = flat % n;
        flat /= n;
    }
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < t->ndim && used < size; d++)
        used +=
            (size_t)snprintf(buf + used, size - used, d ? ",%lld" : "%lld", (long long)index[d]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

static bool values_close(double a, double e, double rtol, double atol) {
    if (isnan(e)) return isnan(a);
    if (isinf(e)) return a == e;
    if (!isfinite(a)) return false;
    return fabs(a - e) <= atol + rtol * fabs(e);
}

void cg_assert_close_scaled(const cg_tensor *actual, const cg_tensor *expected, double rtol,
                            double atol, const char *what) {
    double largest = 1.0;
    for (int64_t i = 0; expected && i < expected->numel; i++)
        largest = fmax(largest, fabs(expected->data[i]));
    cg_assert_close(actual, expected, rtol, atol * largest, what);
}

void cg_assert_close(const cg_tensor *actual, const cg_tensor *expected, double rtol, double atol,
                     const char *what) {
    if (!what) what = "tensor";
    if (!expected) fail_msg("%s: expected tensor is NULL (fixture key missing?)", what);
    if (!actual)
        fail_msg("%s: result is NULL (last error: %s)", what,
                 cg_test_error_count() ? cg_test_last_message() : cg_last_error_message());
    if (actual->ndim != expected->ndim ||
        memcmp(actual->shape, expected->shape, (size_t)actual->ndim * sizeof(int64_t)) != 0) {
        // cg_shape_str uses a rotating buffer: copy the first before calling it again.
        char shape_a[128];
        snprintf(shape_a, sizeof shape_a, "%s", cg_shape_str(actual->ndim, actual->shape));
        fail_msg("%s: shape %s, expected %s", what, shape_a,
                 cg_shape_str(expected->ndim, expected->shape));
    }
    if (actual->numel != expected->numel)
        fail_msg("%s: numel %lld, expected %lld", what, (long long)actual->numel,
                 (long long)expected->numel);
    int64_t bad = 0, first_bad = -1;
    double max_err = 0;
    for (int64_t i = 0; i < expected->numel; i++) {
        double a = actual->data[i], e = expected->data[i];
        if (!values_close(a, e, rtol, atol)) {
            if (first_bad < 0) first_bad = i;
            bad++;
        }
        if (isfinite(a) && isfinite(e) && fabs(a - e) > max_err) max_err = fabs(a - e);
    }
    if (first_bad >= 0) {
        char index[128];
        format_index(expected, first_bad, index, sizeof index);
        fail_msg("%s: %lld of %lld elements differ (rtol %g, atol %g); first at index %s "
                 "(flat %lld): got %.9g, expected %.9g; max abs error %.3g",
                 what, (long long)bad, (long long)expected->numel, rtol, atol, index,
                 (long long)first_bad, (double)actual->data[first_bad],
                 (double)expected->data[first_bad], max_err);
    }
}

// ---- capturing errors -----------------------------------------------------------------

static struct {
    bool installed;
    cg_status status;
    char message[1024];
    int count;
} captured;

static void capture_handler(cg_status status, const char *message, void *userdata) {
    (void)userdata;
    captured.status = status;
    snprintf(captured.message, sizeof captured.message, "%s", message ? message : "");
    captured.count++;
}

void cg_test_capture_errors(void) {
    captured.status = CG_OK;
    captured.message[0] = '\0';
    captured.count = 0;
    captured.installed = true;
    cg_set_error_handler(capture_handler, NULL);
    cg_clear_error();
}

int cg_test_error_count(void) {
    return captured.count;
}
const char *cg_test_last_message(void) {
    return captured.message;
}

void cg_test_expect_error(cg_status status, const char *substring) {
    if (captured.status == CG_OK)
        fail_msg("expected error %s containing \"%s\", but none was reported",
                 cg_status_name(status), substring ? substring : "");
    if (captured.status != status)
        fail_msg("expected error %s, got %s: \"%s\"", cg_status_name(status),
                 cg_status_name(captured.status), captured.message);
    if (substring && !strstr(captured.message, substring))
        fail_msg("error message \"%s\" does not contain \"%s\"", captured.message, substring);
    // The channel's own record must agree with what the handler received.
    if (cg_last_error() != status)
        fail_msg("handler got %s but cg_last_error() is %s", cg_status_name(status),
                 cg_status_name(cg_last_error()));
    if (strcmp(cg_last_error_message(), captured.message) != 0)
        fail_msg("handler got \"%s\" but cg_last_error_message() is \"%s\"", captured.message,
                 cg_last_error_message());
    captured.status = CG_OK;
    captured.message[0] = '\0';
    cg_clear_error();
}

void cg_test_expect_no_error(void) {
    if (captured.status != CG_OK)
        fail_msg("unexpected error %s: \"%s\"", cg_status_name(captured.status), captured.message);
    if (cg_last_error() != CG_OK)
        fail_msg("unexpected error %s: \"%s\"", cg_status_name(cg_last_error()),
                 cg_last_error_message());
}

// ---- gradcheck ------------------------------------------------------------------------

void cg_test_gradcheck_ex(cg_gradcheck_fn fn, void *ctx, int n, cg_tensor **inputs,
                          const cg_gradcheck_options *options, const char *what) {
    for (int i = 0; i < n; i++)
        if (!inputs[i]) fail_msg("gradcheck %s: input %d is NULL", what, i);
    cg_gradcheck_options quiet = {0};
    if (options) quiet = *options;
    quiet.quiet = true;
    cg_gradcheck_result r = cg_gradcheck(fn, ctx, n, inputs, &quiet);
    if (!r.ok) {
        fail_msg("gradcheck %s failed: input %d element %lld, max |analytic - numeric| = %.3g "
                 "(last error: %s)",
                 what, r.failed_input, (long long)r.failed_index, r.max_abs_error,
                 cg_last_error_message());
    }
}

void cg_test_gradcheck(cg_gradcheck_fn fn, void *ctx, int n, cg_tensor **inputs, const char *what) {
    cg_test_gradcheck_ex(fn, ctx, n, inputs, NULL, what);
}

// ---- building inputs ------------------------------------------------------------------

cg_tensor *cg_test_copy_leaf(const cg_tensor *t, bool requires_grad) {
    assert_non_null(t);
    cg_tensor *c = cg_from_data(t->ndim, t->shape, t->data);
    assert_non_null(c);
    if (requires_grad) cg_requires_grad(c, true);
    return c;
}

cg_tensor *cg_test_distinct(int ndim, const int64_t *shape) {
    cg_tensor *t = cg_rand(ndim, shape, NULL);
    cg_tensor *perm = cg_randperm(t->numel, NULL);
    assert_non_null(t);
    assert_non_null(perm);
    for (int64_t i = 0; i < t->numel; i++) t->data[i] = perm->data[i] * 0.5f + 0.1f * t->data[i];
    return cg_requires_grad(t, true);
}

const char *cg_test_describe(const cg_module *m) {
    static char buf[256];
    assert_non_null(m->cls->describe);
    m->cls->describe(m, buf, sizeof buf);
    return buf;
}

cg_tensor *cg_test_tensor(int ndim, const int64_t *shape, const float *values) {
    cg_tensor *t = cg_from_data(ndim, shape, values);
    assert_non_null(t);
    return t;
}

void cg_test_module_text(const cg_module *m, char *buf, size_t size) {
    FILE *f = tmpfile();
    assert_non_null(f);
    cg_module_print(m, f);
    rewind(f);
    size_t len = fread(buf, 1, size - 1, f);
    buf[len] = '\0';
    fclose(f);
}

cg_tensor *cg_test_batch_norm_case(cg_test_batch_norm_fn fn, cg_tensor **in,
                                   const cg_fixture_case *c) {
    cg_tensor *running_mean = cg_test_copy_leaf(cg_fixture_tensor(c, "running_mean"), false);
    cg_tensor *running_var = cg_test_copy_leaf(cg_fixture_tensor(c, "running_var"), false);
    cg_tensor *y =
        fn(in[0], running_mean, running_var, in[1], in[2], cg_fixture_param(c, "training", 0) != 0,
           (float)cg_fixture_param(c, "momentum", 0), (float)cg_fixture_param(c, "eps", 0));
    cg_assert_close(running_mean, cg_fixture_tensor(c, "running_mean_out"), 1e-5, 1e-6,
                    "running_mean");
    cg_assert_close(running_var, cg_fixture_tensor(c, "running_var_out"), 1e-5, 1e-6,
                    "running_var");
    return y;
}

cg_fixture *cg_test_load_fixture(const char *filename) {
    cg_fixture *fx = cg_fixture_load(filename);
    if (!fx) fail_msg("cannot load fixture %s: %s", filename, cg_last_error_message());
    return fx;
}

// ---- running a reference case ---------------------------------------------------------

#define MAX_CASE_INPUTS 8

void cg_test_check_case(const cg_fixture_case *c, int n_inputs, const char *const *input_keys,
                        cg_test_case_fn fn, const cg_test_tolerance *tol) {
    const char *name = cg_fixture_case_name(c);
    if (!tol) tol = &cg_test_default_tolerance;
    assert_true(n_inputs <= MAX_CASE_INPUTS);
    cg_scope_begin();
    cg_tensor *inputs[MAX_CASE_INPUTS] = {0};
    bool wants_grad[MAX_CASE_INPUTS] = {0};
    bool any_grad = false;
    char key[160], what[256];
    for (int i = 0; i < n_inputs; i++) {
        const cg_tensor *src = cg_fixture_tensor(c, input_keys[i]);
        if (!src) fail_msg("%s: fixture has no input tensor '%s'", name, input_keys[i]);
        snprintf(key, sizeof key, "g%s", input_keys[i]);
        wants_grad[i] = cg_fixture_tensor(c, key) != NULL;
        any_grad |= wants_grad[i];
        inputs[i] = cg_test_copy_leaf(src, wants_grad[i]);
    }
    cg_tensor *out = fn(inputs, c);
    snprintf(what, sizeof what, "%s forward", name);
    cg_assert_close(out, cg_fixture_tensor(c, "out"), tol->rtol, tol->atol, what);

    const cg_tensor *gout = cg_fixture_tensor(c, "gout");
    if (gout && any_grad) {
        if (!out->requires_grad) fail_msg("%s: output does not require grad", name);
        int rc = cg_backward_ex(out, gout, false);
        if (rc != 0) fail_msg("%s: backward failed: %s", name, cg_last_error_message());
        for (int i = 0; i < n_inputs; i++) {
            if (!wants_grad[i]) continue;
            snprintf(key, sizeof key, "g%s", input_keys[i]);
            snprintf(what, sizeof what, "%s grad of %s", name, input_keys[i]);
            if (!inputs[i]->grad) fail_msg("%s: no grad was computed", what);
            cg_assert_close(inputs[i]->grad, cg_fixture_tensor(c, key), tol->grad_rtol,
                            tol->grad_atol, what);
        }
    } else if (!any_grad && out->requires_grad) {
        fail_msg("%s: output requires grad although no input does", name);
    }
    cg_scope_end();
}

void cg_test_op_cases(void **state) {
    const cg_test_op *op = *state;
    cg_fixture *fx = cg_test_load_fixture(op->fixture);
    const cg_test_tolerance *tol = op->tol ? op->tol : &cg_test_default_tolerance;
    size_t len = strlen(op->op);
    int matched = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        const char *name = cg_fixture_case_name(c);
        if (strncmp(name, op->op, len) != 0 || name[len] != '/') continue;
        cg_test_check_case(c, op->n_inputs, op->keys, op->fn, tol);
        matched++;
    }
    cg_fixture_free(fx);
    if (matched == 0) fail_msg("fixture %s has no case for op '%s'", op->fixture, op->op);
}

struct CMUnitTest cg_test_op_unit_test(const cg_test_op *op) {
    struct CMUnitTest t = {op->op, cg_test_op_cases, NULL, cg_test_teardown, (void *)op};
    return t;
}

int cg_test_run(const char *group, const cg_test_op *ops, int n_ops, const struct CMUnitTest *extra,
                int n_extra, uint64_t seed) {
    struct CMUnitTest *tests = calloc((size_t)(n_ops + n_extra), sizeof *tests);
    if (!tests) return 1;
    for (int i = 0; i < n_ops; i++) tests[i] = cg_test_op_unit_test(&ops[i]);
    for (int i = 0; i < n_extra; i++) tests[n_ops + i] = extra[i];
    cg_manual_seed(seed);
    cg_test_capture_errors();
    int failed = _cmocka_run_group_tests(group, tests, (size_t)(n_ops + n_extra), NULL, NULL);
    free(tests);
    return failed;
}

int cg_test_teardown(void **state) {
    (void)state;
    while (cg_scope_depth() > 0) cg_scope_end();
    cg_set_grad_enabled(true);
    if (captured.installed) cg_test_capture_errors(); // also undoes a test's own handler
    cg_clear_error();
    return 0;
}

int cg_test_count_temp_files(const char *path) {
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ls -1 '%s'.tmp-* 2>/dev/null | wc -l", path);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (!p || fscanf(p, "%d", &n) != 1) fail_msg("cannot count the temporary files of %s", path);
    pclose(p);
    return n;
}

static int64_t live_at_start;

int cg_test_track_memory(void **state) {
    (void)state;
    live_at_start = cg_alloc_get_stats().live_bytes;
    return 0;
}

int cg_test_check_memory(void **state) {
    int64_t leaked = cg_alloc_get_stats().live_bytes - live_at_start;
    if (leaked != 0) fprintf(stderr, "leaked %lld bytes\n", (long long)leaked);
    return cg_test_teardown(state) != 0 || leaked != 0 ? -1 : 0;
}

int cg_test_run_with_fixture(const char *group, const struct CMUnitTest *tests, size_t n,
                             const char *file, cg_fixture **fx) {
    *fx = cg_fixture_load(file);
    if (!*fx) {
        fprintf(stderr, "%s: %s\n", group, cg_last_error_message());
        return 1;
    }
    int failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    cg_fixture_free(*fx);
    *fx = NULL;
    return failed;
}

int cg_test_run_fixture_cases(const char *group, const char *file, cg_fixture **fx,
                              struct CMUnitTest first, CMUnitTestFunction run,
                              CMFixtureFunction teardown, const struct CMUnitTest *last) {
    *fx = cg_fixture_load(file);
    if (!*fx) {
        fprintf(stderr, "%s: %s\n", group, cg_last_error_message());
        return 1;
    }
    cg_test_capture_errors();
    int n = cg_fixture_count(*fx);
    struct CMUnitTest *tests = cg_alloc_zeroed(((size_t)n + 2) * sizeof *tests);
    tests[0] = first;
    for (int i = 0; i < n; i++) {
        const cg_fixture_case *c = cg_fixture_case_at(*fx, i);
        tests[i + 1] = (struct CMUnitTest){cg_fixture_case_name(c), run, NULL, teardown, (void *)c};
    }
    if (last) tests[n + 1] = *last;
    int failed = _cmocka_run_group_tests(group, tests, (size_t)n + 1 + (last != NULL), NULL, NULL);
    cg_dealloc(tests);
    cg_fixture_free(*fx);
    *fx = NULL;
    return failed;
}

// ---- files -----------------------------------------------------------------------------

void cg_test_write_file(const char *path, const void *bytes, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) fail_msg("cannot create %s", path);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
}

size_t cg_test_read_file(const char *path, void *buf, size_t cap) {
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("cannot open %s", path);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    return n;
}

// ---- transform tests -------------------------------------------------------------------

cg_sample cg_test_sample_of(const cg_tensor *x) {
    cg_sample s = {.c = (int)x->shape[0], .h = (int)x->shape[1], .w = (int)x->shape[2]};
    s.data = cg_alloc((size_t)x->numel * sizeof(float));
    memcpy(s.data, x->data, (size_t)x->numel * sizeof(float));
    return s;
}

void cg_test_check_sample(cg_sample *s, const cg_tensor *want, double tol, const char *what) {
    assert_non_null(s->data);
    cg_tensor *t = cg_empty_unscoped(CG_SHAPE(s->c, s->h, s->w));
    memcpy(t->data, s->data, (size_t)t->numel * sizeof(float));
    cg_assert_close(t, want, tol, tol, what);
    cg_free(t);
    cg_sample_clear(s);
}

bool cg_test_starts(const char *name, const char *prefix) {
    return strncmp(name, prefix, strlen(prefix)) == 0;
}
