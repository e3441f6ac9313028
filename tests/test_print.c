// tests/test_print.c - cg_fprint matches PyTorch's str(tensor) exactly.
//
// The expected strings were produced by torch 1.13 (default print options) with:
//
//   import torch, json
//   for expr in ["torch.tensor([[1., 2.], [3., 4.]])", ...]:   # the `torch` column below
//       print(json.dumps(str(eval(expr))))
//
// cg_fprint ends with a newline (like print()); it is not part of torch's str() and is
// stripped before comparing.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

typedef struct print_case {
    const char *what;
    const char *torch; // the expression that produced `expected`
    int ndim;
    int64_t shape[3];
    const float *values; // NULL: 0, 1, 2, ... (arange)
    bool requires_grad;
    const char *expected;
} print_case;

static const print_case CASES[] = {
    {"integers 2x2",
     "torch.tensor([[1., 2.], [3., 4.]])",
     2,
     {2, 2},
     (const float[]){1, 2, 3, 4},
     false,
     "tensor([[1., 2.],\n        [3., 4.]])"},
    {"fixed with negatives",
     "torch.tensor([1.5, 2.25, -3.125])",
     1,
     {3},
     (const float[]){1.5f, 2.25f, -3.125f},
     false,
     "tensor([ 1.5000,  2.2500, -3.1250])"},
    {"negative integers",
     "torch.tensor([-1., 2.])",
     1,
     {2},
     (const float[]){-1, 2},
     false,
     "tensor([-1.,  2.])"},
    {"0-d", "torch.tensor(3.5)", 0, {0}, (const float[]){3.5f}, false, "tensor(3.5000)"},
    {"0-d integer requires_grad",
     "torch.tensor(2.).requires_grad_()",
     0,
     {0},
     (const float[]){2},
     true,
     "tensor(2., requires_grad=True)"},
    {"requires_grad",
     "torch.tensor([1., 2.]).requires_grad_()",
     1,
     {2},
     (const float[]){1, 2},
     true,
     "tensor([1., 2.], requires_grad=True)"},
    {"3-d blocks",
     "torch.arange(24.).reshape(2, 3, 4)",
     3,
     {2, 3, 4},
     NULL,
     false,
     "tensor([[[ 0.,  1.,  2.,  3.],\n         [ 4.,  5.,  6.,  7.],\n         [ 8.,  9., 10., "
     "11.]],\n\n        [[12., 13., 14., 15.],\n         [16., 17., 18., 19.],\n         [20., "
     "21., 22., 23.]]])"},
    {"3-d with size-1 dim",
     "torch.tensor([[1., 2.], [3., 4.]]).reshape(2, 1, 2)",
     3,
     {2, 1, 2},
     (const float[]){1, 2, 3, 4},
     false,
     "tensor([[[1., 2.]],\n\n        [[3., 4.]]])"},
    {"column",
     "torch.tensor([[-0.5], [10.25]])",
     2,
     {2, 1},
     (const float[]){-0.5f, 10.25f},
     false,
     "tensor([[-0.5000],\n        [10.2500]])"},
    {"rounding to 4 decimals",
     "torch.tensor([[0.1234567, -2.5]])",
     2,
     {1, 2},
     (const float[]){0.1234567f, -2.5f},
     false,
     "tensor([[ 0.1235, -2.5000]])"},
    {"small magnitude fixed",
     "torch.tensor([0.001, 1.0])",
     1,
     {2},
     (const float[]){0.001f, 1},
     false,
     "tensor([0.0010, 1.0000])"},
    {"scientific: range > 1000",
     "torch.tensor([1., 100000.])",
     1,
     {2},
     (const float[]){1, 100000},
     false,
     "tensor([1.0000e+00, 1.0000e+05])"},
    {"scientific: tiny value",
     "torch.tensor([1e-5, 1.])",
     1,
     {2},
     (const float[]){1e-5f, 1},
     false,
     "tensor([1.0000e-05, 1.0000e+00])"},
    // float32(1e-4) is 9.99999975e-05, below the double 1e-4 that torch compares with
    {"scientific: float32 1e-4",
     "torch.tensor([0.0001, 1.0])",
     1,
     {2},
     (const float[]){0.0001f, 1},
     false,
     "tensor([1.0000e-04, 1.0000e+00])"},
    {"scientific: integers with range > 1000",
     "torch.tensor([1., 2000.])",
     1,
     {2},
     (const float[]){1, 2000},
     false,
     "tensor([1.0000e+00, 2.0000e+03])"},
    {"integers with range exactly 1000",
     "torch.tensor([0., 1000.])",
     1,
     {2},
     (const float[]){0, 1000},
     false,
     "tensor([   0., 1000.])"},
    {"nan and inf",
     "torch.tensor([float('nan'), float('inf'), -float('inf'), 1.])",
     1,
     {4},
     (const float[]){NAN, INFINITY, -INFINITY, 1},
     false,
     "tensor([nan, inf, -inf, 1.])"},
    {"zeros", "torch.tensor([0., 0.])", 1, {2}, (const float[]){0, 0}, false, "tensor([0., 0.])"},
    {"line wrap at 80 columns",
     "torch.arange(20.)",
     1,
     {20},
     NULL,
     false,
     "tensor([ 0.,  1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10., 11., 12., 13.,\n        "
     "14., 15., 16., 17., 18., 19.])"},
    {"summarised over 1000 elements",
     "torch.arange(1001.)",
     1,
     {1001},
     NULL,
     false,
     "tensor([   0.,    1.,    2.,  ...,  998.,  999., 1000.])"},
};
#define N_CASES ((int)(sizeof CASES / sizeof CASES[0]))

// cg_fprint(t) through a temporary file, without the final newline.
static const char *print_to_string(const cg_tensor *t) {
    static char text[8192];
    const char *path = CG_TEST_TMP_DIR "/test_print.txt";
    FILE *f = fopen(path, "w+");
    assert_non_null(f);
    cg_fprint(f, t);
    long n = ftell(f);
    assert_true(n >= 0 && n < (long)sizeof text);
    rewind(f);
    assert_int_equal(fread(text, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    remove(path);
    text[n] = '\0';
    if (n > 0 && text[n - 1] == '\n') text[n - 1] = '\0';
    return text;
}

static void test_print_case(void **state) {
    const print_case *c = *state;
    cg_scope_begin();
    int64_t numel = 1;
    for (int d = 0; d < c->ndim; d++) numel *= c->shape[d];
    float *values = malloc(sizeof(float) * (size_t)numel);
    for (int64_t i = 0; i < numel; i++) values[i] = c->values ? c->values[i] : (float)i;
    cg_tensor *t = cg_test_tensor(c->ndim, c->shape, values);
    free(values);
    if (c->requires_grad) cg_requires_grad(t, true);
    const char *text = print_to_string(t);
    cg_scope_end();
    if (strcmp(text, c->expected) != 0)
        fail_msg("%s (%s):\n got:      \"%s\"\n expected: \"%s\"", c->what, c->torch, text,
                 c->expected);
}

int main(void) {
    struct CMUnitTest tests[N_CASES];
    for (int i = 0; i < N_CASES; i++) {
        struct CMUnitTest t = {CASES[i].what, test_print_case, NULL, cg_test_teardown,
                               (void *)&CASES[i]};
        tests[i] = t;
    }
    cg_test_capture_errors();
    return _cmocka_run_group_tests("print", tests, N_CASES, NULL, NULL);
}
