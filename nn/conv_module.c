// nn/conv_module.c - Conv2d, ConvTranspose2d, Conv1d, ConvTranspose1d modules.
//
// Each owns "weight" and "bias" (PyTorch's default initialisation, cg_init_default_) and
// calls the functional op. A padding_mode other than zeros works as in PyTorch: the input
// is padded explicitly with cg_pad in that mode (in _reversed_padding_repeated_twice order)
// and then convolved with zero padding.
#include <stdio.h>
#include <string.h>

#include "../autograd/autograd.h"
#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "conv_module.h"
#include "init.h"
#include "layers_internal.h"

typedef enum conv_kind { CONV_2D, CONV_TRANSPOSE_2D, CONV_1D, CONV_TRANSPOSE_1D } conv_kind;

typedef struct conv_module {
    conv_kind kind;
    int in_channels, out_channels, kernel_h, kernel_w; // 1-D: kernel_h = 1
    cg_conv_options options;
    const char *cls_name;
} conv_module;

static bool is_1d(conv_kind k) {
    return k == CONV_1D || k == CONV_TRANSPOSE_1D;
}
static bool is_transposed(conv_kind k) {
    return k == CONV_TRANSPOSE_2D || k == CONV_TRANSPOSE_1D;
}

// PyTorch's _reversed_padding_repeated_twice: (left, right, top, bottom) for 2-D,
// (left, right) for 1-D; for `same` the smaller half goes first. The pairs were checked
// when the module was made.
static int reversed_padding(const conv_module *c, int *pads) {
    const cg_conv_options *o = &c->options;
    cg_conv_pairs p;
    cg_conv_options_pairs(c->cls_name, is_1d(c->kind) ? 1 : 2, o, &p);
    int k[2] = {c->kernel_h, c->kernel_w};
    int n_dims = is_1d(c->kind) ? 1 : 2;
    for (int i = 0; i < n_dims; i++) {
        int dim = 1 - i; // reversed: the last dim first (1-D keeps its length at index 1)
        int total = p.dilation[dim] * (k[dim] - 1);
        int before = o->padding_kind == CG_PADDING_SAME    ? total / 2
                     : o->padding_kind == CG_PADDING_VALID ? 0
                                                           : p.padding[dim];
        int after = o->padding_kind == CG_PADDING_SAME ? total - before : before;
        pads[2 * i] = before;
        pads[2 * i + 1] = after;
    }
    return 2 * n_dims;
}

// x through the module's op with weight w and bias b; relu (Conv2d only): through
// cg_conv2d_relu.
static cg_tensor *conv_run(cg_module *m, cg_tensor *x, cg_tensor *w, cg_tensor *b, bool relu) {
    const conv_module *c = m->impl;
    cg_conv_options o = c->options;
    cg_tensor *padded = NULL;
    if (o.padding_mode != CG_PAD_ZEROS) {
        int pads[4];
        int n = reversed_padding(c, pads);
        padded = cg_pad(x, n, pads, o.padding_mode, 0.0f);
        if (!padded) return NULL;
        x = padded;
        o.padding_kind = CG_PADDING_EXPLICIT;
        o.padding = o.padding_hw[0] = o.padding_hw[1] = 0;
    }
    cg_tensor *y = relu                           ? cg_conv2d_relu(x, w, b, &o)
                   : c->kind == CONV_2D           ? cg_conv2d(x, w, b, &o)
                   : c->kind == CONV_TRANSPOSE_2D ? cg_conv_transpose2d(x, w, b, &o)
                   : c->kind == CONV_1D           ? cg_conv1d(x, w, b, &o)
                                                  : cg_conv_transpose1d(x, w, b, &o);
    // The padded copy: an open scope frees it; with no scope, the graph owns it (saved in
    // the conv node) or, with no graph, nobody needs it after the convolution.
    if (padded && cg_scope_depth() == 0) {
        if (y && y->node)
            cg_node_save(y->node, 0, padded);
        else
            cg_free(padded);
    }
    return y;
}

static cg_tensor *conv_forward(cg_module *m, cg_tensor *x) {
    return conv_run(m, x, cg_module_param(m, "weight"), cg_module_param(m, "bias"), false);
}

// Whether autograd may need the gradient of a parameter of m or next.
static bool params_need_grad(const cg_module *m, const cg_module *next) {
    const char *names[] = {"weight", "bias"};
    bool need = false;
    for (int i = 0; i < 2 && cg_is_grad_enabled(); i++) {
        cg_tensor *p = cg_module_param(m, names[i]), *q = cg_module_param(next, names[i]);
        need |= (p && p->requires_grad) || (q && q->requires_grad);
    }
    return need;
}

// Conv2d then BatchNorm2d in eval mode: one convolution with the batch norm folded into
// its weight and bias (recomputed every call: O * C/g * kH * kW products),
//   weight'[o] = weight[o] * scale[o],  bias'[o] = bias[o] * scale[o] + shift[o].
// Only when no parameter's gradient can be asked for (grad mode off, or none requires
// grad): the folded tensors are not the parameters. The input's gradient still flows.
// Values differ from the two ops by rounding only (the products are reordered).
static cg_tensor *conv_bn_folded(cg_module *m, cg_module *bn, cg_tensor *x) {
    cg_tensor *w = cg_module_param(m, "weight"), *b = cg_module_param(m, "bias");
    int64_t O = w->shape[0], per = w->numel / O;
    double *affine = cg_alloc((size_t)(2 * O) * sizeof(double));
    cg_tensor *fw = cg_empty_like(w), *fb = cg_empty(CG_SHAPE(O)), *y = NULL;
    if (affine && fw && fb && cg_batch_norm_eval_affine(bn, O, affine, affine + O)) {
        for (int64_t o = 0; o < O; o++) {
            for (int64_t k = o * per; k < (o + 1) * per; k++)
                fw->data[k] = (float)(w->data[k] * affine[o]);
            fb->data[o] = (float)((b ? b->data[o] : 0.0) * affine[o] + affine[O + o]);
        }
        y = conv_run(m, x, fw, fb, false);
    }
    cg_dealloc(affine);
    if (y && y->node) { // the node reads them in backward: it owns them
        cg_node_save(y->node, 1, fw);
        cg_node_save(y->node, 2, fb);
    } else if (cg_scope_depth() == 0) { // else the open scope frees them
        cg_free(fw);
        cg_free(fb);
    }
    return y;
}

// Conv2d then ReLU: relu(conv2d(x)) in one op, the ReLU in the convolution's store.
// Conv2d then an eval-mode BatchNorm2d: folded (conv_bn_folded).
static bool conv_pairs_with(const cg_module *m, const cg_module *next) {
    const conv_module *c = m->impl;
    return c->kind == CONV_2D && (cg_is_relu_module(next) ||
                                  (cg_batch_norm_eval_affine(next, c->out_channels, NULL, NULL) &&
                                   !params_need_grad(m, next)));
}
static cg_tensor *conv_forward_pair(cg_module *m, cg_module *next, cg_tensor *x) {
    if (!cg_is_relu_module(next)) return conv_bn_folded(m, next, x);
    return conv_run(m, x, cg_module_param(m, "weight"), cg_module_param(m, "bias"), true);
}

// "(3, 3)" or "(3,)" as PyTorch prints a tuple.
static const char *tuple(bool one_d, int h, int w) {
    const int64_t v[2] = {h, w};
    return cg_tuple_str(CG_TUPLE_PYTHON, one_d ? 1 : 2, v + (one_d ? 1 : 0));
}

// PyTorch's _ConvNd.extra_repr: stride always, the rest only when not the default.
static void conv_describe(const cg_module *m, char *buf, size_t size) {
    const conv_module *c = m->impl;
    const cg_conv_options *o = &c->options;
    bool one_d = is_1d(c->kind);
    cg_conv_pairs p;
    cg_conv_options_pairs(c->cls_name, one_d ? 1 : 2, o, &p);
    int sh = p.stride[0], sw = p.stride[1], dh = p.dilation[0], dw = p.dilation[1];
    int ph = p.padding[0], pw = p.padding[1], oph = p.output_padding[0], opw = p.output_padding[1];
    size_t n = 0;
    n += (size_t)snprintf(buf + n, size - n, "%s(%d, %d, kernel_size=%s, stride=%s", m->cls->name,
                          c->in_channels, c->out_channels, tuple(one_d, c->kernel_h, c->kernel_w),
                          tuple(one_d, sh, sw));
    if (n < size && o->padding_kind != CG_PADDING_EXPLICIT)
        n += (size_t)snprintf(buf + n, size - n, ", padding=%s",
                              o->padding_kind == CG_PADDING_SAME ? "same" : "valid");
    else if (n < size && (ph || pw))
        n += (size_t)snprintf(buf + n, size - n, ", padding=%s", tuple(one_d, ph, pw));
    if (n < size && (dh != 1 || dw != 1))
        n += (size_t)snprintf(buf + n, size - n, ", dilation=%s", tuple(one_d, dh, dw));
    if (n < size && (oph || opw))
        n += (size_t)snprintf(buf + n, size - n, ", output_padding=%s", tuple(one_d, oph, opw));
    if (n < size && o->groups > 1)
        n += (size_t)snprintf(buf + n, size - n, ", groups=%d", o->groups);
    if (n < size && o->no_bias) n += (size_t)snprintf(buf + n, size - n, ", bias=False");
    if (n < size && o->padding_mode != CG_PAD_ZEROS)
        n += (size_t)snprintf(buf + n, size - n, ", padding_mode=%s",
                              cg_padding_mode_name(o->padding_mode));
    if (n < size) snprintf(buf + n, size - n, ")");
}

static const cg_module_class conv2d_class = {.name = "Conv2d",
                                             .forward = conv_forward,
                                             .describe = conv_describe,
                                             .pairs_with = conv_pairs_with,
                                             .forward_pair = conv_forward_pair};
static const cg_module_class conv_transpose2d_class = {
    .name = "ConvTranspose2d", .forward = conv_forward, .describe = conv_describe};
static const cg_module_class conv1d_class = {
    .name = "Conv1d", .forward = conv_forward, .describe = conv_describe};
static const cg_module_class conv_transpose1d_class = {
    .name = "ConvTranspose1d", .forward = conv_forward, .describe = conv_describe};

// Constructor checks PyTorch makes in _ConvNd.__init__.
static bool check_module_args(const cg_module_class *cls, conv_kind kind, int in, int out,
                              const cg_conv_options *o) {
    int groups = o->groups == 0 ? 1 : o->groups;
    if (in <= 0 || out <= 0 || groups <= 0) {
        cg_error(CG_ERR_ARG, "%s: in_channels=%d, out_channels=%d and groups=%d must be positive",
                 cls->name, in, out, groups);
        return false;
    }
    if (in % groups != 0 || out % groups != 0) {
        cg_error(CG_ERR_ARG,
                 "%s: %s must be divisible by groups (in_channels=%d, "
                 "out_channels=%d, groups=%d)",
                 cls->name, in % groups != 0 ? "in_channels" : "out_channels", in, out, groups);
        return false;
    }
    if (is_transposed(kind) && o->padding_mode != CG_PAD_ZEROS) {
        cg_error(CG_ERR_ARG,
                 "%s: Only \"zeros\" padding mode is supported for %s, got "
                 "padding_mode=%s",
                 cls->name, cls->name, cg_padding_mode_name(o->padding_mode));
        return false;
    }
    if ((unsigned)o->padding_mode > CG_PAD_CIRCULAR) {
        cg_error(CG_ERR_ARG, "%s: unknown padding_mode %d", cls->name, (int)o->padding_mode);
        return false;
    }
    cg_conv_pairs p;
    if (cg_conv_options_pairs(cls->name, is_1d(kind) ? 1 : 2, o, &p) < 0) return false;
    if (o->padding_kind == CG_PADDING_SAME && (p.stride[0] != 1 || p.stride[1] != 1)) {
        cg_error(CG_ERR_ARG, "%s: padding='same' is not supported for strided convolutions",
                 cls->name);
        return false;
    }
    return true;
}

static cg_module *make_conv(const cg_module_class *cls, conv_kind kind, int in, int out,
                            int kernel_size, const cg_conv_options *options) {
    static const cg_conv_options defaults;
    const cg_conv_options *o = options ? options : &defaults;
    int k[2];
    if (!check_module_args(cls, kind, in, out, o) ||
        cg_conv_kernel_size(cls->name, is_1d(kind) ? 1 : 2, kernel_size, o, k) < 0)
        return NULL;
    int kh = k[0], kw = k[1];
    // The stored options drop the kernel pair: the functional ops refuse it.
    conv_module c = {kind, in, out, kh, kw, *o, cls->name};
    c.options.kernel_size_hw[0] = c.options.kernel_size_hw[1] = 0;
    cg_module *m = cg_module_new(cls, &c, sizeof c);
    if (!m) return NULL;
    int groups = o->groups == 0 ? 1 : o->groups;
    // Conv: (out, in/g, k...); ConvTranspose: (in, out/g, k...), as PyTorch.
    int64_t d0 = is_transposed(kind) ? in : out, d1 = (is_transposed(kind) ? out : in) / groups;
    cg_tensor *weight =
        is_1d(kind) ? cg_empty(CG_SHAPE(d0, d1, kw)) : cg_empty(CG_SHAPE(d0, d1, kh, kw));
    cg_tensor *bias = o->no_bias ? NULL : cg_empty(CG_SHAPE(out));
    if (!weight || (!o->no_bias && !bias)) {
        cg_free(weight);
        cg_free(bias);
        cg_module_free(m);
        return NULL;
    }
    cg_init_default_(weight, bias, NULL);
    cg_module_add_param(m, "weight", weight);
    cg_module_add_param(m, "bias", bias);
    return m;
}

cg_module *cg_Conv2d(int in_channels, int out_channels, int kernel_size,
                     const cg_conv_options *options) {
    return make_conv(&conv2d_class, CONV_2D, in_channels, out_channels, kernel_size, options);
}

cg_module *cg_ConvTranspose2d(int in_channels, int out_channels, int kernel_size,
                              const cg_conv_options *options) {
    return make_conv(&conv_transpose2d_class, CONV_TRANSPOSE_2D, in_channels, out_channels,
                     kernel_size, options);
}

cg_module *cg_Conv1d(int in_channels, int out_channels, int kernel_size,
                     const cg_conv_options *options) {
    return make_conv(&conv1d_class, CONV_1D, in_channels, out_channels, kernel_size, options);
}

cg_module *cg_ConvTranspose1d(int in_channels, int out_channels, int kernel_size,
                              const cg_conv_options *options) {
    return make_conv(&conv_transpose1d_class, CONV_TRANSPOSE_1D, in_channels, out_channels,
                     kernel_size, options);
}
