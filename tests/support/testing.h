// tests/support/testing.h - cmocka helpers shared by every test program.
//
// Include this instead of cmocka.h: it pulls in the headers cmocka needs first.
#ifndef CG_TEST_TESTING_H
#define CG_TEST_TESTING_H

// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include <stdbool.h>

#include "cgrad.h"
#include "fixture.h"

#ifndef CG_TEST_TMP_DIR
#define CG_TEST_TMP_DIR "/tmp"
#endif

// Fail (cmocka fail_msg) unless actual and expected have the same shape and every element
// satisfies |actual - expected| <= atol + rtol * |expected| (NaN matches NaN, inf matches
// the same inf). The message names `what`, the first bad index and both values, or both
// shapes. A NULL actual fails with the last cgrad error message.
void cg_assert_close(const cg_tensor *actual, const cg_tensor *expected, double rtol, double atol,
                     const char *what);
// The same with the absolute floor scaled by the expected tensor's size: atol * max(1,
// max |expected|) (for outputs whose magnitude grows with the reduction, as a convolution's).
void cg_assert_close_scaled(const cg_tensor *actual, const cg_tensor *expected, double rtol,
                            double atol, const char *what);

// Install a silent error handler that records the status and message of every error.
void cg_test_capture_errors(void);
// Assert that the last captured error has `status` and a message containing `substring`
// (NULL: any message), then clear it (and cg_clear_error()).
void cg_test_expect_error(cg_status status, const char *substring);
// Assert that no error was captured since the last clear.
void cg_test_expect_no_error(void);
// Number of errors the capturing handler has seen since cg_test_capture_errors().
int cg_test_error_count(void);
// Number of temporary files "<path>.tmp-*" that saves of path left beside it.
int cg_test_count_temp_files(const char *path);
// The last captured message ("" if none).
const char *cg_test_last_message(void);

// Run cg_gradcheck with its default float32 tolerances and fail with a message naming
// `what`, the failing input, element and the largest error if it is not ok.
void cg_test_gradcheck(cg_gradcheck_fn fn, void *ctx, int n, cg_tensor **inputs, const char *what);
// The same with explicit options (NULL: defaults).
void cg_test_gradcheck_ex(cg_gradcheck_fn fn, void *ctx, int n, cg_tensor **inputs,
                          const cg_gradcheck_options *options, const char *what);

// A fresh leaf with a copy of t's values (created in the current scope, if any).
cg_tensor *cg_test_copy_leaf(const cg_tensor *t, bool requires_grad);
// A leaf requiring grad with values 0.5 apart plus noise: no ties, so a max is
// differentiable everywhere (global generator).
cg_tensor *cg_test_distinct(int ndim, const int64_t *shape);
// The module's one-line repr (describe), in a static buffer.
const char *cg_test_describe(const cg_module *m);
// A leaf from literal values: cg_test_tensor(CG_SHAPE(2, 2), (float[]){1, 2, 3, 4}).
cg_tensor *cg_test_tensor(int ndim, const int64_t *shape, const float *values);

// Check one fixture case of a PyTorch reference: `n_inputs` tensors named by input_keys are
// copied into fresh leaves (requiring grad if the case has "g<key>"), `fn` computes the
// output, which must match tensor "out" (forward rtol/atol). If the case has "gout", backward
// runs from the output with that gradient and every input's grad must match "g<key>" (grad
// rtol/atol). Runs inside its own scope; `what` names the case in failure messages.
typedef cg_tensor *(*cg_test_case_fn)(cg_tensor **inputs, const cg_fixture_case *c);
typedef struct cg_test_tolerance {
    double rtol, atol;           // forward
    double grad_rtol, grad_atol; // gradients
} cg_test_tolerance;
// Forward rtol 1e-5 atol 1e-6, grads rtol 1e-4 atol 1e-5.
extern const cg_test_tolerance cg_test_default_tolerance;
void cg_test_check_case(const cg_fixture_case *c, int n_inputs, const char *const *input_keys,
                        cg_test_case_fn fn, const cg_test_tolerance *tol);

// One op checked against every fixture case named "<op>/<variant>" in `fixture`.
typedef struct cg_test_op {
    const char *op;      // case prefix before '/', also the cmocka test name
    const char *fixture; // file in CG_FIXTURE_DIR
    int n_inputs;
    const char *keys[4]; // input tensor keys, e.g. {"a", "b"}
    cg_test_case_fn fn;
    const cg_test_tolerance *tol; // NULL: cg_test_default_tolerance
} cg_test_op;
// cmocka test function whose state is a `const cg_test_op *` (see cg_test_op_unit_test);
// fails if the fixture has no case for the op, so a renamed case cannot pass silently.
void cg_test_op_cases(void **state);
// A cmocka unit test running cg_test_op_cases for one table entry (with cg_test_teardown).
struct CMUnitTest cg_test_op_unit_test(const cg_test_op *op);

// The main() of a test program built around a table of fixture ops: one cmocka test per
// entry of `ops` (cg_test_op_unit_test), then the `extra` tests, run as group `group` with
// the global generator seeded with `seed` and errors captured (cg_test_capture_errors).
int cg_test_run(const char *group, const cg_test_op *ops, int n_ops, const struct CMUnitTest *extra,
                int n_extra, uint64_t seed);
// cg_test_run over two arrays: return CG_TEST_RUN("views", OPS, extra, 3);
#define CG_TEST_RUN(group, ops, extra, seed)                                                       \
    cg_test_run(group, ops, (int)(sizeof(ops) / sizeof(ops)[0]), extra,                            \
                (int)(sizeof(extra) / sizeof(extra)[0]), seed)

// cg_module_print(m) into buf (size bytes, always terminated), for comparing with PyTorch.
void cg_test_module_text(const cg_module *m, char *buf, size_t size);

// A batch norm fixture case (gen_nn.py / gen_layers.py batch_norm_case): runs fn (cg_batch_norm1d
// or cg_batch_norm2d) on inputs x, weight, bias with copies of the case's running statistics
// and params training/momentum/eps, checks the updated statistics against running_*_out
// and returns the output.
typedef cg_tensor *(*cg_test_batch_norm_fn)(cg_tensor *x, cg_tensor *running_mean,
                                            cg_tensor *running_var, cg_tensor *weight,
                                            cg_tensor *bias, bool training, float momentum,
                                            float eps);
cg_tensor *cg_test_batch_norm_case(cg_test_batch_norm_fn fn, cg_tensor **in,
                                   const cg_fixture_case *c);

// Load a fixture and fail the test if it cannot be loaded.
cg_fixture *cg_test_load_fixture(const char *filename);

// cmocka teardown: closes scopes a failed test left open, turns grad mode back on, clears
// errors and (if cg_test_capture_errors was used) reinstalls the capturing handler with a
// zero count, so one failure does not cascade into the following tests.
int cg_test_teardown(void **state);
// Setup/teardown pair that also fails a test which does not give back every byte it
// allocated through cg_alloc: cmocka_unit_test_setup_teardown(f, cg_test_track_memory,
// cg_test_check_memory), or CG_TEST_NO_LEAKS(f).
int cg_test_track_memory(void **state);
int cg_test_check_memory(void **state);
#define CG_TEST_NO_LEAKS(f)                                                                        \
    cmocka_unit_test_setup_teardown(f, cg_test_track_memory, cg_test_check_memory)

// Run a cmocka group of n tests with the fixture file `file` (tests/fixtures/) loaded into
// *fx for them, then freed: main's `return cg_test_run_with_fixture("optim", tests,
// CG_COUNT(tests), "optim.txt", &fx);`. 1 with the loader's message if it cannot be read,
// else cmocka's result.
int cg_test_run_with_fixture(const char *group, const struct CMUnitTest *tests, size_t n,
                             const char *file, cg_fixture **fx);
#define CG_COUNT(array) (sizeof(array) / sizeof *(array))
// The same, with a test per case of the fixture: `first`, then a test named after each case
// running `run` with the case as its state (and `teardown` after it), then `last` (NULL:
// none), each test after the first also with cg_test_capture_errors's handler.
int cg_test_run_fixture_cases(const char *group, const char *file, cg_fixture **fx,
                              struct CMUnitTest first, CMUnitTestFunction run,
                              CMFixtureFunction teardown, const struct CMUnitTest *last);

// ---- files -----------------------------------------------------------------------------
// Write n bytes to path (the test fails if it cannot); read at most cap bytes of path into
// buf and return how many (the test fails if it cannot open it).
void cg_test_write_file(const char *path, const void *bytes, size_t n);
size_t cg_test_read_file(const char *path, void *buf, size_t cap);

// ---- transform tests -------------------------------------------------------------------
// A float sample holding a copy of the (C, H, W) tensor x.
cg_sample cg_test_sample_of(const cg_tensor *x);
// The sample, as a (C, H, W) tensor, close to `want` (rtol = atol = tol); frees the sample.
void cg_test_check_sample(cg_sample *s, const cg_tensor *want, double tol, const char *what);
// Whether name starts with prefix (fixture case names).
bool cg_test_starts(const char *name, const char *prefix);

#endif
