// tests/test_conv_fixtures.c - the convolution family against PyTorch (tests/fixtures/conv.txt,
// written by tests/fixtures/gen_conv.py): conv2d, conv_transpose2d, conv1d, conv_transpose1d,
// the Conv2d/Conv1d/ConvTranspose2d modules with every padding_mode, pad, unfold and fold.
//
// Every fixture case is its own cmocka test (named after the case), so one mismatch does not
// hide the others. A case checks the output and, after backward with the fixture's upstream
// gradient "gout", the gradients of the input, the weight and the bias.
#include <math.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE "conv.txt"
// The number of cases gen_conv.py writes (it prints the count on stderr); a case dropped
// from the file or skipped here fails the count test.
#define EXPECTED_CASES 176

// Relative error below 1e-4; the absolute floor scales with the tensor's largest value, since
// sums over many products cancel to values near zero whose float32 error is that of the terms.
#define RTOL 1e-4
#define ATOL 1e-5

static cg_fixture *fixture;
static int cases_passed;
static cg_module *case_module; // freed by the teardown, also when a case fails

// ---- reading params ---------------------------------------------------------------------------

static int int_param(const cg_fixture_case *c, const char *key) {
    if (!cg_fixture_has(c, key)) fail_msg("%s: missing param %s", cg_fixture_case_name(c), key);
    return (int)cg_fixture_param(c, key, 0);
}

// Param `key` as a pair; a 1-D case has one value, the second entry is then 0 (unused).
static void pair_param(const cg_fixture_case *c, const char *key, int out[2]) {
    double v[2] = {0, 0};
    int n = cg_fixture_params(c, key, v, 2);
    if (n < 1 || n > 2) fail_msg("%s: param %s has %d values", cg_fixture_case_name(c), key, n);
    out[0] = (int)v[0];
    out[1] = n == 2 ? (int)v[1] : 0;
}

// Alternate cases spell their options two ways, so both are tested against the same numbers:
// "explicit" writes every value (2-D: the _hw pairs; 1-D: the scalars); "compact" uses the
// scalar for a square value and leaves PyTorch's defaults as 0.
static void set_option(int *scalar, int hw[2], const int v[2], int dflt, bool one_d, bool compact) {
    if (one_d || (compact && v[0] == v[1]))
        *scalar = compact && v[0] == dflt ? 0 : v[0];
    else
        hw[0] = v[0], hw[1] = v[1];
}

static cg_conv_options conv_options_from(const cg_fixture_case *c, bool one_d, bool compact) {
    int stride[2], padding[2], dilation[2], output_padding[2];
    pair_param(c, "stride", stride);
    pair_param(c, "padding", padding);
    pair_param(c, "dilation", dilation);
    pair_param(c, "output_padding", output_padding);
    cg_conv_options o = {0};
    set_option(&o.stride, o.stride_hw, stride, 1, one_d, compact);
    set_option(&o.dilation, o.dilation_hw, dilation, 1, one_d, compact);
    set_option(&o.padding, o.padding_hw, padding, 0, one_d, compact);
    set_option(&o.output_padding, o.output_padding_hw, output_padding, 0, one_d, compact);
    int groups = int_param(c, "groups");
    o.groups = compact && groups == 1 ? 0 : groups;
    o.padding_kind = (cg_padding_kind)int_param(c, "padding_kind");
    o.padding_mode = (cg_padding_mode)int_param(c, "padding_mode");
    o.no_bias = !int_param(c, "has_bias");
    return o;
}

static bool is_default(const cg_conv_options *o) {
    static const cg_conv_options zero = {0};
    cg_conv_options a = *o;
    a.no_bias = false; // the functional ops take the bias as an argument
    return memcmp(&a, &zero, sizeof a) == 0;
}

// ---- comparing --------------------------------------------------------------------------------

static void check(const cg_fixture_case *c, const cg_tensor *actual, const char *key,
                  const char *what) {
    const cg_tensor *expected = cg_fixture_tensor(c, key);
    if (!expected) fail_msg("%s: fixture has no tensor '%s'", cg_fixture_case_name(c), key);
    char label[256];
    snprintf(label, sizeof label, "%s: %s", cg_fixture_case_name(c), what);
    if (!actual) fail_msg("%s: not computed (last error: %s)", label, cg_last_error_message());
    cg_assert_close_scaled(actual, expected, RTOL, ATOL, label);
}

// ---- running one case ----------------------------------------------------------------------

typedef enum case_op {
    OP_CONV2D,
    OP_CONV_TRANSPOSE2D,
    OP_CONV1D,
    OP_CONV_TRANSPOSE1D,
    OP_CONV2D_MODULE,
    OP_CONV1D_MODULE,
    OP_CONV_TRANSPOSE2D_MODULE,
    OP_PAD,
    OP_UNFOLD,
    OP_FOLD,
    OP_CONV2D_RELU,
    N_CASE_OPS
} case_op;

// Indexed by case_op, which is also the fixture's "kind" param.
static const char *const OP_NAMES[N_CASE_OPS] = {
    "conv2d",        "conv_transpose2d",        "conv1d", "conv_transpose1d", "conv2d_module",
    "conv1d_module", "conv_transpose2d_module", "pad",    "unfold",           "fold",
    "conv2d_relu",
};

static int case_op_of(const cg_fixture_case *c) {
    const char *name = cg_fixture_case_name(c);
    for (int op = 0; op < N_CASE_OPS; op++) {
        size_t len = strlen(OP_NAMES[op]);
        if (strncmp(name, OP_NAMES[op], len) == 0 && name[len] == '/') return op;
    }
    return -1;
}

// The tensors a case's forward works on; their grads are checked after backward.
typedef struct case_tensors {
    cg_tensor *input, *weight, *bias;
} case_tensors;

static cg_tensor *run_functional(const cg_fixture_case *c, case_op op, case_tensors *t,
                                 bool compact) {
    bool one_d = op == OP_CONV1D || op == OP_CONV_TRANSPOSE1D;
    cg_conv_options o = conv_options_from(c, one_d, compact);
    const cg_conv_options *opts = compact && is_default(&o) ? NULL : &o; // NULL = defaults
    t->weight = cg_test_copy_leaf(cg_fixture_tensor(c, "weight"), true);
    if (int_param(c, "has_bias")) t->bias = cg_test_copy_leaf(cg_fixture_tensor(c, "bias"), true);
    switch (op) {
    case OP_CONV2D:
        return cg_conv2d(t->input, t->weight, t->bias, opts);
    case OP_CONV2D_RELU:
        return cg_conv2d_relu(t->input, t->weight, t->bias, opts);
    case OP_CONV_TRANSPOSE2D:
        return cg_conv_transpose2d(t->input, t->weight, t->bias, opts);
    case OP_CONV1D:
        return cg_conv1d(t->input, t->weight, t->bias, opts);
    case OP_CONV_TRANSPOSE1D:
        return cg_conv_transpose1d(t->input, t->weight, t->bias, opts);
    case OP_CONV2D_MODULE:
    case OP_CONV1D_MODULE:
    case OP_CONV_TRANSPOSE2D_MODULE:
    case OP_PAD:
    case OP_UNFOLD:
    case OP_FOLD:
    case N_CASE_OPS:
        break; // run_module's and run_other's
    }
    fail_msg("%s: not a functional convolution", cg_fixture_case_name(c));
    return NULL;
}

// Overwrite a module parameter with the fixture's values (PyTorch initialised its own module
// from a different generator, so only the numbers after the copy are comparable).
static cg_tensor *load_param(const cg_fixture_case *c, cg_module *m, const char *key) {
    cg_tensor *p = cg_module_param(m, key);
    const cg_tensor *src = cg_fixture_tensor(c, key);
    if (!p) fail_msg("%s: the module has no parameter '%s'", cg_fixture_case_name(c), key);
    if (!cg_same_shape(p, src)) {
        char shape[128]; // cg_shape_str's buffer rotates: copy one before the next call
        snprintf(shape, sizeof shape, "%s", cg_tensor_shape_str(p));
        fail_msg("%s: module %s has shape %s, PyTorch's %s", cg_fixture_case_name(c), key, shape,
                 cg_tensor_shape_str(src));
    }
    memcpy(p->data, src->data, (size_t)src->numel * sizeof(float));
    return p;
}

static cg_tensor *run_module(const cg_fixture_case *c, case_op op, case_tensors *t) {
    cg_conv_options o = conv_options_from(c, op == OP_CONV1D_MODULE, false);
    int in = int_param(c, "in_channels"), out = int_param(c, "out_channels"), kernel[2];
    pair_param(c, "kernel", kernel);
    cg_conv_options mo = o; // 2-D modules: the kernel as a pair, as PyTorch's kernel tuple
    mo.kernel_size_hw[0] = kernel[0], mo.kernel_size_hw[1] = kernel[1];
    if (op == OP_CONV2D_MODULE)
        case_module = cg_Conv2d(in, out, 0, &mo);
    else if (op == OP_CONV1D_MODULE)
        case_module = cg_Conv1d(in, out, kernel[0], &o);
    else
        case_module = cg_ConvTranspose2d(in, out, 0, &mo);
    if (!case_module)
        fail_msg("%s: module not created: %s", cg_fixture_case_name(c), cg_last_error_message());
    t->weight = load_param(c, case_module, "weight");
    if (int_param(c, "has_bias"))
        t->bias = load_param(c, case_module, "bias");
    else if (cg_module_param(case_module, "bias"))
        fail_msg("%s: no_bias module has a bias", cg_fixture_case_name(c));
    return cg_module_forward(case_module, t->input);
}

static void fold_options_from(const cg_fixture_case *c, cg_fold_options *o) {
    pair_param(c, "kernel_size", o->kernel_size_hw);
    pair_param(c, "dilation", o->dilation_hw);
    pair_param(c, "padding", o->padding_hw);
    pair_param(c, "stride", o->stride_hw);
}

static cg_tensor *run_other(const cg_fixture_case *c, case_op op, case_tensors *t) {
    if (op == OP_PAD) {
        double v[8];
        int pads[8];
        int n = cg_fixture_params(c, "pads", v, 8);
        for (int i = 0; i < n && i < 8; i++) pads[i] = (int)v[i];
        // The fixtures number modes as padding_mode; their 0 is F.pad's 'constant'.
        int mode = int_param(c, "mode");
        return cg_pad(t->input, n, pads, mode == 0 ? CG_PAD_CONSTANT : (cg_padding_mode)mode,
                      (float)cg_fixture_param(c, "value", 0));
    }
    cg_fold_options o = {0};
    fold_options_from(c, &o);
    if (op == OP_UNFOLD) return cg_unfold(t->input, &o);
    int size[2];
    pair_param(c, "output_size", size);
    return cg_fold(t->input, size[0], size[1], &o);
}

static void test_case(void **state) {
    const cg_fixture_case *c = *state;
    const char *name = cg_fixture_case_name(c);
    int op = case_op_of(c);
    if (op < 0) fail_msg("%s: unknown op", name);
    if (int_param(c, "kind") != op) fail_msg("%s: kind %d does not match its name", name, op);
    // The index of the case in the file decides how its options are spelled.
    int index = 0;
    while (cg_fixture_case_at(fixture, index) != c) index++;
    bool compact = index % 2 == 1;

    cg_scope_begin();
    case_tensors t = {cg_test_copy_leaf(cg_fixture_tensor(c, "input"), true), NULL, NULL};
    cg_tensor *out;
    if (op <= OP_CONV_TRANSPOSE1D || op == OP_CONV2D_RELU)
        out = run_functional(c, (case_op)op, &t, compact);
    else if (op <= OP_CONV_TRANSPOSE2D_MODULE)
        out = run_module(c, (case_op)op, &t);
    else
        out = run_other(c, (case_op)op, &t);
    check(c, out, "out", "output");

    if (!out->requires_grad) fail_msg("%s: output does not require grad", name);
    if (cg_backward_ex(out, cg_fixture_tensor(c, "gout"), false) != 0)
        fail_msg("%s: backward failed: %s", name, cg_last_error_message());
    check(c, t.input->grad, "ginput", "grad of input");
    if (t.weight) check(c, t.weight->grad, "gweight", "grad of weight");
    if (t.bias) check(c, t.bias->grad, "gbias", "grad of bias");
    cg_scope_end();
    cases_passed++;
}

static int teardown_case(void **state) {
    cg_module_free(case_module);
    case_module = NULL;
    return cg_test_teardown(state);
}

// ---- counting ----------------------------------------------------------------------------

// Every case has a known op, and every op has cases (a renamed op cannot pass silently).
static void test_case_count(void **state) {
    (void)state;
    int per_op[N_CASE_OPS] = {0};
    assert_int_equal(cg_fixture_count(fixture), EXPECTED_CASES);
    for (int i = 0; i < cg_fixture_count(fixture); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fixture, i);
        int op = case_op_of(c);
        if (op < 0) fail_msg("case %s: unknown op", cg_fixture_case_name(c));
        per_op[op]++;
    }
    for (int op = 0; op < N_CASE_OPS; op++)
        if (per_op[op] == 0) fail_msg("fixture has no case for %s", OP_NAMES[op]);
}

// Runs last: every case ran to the end.
static void test_all_cases_passed(void **state) {
    (void)state;
    if (cases_passed != EXPECTED_CASES)
        fail_msg("%d of %d conv fixture cases passed (see the failures above)", cases_passed,
                 EXPECTED_CASES);
}

int main(void) {
    const struct CMUnitTest first = cmocka_unit_test_teardown(test_case_count, cg_test_teardown);
    const struct CMUnitTest last = cmocka_unit_test(test_all_cases_passed);
    return cg_test_run_fixture_cases("conv_fixtures", FIXTURE, &fixture, first, test_case,
                                     teardown_case, &last);
}
