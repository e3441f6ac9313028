// tests/test_errors.c - the error channel: every failure reports a status and a message that
// names the op, the argument and the shapes; NULL inputs propagate without replacing the first
// message; handlers; cg_clear_error. Also the fixture reader's own error reporting.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

// Every substring in the NULL-terminated list must be in the last captured message.
static void expect_error_mentions(cg_status status, const char *const *parts) {
    const char *msg = cg_test_last_message();
    for (int i = 0; parts[i]; i++)
        if (!strstr(msg, parts[i]))
            fail_msg("message \"%s\" does not mention \"%s\"", msg, parts[i]);
    cg_test_expect_error(status, NULL);
}
#define EXPECT_ERROR(status, ...)                                                                  \
    expect_error_mentions(status, (const char *const[]){__VA_ARGS__, NULL})

static void test_matmul_message_exact(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *a = cg_zeros(CG_SHAPE(2, 3)), *b = cg_zeros(CG_SHAPE(4, 5));
    assert_null(cg_matmul(a, b));
    assert_string_equal(cg_test_last_message(),
                        "matmul: cannot multiply [2,3] by [4,5]: inner dims 3 != 4");
    cg_test_expect_error(CG_ERR_SHAPE, "matmul");
    // batched: inner dims checked too; batch dims must broadcast
    assert_null(cg_matmul(cg_zeros(CG_SHAPE(2, 2, 3)), cg_zeros(CG_SHAPE(3, 2, 4))));
    cg_test_expect_error(CG_ERR_SHAPE, "matmul");
    assert_null(cg_matmul(cg_zeros(CG_SHAPE(3)), cg_zeros(CG_SHAPE(4))));
    EXPECT_ERROR(CG_ERR_SHAPE, "matmul", "[3]", "[4]");
    assert_null(cg_matmul(cg_scalar(1), cg_zeros(CG_SHAPE(2))));
    cg_test_expect_error(CG_ERR_SHAPE, "matmul");
    cg_scope_end();
}

static void test_broadcast_errors_name_both_shapes(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *a = cg_zeros(CG_SHAPE(2, 3)), *b = cg_zeros(CG_SHAPE(4));
    assert_null(cg_add(a, b));
    EXPECT_ERROR(CG_ERR_SHAPE, "add", "[2,3]", "[4]");
    assert_null(cg_mul(b, a));
    EXPECT_ERROR(CG_ERR_SHAPE, "mul", "[4]", "[2,3]");
    assert_null(cg_sub(cg_zeros(CG_SHAPE(2, 3, 4)), cg_zeros(CG_SHAPE(3, 1, 1))));
    EXPECT_ERROR(CG_ERR_SHAPE, "sub", "[2,3,4]", "[3,1,1]");
    assert_null(cg_div(a, cg_zeros(CG_SHAPE(3, 2))));
    EXPECT_ERROR(CG_ERR_SHAPE, "div", "[2,3]", "[3,2]");
    assert_null(cg_lt(a, b));
    EXPECT_ERROR(CG_ERR_SHAPE, "lt", "[2,3]", "[4]");
    assert_null(cg_where(cg_zeros(CG_SHAPE(2, 3)), a, b));
    EXPECT_ERROR(CG_ERR_SHAPE, "where", "[4]");
    cg_scope_end();
}

static void test_dim_out_of_range(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_zeros(CG_SHAPE(2, 3));
    assert_null(cg_sum(x, CG_DIMS(2), false));
    EXPECT_ERROR(CG_ERR_ARG, "sum", "dim 2");
    assert_null(cg_mean(x, CG_DIMS(0, -3), true));
    EXPECT_ERROR(CG_ERR_ARG, "mean", "-3");
    assert_null(cg_var(x, CG_DIMS(5), 1, false));
    EXPECT_ERROR(CG_ERR_ARG, "var", "5");
    assert_null(cg_max(x, 2, false));
    EXPECT_ERROR(CG_ERR_ARG, "max", "2");
    assert_null(cg_argmin(x, -3, false));
    EXPECT_ERROR(CG_ERR_ARG, "argmin", "-3");
    assert_null(cg_softmax(x, 7));
    EXPECT_ERROR(CG_ERR_ARG, "softmax", "7");
    assert_null(cg_log_softmax(x, -4));
    EXPECT_ERROR(CG_ERR_ARG, "log_softmax", "-4");
    assert_null(cg_transpose(x, 0, 3));
    EXPECT_ERROR(CG_ERR_ARG, "transpose", "3");
    assert_null(cg_sum(x, CG_DIMS(1, -1), false)); // the same dim twice
    EXPECT_ERROR(CG_ERR_ARG, "sum");
    assert_int_equal(cg_size(x, 2), -1);
    cg_test_expect_error(CG_ERR_ARG, "2");
    cg_scope_end();
}

static void test_shape_and_argument_errors(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_zeros(CG_SHAPE(2, 3));
    assert_null(cg_reshape(x, CG_SHAPE(5)));
    EXPECT_ERROR(CG_ERR_SHAPE, "reshape", "[5]", "[2,3]");
    assert_true(isnan(cg_item(x)));
    EXPECT_ERROR(CG_ERR_SHAPE, "item", "[2,3]");
    cg_get(x, CG_SHAPE(2, 0));
    EXPECT_ERROR(CG_ERR_ARG, "get", "2");
    cg_get(x, CG_SHAPE(0));
    cg_test_expect_error(CG_ERR_ARG, "get");
    assert_null(cg_zeros(CG_SHAPE(2, -1)));
    EXPECT_ERROR(CG_ERR_SHAPE, "-1");
    assert_null(cg_zeros(CG_SHAPE(1, 1, 1, 1, 1, 1, 1, 1, 1)));
    EXPECT_ERROR(CG_ERR_SHAPE, "9");
    assert_null(cg_randint(3, 3, CG_SHAPE(2), NULL));
    EXPECT_ERROR(CG_ERR_ARG, "randint");
    assert_null(cg_randperm(-1, NULL));
    EXPECT_ERROR(CG_ERR_ARG, "randperm");
    assert_null(cg_clamp(x, 1, -1));
    EXPECT_ERROR(CG_ERR_ARG, "clamp");
    assert_null(cg_var(x, CG_ALL_DIMS, -1, false));
    EXPECT_ERROR(CG_ERR_ARG, "var");
    assert_null(cg_arange(0, 5, -1));
    EXPECT_ERROR(CG_ERR_ARG, "arange");
    assert_null(cg_cat(0, NULL, 0));
    EXPECT_ERROR(CG_ERR_ARG, "cat");
    cg_scope_end();
    // no scope is open now
    cg_scope_end();
    EXPECT_ERROR(CG_ERR_STATE, "scope");
}

// A failed op returns NULL; every later op handed that NULL returns NULL too and leaves the
// first message in place, so a chain is checked once at the end.
static void test_null_propagation_keeps_first_message(void **state) {
    (void)state;
    cg_scope_begin();
    cg_tensor *x = cg_ones(CG_SHAPE(2, 3));
    cg_tensor *bad = cg_matmul(x, x);
    assert_null(bad);
    assert_int_equal(cg_test_error_count(), 1);
    const char *first = "matmul: cannot multiply [2,3] by [2,3]: inner dims 3 != 2";
    cg_tensor *y = cg_sum(cg_relu(cg_add(cg_mul_scalar(bad, 2), x)), CG_ALL_DIMS, false);
    assert_null(y);
    assert_null(cg_softmax(cg_reshape(cg_transpose(bad, 0, 1), CG_SHAPE(6)), 0));
    assert_null(cg_cat(2, (cg_tensor *[]){x, bad}, 0));
    assert_int_equal(cg_backward(y), -1);
    assert_int_equal(cg_test_error_count(), 1); // the handler was not called again
    assert_int_equal(cg_last_error(), CG_ERR_SHAPE);
    assert_string_equal(cg_last_error_message(), first);
    cg_test_expect_error(CG_ERR_SHAPE, first);

    // With no error pending, a NULL argument is itself reported, naming the op.
    assert_null(cg_add(NULL, x));
    EXPECT_ERROR(CG_ERR_ARG, "add", "NULL");
    assert_null(cg_exp(NULL));
    EXPECT_ERROR(CG_ERR_ARG, "exp", "NULL");
    cg_scope_end();
}

static void test_clear_error(void **state) {
    (void)state;
    cg_scope_begin();
    assert_null(cg_reshape(cg_zeros(CG_SHAPE(4)), CG_SHAPE(3)));
    assert_int_equal(cg_last_error(), CG_ERR_SHAPE);
    assert_true(strlen(cg_last_error_message()) > 0);
    cg_clear_error();
    assert_int_equal(cg_last_error(), CG_OK);
    assert_string_equal(cg_last_error_message(), "");
    // after a clear, successful ops report nothing
    assert_non_null(cg_add(cg_ones(CG_SHAPE(2)), cg_ones(CG_SHAPE(2))));
    assert_int_equal(cg_last_error(), CG_OK);
    cg_scope_end();
}

typedef struct handler_log {
    int calls;
    cg_status status;
    char message[256];
} handler_log;

static void logging_handler(cg_status status, const char *message, void *userdata) {
    handler_log *log = userdata;
    log->calls++;
    log->status = status;
    snprintf(log->message, sizeof log->message, "%s", message);
}

static void test_custom_handler_receives_calls(void **state) {
    (void)state;
    handler_log log = {0};
    cg_set_error_handler(logging_handler, &log);
    cg_scope_begin();
    cg_tensor *x = cg_zeros(CG_SHAPE(2, 3));
    assert_null(cg_matmul(x, x));
    assert_int_equal(log.calls, 1);
    assert_int_equal(log.status, CG_ERR_SHAPE);
    assert_string_equal(log.message, "matmul: cannot multiply [2,3] by [2,3]: inner dims 3 != 2");
    cg_clear_error();
    assert_null(cg_softmax(x, 3));
    assert_int_equal(log.calls, 2);
    assert_int_equal(log.status, CG_ERR_ARG);
    assert_non_null(strstr(log.message, "softmax"));
    // cg_error itself: formats, records, calls the handler, returns NULL
    assert_null(cg_error(CG_ERR_IO, "myop: file %s missing (%d)", "a.bin", 42));
    assert_int_equal(log.calls, 3);
    assert_int_equal(log.status, CG_ERR_IO);
    assert_string_equal(log.message, "myop: file a.bin missing (42)");
    assert_string_equal(cg_last_error_message(), "myop: file a.bin missing (42)");
    cg_scope_end();
    cg_test_capture_errors(); // back to the capturing handler
    assert_int_equal(log.calls, 3);
}

static void test_status_names(void **state) {
    (void)state;
    const cg_status all[] = {CG_OK,         CG_ERR_SHAPE, CG_ERR_ARG,   CG_ERR_STATE,
                             CG_ERR_MEMORY, CG_ERR_IO,    CG_ERR_FORMAT};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        const char *name = cg_status_name(all[i]);
        assert_non_null(name);
        assert_true(strlen(name) > 0);
        for (size_t j = 0; j < i; j++) assert_string_not_equal(name, cg_status_name(all[j]));
    }
}

// ---- the fixture reader (tests/support/fixture.c) ------------------------------------------

static const char *write_tmp(const char *name, const char *text) {
    static char path[512];
    snprintf(path, sizeof path, "%s/%s", CG_TEST_TMP_DIR, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return path;
}

static void test_fixture_reader(void **state) {
    (void)state;
    const char *path = write_tmp("fixture_ok.txt", "# a comment\n"
                                                   "case first/a  # trailing comment\n"
                                                   "param alpha 0.5 -2 inf\n"
                                                   "tensor x 2 2 3\n"
                                                   "1 2 3\n4 5\n6\n"
                                                   "tensor s 0\n-1.5e-3\n"
                                                   "end\n\n"
                                                   "case second\nparam n 3\nend\n");
    cg_scope_begin(); // fixture tensors must not belong to this scope
    cg_fixture *fx = cg_fixture_load(path);
    cg_scope_end();
    assert_non_null(fx);
    assert_int_equal(cg_fixture_count(fx), 2);
    const cg_fixture_case *c = cg_fixture_case_at(fx, 0);
    assert_string_equal(cg_fixture_case_name(c), "first/a");
    assert_ptr_equal(cg_fixture_find(fx, "first/a"), c);
    assert_null(cg_fixture_find(fx, "third"));
    assert_null(cg_fixture_case_at(fx, 2));
    assert_true(cg_fixture_has(c, "alpha") && cg_fixture_has(c, "x") && !cg_fixture_has(c, "n"));
    assert_float_equal(cg_fixture_param(c, "alpha", 0), 0.5, 0);
    assert_float_equal(cg_fixture_param(c, "missing", 7), 7, 0);
    double v[2];
    assert_int_equal(cg_fixture_params(c, "alpha", v, 2), 3);
    assert_float_equal(v[1], -2, 0);
    cg_tensor *x = cg_fixture_tensor(c, "x"); // survives the scope that was open at load
    assert_non_null(x);
    assert_null(x->scope);
    cg_tensor *expected = cg_test_tensor(CG_SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    cg_assert_close(x, expected, 0, 0, "x");
    cg_free(expected);
    cg_tensor *s = cg_fixture_tensor(c, "s");
    assert_int_equal(s->ndim, 0);
    assert_float_equal(cg_item(s), -1.5e-3, 1e-9);
    assert_null(cg_fixture_tensor(c, "nope"));
    assert_float_equal(cg_fixture_param(cg_fixture_find(fx, "second"), "n", 0), 3, 0);
    cg_fixture_free(fx);
    cg_fixture_free(NULL);
}

static void test_fixture_reader_errors(void **state) {
    (void)state;
    assert_null(cg_fixture_load("no_such_fixture.txt"));
    EXPECT_ERROR(CG_ERR_IO, "no_such_fixture.txt");
    const struct {
        const char *text, *mention;
    } bad[] = {
        {"case a\ntensor x 1 3\n1 2\nend\n", "x"},   // truncated values
        {"case a\ntensor x 1 2\n1 zz\nend\n", "zz"}, // not a number
        {"case a\nparam p\nend\n", "p"},             // param without values
        {"case a\nparam p 1\n", "end"},              // missing end
        {"param p 1\n", "outside"},                  // param outside a case
        {"case a\nfrobnicate\nend\n", "frobnicate"}, // unknown directive
        {"case a\ntensor x 9 1 1 1 1 1 1 1 1 1\n1\nend\n", "ndim"},
        {"case a\ntensor x 1 2\n1 2 3\nend\n", "trailing"}, // too many values
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *path = write_tmp("fixture_bad.txt", bad[i].text);
        assert_null(cg_fixture_load(path));
        EXPECT_ERROR(CG_ERR_FORMAT, "fixture_bad.txt", bad[i].mention);
    }
    // The committed reference fixture itself loads.
    cg_fixture *fx = cg_fixture_load("tensor_ops.txt");
    assert_non_null(fx);
    assert_true(cg_fixture_count(fx) > 100);
    cg_fixture_free(fx);
}

// cg_module_get names the step that matches nothing and lists the children that exist.
static void test_module_get_names_missing_child(void **state) {
    (void)state;
    const cg_pool_options k2 = {.kernel_size = 2};
    cg_module *inner = cg_Sequential(2, (cg_module *[]){cg_ReLU(), cg_MaxPool2d(&k2)});
    cg_module *model = cg_Sequential(2, (cg_module *[]){cg_Linear(2, 2, NULL), inner});
    assert_ptr_equal(cg_module_get(model, "1.0"), inner->children[0]);
    assert_ptr_equal(cg_module_get(model, ""), model);
    assert_null(cg_module_get(model, "1.7"));
    cg_test_expect_error(CG_ERR_ARG,
                         "module_get: \"1.7\": Sequential has no child \"7\" (its children: 0, 1)");
    assert_null(cg_module_get(model, "0.weight"));
    cg_test_expect_error(CG_ERR_ARG, "Linear has no child \"weight\" (it has no children)");
    assert_null(cg_module_get(model, NULL));
    cg_test_expect_error(CG_ERR_ARG, "module_get: path is NULL");
    cg_module_free(model);
}

// A tensor used after its scope ended is refused by name, and so is a second cg_free. Not
// in the sanitizer build: there reading the freed tensor is itself the report (ASan's
// heap-use-after-free, tests/sanitizer/use_after_scope.c).
static void test_freed_tensor_is_named(void **state) {
    (void)state;
#if !defined(__SANITIZE_ADDRESS__)
    cg_tensor *x = cg_ones(CG_SHAPE(2, 2));
    cg_scope_begin();
    cg_tensor *loss = cg_sum(cg_mul(x, x), CG_ALL_DIMS, false);
    cg_scope_end();
    assert_true(isnan(cg_item(loss)));
    cg_test_expect_error(CG_ERR_STATE, "item: argument 'tensor' is a freed tensor");
    assert_null(cg_add(x, loss));
    cg_test_expect_error(CG_ERR_STATE, "add: argument 'b' is a freed tensor");
    cg_free(loss);
    cg_test_expect_error(CG_ERR_STATE, "free: tensor");
    cg_free(x);
#else
    skip();
#endif
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_matmul_message_exact, cg_test_teardown),
        cmocka_unit_test_teardown(test_broadcast_errors_name_both_shapes, cg_test_teardown),
        cmocka_unit_test_teardown(test_dim_out_of_range, cg_test_teardown),
        cmocka_unit_test_teardown(test_shape_and_argument_errors, cg_test_teardown),
        cmocka_unit_test_teardown(test_null_propagation_keeps_first_message, cg_test_teardown),
        cmocka_unit_test_teardown(test_clear_error, cg_test_teardown),
        cmocka_unit_test_teardown(test_custom_handler_receives_calls, cg_test_teardown),
        cmocka_unit_test_teardown(test_status_names, cg_test_teardown),
        cmocka_unit_test_teardown(test_fixture_reader, cg_test_teardown),
        cmocka_unit_test_teardown(test_fixture_reader_errors, cg_test_teardown),
        cmocka_unit_test_teardown(test_module_get_names_missing_child, cg_test_teardown),
        cmocka_unit_test_teardown(test_freed_tensor_is_named, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("errors", tests, NULL, NULL);
}
