// tests/test_onnx_node_conv.c - the ONNX backend node tests of Debian's libonnx-testdata 1.12
// for Conv, ConvTranspose, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool and
// BatchNormalization, run through cgrad's own ops (tests/fixtures/onnx_node.txt, made by
// tests/fixtures/gen_onnx_node.py; the package is not needed here).
//
// Each node's attributes are mapped to cgrad's options by ONNX's rules, written out below:
// defaults, pads [x1_begin, x2_begin, x1_end, x2_end], auto_pad SAME_UPPER / SAME_LOWER /
// VALID, and ConvTranspose's output_shape. What cgrad's options express is run through them
// (symmetric pads, 'same' for stride 1, output_padding); the rest through cg_pad around the
// op: asymmetric conv pads pad the input with zeros, asymmetric ConvTranspose pads crop (or
// extend) its output, pool pads beyond half the kernel pad with -inf (max) or zeros (average,
// dividing sums by the count of real elements when the padding is not counted). 1-D nodes
// run through cg_conv1d / cg_conv_transpose1d / the 1-D pools. Outputs must match to rtol
// 1e-5, atol 1e-6 (cg_test_default_tolerance's forward tolerance).
//
// Skipped cases (3-D) are in the fixture with their reason; the test prints how many ran
// and were skipped, and fails unless exactly the MUST_RUN cases ran.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define FIXTURE    "onnx_node.txt"
#define MAX_INPUTS 5

// ---- ONNX attributes -----------------------------------------------------------------

// One node's spatial attributes, ONNX's defaults applied and the padding resolved:
// begin/end are the pads of each axis (negative: ConvTranspose's output is extended).
typedef struct node_geometry {
    int spatial; // 1 or 2
    int in[2], kernel[2], stride[2], dilation[2], output_padding[2];
    int begin[2], end[2];
} node_geometry;

static int floor_div2(int v) {
    return v >= 0 ? v / 2 : -((-v + 1) / 2);
}

// Attribute `key` into out[0..n) (default `value` when absent; present, it must have n).
static void read_ints(const cg_fixture_case *c, const char *key, int n, int value, int *out) {
    double v[2 * CG_MAX_DIMS];
    int got = cg_fixture_params(c, key, v, 2 * CG_MAX_DIMS);
    if (got != 0 && got != n)
        fail_msg("%s: attribute %s has %d values, expected %d", cg_fixture_case_name(c), key, got,
                 n);
    for (int i = 0; i < n; i++) out[i] = got ? (int)v[i] : value;
}

static const char *auto_pad(const cg_fixture_case *c) {
    const char *s = cg_fixture_text(c, "auto_pad");
    return s ? s : "NOTSET";
}
static bool is_same(const char *pad) {
    return strcmp(pad, "SAME_UPPER") == 0 || strcmp(pad, "SAME_LOWER") == 0;
}

// Split a total padding between begin and end: SAME_UPPER puts the odd one at the end,
// SAME_LOWER (and ConvTranspose's NOTSET with output_shape) at the beginning.
static void split_pad(node_geometry *g, int axis, int total, bool upper) {
    int small = floor_div2(total);
    g->begin[axis] = upper ? small : total - small;
    g->end[axis] = upper ? total - small : small;
}

// x's spatial sizes and the attributes shared by every op of the family. `kernel_from`
// is the weight (its trailing dims are the kernel), or NULL for pools (kernel_shape).
static node_geometry read_geometry(const cg_fixture_case *c, const cg_tensor *x,
                                   const cg_tensor *kernel_from) {
    node_geometry g = {.spatial = x->ndim - 2};
    if (g.spatial < 1 || g.spatial > 2)
        fail_msg("%s: %d-D input, cgrad runs 1-D and 2-D", cg_fixture_case_name(c), x->ndim);
    int attr_kernel[2];
    read_ints(c, "kernel_shape", g.spatial, 0, attr_kernel);
    for (int i = 0; i < g.spatial; i++) {
        g.in[i] = (int)x->shape[2 + i];
        g.kernel[i] = kernel_from ? (int)kernel_from->shape[2 + i] : attr_kernel[i];
        if (kernel_from && attr_kernel[i] && attr_kernel[i] != g.kernel[i])
            fail_msg("%s: kernel_shape disagrees with the weight", cg_fixture_case_name(c));
    }
    read_ints(c, "strides", g.spatial, 1, g.stride);
    read_ints(c, "dilations", g.spatial, 1, g.dilation);
    read_ints(c, "output_padding", g.spatial, 0, g.output_padding);
    return g;
}

static void read_pads(const cg_fixture_case *c, node_geometry *g) {
    int pads[4];
    read_ints(c, "pads", 2 * g->spatial, 0, pads);
    for (int i = 0; i < g->spatial; i++) {
        g->begin[i] = pads[i];
        g->end[i] = pads[g->spatial + i];
    }
}

// Conv and the pools: SAME_* pads so that out = ceil(in / stride).
static void resolve_forward_pads(const cg_fixture_case *c, node_geometry *g) {
    const char *pad = auto_pad(c);
    if (strcmp(pad, "NOTSET") == 0) return read_pads(c, g);
    for (int i = 0; i < g->spatial; i++) {
        int out = (g->in[i] + g->stride[i] - 1) / g->stride[i];
        int extent = (g->kernel[i] - 1) * g->dilation[i] + 1;
        int total = (out - 1) * g->stride[i] + extent - g->in[i];
        split_pad(g, i, is_same(pad) && total > 0 ? total : 0, strcmp(pad, "SAME_UPPER") == 0);
    }
}

// ConvTranspose: the full output is stride*(in-1) + output_padding + (k-1)*dilation + 1;
// output_shape (or out = in * stride for SAME_*) fixes the total padding, split as the ONNX
// 1.12 spec says (SAME_UPPER: begin = total/2, else end = total/2, floor division: a
// negative total extends the output at the end).
static void resolve_transposed_pads(const cg_fixture_case *c, node_geometry *g) {
    const char *pad = auto_pad(c);
    double shape[CG_MAX_DIMS];
    int n_shape = cg_fixture_params(c, "output_shape", shape, CG_MAX_DIMS);
    if (!n_shape && !is_same(pad)) {
        if (strcmp(pad, "VALID") != 0) read_pads(c, g);
        return;
    }
    if (n_shape && n_shape != g->spatial && n_shape != g->spatial + 2)
        fail_msg("%s: output_shape has %d values", cg_fixture_case_name(c), n_shape);
    for (int i = 0; i < g->spatial; i++) {
        int full = g->stride[i] * (g->in[i] - 1) + g->output_padding[i] +
                   (g->kernel[i] - 1) * g->dilation[i] + 1;
        int target = n_shape ? (int)shape[n_shape - g->spatial + i] : g->in[i] * g->stride[i];
        split_pad(g, i, full - target, strcmp(pad, "SAME_UPPER") == 0);
    }
}

static bool symmetric(const node_geometry *g) {
    for (int i = 0; i < g->spatial; i++)
        if (g->begin[i] != g->end[i]) return false;
    return true;
}

// cg_pad of the spatial dims by (begin, end) per axis, times `sign` (-1 crops);
// `extra_end` is added at the end of each axis.
static cg_tensor *pad_spatial(cg_tensor *x, const node_geometry *g, int sign, const int *extra_end,
                              cg_padding_mode mode, float value) {
    int pads[4], n = 0;
    for (int i = g->spatial - 1; i >= 0; i--) { // last dim first, as F.pad
        pads[n++] = sign * g->begin[i];
        pads[n++] = sign * g->end[i] + (extra_end ? extra_end[i] : 0);
    }
    return cg_pad(x, n, pads, mode, value);
}

// The spatial options as cgrad's scalar (1-D) or pair (2-D) fields.
static void conv_spatial(cg_conv_options *o, const node_geometry *g, const int *padding) {
    if (g->spatial == 1) {
        o->stride = g->stride[0];
        o->dilation = g->dilation[0];
        o->padding = padding[0];
        return;
    }
    for (int i = 0; i < 2; i++) {
        o->stride_hw[i] = g->stride[i];
        o->dilation_hw[i] = g->dilation[i];
        o->padding_hw[i] = padding[i];
    }
}

// ---- the ops -------------------------------------------------------------------------

static cg_tensor *bias_of(cg_tensor **in, const cg_fixture_case *c) {
    return cg_fixture_has(c, "in2") ? in[2] : NULL;
}

// Conv(X, W, B): cgrad's 'same' for SAME_UPPER at stride 1, symmetric pads as padding,
// asymmetric ones as zeros around the input.
static cg_tensor *run_conv(cg_tensor **in, const cg_fixture_case *c) {
    node_geometry g = read_geometry(c, in[0], in[1]);
    resolve_forward_pads(c, &g);
    cg_conv_options o = {.groups = (int)cg_fixture_param(c, "group", 1)};
    int none[2] = {0, 0};
    bool unit_stride = g.stride[0] == 1 && (g.spatial == 1 || g.stride[1] == 1);
    cg_tensor *x = in[0];
    if (strcmp(auto_pad(c), "SAME_UPPER") == 0 && unit_stride) {
        o.padding_kind = CG_PADDING_SAME;
        conv_spatial(&o, &g, none);
    } else if (symmetric(&g)) {
        conv_spatial(&o, &g, g.begin);
    } else {
        x = pad_spatial(x, &g, 1, NULL, CG_PAD_ZEROS, 0);
        conv_spatial(&o, &g, none);
    }
    return (g.spatial == 1 ? cg_conv1d : cg_conv2d)(x, in[1], bias_of(in, c), &o);
}

// ConvTranspose(X, W, B): cgrad's padding p and output_padding q give the window
// [p, full + q - p) of the full output; ONNX's is [begin, full + output_padding - end).
// They agree with p = begin and q = output_padding + begin - end when that q is one
// PyTorch allows (0 <= q < max(stride, dilation)); otherwise the full output is cropped or
// extended by cg_pad.
static cg_tensor *run_conv_transpose(cg_tensor **in, const cg_fixture_case *c) {
    node_geometry g = read_geometry(c, in[0], in[1]);
    resolve_transposed_pads(c, &g);
    cg_conv_options o = {.groups = (int)cg_fixture_param(c, "group", 1)};
    int padding[2] = {0, 0}, q[2] = {0, 0};
    bool native = true;
    for (int i = 0; i < g.spatial; i++) {
        padding[i] = g.begin[i];
        q[i] = g.output_padding[i] + g.begin[i] - g.end[i];
        int limit = g.stride[i] > g.dilation[i] ? g.stride[i] : g.dilation[i];
        native = native && g.begin[i] >= 0 && q[i] >= 0 && q[i] < limit;
    }
    if (!native) padding[0] = padding[1] = q[0] = q[1] = 0;
    conv_spatial(&o, &g, padding);
    if (g.spatial == 1)
        o.output_padding = q[0];
    else
        memcpy(o.output_padding_hw, q, sizeof q);
    cg_tensor *y = (g.spatial == 1 ? cg_conv_transpose1d : cg_conv_transpose2d)(in[0], in[1],
                                                                                bias_of(in, c), &o);
    return native ? y : pad_spatial(y, &g, -1, g.output_padding, CG_PAD_CONSTANT, 0);
}

// The pool options; `padding` per axis (symmetric).
static cg_pool_options pool_options(const node_geometry *g, const int *padding, bool ceil) {
    cg_pool_options o = {.ceil_mode = ceil};
    if (g->spatial == 1) {
        o.kernel_size = g->kernel[0];
        o.stride = g->stride[0];
        o.dilation = g->dilation[0];
        o.padding = padding[0];
        return o;
    }
    for (int i = 0; i < 2; i++) {
        o.kernel_size_hw[i] = g->kernel[i];
        o.stride_hw[i] = g->stride[i];
        o.dilation_hw[i] = g->dilation[i];
        o.padding_hw[i] = padding[i];
    }
    return o;
}

// Whether cgrad's own padding expresses the pads: symmetric, at most half the window.
static bool pool_native(const node_geometry *g) {
    for (int i = 0; i < g->spatial; i++)
        if (g->begin[i] * 2 > (g->kernel[i] - 1) * g->dilation[i] + 1) return false;
    return symmetric(g);
}

static node_geometry pool_geometry(cg_tensor *x, const cg_fixture_case *c) {
    node_geometry g = read_geometry(c, x, NULL);
    resolve_forward_pads(c, &g);
    return g;
}

// ONNX's Indices: the flat index into the whole tensor, row-major (storage_order 0) or
// with (h, w) swapped (1), from cgrad's index into the (H, W) plane.
static void check_indices(const cg_fixture_case *c, const cg_tensor *x, cg_tensor *plane) {
    const cg_tensor *expected = cg_fixture_tensor(c, "out1");
    assert_non_null(plane);
    int64_t h = x->shape[2], w = x->shape[3], per_plane = plane->shape[2] * plane->shape[3];
    bool column_major = cg_fixture_param(c, "storage_order", 0) != 0;
    cg_tensor *onnx = cg_zeros_like(plane);
    for (int64_t i = 0; i < plane->numel; i++) {
        int64_t at = (int64_t)plane->data[i], row = at / w, col = at % w;
        int64_t in_plane = column_major ? col * h + row : at;
        onnx->data[i] = (float)((i / per_plane) * h * w + in_plane);
    }
    cg_assert_close(onnx, expected, 0, 0, "MaxPool Indices");
}

// MaxPool(X) -> Y [, Indices]: pads cgrad cannot take pad the input with -inf.
static cg_tensor *run_max_pool(cg_tensor **in, const cg_fixture_case *c) {
    node_geometry g = pool_geometry(in[0], c);
    bool native = pool_native(&g), ceil = cg_fixture_param(c, "ceil_mode", 0) != 0;
    int none[2] = {0, 0};
    cg_pool_options o = pool_options(&g, native ? g.begin : none, ceil);
    cg_tensor *x = native ? in[0] : pad_spatial(in[0], &g, 1, NULL, CG_PAD_CONSTANT, -INFINITY);
    if (g.spatial == 1) return cg_max_pool1d(x, &o);
    if (!cg_fixture_has(c, "out1")) return cg_max_pool2d(x, &o);
    if (!native) fail_msg("%s: Indices with padding cgrad cannot take", cg_fixture_case_name(c));
    cg_tensor *indices = NULL, *y = cg_max_pool2d_with_indices(x, &o, &indices);
    check_indices(c, x, indices);
    return y;
}

static cg_tensor *avg_pool(cg_tensor *x, const node_geometry *g, const cg_pool_options *o) {
    return (g->spatial == 1 ? cg_avg_pool1d : cg_avg_pool2d)(x, o);
}

// AveragePool(X): count_include_pad 0 (the default) divides by the real elements of each
// window. Pads cgrad cannot take: window sums of the zero-padded input divided by window
// sums of the zero-padded ones (or by the window size when the padding counts).
static cg_tensor *run_avg_pool(cg_tensor **in, const cg_fixture_case *c) {
    node_geometry g = pool_geometry(in[0], c);
    bool count_pad = cg_fixture_param(c, "count_include_pad", 0) != 0;
    bool ceil = cg_fixture_param(c, "ceil_mode", 0) != 0;
    if (pool_native(&g)) {
        cg_pool_options o = pool_options(&g, g.begin, ceil);
        o.exclude_pad = !count_pad;
        return avg_pool(in[0], &g, &o);
    }
    int none[2] = {0, 0};
    cg_pool_options o = pool_options(&g, none, ceil);
    cg_tensor *padded = pad_spatial(in[0], &g, 1, NULL, CG_PAD_ZEROS, 0);
    if (count_pad) return avg_pool(padded, &g, &o);
    o.divisor_override = 1;
    cg_tensor *ones = pad_spatial(cg_ones_like(in[0]), &g, 1, NULL, CG_PAD_ZEROS, 0);
    return cg_div(avg_pool(padded, &g, &o), avg_pool(ones, &g, &o));
}

static cg_tensor *run_global_average_pool(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return in[0]->ndim == 3 ? cg_adaptive_avg_pool1d(in[0], 1)
                            : cg_adaptive_avg_pool2d(in[0], 1, 1);
}
static cg_tensor *run_global_max_pool(cg_tensor **in, const cg_fixture_case *c) {
    (void)c;
    return in[0]->ndim == 3 ? cg_adaptive_max_pool1d(in[0], 1)
                            : cg_adaptive_max_pool2d(in[0], 1, 1);
}

// ONNX's running variance takes the biased batch variance, PyTorch's (cgrad's) the unbiased
// one: from cgrad's updated value back to ONNX's, given the batch's element count n.
static cg_tensor *biased_running_var(const cg_tensor *updated, const cg_tensor *old,
                                     float onnx_momentum, int64_t n) {
    cg_tensor *r = cg_zeros_like(updated);
    for (int64_t i = 0; i < r->numel; i++) {
        float kept = onnx_momentum * old->data[i];
        r->data[i] = kept + (updated->data[i] - kept) * (float)(n - 1) / (float)n;
    }
    return r;
}

// BatchNormalization(X, scale, B, mean, var) -> Y [, running_mean, running_var]. ONNX's
// momentum keeps the old statistic (running = momentum * running + (1 - momentum) * batch):
// PyTorch's momentum is 1 - it.
static cg_tensor *run_batch_norm(cg_tensor **in, const cg_fixture_case *c) {
    bool training = cg_fixture_param(c, "training_mode", 0) != 0;
    float momentum = (float)cg_fixture_param(c, "momentum", 0.9);
    float eps = (float)cg_fixture_param(c, "epsilon", 1e-5);
    cg_tensor *old_var = cg_copy(in[4]);
    cg_tensor *y = cg_batch_norm2d(in[0], in[3], in[4], in[1], in[2], training, 1 - momentum, eps);
    if (!training) return y;
    const double rtol = cg_test_default_tolerance.rtol, atol = cg_test_default_tolerance.atol;
    cg_assert_close(in[3], cg_fixture_tensor(c, "out1"), rtol, atol, "running_mean");
    int64_t n = in[0]->numel / in[0]->shape[1];
    cg_assert_close(biased_running_var(in[4], old_var, momentum, n), cg_fixture_tensor(c, "out2"),
                    rtol, atol, "running_var");
    return y;
}

// ---- the cases -----------------------------------------------------------------------

typedef struct onnx_op {
    const char *type; // the node's op_type
    cg_test_case_fn fn;
} onnx_op;

static const onnx_op OPS[] = {
    {"Conv", run_conv},
    {"ConvTranspose", run_conv_transpose},
    {"MaxPool", run_max_pool},
    {"AveragePool", run_avg_pool},
    {"GlobalAveragePool", run_global_average_pool},
    {"GlobalMaxPool", run_global_max_pool},
    {"BatchNormalization", run_batch_norm},
};

// Every case that must run: the fixture's cases minus the skipped 3-D ones.
static const char *const MUST_RUN[] = {
    "test_averagepool_1d_default",
    "test_averagepool_2d_ceil",
    "test_averagepool_2d_default",
    "test_averagepool_2d_pads",
    "test_averagepool_2d_pads_count_include_pad",
    "test_averagepool_2d_precomputed_pads",
    "test_averagepool_2d_precomputed_pads_count_include_pad",
    "test_averagepool_2d_precomputed_same_upper",
    "test_averagepool_2d_precomputed_strides",
    "test_averagepool_2d_same_lower",
    "test_averagepool_2d_same_upper",
    "test_averagepool_2d_strides",
    "test_basic_conv_with_padding",
    "test_basic_conv_without_padding",
    "test_batchnorm_epsilon",
    "test_batchnorm_epsilon_training_mode",
    "test_batchnorm_example",
    "test_batchnorm_example_training_mode",
    "test_conv_with_autopad_same",
    "test_conv_with_strides_and_asymmetric_padding",
    "test_conv_with_strides_no_padding",
    "test_conv_with_strides_padding",
    "test_convtranspose",
    "test_convtranspose_1d",
    "test_convtranspose_autopad_same",
    "test_convtranspose_dilations",
    "test_convtranspose_kernel_shape",
    "test_convtranspose_output_shape",
    "test_convtranspose_pad",
    "test_convtranspose_pads",
    "test_convtranspose_with_kernel",
    "test_globalaveragepool",
    "test_globalaveragepool_precomputed",
    "test_globalmaxpool",
    "test_globalmaxpool_precomputed",
    "test_maxpool_1d_default",
    "test_maxpool_2d_ceil",
    "test_maxpool_2d_default",
    "test_maxpool_2d_dilations",
    "test_maxpool_2d_pads",
    "test_maxpool_2d_precomputed_pads",
    "test_maxpool_2d_precomputed_same_upper",
    "test_maxpool_2d_precomputed_strides",
    "test_maxpool_2d_same_lower",
    "test_maxpool_2d_same_upper",
    "test_maxpool_2d_strides",
    "test_maxpool_2d_uint8",
    "test_maxpool_with_argmax_2d_precomputed_pads",
    "test_maxpool_with_argmax_2d_precomputed_strides",
};
#define N_MUST_RUN ((int)(sizeof MUST_RUN / sizeof MUST_RUN[0]))

static const onnx_op *find_op(const char *type) {
    for (size_t i = 0; i < sizeof OPS / sizeof OPS[0]; i++)
        if (strcmp(OPS[i].type, type) == 0) return &OPS[i];
    return NULL;
}

static bool must_run(const char *name) {
    for (int i = 0; i < N_MUST_RUN; i++)
        if (strcmp(MUST_RUN[i], name) == 0) return true;
    return false;
}

static void run_case(const cg_fixture_case *c, const onnx_op *op) {
    static const char *const keys[MAX_INPUTS] = {"in0", "in1", "in2", "in3", "in4"};
    int n_inputs = 0;
    while (n_inputs < MAX_INPUTS && cg_fixture_has(c, keys[n_inputs])) n_inputs++;
    cg_test_check_case(c, n_inputs, keys, op->fn, NULL);
}

// Every case: skipped ones with a reason and not in MUST_RUN, the others in MUST_RUN and
// matching ONNX's output; then every MUST_RUN case must have run.
static void test_onnx_node_cases(void **state) {
    (void)state;
    cg_fixture *fx = cg_test_load_fixture(FIXTURE);
    int ran = 0, skipped = 0;
    for (int i = 0; i < cg_fixture_count(fx); i++) {
        const cg_fixture_case *c = cg_fixture_case_at(fx, i);
        const char *name = cg_fixture_case_name(c), *type = cg_fixture_text(c, "op");
        const char *reason = cg_fixture_text(c, "skipped");
        if (reason) {
            if (must_run(name)) fail_msg("%s must run but is skipped: %s", name, reason);
            printf("  skipped %s (%s): %s\n", name, type, reason);
            skipped++;
            continue;
        }
        const onnx_op *op = type ? find_op(type) : NULL;
        if (!op) fail_msg("%s: no runner for op %s", name, type ? type : "(none)");
        if (!must_run(name)) fail_msg("%s runs but is not in MUST_RUN: add it", name);
        run_case(c, op);
        ran++;
    }
    cg_fixture_free(fx);
    printf("ONNX node tests: %d run, %d skipped\n", ran, skipped);
    if (ran != N_MUST_RUN) fail_msg("%d cases ran, %d must: one is missing", ran, N_MUST_RUN);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_onnx_node_cases, cg_test_teardown),
    };
    cg_test_capture_errors();
    return cmocka_run_group_tests_name("onnx_node_conv", tests, NULL, NULL);
}
