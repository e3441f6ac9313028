// tests/test_onnx.c - ONNX export (io/onnx.h): every module kind exported to
// <build>/tests/onnx/<case>.onnx with a random input and cgrad's output at two batch sizes
// (raw little-endian float32, listed in manifest.json), which tests/onnx/check_onnx.py
// (onnx.checker, full_check) and tests/onnx/run_ort.js (ONNX Runtime, outputs to 1e-5)
// read afterwards; here the structure (op types, initializer names, the symbolic batch)
// and the refusals: an op without ONNX form named with its module, training-mode layers,
// bad arguments, an output without graph.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../io/onnx_internal.h"
#include "../ops/registry.h"
#include "testing.h"

#define OUT_DIR CG_TEST_TMP_DIR "/onnx"

// ---- a user module class: a residual block whose forward uses built-in ops ----------------
// relu(bn2(conv2(relu(bn1(conv1(x))))) + x)
static cg_tensor *block_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *h = cg_module_forward(m->children[0], x);
    h = cg_relu(cg_module_forward(m->children[1], h));
    h = cg_module_forward(m->children[3], cg_module_forward(m->children[2], h));
    return cg_relu(cg_add(h, x));
}
static const cg_module_class block_class = {.name = "Block", .forward = block_forward};
static cg_module *block(int c) {
    cg_module *m = cg_module_new(&block_class, NULL, 0);
    cg_module_add_child(m, "conv1", cg_Conv2d(c, c, 3, &(cg_conv_options){.padding = 1}));
    cg_module_add_child(m, "bn1", cg_BatchNorm2d(c, NULL));
    cg_module_add_child(m, "conv2", cg_Conv2d(c, c, 3, &(cg_conv_options){.padding = 1}));
    cg_module_add_child(m, "bn2", cg_BatchNorm2d(c, NULL));
    return m;
}

// A user module of elementwise and shape ops on (N, C, L) with a weight (C, C):
// cat, permute, matmul, the binary and scalar arithmetic, exp, log, sqrt, abs, pow, clamp,
// sum, mean, max, min, var and narrow.
static cg_tensor *user_ops_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *w = m->params[0];
    cg_tensor *t = cg_permute(x, (const int[]){0, 2, 1});    // (N, L, C)
    t = cg_permute(cg_matmul(t, w), (const int[]){0, 2, 1}); // (N, C, L)
    cg_tensor *a = cg_sqrt(cg_add_scalar(cg_abs(t), 1));     // > 0
    cg_tensor *b = cg_log(cg_add_scalar(cg_exp(cg_neg(cg_clamp(x, -2, 2))), 0.5f));
    cg_tensor *c =
        cg_div(cg_sub(cg_mul(a, b), cg_pow(a, 1.5f)), cg_rsub_scalar(3, cg_rdiv_scalar(1, a)));
    cg_tensor *d = cg_div_scalar(cg_sub_scalar(cg_mul_scalar(c, 2), 0.25f), 4);
    cg_tensor *e = cg_cat(3, (cg_tensor *[]){d, x, t}, 1);             // (N, 3C, L)
    e = cg_cat(2, (cg_tensor *[]){e, cg_narrow(e, 2, 1, 3)}, 2);       // (N, 3C, L + 3)
    cg_tensor *s = cg_sum(e, 1, (const int[]){2}, true);               // (N, 3C, 1)
    cg_tensor *total = cg_sum(e, CG_DIMS(1, 2), false);                // (N)
    cg_tensor *bias = cg_reshape(total, CG_SHAPE(-1, 1, 1));           // (N, 1, 1)
    cg_tensor *peaks = cg_sub(cg_max(e, 2, true), cg_min(e, 1, true)); // (N, 3C, L + 3)
    peaks = cg_add(peaks, cg_var(e, CG_DIMS(1, 2), 1, true));          // + (N, 1, 1)
    return cg_add(
        cg_add(cg_add(e, cg_mean(s, 1, (const int[]){1}, true)), cg_mul_scalar(bias, 0.1f)),
        cg_mul_scalar(peaks, 0.5f));
}
static const cg_module_class user_ops_class = {.name = "UserOps", .forward = user_ops_forward};
static cg_module *user_ops(void) {
    cg_module *m = cg_module_new(&user_ops_class, NULL, 0);
    cg_module_add_param(m, "weight", cg_randn(CG_SHAPE(3, 3), NULL));
    return m;
}

// A module whose forward uses an op ONNX export does not know (mse_loss against its weight).
static cg_tensor *lossy_forward(cg_module *m, cg_tensor *x) {
    return cg_mse_loss(x, m->params[0], NULL);
}
static const cg_module_class lossy_class = {.name = "Lossy", .forward = lossy_forward};
// One without parameters: its module is known from the trace alone (l1_loss has no row).
static cg_tensor *gap_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    return cg_l1_loss(x, cg_relu(x), NULL);
}
static const cg_module_class gap_class = {.name = "Gap", .forward = gap_forward};
// A mask computed from the input by an op that records nothing (a comparison).
static cg_tensor *mask_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    return cg_mul(x, cg_gt_scalar(x, 0));
}
static const cg_module_class mask_class = {.name = "Mask", .forward = mask_forward};
// A variance over the batch: its divisor is the traced batch size.
static cg_tensor *spread_forward(cg_module *m, cg_tensor *x) {
    (void)m;
    return cg_var(x, CG_DIMS(0), 1, true);
}
static const cg_module_class spread_class = {.name = "Spread", .forward = spread_forward};

// Unpooling with indices of its own (each input to the corner of its window).
static cg_tensor *foreign_indices_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *indices = cg_zeros(4, x->shape);
    return cg_MaxUnpool2d_forward(m->children[0], x, indices, 0, 0);
}
static const cg_module_class foreign_indices_class = {.name = "ForeignIndices",
                                                      .forward = foreign_indices_forward};

#define SEQ(...)                                                                                   \
    cg_Sequential(sizeof((cg_module *[]){__VA_ARGS__}) / sizeof(cg_module *),                      \
                  (cg_module *[]){__VA_ARGS__})

static cg_module *mnist_like(void) {
    return SEQ(cg_Conv2d(1, 8, 3, &(cg_conv_options){.padding = 1}), cg_BatchNorm2d(8, NULL),
               cg_ReLU(), cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
               cg_Conv2d(8, 16, 3, NULL), cg_ReLU(), cg_AdaptiveAvgPool2d(1, 1), cg_Flatten(1, -1),
               cg_Dropout(NULL), cg_Linear(16, 10, NULL), cg_LogSoftmax(1));
}
// The examples' models (examples/mnist_cnn.c small and big, examples/conv_autoencoder.c),
// as they build them; their --onnx flag exports them trained.
static cg_module *conv3x3(int in, int out, bool bias) {
    return cg_Conv2d(in, out, 3, &(cg_conv_options){.padding = 1, .no_bias = !bias});
}
static cg_module *mnist_cnn_small(void) {
    return SEQ(conv3x3(1, 8, true), cg_ReLU(), cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
               conv3x3(8, 16, true), cg_ReLU(), cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
               cg_Flatten(1, -1), cg_Linear(16 * 7 * 7, 10, NULL));
}
static cg_module *mnist_cnn_big(void) {
    return SEQ(
        conv3x3(1, 16, false), cg_BatchNorm2d(16, NULL), cg_ReLU(), conv3x3(16, 16, false),
        cg_BatchNorm2d(16, NULL), cg_ReLU(), cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
        conv3x3(16, 32, false), cg_BatchNorm2d(32, NULL), cg_ReLU(), conv3x3(32, 32, false),
        cg_BatchNorm2d(32, NULL), cg_ReLU(), cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
        cg_Flatten(1, -1), cg_Dropout(NULL), cg_Linear(32 * 7 * 7, 128, NULL), cg_ReLU(),
        cg_Dropout(NULL), cg_Linear(128, 10, NULL));
}
static cg_module *autoencoder(void) {
    const cg_conv_options down = {.stride = 2, .padding = 1};
    const cg_conv_options up = {.stride = 2, .padding = 1, .output_padding = 1};
    return SEQ(cg_Conv2d(1, 16, 3, &down), cg_ReLU(), cg_Conv2d(16, 32, 3, &down), cg_ReLU(),
               cg_ConvTranspose2d(32, 16, 3, &up), cg_ReLU(), cg_ConvTranspose2d(16, 1, 3, &up),
               cg_Sigmoid());
}

static cg_module *conv_options(void) {
    return SEQ(
        cg_Conv2d(
            4, 6, 3,
            &(cg_conv_options){.stride = 2, .padding_hw = {1, 2}, .dilation = 2, .groups = 2}),
        cg_Conv2d(6, 4, 4, &(cg_conv_options){.padding_kind = CG_PADDING_SAME, .no_bias = true}),
        cg_Conv2d(4, 2, 2, &(cg_conv_options){.stride_hw = {1, 2}, .groups = 2}));
}
static cg_module *conv_relu_pool(void) { // fused: conv2d_relu, relu_max_pool2d
    return SEQ(cg_Conv2d(3, 4, 3, NULL), cg_ReLU(), cg_Conv2d(4, 4, 3, NULL), cg_Tanh(), cg_ReLU(),
               cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}), cg_Flatten(1, -1),
               cg_Linear(64, 5, NULL), cg_Softmax(1));
}
static cg_module *pools(void) {
    return SEQ(cg_AvgPool2d(&(cg_pool_options){
                   .kernel_size = 3, .stride = 2, .padding = 1, .exclude_pad = true}),
               cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2, .stride = 2, .ceil_mode = true}),
               cg_AvgPool2d(&(cg_pool_options){.kernel_size = 3, .stride = 1}),
               cg_MaxPool2d(
                   &(cg_pool_options){.kernel_size = 2, .dilation = 2, .stride = 1, .padding = 1}),
               cg_AdaptiveAvgPool2d(2, 2),
               cg_Upsample(&(cg_interpolate_options){.scale_factor = 4}),
               cg_AdaptiveMaxPool2d(3, 5), cg_AdaptiveAvgPool2d(2, 2), cg_AdaptiveMaxPool2d(1, 1));
}
// divisor_override: padding, a ceil_mode window running past the padded input (12 -> 7),
// then plain windows; and the 1-D pooling.
static cg_module *divisor_override(void) {
    return SEQ(
        cg_AvgPool2d(&(cg_pool_options){
            .kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true, .divisor_override = 5}),
        cg_AvgPool2d(&(cg_pool_options){.kernel_size = 2, .divisor_override = 3}));
}
static cg_module *divisor_override_1d(void) {
    return SEQ(
        cg_AvgPool1d(&(cg_pool_options){
            .kernel_size = 3, .stride = 2, .padding = 1, .ceil_mode = true, .divisor_override = 2}),
        cg_AvgPool1d(&(cg_pool_options){.kernel_size = 2, .divisor_override = 7}));
}

// A SegNet block: conv, max pooling with indices, conv, max unpooling with those indices,
// conv. Windows do not overlap (stride = kernel), so no two inputs go to the same place.
// Children: conv1, pool, conv2, unpool, conv3; unpooled to (out_h, out_w) (0: the default).
static cg_tensor *segnet_run(cg_module *m, cg_tensor *x, int out_h, int out_w) {
    cg_tensor *indices = NULL;
    cg_tensor *h = cg_relu(cg_module_forward(m->children[0], x));
    h = cg_max_pool_forward_with_indices(m->children[1], h, &indices);
    h = cg_relu(cg_module_forward(m->children[2], h));
    h = cg_MaxUnpool2d_forward(m->children[3], h, indices, out_h, out_w);
    return cg_module_forward(m->children[4], h);
}
static cg_tensor *segnet_forward(cg_module *m, cg_tensor *x) { // 8x8 -> 4x4 -> 8x8
    return segnet_run(m, x, 0, 0);
}
static cg_tensor *segnet_sized_forward(cg_module *m, cg_tensor *x) { // 8x8 -> 4x4 -> 9x9
    return segnet_run(m, x, 9, 9); // other planes than the pooled input's
}
static const cg_module_class segnet_class = {.name = "SegNetBlock", .forward = segnet_forward};
static const cg_module_class segnet_sized_class = {.name = "SegNetBlock",
                                                   .forward = segnet_sized_forward};
static cg_module *segnet_block(const cg_module_class *cls) {
    cg_module *m = cg_module_new(cls, NULL, 0);
    const cg_pool_options window = {.kernel_size = 2};
    cg_module_add_child(m, "conv1", cg_Conv2d(2, 3, 3, &(cg_conv_options){.padding = 1}));
    cg_module_add_child(m, "pool", cg_MaxPool2d(&window));
    cg_module_add_child(m, "conv2", cg_Conv2d(3, 3, 3, &(cg_conv_options){.padding = 1}));
    cg_module_add_child(m, "unpool", cg_MaxUnpool2d(&window));
    cg_module_add_child(m, "conv3", cg_Conv2d(3, 2, 1, NULL));
    return m;
}
static cg_module *segnet(void) {
    return segnet_block(&segnet_class);
}
static cg_module *segnet_sized(void) {
    return segnet_block(&segnet_sized_class);
}
// 1-D: MaxPool1d (padding, ceil_mode) with indices, then MaxUnpool1d.
static cg_tensor *unpool_1d_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *indices = NULL;
    cg_tensor *h = cg_max_pool_forward_with_indices(m->children[0], x, &indices);
    h = cg_mul_scalar(h, 2);
    return cg_MaxUnpool1d_forward(m->children[1], h, indices, 0);
}
static const cg_module_class unpool_1d_class = {.name = "Unpool1d", .forward = unpool_1d_forward};
static cg_module *unpool_1d(void) {
    cg_module *m = cg_module_new(&unpool_1d_class, NULL, 0);
    const cg_pool_options window = {.kernel_size = 3, .stride = 3, .padding = 1};
    cg_module_add_child(m, "pool", cg_MaxPool1d(&window));
    cg_module_add_child(m, "unpool", cg_MaxUnpool1d(&window));
    return m;
}
// Overlapping windows (stride < kernel): an input that is the maximum of two windows gets
// two values (scaled apart by a weight per position) and keeps the last one; the unpooled
// length 15 is not the pooled input's 16.
static cg_tensor *unpool_overlap_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *indices = NULL;
    cg_tensor *h = cg_max_pool_forward_with_indices(m->children[0], x, &indices);
    return cg_MaxUnpool1d_forward(m->children[1], cg_mul(h, m->params[0]), indices, 0);
}
static const cg_module_class unpool_overlap_class = {.name = "UnpoolOverlap",
                                                     .forward = unpool_overlap_forward};
static cg_module *unpool_overlap(void) {
    cg_module *m = cg_module_new(&unpool_overlap_class, NULL, 0);
    const cg_pool_options window = {.kernel_size = 3, .stride = 2};
    cg_module_add_child(m, "pool", cg_MaxPool1d(&window));
    cg_module_add_child(m, "unpool", cg_MaxUnpool1d(&window));
    cg_module_add_param(m, "weight", cg_randn(CG_SHAPE(7), NULL));
    return m;
}
// AdaptiveMaxPool2d's indices (windows that tile the input: a MaxPool), unpooled back.
static cg_tensor *unpool_adaptive_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *indices = NULL;
    cg_tensor *h = cg_max_pool_forward_with_indices(m->children[0], x, &indices);
    return cg_MaxUnpool2d_forward(m->children[1], cg_tanh(h), indices, 0, 0);
}
static const cg_module_class unpool_adaptive_class = {.name = "UnpoolAdaptive",
                                                      .forward = unpool_adaptive_forward};
static cg_module *unpool_adaptive(void) {
    cg_module *m = cg_module_new(&unpool_adaptive_class, NULL, 0);
    cg_module_add_child(m, "pool", cg_AdaptiveMaxPool2d(3, 2));
    cg_module_add_child(m, "unpool", cg_MaxUnpool2d(&(cg_pool_options){.kernel_size_hw = {2, 3}}));
    return m;
}
static cg_module *batch_norm_1d(void) {
    return SEQ(cg_Linear(5, 6, NULL), cg_BatchNorm1d(6, NULL), cg_ReLU(),
               cg_BatchNorm1d(6, &(cg_batch_norm_options){.no_affine = true}),
               cg_Linear(6, 2, NULL));
}
static cg_module *residual(void) {
    return SEQ(cg_Conv2d(3, 4, 3, &(cg_conv_options){.padding = 1}), block(4),
               cg_Residual(cg_Conv2d(4, 4, 1, NULL)), cg_AdaptiveAvgPool2d(1, 1), cg_Flatten(1, -1),
               cg_Linear(4, 3, NULL));
}
static cg_module *conv_transpose(void) {
    return SEQ(cg_ConvTranspose2d(
                   4, 4, 3, &(cg_conv_options){.stride = 2, .padding = 1, .output_padding = 1}),
               cg_ReLU(),
               cg_ConvTranspose2d(4, 6, 3,
                                  &(cg_conv_options){.stride_hw = {2, 1},
                                                     .groups = 2,
                                                     .dilation = 2,
                                                     .padding_hw = {1, 0},
                                                     .no_bias = true}));
}
static cg_module *conv_1d(void) {
    return SEQ(cg_Conv1d(3, 4, 3, &(cg_conv_options){.stride = 2, .padding = 1}), cg_ReLU(),
               cg_MaxPool1d(&(cg_pool_options){.kernel_size = 2}),
               cg_AvgPool1d(&(cg_pool_options){.kernel_size = 2}),
               cg_Conv1d(4, 2, 2, &(cg_conv_options){.dilation = 2, .groups = 2}),
               cg_ConvTranspose1d(2, 3, 3, &(cg_conv_options){.stride = 2, .output_padding = 1}),
               cg_AdaptiveAvgPool1d(4));
}
static cg_module *padding_modes(void) {
    return SEQ(
        cg_Conv2d(2, 3, 3, &(cg_conv_options){.padding = 1, .padding_mode = CG_PAD_REFLECT}),
        cg_Conv2d(3, 3, 3,
                  &(cg_conv_options){.padding_hw = {2, 1}, .padding_mode = CG_PAD_REPLICATE}),
        cg_Conv2d(3, 2, 3, &(cg_conv_options){.padding = 1}),
        cg_Conv2d(2, 2, 3,
                  &(cg_conv_options){.padding_hw = {1, 2}, .padding_mode = CG_PAD_CIRCULAR}));
}
static cg_module *norms(void) {
    return SEQ(cg_Conv2d(3, 4, 3, NULL), cg_GroupNorm(2, 4, NULL),
               cg_InstanceNorm2d(4, &(cg_instance_norm_options){.affine = true}),
               cg_InstanceNorm2d(4, NULL),
               cg_GroupNorm(4, 4, &(cg_norm_options){.no_affine = true}), cg_ReLU());
}
static cg_module *layer_norm(void) {
    return SEQ(cg_Linear(6, 8, NULL), cg_LayerNorm(CG_SHAPE(8), NULL), cg_GELU(CG_GELU_NONE),
               cg_LayerNorm(CG_SHAPE(5, 8), &(cg_norm_options){.no_affine = true}),
               cg_Linear(8, 3, NULL));
}
static cg_module *resize(void) {
    return SEQ(
        cg_Upsample(&(cg_interpolate_options){.scale_factor = 2}), cg_Conv2d(2, 2, 3, NULL),
        cg_Upsample(
            &(cg_interpolate_options){.size_hw = {11, 13}, .mode = CG_INTERPOLATE_BILINEAR}),
        cg_Upsample(&(cg_interpolate_options){
            .scale_factor = 2, .mode = CG_INTERPOLATE_BILINEAR, .align_corners = true}),
        cg_Upsample(
            &(cg_interpolate_options){.size_hw = {30, 17}, .mode = CG_INTERPOLATE_NEAREST_EXACT}),
        cg_Upsample(&(cg_interpolate_options){.size_hw = {31, 19}}),
        cg_Upsample(&(cg_interpolate_options){.scale_factor = 0.5, .mode = CG_INTERPOLATE_BICUBIC}),
        cg_Upsample(&(cg_interpolate_options){.size_hw = {7, 5}, .mode = CG_INTERPOLATE_AREA}));
}
static cg_module *unflatten(void) {
    return SEQ(cg_Linear(12, 24, NULL), cg_Unflatten(1, CG_SHAPE(2, 3, 4)),
               cg_Conv2d(2, 3, 2, NULL), cg_PReLU(&(cg_prelu_options){.num_parameters = 3}),
               cg_Flatten(1, -1), cg_PReLU(NULL));
}
static cg_module *identity(void) {
    return SEQ(cg_Dropout(NULL), cg_Identity());
}

// Every activation of ops/activations.def after a Linear, options away from their defaults:
// the ones with a row in io/onnx_ops.c here; the others (a row is optional when adding an
// activation) must be refused by name (test_activations_without_row).
#define ACT_OPTS(name)  (&(cg_##name##_options){CG_SET(0.3)})
#define ACT2_OPTS(name) (&(cg_##name##_options){CG_SET(0.5), CG_SET(2.0)})
static bool has_row(const char *op) {
    return cg_onnx_emitter(cg_op_find(op)) != NULL;
}
#define ACTIVATION(name, Name, ...) {#name, has_row(#name) == want ? cg_##Name() : NULL},
#define ACTIVATION_1(name, Name, ...)                                                              \
    {#name, has_row(#name) == want ? cg_##Name(ACT_OPTS(name)) : NULL},
#define ACTIVATION_2(name, Name, ...)                                                              \
    {#name, has_row(#name) == want ? cg_##Name(ACT2_OPTS(name)) : NULL},
typedef struct named_module {
    const char *op;
    cg_module *m; // NULL where the activation is not of the kind asked for
} named_module;
// The activations with a row (want true) or without one (want false); *n gets the count.
static int pick_activations(bool want, named_module *out) {
    named_module all[] = {
#include "../ops/activations.def"
    };
    int n = 0;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (all[i].m) out[n++] = all[i];
    return n;
}
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2
static cg_module *activations(void) {
    named_module acts[40];
    int n = pick_activations(true, acts);
    acts[n++] = (named_module){"gelu_tanh", cg_GELU(CG_GELU_TANH)};
    acts[n++] = (named_module){"relu", cg_ReLU()};
    acts[n++] = (named_module){"softmin", cg_Softmin(1)};
    cg_module *layers[2 * 40];
    for (int i = 0; i < n; i++) {
        layers[2 * i] = cg_Linear(8, 8, NULL);
        layers[2 * i + 1] = acts[i].m;
    }
    return cg_Sequential(2 * n, layers);
}

typedef struct onnx_case {
    const char *name;
    cg_module *(*build)(void);
    int ndim;
    int64_t shape[4]; // batch 2; the second run uses batch 3
    int opset;
    float input_scale;     // inputs are N(0, 1) times this
    const char *expect[4]; // op types the file must hold
} onnx_case;

// clang-format off
static const onnx_case cases[] = {
    {"mnist_cnn_small", mnist_cnn_small, 4, {2, 1, 28, 28}, 17, 1, {"Conv", "MaxPool", "Flatten", "Gemm"}},
    {"mnist_cnn_big", mnist_cnn_big, 4, {2, 1, 28, 28}, 17, 1, {"BatchNormalization", "Relu", "Gemm", NULL}},
    {"autoencoder", autoencoder, 4, {2, 1, 28, 28}, 17, 1, {"ConvTranspose", "Sigmoid", NULL, NULL}},
    {"mnist_like", mnist_like, 4, {2, 1, 12, 12}, 17, 1, {"Conv", "BatchNormalization", "GlobalAveragePool", "LogSoftmax"}},
    {"mnist_like_op13", mnist_like, 4, {2, 1, 12, 12}, 13, 1, {"MaxPool", "Gemm", "Flatten"}},
    {"conv_options", conv_options, 4, {2, 4, 11, 12}, 17, 1, {"Conv", "group", "dilations", "pads"}},
    {"conv_relu_pool", conv_relu_pool, 4, {2, 3, 12, 12}, 17, 1, {"Relu", "MaxPool", "Softmax", "Tanh"}},
    {"pools", pools, 4, {2, 3, 21, 21}, 17, 1, {"ceil_mode", "GlobalMaxPool", "ReduceMax", "count_include_pad"}},
    {"divisor_override", divisor_override, 4, {2, 3, 12, 12}, 17, 1, {"AveragePool", "area_over_divisor", "Mul", NULL}},
    {"divisor_override_1d", divisor_override_1d, 3, {2, 3, 20}, 17, 1, {"AveragePool", "Mul", NULL, NULL}},
    {"segnet", segnet, 4, {2, 2, 8, 8}, 17, 1, {"MaxUnpool", "MaxPool", "Conv", NULL}},
    {"segnet_sized", segnet_sized, 4, {2, 2, 8, 8}, 17, 1, {"MaxUnpool", "plane_growth", "Div", NULL}},
    {"segnet_op13", segnet, 4, {2, 2, 8, 8}, 13, 1, {"MaxUnpool", "MaxPool", NULL, NULL}},
    {"unpool_1d", unpool_1d, 3, {2, 3, 16}, 17, 1, {"MaxUnpool", "MaxPool", "Reshape", NULL}},
    {"unpool_overlap", unpool_overlap, 3, {2, 3, 16}, 17, 1, {"MaxUnpool", "plane_growth", NULL, NULL}},
    {"unpool_adaptive", unpool_adaptive, 4, {2, 3, 6, 6}, 17, 1, {"MaxUnpool", "MaxPool", "Tanh", NULL}},
    {"batch_norm_1d", batch_norm_1d, 2, {2, 5}, 17, 1, {"BatchNormalization", "1.running_var", "Gemm", "Relu"}},
    {"residual", residual, 4, {2, 3, 8, 8}, 17, 1, {"Add", "1.bn2.running_mean", "1.conv1.weight", "Relu"}},
    {"conv_transpose", conv_transpose, 4, {2, 4, 5, 5}, 17, 1, {"ConvTranspose", "output_padding", "Relu", NULL}},
    {"conv_1d", conv_1d, 3, {2, 3, 40}, 17, 1, {"Conv", "MaxPool", "AveragePool", "Reshape"}},
    {"padding_modes", padding_modes, 4, {2, 2, 7, 8}, 17, 1, {"Pad", "reflect", "edge", "Slice"}},
    {"norms", norms, 4, {2, 3, 9, 9}, 17, 1, {"InstanceNormalization", "Reshape", "Mul", "Add"}},
    {"layer_norm", layer_norm, 3, {2, 5, 6}, 17, 1, {"LayerNormalization", "MatMul", "Erf", NULL}},
    {"layer_norm_op13", layer_norm, 3, {2, 5, 6}, 13, 1, {"ReduceMean", "Sqrt", "Erf", NULL}},
    {"resize", resize, 4, {2, 2, 5, 6}, 17, 1, {"Resize", "round_prefer_ceil", "cubic", "ReduceMean"}},
    {"unflatten", unflatten, 2, {2, 12}, 17, 1, {"Reshape", "PRelu", "Flatten", NULL}},
    {"user_ops", user_ops, 3, {2, 3, 5}, 17, 1, {"ReduceMax", "ReduceMin", "ReduceMean", "Slice"}},
    {"identity", identity, 2, {2, 3}, 17, 1, {"Identity", NULL, NULL, NULL}},
    {"activations", activations, 2, {2, 8}, 17, 3, {"HardSwish", "Selu", "Shrink", "Celu"}},
    {"activations_op13", activations, 2, {2, 8}, 13, 3, {"HardSigmoid", "Softplus", "Where", NULL}},
};
// clang-format on

static void write_floats(const char *path, const cg_tensor *t) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(t->data, sizeof(float), (size_t)t->numel, f), (size_t)t->numel);
    assert_int_equal(fclose(f), 0);
}

static void json_shape(FILE *f, const cg_tensor *t) {
    fputc('[', f);
    for (int d = 0; d < t->ndim; d++) fprintf(f, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    fputc(']', f);
}

// BatchNorm's running statistics away from 0 and 1, so using them (or not) shows.
static void randomise_buffers(cg_module *m) {
    cg_tensor_list sd = cg_module_state_dict(m);
    for (int i = 0; i < sd.count; i++) {
        cg_tensor *t = sd.items[i].tensor;
        const char *name = sd.items[i].name;
        bool var = strstr(name, "running_var") != NULL;
        if (var || strstr(name, "running_mean"))
            for (int64_t k = 0; k < t->numel; k++)
                t->data[k] = var ? 0.5f + (float)k / (float)t->numel : 0.3f * (float)(k % 3) - 0.2f;
    }
    cg_tensor_list_free(&sd);
}

static bool contains(const uint8_t *bytes, size_t size, const char *s) {
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= size; i++)
        if (memcmp(bytes + i, s, n) == 0) return true;
    return false;
}

// One case: export, structural checks, then cgrad's outputs at batch 2 and 3 for the
// runtime test; a manifest entry.
static void export_case(const onnx_case *c, FILE *manifest, bool first) {
    cg_module *m = c->build();
    assert_non_null(m);
    randomise_buffers(m);
    cg_module_eval(m);
    char path[512];
    snprintf(path, sizeof path, OUT_DIR "/%s.onnx", c->name);
    cg_scope_begin();
    cg_tensor *example = cg_randn(c->ndim, c->shape, NULL);
    cg_onnx_options o = {.opset = c->opset};
    if (cg_onnx_export(m, example, path, &o) != 0)
        fail_msg("%s: %s", c->name, cg_last_error_message());
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static uint8_t bytes[1 << 20];
    size_t size = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(size > 0 && size < sizeof bytes);
    assert_true(contains(bytes, size, "cgrad"));
    for (int k = 0; k < 4; k++)
        if (c->expect[k] && !contains(bytes, size, c->expect[k]))
            fail_msg("%s: no '%s' in the file", c->name, c->expect[k]);
    // Every parameter the forward uses is an initializer under its state_dict name.
    cg_tensor_list params = cg_module_named_parameters(m);
    for (int i = 0; i < params.count; i++)
        if (!contains(bytes, size, params.items[i].name))
            fail_msg("%s: parameter %s missing", c->name, params.items[i].name);
    cg_tensor_list_free(&params);
    assert_true(contains(bytes, size, "input") && contains(bytes, size, "output"));
    fprintf(manifest, "%s  {\"name\": \"%s\", \"file\": \"%s.onnx\", \"runs\": [",
            first ? "" : ",\n", c->name, c->name);
    for (int run = 0; run < 2; run++) {
        int64_t shape[4];
        memcpy(shape, c->shape, sizeof shape);
        shape[0] = run ? 3 : 2;
        cg_tensor *x = cg_mul_scalar(cg_randn(c->ndim, shape, NULL), c->input_scale);
        bool prev = cg_set_grad_enabled(false);
        cg_tensor *y = cg_module_forward(m, x);
        cg_set_grad_enabled(prev);
        assert_non_null(y);
        char in_path[512], out_path[512];
        snprintf(in_path, sizeof in_path, OUT_DIR "/%s.b%d.input", c->name, (int)shape[0]);
        snprintf(out_path, sizeof out_path, OUT_DIR "/%s.b%d.output", c->name, (int)shape[0]);
        write_floats(in_path, x);
        write_floats(out_path, y);
        fprintf(manifest, "%s{\"input\": \"%s.b%d.input\", \"input_shape\": ", run ? ", " : "",
                c->name, (int)shape[0]);
        json_shape(manifest, x);
        fprintf(manifest, ", \"output\": \"%s.b%d.output\", \"output_shape\": ", c->name,
                (int)shape[0]);
        json_shape(manifest, y);
        fputc('}', manifest);
    }
    fprintf(manifest, "]}");
    cg_scope_end();
    cg_module_free(m);
}

static void test_export_every_kind(void **state) {
    (void)state;
    mkdir(OUT_DIR, 0755);
    cg_manual_seed(21);
    FILE *manifest = fopen(OUT_DIR "/manifest.json", "w");
    assert_non_null(manifest);
    fprintf(manifest, "[\n");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        export_case(&cases[i], manifest, i == 0);
    fprintf(manifest, "\n]\n");
    assert_int_equal(fclose(manifest), 0);
}

// Frozen parameters (requires_grad off) still export under their names: Conv2d + eval
// BatchNorm2d, which a Sequential folds into one convolution when no parameter needs a
// gradient, stays two nodes; and the model is left frozen.
static void test_frozen_parameters(void **state) {
    (void)state;
    cg_module *m = SEQ(cg_Conv2d(1, 2, 3, NULL), cg_BatchNorm2d(2, NULL));
    cg_module_eval(m);
    cg_tensor_list params = cg_module_named_parameters(m);
    for (int i = 0; i < params.count; i++) cg_requires_grad(params.items[i].tensor, false);
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 1, 5, 5), NULL);
    assert_int_equal(cg_onnx_export(m, x, OUT_DIR "/frozen.onnx", NULL), 0);
    FILE *f = fopen(OUT_DIR "/frozen.onnx", "rb");
    assert_non_null(f);
    static uint8_t bytes[1 << 16];
    size_t size = fread(bytes, 1, sizeof bytes, f);
    fclose(f);
    assert_true(contains(bytes, size, "BatchNormalization") && contains(bytes, size, "0.weight"));
    for (int i = 0; i < params.count; i++) assert_false(params.items[i].tensor->requires_grad);
    cg_scope_end();
    cg_tensor_list_free(&params);
    cg_module_free(m);
}

// The batch dim is symbolic by default and fixed with static_batch.
static void test_batch_dim(void **state) {
    (void)state;
    cg_module *m = SEQ(cg_Linear(3, 2, NULL));
    cg_scope_begin();
    cg_tensor *x = cg_requires_grad(cg_randn(CG_SHAPE(4, 3), NULL), true);
    cg_tensor *y = cg_module_forward(m, x);
    cg_onnx_bytes b;
    assert_int_equal(cg_onnx_export_graph(m, x, y, NULL, &b), 0);
    assert_true(contains(b.data, b.size, "\x12\x01N")); // dim_param "N"
    assert_true(contains(b.data, b.size, "0.weight") && contains(b.data, b.size, "0.bias"));
    cg_onnx_bytes_free(&b);
    assert_null(b.data);
    cg_onnx_options fixed = {.static_batch = true};
    assert_int_equal(cg_onnx_export_graph(m, x, y, &fixed, &b), 0);
    assert_false(contains(b.data, b.size, "\x12\x01N"));
    cg_onnx_bytes_free(&b);
    cg_scope_end();
    cg_module_free(m);
}

static void expect_refused(cg_module *m, const cg_tensor *x, const char *message) {
    remove(OUT_DIR "/refused.onnx"); // left by an earlier run
    assert_int_equal(cg_onnx_export(m, x, OUT_DIR "/refused.onnx", NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, message);
    FILE *f = fopen(OUT_DIR "/refused.onnx", "rb"); // nothing written
    assert_null(f);
}

// An activation added without its row in io/onnx_ops.c is refused by name, not mis-exported.
static void test_activations_without_row(void **state) {
    (void)state;
    cg_test_capture_errors();
    mkdir(OUT_DIR, 0755);
    named_module missing[40];
    int n = pick_activations(false, missing);
    for (int i = 0; i < n; i++) {
        cg_scope_begin();
        cg_tensor *x = cg_randn(CG_SHAPE(2, 4), NULL);
        cg_module *m = SEQ(cg_Linear(4, 4, NULL), missing[i].m);
        cg_module_eval(m);
        char want[128];
        snprintf(want, sizeof want, "op '%s' (in module '1') cannot be exported", missing[i].op);
        expect_refused(m, x, want);
        cg_module_free(m);
        cg_scope_end();
    }
    printf("activations without an ONNX row (refused by name): %d\n", n);
}

static void test_refusals(void **state) {
    (void)state;
    cg_test_capture_errors();
    mkdir(OUT_DIR, 0755);
    cg_scope_begin();
    cg_tensor *x = cg_randn(CG_SHAPE(2, 4), NULL);
    // An op without ONNX form, named with the module its parameter belongs to.
    cg_module *lossy = cg_module_new(&lossy_class, NULL, 0);
    cg_module_add_param(lossy, "weight", cg_zeros(CG_SHAPE(2, 4)));
    cg_module *m = SEQ(cg_ReLU(), lossy);
    cg_module_eval(m);
    expect_refused(m, x, "op 'mse_loss' (in module '1') cannot be exported");
    cg_module_free(m);
    m = SEQ(cg_Linear(4, 4, NULL), cg_ReLU(), cg_module_new(&gap_class, NULL, 0));
    cg_module_eval(m);
    expect_refused(m, x, "op 'l1_loss' (in module '2') cannot be exported to ONNX");
    cg_module_free(m);
    m = SEQ(cg_Linear(4, 4, NULL), cg_module_new(&mask_class, NULL, 0));
    expect_refused(m, x, "a tensor of shape [2,4] that is not the model's reaches the graph");
    cg_module_free(m);
    m = SEQ(cg_Linear(4, 4, NULL), cg_module_new(&spread_class, NULL, 0));
    expect_refused(m, x, "op 'var' (in module '1') cannot be exported: a variance over the batch");
    cg_module_free(m);
    // Training-mode layers.
    m = SEQ(cg_Linear(4, 4, NULL), cg_BatchNorm1d(4, NULL));
    expect_refused(m, x, "batch norm in training mode");
    cg_tensor *running =
        cg_module_get(m, "1") ? cg_module_buffer(cg_module_get(m, "1"), "running_mean") : NULL;
    assert_non_null(running);
    for (int64_t i = 0; i < running->numel; i++) // the trace's update was undone
        assert_true(running->data[i] == 0.0f);
    cg_module_free(m);
    m = SEQ(cg_Dropout(NULL));
    expect_refused(m, x, "dropout in training mode");
    cg_module_free(m);
    // Unpooling indices that no traced max pooling gave.
    m = SEQ(cg_ReLU(), cg_module_new(&foreign_indices_class, NULL, 0));
    cg_module_add_child(m->children[1], "unpool",
                        cg_MaxUnpool2d(&(cg_pool_options){.kernel_size = 2}));
    expect_refused(m, cg_randn(CG_SHAPE(2, 1, 2, 2), NULL),
                   "op 'max_unpool2d' (in module '1') cannot be exported: its indices come from "
                   "no max pooling");
    cg_module_free(m);
    // Options ONNX lacks.
    cg_tensor *image = cg_randn(CG_SHAPE(1, 2, 5, 5), NULL);
    m = SEQ(
        cg_Identity(),
        cg_Sequential_named(1, (const char *[]){"resize"},
                            (cg_module *[]){cg_Upsample(&(cg_interpolate_options){
                                .size = 3, .mode = CG_INTERPOLATE_BILINEAR, .antialias = true})}));
    expect_refused(m, image,
                   "op 'interpolate' (in module '1.resize') cannot be exported: antialias");
    cg_module_free(m);
    // Bad arguments.
    m = SEQ(cg_Linear(4, 4, NULL));
    assert_int_equal(cg_onnx_export(NULL, x, "a.onnx", NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "'model' is NULL");
    assert_int_equal(cg_onnx_export(m, NULL, "a.onnx", NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "example");
    assert_int_equal(cg_onnx_export(m, x, NULL, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "'path' is NULL");
    assert_int_equal(cg_onnx_export(m, x, "a.onnx", &(cg_onnx_options){.opset = 12}), -1);
    cg_test_expect_error(CG_ERR_ARG, "opset 12 is not supported (13 to 17)");
    assert_int_equal(cg_onnx_export(m, x, "a.onnx", &(cg_onnx_options){.opset = 18}), -1);
    cg_test_expect_error(CG_ERR_ARG, "opset 18");
    assert_int_equal(cg_onnx_export(m, cg_scalar(1), "a.onnx", NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "needs a batch dim");
    assert_int_equal(cg_onnx_export(m, cg_randn(CG_SHAPE(2, 5), NULL), "a.onnx", NULL), -1);
    cg_test_expect_error(CG_ERR_SHAPE, NULL); // the forward's own error
    assert_int_equal(cg_onnx_export(m, x, "/nonexistent-dir/a.onnx", NULL), -1);
    cg_test_expect_error(CG_ERR_IO, "/nonexistent-dir/a.onnx");
    // A tensor without graph (computed with grad mode off).
    cg_onnx_bytes b = {(uint8_t *)"x", 1};
    bool prev = cg_set_grad_enabled(false);
    cg_tensor *y = cg_module_forward(m, x);
    cg_set_grad_enabled(prev);
    assert_int_equal(cg_onnx_export_graph(m, x, y, NULL, &b), -1);
    cg_test_expect_error(CG_ERR_ARG, "has no graph");
    assert_null(b.data);
    assert_int_equal(cg_onnx_export_graph(m, x, NULL, NULL, &b), -1);
    cg_test_expect_error(CG_ERR_ARG, "output");
    assert_int_equal(cg_onnx_export_graph(m, x, y, NULL, NULL), -1);
    cg_test_expect_error(CG_ERR_ARG, "'out' is NULL");
    cg_module_free(m);
    cg_scope_end();
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_export_every_kind),       cmocka_unit_test(test_batch_dim),
        cmocka_unit_test(test_frozen_parameters),       cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_activations_without_row),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
