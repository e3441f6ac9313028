// tests/test_conv_errors.c - every bad argument to the convolution family gives a clear error
// (status, and a message naming the op, the parameter and the shapes) and a NULL result;
// nothing crashes.
//
// The exact wording belongs to nn/; these tests pin only what issue 3 requires of it: the
// op's name, the parameter's name and the shapes involved (matched case-insensitively).
#include <ctype.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define STATUS(s) (1u << (s))

static bool contains_ignoring_case(const char *haystack, const char *needle) {
    size_t n = strlen(needle);
    for (; *haystack; haystack++) {
        size_t i = 0;
        while (i < n && haystack[i] &&
               tolower((unsigned char)haystack[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n) return true;
    }
    return n == 0;
}

// The call must have failed (NULL, or -1 for int-returning functions), the captured error's
// status must be one of `statuses` (a STATUS() mask) and its message must contain every
// substring in the NULL-terminated list.
static void expect_failure(bool failed, unsigned statuses, const char *const *substrings,
                           const char *what) {
    if (!failed) fail_msg("%s: the call succeeded but should have failed", what);
    if (cg_test_error_count() == 0) fail_msg("%s: failed without reporting an error", what);
    cg_status status = cg_last_error();
    const char *message = cg_test_last_message();
    if (!(statuses & STATUS(status)))
        fail_msg("%s: unexpected status %s for \"%s\"", what, cg_status_name(status), message);
    for (const char *const *s = substrings; *s; s++)
        if (!contains_ignoring_case(message, *s))
            fail_msg("%s: error message \"%s\" does not mention \"%s\"", what, message, *s);
    // Checks that the error channel agrees with the handler, then clears both.
    cg_test_expect_error(status, NULL);
}

#define EXPECT_NULL(call, statuses, ...)                                                           \
    expect_failure((call) == NULL, (statuses), (const char *const[]){__VA_ARGS__, NULL}, #call)
#define EXPECT_FAIL(call, statuses, ...)                                                           \
    expect_failure((call) < 0, (statuses), (const char *const[]){__VA_ARGS__, NULL}, #call)

// Random inputs; freed by the scope each test opens.
static cg_tensor *randn(int ndim, const int64_t *shape) {
    cg_tensor *t = cg_randn(ndim, shape, NULL);
    assert_non_null(t);
    return cg_requires_grad(t, true);
}

static int setup(void **state) {
    (void)state;
    cg_test_capture_errors();
    cg_manual_seed(7);
    cg_scope_begin();
    return 0;
}

static int teardown(void **state) {
    cg_scope_end();
    return cg_test_teardown(state);
}

// ---- channels and groups ------------------------------------------------------------------------

static void test_channel_mismatch(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 3, 5, 5)), *w = randn(CG_SHAPE(4, 2, 3, 3));
    EXPECT_NULL(cg_conv2d(x, w, NULL, NULL), STATUS(CG_ERR_SHAPE), "conv2d", "channels",
                "[1,3,5,5]", "[4,2,3,3]");
    // conv_transpose2d: weight (in, out/groups, kH, kW) with in = 2 against 3 input channels
    cg_tensor *wt = randn(CG_SHAPE(2, 4, 3, 3));
    EXPECT_NULL(cg_conv_transpose2d(x, wt, NULL, NULL), STATUS(CG_ERR_SHAPE), "conv_transpose2d",
                "channels", "[1,3,5,5]", "[2,4,3,3]");
    cg_tensor *x1 = randn(CG_SHAPE(2, 3, 7)), *w1 = randn(CG_SHAPE(4, 2, 3));
    EXPECT_NULL(cg_conv1d(x1, w1, NULL, NULL), STATUS(CG_ERR_SHAPE), "conv1d", "channels",
                "[2,3,7]", "[4,2,3]");
    // The output-shape helper reports the same error.
    int64_t shape[4];
    EXPECT_FAIL(cg_conv2d_output_shape(x, w, NULL, shape), STATUS(CG_ERR_SHAPE), "conv2d",
                "[1,3,5,5]", "[4,2,3,3]");
}

static void test_groups_not_dividing_channels(void **state) {
    (void)state;
    // 3 input channels, groups 2
    cg_tensor *x = randn(CG_SHAPE(1, 3, 5, 5)), *w = randn(CG_SHAPE(4, 1, 3, 3));
    cg_conv_options o = {.groups = 2};
    EXPECT_NULL(cg_conv2d(x, w, NULL, &o), STATUS(CG_ERR_SHAPE) | STATUS(CG_ERR_ARG), "conv2d",
                "groups", "[1,3,5,5]");
    // 4 input channels but 3 output channels, groups 2
    cg_tensor *x4 = randn(CG_SHAPE(1, 4, 5, 5)), *w3 = randn(CG_SHAPE(3, 2, 3, 3));
    EXPECT_NULL(cg_conv2d(x4, w3, NULL, &o), STATUS(CG_ERR_SHAPE) | STATUS(CG_ERR_ARG), "conv2d",
                "groups", "[3,2,3,3]");
    // conv_transpose2d with 3 input channels and groups 2
    cg_tensor *wt = randn(CG_SHAPE(3, 2, 3, 3));
    EXPECT_NULL(cg_conv_transpose2d(x, wt, NULL, &o), STATUS(CG_ERR_SHAPE) | STATUS(CG_ERR_ARG),
                "conv_transpose2d", "groups", "[1,3,5,5]");
    // Negative groups
    cg_conv_options neg = {.groups = -1};
    EXPECT_NULL(cg_conv2d(x, randn(CG_SHAPE(4, 3, 3, 3)), NULL, &neg), STATUS(CG_ERR_ARG), "conv2d",
                "groups", "[1,3,5,5]");
    // The module refuses to be built with groups not dividing its channels.
    cg_conv_options mo = {.groups = 2};
    EXPECT_NULL(cg_Conv2d(3, 4, 3, &mo), STATUS(CG_ERR_SHAPE) | STATUS(CG_ERR_ARG), "Conv2d",
                "groups");
}

// ---- sizes --------------------------------------------------------------------------------------

static void test_kernel_larger_than_padded_input(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 3, 4, 4)), *w = randn(CG_SHAPE(2, 3, 5, 5));
    EXPECT_NULL(cg_conv2d(x, w, NULL, NULL), STATUS(CG_ERR_SHAPE), "conv2d", "kernel", "[1,3,4,4]",
                "[2,3,5,5]");
    // Padding 1 still leaves 6 < 7; dilation makes a 3x3 kernel span 7.
    cg_tensor *w3 = randn(CG_SHAPE(2, 3, 3, 3));
    cg_conv_options o = {.padding = 1, .dilation = 3};
    EXPECT_NULL(cg_conv2d(x, w3, NULL, &o), STATUS(CG_ERR_SHAPE), "conv2d", "kernel", "[1,3,4,4]",
                "[2,3,3,3]");
    // With enough padding the same kernel fits (no error).
    cg_conv_options fits = {.padding = 2, .dilation = 3};
    cg_tensor *y = cg_conv2d(x, w3, NULL, &fits);
    cg_test_expect_no_error();
    assert_non_null(y);
    cg_tensor *x1 = randn(CG_SHAPE(2, 3)), *w1 = randn(CG_SHAPE(1, 2, 4));
    EXPECT_NULL(cg_conv1d(x1, w1, NULL, NULL), STATUS(CG_ERR_SHAPE), "conv1d", "kernel", "[2,3]",
                "[1,2,4]");
    // unfold: no sliding position fits
    cg_tensor *x2 = randn(CG_SHAPE(1, 1, 3, 3));
    cg_fold_options fo = {.kernel_size = 4};
    EXPECT_NULL(cg_unfold(x2, &fo), STATUS(CG_ERR_SHAPE), "unfold", "kernel", "[1,1,3,3]");
}

static void test_transposed_output_too_small(void **state) {
    (void)state;
    // (1-1)*1 - 2*2 + 1*(2-1) + 1 = -2
    cg_tensor *x = randn(CG_SHAPE(1, 2, 1, 1)), *w = randn(CG_SHAPE(2, 3, 2, 2));
    cg_conv_options o = {.padding = 2};
    EXPECT_NULL(cg_conv_transpose2d(x, w, NULL, &o), STATUS(CG_ERR_SHAPE), "conv_transpose2d",
                "padding", "[1,2,1,1]", "[2,3,2,2]");
}

// ---- stride, dilation, padding ------------------------------------------------------------------

static void test_negative_stride_and_dilation(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 3, 5, 5)), *w = randn(CG_SHAPE(4, 3, 3, 3));
    cg_conv_options s = {.stride_hw = {-1, 1}};
    EXPECT_NULL(cg_conv2d(x, w, NULL, &s), STATUS(CG_ERR_ARG), "conv2d", "stride", "[1,3,5,5]");
    cg_conv_options d = {.dilation_hw = {1, -2}};
    EXPECT_NULL(cg_conv2d(x, w, NULL, &d), STATUS(CG_ERR_ARG), "conv2d", "dilation", "[1,3,5,5]");
    cg_tensor *wt = randn(CG_SHAPE(3, 2, 3, 3));
    EXPECT_NULL(cg_conv_transpose2d(x, wt, NULL, &s), STATUS(CG_ERR_ARG), "conv_transpose2d",
                "stride", "[1,3,5,5]");
    cg_tensor *x1 = randn(CG_SHAPE(1, 3, 9)), *w1 = randn(CG_SHAPE(2, 3, 3));
    cg_conv_options s1 = {.stride = -2};
    EXPECT_NULL(cg_conv1d(x1, w1, NULL, &s1), STATUS(CG_ERR_ARG), "conv1d", "stride", "[1,3,9]");
    cg_tensor *x2 = randn(CG_SHAPE(1, 1, 5, 5));
    cg_fold_options fo = {.kernel_size = 2, .stride = -1};
    EXPECT_NULL(cg_unfold(x2, &fo), STATUS(CG_ERR_ARG), "unfold", "stride", "[1,1,5,5]");
}

static void test_negative_padding(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 3, 5, 5)), *w = randn(CG_SHAPE(4, 3, 3, 3));
    cg_conv_options o = {.padding_hw = {1, -1}};
    EXPECT_NULL(cg_conv2d(x, w, NULL, &o), STATUS(CG_ERR_ARG), "conv2d", "padding", "[1,3,5,5]");
    cg_tensor *wt = randn(CG_SHAPE(3, 2, 3, 3));
    EXPECT_NULL(cg_conv_transpose2d(x, wt, NULL, &o), STATUS(CG_ERR_ARG), "conv_transpose2d",
                "padding", "[1,3,5,5]");
}

static void test_same_with_stride(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 3, 5, 5)), *w = randn(CG_SHAPE(4, 3, 3, 3));
    cg_conv_options o = {.padding_kind = CG_PADDING_SAME, .stride_hw = {1, 2}};
    EXPECT_NULL(cg_conv2d(x, w, NULL, &o), STATUS(CG_ERR_ARG), "conv2d", "same", "stride",
                "[1,3,5,5]");
    cg_tensor *x1 = randn(CG_SHAPE(1, 3, 8)), *w1 = randn(CG_SHAPE(2, 3, 3));
    cg_conv_options o1 = {.padding_kind = CG_PADDING_SAME, .stride = 2};
    EXPECT_NULL(cg_conv1d(x1, w1, NULL, &o1), STATUS(CG_ERR_ARG), "conv1d", "same", "stride",
                "[1,3,8]");
    // The module with 'same' and a stride fails when built or at the latest when run.
    cg_module *m = cg_Conv2d(3, 4, 3, &o);
    if (m) {
        EXPECT_NULL(cg_module_forward(m, x), STATUS(CG_ERR_ARG), "conv2d", "same", "stride",
                    "[1,3,5,5]");
        cg_module_free(m);
    } else {
        expect_failure(true, STATUS(CG_ERR_ARG), (const char *const[]){"same", "stride", NULL},
                       "cg_Conv2d(same, stride 2)");
    }
}

static void test_output_padding_too_large(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 2, 3, 3)), *w = randn(CG_SHAPE(2, 3, 3, 3));
    // output_padding must be smaller than stride or dilation: 2 >= stride 2 and >= dilation 1
    cg_conv_options o = {.stride = 2, .output_padding_hw = {0, 2}};
    EXPECT_NULL(cg_conv_transpose2d(x, w, NULL, &o), STATUS(CG_ERR_ARG), "conv_transpose2d",
                "output_padding", "[1,2,3,3]");
    // stride 1, dilation 1: any output_padding is too large
    cg_conv_options o1 = {.output_padding = 1};
    EXPECT_NULL(cg_conv_transpose2d(x, w, NULL, &o1), STATUS(CG_ERR_ARG), "conv_transpose2d",
                "output_padding", "[1,2,3,3]");
    // ... but smaller than the dilation is fine, as in PyTorch
    cg_conv_options ok = {.dilation = 2, .output_padding = 1};
    assert_non_null(cg_conv_transpose2d(x, w, NULL, &ok));
    cg_test_expect_no_error();
    cg_tensor *x1 = randn(CG_SHAPE(1, 2, 4)), *w1 = randn(CG_SHAPE(2, 3, 3));
    cg_conv_options o2 = {.stride = 3, .output_padding = 3};
    EXPECT_NULL(cg_conv_transpose1d(x1, w1, NULL, &o2), STATUS(CG_ERR_ARG), "conv_transpose1d",
                "output_padding", "[1,2,4]");
    // conv_transpose takes only explicit padding (PyTorch has no 'same' for it)
    cg_conv_options same = {.padding_kind = CG_PADDING_SAME};
    EXPECT_NULL(cg_conv_transpose2d(x, w, NULL, &same), STATUS(CG_ERR_ARG), "conv_transpose2d",
                "same", "[1,2,3,3]");
}

// ---- ranks and bias -----------------------------------------------------------------------------

static void test_wrong_weight_rank(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 3, 5, 5));
    EXPECT_NULL(cg_conv2d(x, randn(CG_SHAPE(4, 3, 3)), NULL, NULL), STATUS(CG_ERR_SHAPE), "conv2d",
                "weight", "[4,3,3]");
    EXPECT_NULL(cg_conv_transpose2d(x, randn(CG_SHAPE(3, 4, 3, 3, 1)), NULL, NULL),
                STATUS(CG_ERR_SHAPE), "conv_transpose2d", "weight", "[3,4,3,3,1]");
    cg_tensor *x1 = randn(CG_SHAPE(1, 3, 9));
    EXPECT_NULL(cg_conv1d(x1, randn(CG_SHAPE(2, 3, 3, 3)), NULL, NULL), STATUS(CG_ERR_SHAPE),
                "conv1d", "weight", "[2,3,3,3]");
    EXPECT_NULL(cg_conv2d_matrix(randn(CG_SHAPE(3, 3)), 4, 4, NULL), STATUS(CG_ERR_SHAPE),
                "conv2d_matrix", "weight", "[3,3]");
}

static void test_wrong_input_rank(void **state) {
    (void)state;
    cg_tensor *w = randn(CG_SHAPE(4, 3, 3, 3));
    EXPECT_NULL(cg_conv2d(randn(CG_SHAPE(5, 5)), w, NULL, NULL), STATUS(CG_ERR_SHAPE), "conv2d",
                "input", "[5,5]");
    EXPECT_NULL(cg_conv2d(randn(CG_SHAPE(2, 1, 3, 5, 5)), w, NULL, NULL), STATUS(CG_ERR_SHAPE),
                "conv2d", "input", "[2,1,3,5,5]");
    cg_tensor *wt = randn(CG_SHAPE(3, 2, 3, 3));
    EXPECT_NULL(cg_conv_transpose2d(randn(CG_SHAPE(3, 5)), wt, NULL, NULL), STATUS(CG_ERR_SHAPE),
                "conv_transpose2d", "input", "[3,5]");
    EXPECT_NULL(cg_conv1d(randn(CG_SHAPE(1, 3, 4, 4)), randn(CG_SHAPE(2, 3, 3)), NULL, NULL),
                STATUS(CG_ERR_SHAPE), "conv1d", "input", "[1,3,4,4]");
    // A module gets the same check through the functional op.
    cg_module *m = cg_Conv2d(3, 4, 3, NULL);
    assert_non_null(m);
    EXPECT_NULL(cg_module_forward(m, randn(CG_SHAPE(3, 5))), STATUS(CG_ERR_SHAPE), "conv2d",
                "[3,5]");
    EXPECT_NULL(cg_module_forward(m, randn(CG_SHAPE(1, 2, 5, 5))), STATUS(CG_ERR_SHAPE), "conv2d",
                "channels", "[1,2,5,5]");
    cg_module_free(m);
}

static void test_bias_of_wrong_size(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 3, 5, 5)), *w = randn(CG_SHAPE(4, 3, 3, 3));
    EXPECT_NULL(cg_conv2d(x, w, randn(CG_SHAPE(3)), NULL), STATUS(CG_ERR_SHAPE), "conv2d", "bias",
                "[3]");
    EXPECT_NULL(cg_conv2d(x, w, randn(CG_SHAPE(4, 1)), NULL), STATUS(CG_ERR_SHAPE), "conv2d",
                "bias", "[4,1]");
    // conv_transpose2d's bias has out_channels = weight dim 1 * groups = 2 entries
    cg_tensor *wt = randn(CG_SHAPE(3, 2, 3, 3));
    EXPECT_NULL(cg_conv_transpose2d(x, wt, randn(CG_SHAPE(3)), NULL), STATUS(CG_ERR_SHAPE),
                "conv_transpose2d", "bias", "[3]");
}

// ---- padding modes ------------------------------------------------------------------------------

static void test_reflect_padding_larger_than_input(void **state) {
    (void)state;
    const unsigned arg_or_shape = STATUS(CG_ERR_ARG) | STATUS(CG_ERR_SHAPE);
    cg_tensor *x = randn(CG_SHAPE(1, 1, 3, 3));
    // reflect needs pad < size (pad 3 on a 3-wide dim has nothing to mirror)
    EXPECT_NULL(cg_pad(x, 4, (const int[]){3, 0, 0, 0}, CG_PAD_REFLECT, 0), arg_or_shape, "pad",
                "reflect", "[1,1,3,3]");
    EXPECT_NULL(cg_pad(x, 4, (const int[]){0, 0, 1, 4}, CG_PAD_REFLECT, 0), arg_or_shape, "pad",
                "reflect", "[1,1,3,3]");
    // the Conv2d module pads with its mode before convolving
    cg_conv_options o = {.padding = 3, .padding_mode = CG_PAD_REFLECT};
    cg_module *m = cg_Conv2d(1, 2, 3, &o);
    assert_non_null(m);
    EXPECT_NULL(cg_module_forward(m, x), arg_or_shape, "reflect", "[1,1,3,3]");
    cg_module_free(m);
    // circular wraps at most once
    EXPECT_NULL(cg_pad(x, 4, (const int[]){4, 0, 0, 0}, CG_PAD_CIRCULAR, 0), arg_or_shape, "pad",
                "circular", "[1,1,3,3]");
    // ... of what is left after cropping: 3 - 1 = 2 columns cannot wrap 3, nor 0 columns 1
    EXPECT_NULL(cg_pad(x, 4, (const int[]){-1, 3, 0, 0}, CG_PAD_CIRCULAR, 0), arg_or_shape, "pad",
                "circular", "after cropping", "[1,1,3,3]");
    EXPECT_NULL(cg_pad(x, 4, (const int[]){0, 0, -3, 1}, CG_PAD_CIRCULAR, 0), arg_or_shape, "pad",
                "circular", "[1,1,3,3]");
}

static void test_pad_arguments(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 2, 3, 3));
    // an odd number of pads
    EXPECT_NULL(cg_pad(x, 3, (const int[]){1, 1, 1}, CG_PAD_ZEROS, 0), STATUS(CG_ERR_ARG), "pad",
                "padding");
    // more pads than dims
    EXPECT_NULL(cg_pad(x, 10, (const int[]){1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, CG_PAD_ZEROS, 0),
                STATUS(CG_ERR_ARG) | STATUS(CG_ERR_SHAPE), "pad", "[1,2,3,3]");
    // reflect pads at most 3 dims (PyTorch's ReflectionPad1d/2d/3d)
    EXPECT_NULL(cg_pad(x, 8, (const int[]){1, 1, 1, 1, 1, 1, 0, 0}, CG_PAD_REFLECT, 0),
                STATUS(CG_ERR_ARG) | STATUS(CG_ERR_SHAPE), "pad", "[1,2,3,3]");
    // cropping more than the dim has
    EXPECT_NULL(cg_pad(x, 2, (const int[]){-2, -2}, CG_PAD_ZEROS, 0),
                STATUS(CG_ERR_ARG) | STATUS(CG_ERR_SHAPE), "pad", "[1,2,3,3]");
}

static void test_fold_arguments(void **state) {
    (void)state;
    // fold (1, C*kH*kW = 4, L): a 4x4 output with a 2x2 kernel has 9 blocks, not 8
    cg_tensor *cols = randn(CG_SHAPE(1, 4, 8));
    cg_fold_options o = {.kernel_size = 2};
    EXPECT_NULL(cg_fold(cols, 4, 4, &o), STATUS(CG_ERR_SHAPE), "fold", "[1,4,8]");
    // C*kH*kW = 5 is not a multiple of kH*kW = 4
    EXPECT_NULL(cg_fold(randn(CG_SHAPE(1, 5, 9)), 4, 4, &o), STATUS(CG_ERR_SHAPE), "fold",
                "[1,5,9]");
    // a missing kernel size
    cg_fold_options none = {0};
    EXPECT_NULL(cg_unfold(randn(CG_SHAPE(1, 1, 4, 4)), &none), STATUS(CG_ERR_ARG), "unfold",
                "kernel");
}

// ---- NULL arguments -----------------------------------------------------------------------------

static void test_null_arguments(void **state) {
    (void)state;
    cg_tensor *x = randn(CG_SHAPE(1, 3, 5, 5)), *w = randn(CG_SHAPE(4, 3, 3, 3));
    EXPECT_NULL(cg_conv2d(NULL, w, NULL, NULL), STATUS(CG_ERR_ARG), "conv2d", "input");
    EXPECT_NULL(cg_conv2d(x, NULL, NULL, NULL), STATUS(CG_ERR_ARG), "conv2d", "weight");
    EXPECT_NULL(cg_conv_transpose2d(NULL, w, NULL, NULL), STATUS(CG_ERR_ARG), "conv_transpose2d",
                "input");
    EXPECT_NULL(cg_conv1d(NULL, NULL, NULL, NULL), STATUS(CG_ERR_ARG), "conv1d");
    EXPECT_NULL(cg_conv_transpose1d(x, NULL, NULL, NULL), STATUS(CG_ERR_ARG), "conv_transpose1d",
                "weight");
    EXPECT_NULL(cg_conv2d_direct(NULL, w, NULL, NULL), STATUS(CG_ERR_ARG), "conv2d", "input");
    EXPECT_NULL(cg_conv2d_matrix(NULL, 5, 5, NULL), STATUS(CG_ERR_ARG), "conv2d_matrix", "weight");
    EXPECT_NULL(cg_pad(NULL, 2, (const int[]){1, 1}, CG_PAD_ZEROS, 0), STATUS(CG_ERR_ARG), "pad",
                "input");
    cg_fold_options fo = {.kernel_size = 2};
    EXPECT_NULL(cg_unfold(NULL, &fo), STATUS(CG_ERR_ARG), "unfold", "input");
    EXPECT_NULL(cg_fold(NULL, 4, 4, &fo), STATUS(CG_ERR_ARG), "fold", "input");
    EXPECT_NULL(cg_unfold(x, NULL), STATUS(CG_ERR_ARG), "unfold");
    int64_t shape[4];
    EXPECT_FAIL(cg_conv2d_output_shape(NULL, w, NULL, shape), STATUS(CG_ERR_ARG), "conv2d",
                "input");
    EXPECT_FAIL(cg_conv_transpose2d_output_shape(x, NULL, NULL, shape), STATUS(CG_ERR_ARG),
                "conv_transpose2d", "weight");

    // A NULL from an earlier failure passes through and keeps the first message.
    cg_tensor *bad = cg_conv2d(x, randn(CG_SHAPE(4, 2, 3, 3)), NULL, NULL);
    assert_null(bad);
    char first[1024];
    snprintf(first, sizeof first, "%s", cg_last_error_message());
    int count = cg_test_error_count();
    assert_null(cg_conv2d(bad, w, NULL, NULL));
    assert_null(cg_pad(bad, 2, (const int[]){1, 1}, CG_PAD_REFLECT, 0));
    assert_int_equal(cg_test_error_count(), count);
    assert_string_equal(cg_last_error_message(), first);
    cg_test_expect_error(CG_ERR_SHAPE, "conv2d");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_channel_mismatch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_groups_not_dividing_channels, setup, teardown),
        cmocka_unit_test_setup_teardown(test_kernel_larger_than_padded_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transposed_output_too_small, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_stride_and_dilation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negative_padding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_same_with_stride, setup, teardown),
        cmocka_unit_test_setup_teardown(test_output_padding_too_large, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_weight_rank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_input_rank, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bias_of_wrong_size, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reflect_padding_larger_than_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fold_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_arguments, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
