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

typedef enum conv_kind { CONV_2D, CONV_TRANSPOSE_2D, CONV_1D, CONV_TRANSPOSE_1D } conv_kind;

typedef struct conv_module {
    conv_kind kind;
    int in_channels, out_channels, kernel_h, kernel_w;
    cg_conv_options options;
} conv_module;

static bool is_1d(conv_kind k) {
    return k == CONV_1D || k == CONV_TRANSPOSE_1D;
}
static bool is_transposed(conv_kind k) {
    return k == CONV_TRANSPOSE_2D || k == CONV_TRANSPOSE_1D;
}

// An option pair as the module stores it: 0 means default, a 0 second entry repeats.
static void resolved_pair(const int *v, bool repeat, int dflt, int *h, int *w) {
    *h = repeat && v[0] == 0 ? dflt : v[0];
    *w = repeat && v[1] == 0 ? *h : v[1];
}

// PyTorch's _reversed_padding_repeated_twice: (left, right, top, bottom) for 2-D,
// (left, right) for 1-D; for `same` the smaller half goes first.
static int reversed_padding(const conv_module *c, int *pads) {
    const cg_conv_options *o = &c->options;
    int dh, dw, k[2] = {c->kernel_h, c->kernel_w}, p[2], total[2];
    resolved_pair(o->dilation, true, 1, &dh, &dw);
    resolved_pair(o->padding, false, 0, &p[0], &p[1]);
    int d[2] = {dh, dw};
    if (is_1d(c->kind)) { // index 0 is the length
        k[0] = c->kernel_w;
        d[0] = o->dilation[0] ? o->dilation[0] : 1;
    }
    int n_dims = is_1d(c->kind) ? 1 : 2;
    for (int i = 0; i < n_dims; i++) {
        int dim = n_dims - 1 - i; // reversed: the last dim first
        total[dim] = d[dim] * (k[dim] - 1);
        int before = o->padding_kind == CG_PADDING_SAME    ? total[dim] / 2
                     : o->padding_kind == CG_PADDING_VALID ? 0
                                                           : p[dim];
        int after = o->padding_kind == CG_PADDING_SAME ? total[dim] - before : before;
        pads[2 * i] = before;
        pads[2 * i + 1] = after;
    }
    return 2 * n_dims;
}

static cg_tensor *conv_forward(cg_module *m, cg_tensor *x) {
    const conv_module *c = m->impl;
    cg_tensor *w = cg_module_param(m, "weight"), *b = cg_module_param(m, "bias");
    cg_conv_options o = c->options;
    cg_tensor *padded = NULL;
    if (o.padding_mode != CG_PAD_ZEROS) {
        int pads[4];
        int n = reversed_padding(c, pads);
        padded = cg_pad(x, n, pads, o.padding_mode, 0.0f);
        if (!padded) return NULL;
        x = padded;
        o.padding_kind = CG_PADDING_EXPLICIT;
        o.padding[0] = o.padding[1] = 0;
    }
    cg_tensor *y = c->kind == CONV_2D             ? cg_conv2d(x, w, b, &o)
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

// "(3, 3)" or "(3,)" as PyTorch prints a tuple.
static int print_tuple(char *buf, size_t size, bool one_d, int h, int w) {
    return one_d ? snprintf(buf, size, "(%d,)", w) : snprintf(buf, size, "(%d, %d)", h, w);
}

static const char *padding_mode_name(cg_padding_mode mode) {
    static const char *names[] = {"zeros", "reflect", "replicate", "circular"};
    return names[mode];
}

// PyTorch's _ConvNd.extra_repr: stride always, the rest only when not the default.
static void conv_describe(const cg_module *m, char *buf, size_t size) {
    const conv_module *c = m->impl;
    const cg_conv_options *o = &c->options;
    bool one_d = is_1d(c->kind);
    int sh, sw, dh, dw, ph, pw, oph, opw;
    resolved_pair(o->stride, true, 1, &sh, &sw);
    resolved_pair(o->dilation, true, 1, &dh, &dw);
    resolved_pair(o->padding, false, 0, &ph, &pw);
    resolved_pair(o->output_padding, false, 0, &oph, &opw);
    if (one_d) { // 1-D modules keep their values at index 0
        sw = sh, dw = dh, pw = ph, opw = oph;
        sh = dh = 1, ph = oph = 0;
    }
    char t[64];
    size_t n = 0;
    print_tuple(t, sizeof t, one_d, c->kernel_h, c->kernel_w);
    n += (size_t)snprintf(buf + n, size - n, "%s(%d, %d, kernel_size=%s", m->cls->name,
                          c->in_channels, c->out_channels, t);
    print_tuple(t, sizeof t, one_d, sh, sw);
    n += (size_t)snprintf(buf + n, size - n, ", stride=%s", t);
    if (n < size && o->padding_kind != CG_PADDING_EXPLICIT)
        n += (size_t)snprintf(buf + n, size - n, ", padding=%s",
                              o->padding_kind == CG_PADDING_SAME ? "same" : "valid");
    else if (n < size && (ph || pw)) {
        print_tuple(t, sizeof t, one_d, ph, pw);
        n += (size_t)snprintf(buf + n, size - n, ", padding=%s", t);
    }
    if (n < size && (dh != 1 || dw != 1)) {
        print_tuple(t, sizeof t, one_d, dh, dw);
        n += (size_t)snprintf(buf + n, size - n, ", dilation=%s", t);
    }
    if (n < size && (oph || opw)) {
        print_tuple(t, sizeof t, one_d, oph, opw);
        n += (size_t)snprintf(buf + n, size - n, ", output_padding=%s", t);
    }
    if (n < size && o->groups > 1)
        n += (size_t)snprintf(buf + n, size - n, ", groups=%d", o->groups);
    if (n < size && o->no_bias) n += (size_t)snprintf(buf + n, size - n, ", bias=False");
    if (n < size && o->padding_mode != CG_PAD_ZEROS)
        n += (size_t)snprintf(buf + n, size - n, ", padding_mode=%s",
                              padding_mode_name(o->padding_mode));
    if (n < size) snprintf(buf + n, size - n, ")");
}

static const cg_module_class conv2d_class = {"Conv2d", conv_forward, NULL, conv_describe};
static const cg_module_class conv_transpose2d_class = {"ConvTranspose2d", conv_forward, NULL,
                                                       conv_describe};
static const cg_module_class conv1d_class = {"Conv1d", conv_forward, NULL, conv_describe};
static const cg_module_class conv_transpose1d_class = {"ConvTranspose1d", conv_forward, NULL,
                                                       conv_describe};

// Constructor checks PyTorch makes in _ConvNd.__init__.
static bool check_module_args(const cg_module_class *cls, conv_kind kind, int in, int out, int kh,
                              int kw, const cg_conv_options *o) {
    int groups = o->groups == 0 ? 1 : o->groups;
    if (in <= 0 || out <= 0 || kh <= 0 || kw <= 0 || groups <= 0) {
        cg_error(CG_ERR_ARG,
                 "%s: in_channels=%d, out_channels=%d, kernel_size=(%d, %d) and groups=%d "
                 "must be positive",
                 cls->name, in, out, kh, kw, groups);
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
                 cls->name, cls->name, padding_mode_name(o->padding_mode));
        return false;
    }
    if ((unsigned)o->padding_mode > CG_PAD_CIRCULAR) {
        cg_error(CG_ERR_ARG, "%s: unknown padding_mode %d", cls->name, (int)o->padding_mode);
        return false;
    }
    int s0 = o->stride[0], s1 = is_1d(kind) ? 0 : o->stride[1];
    if (o->padding_kind == CG_PADDING_SAME && ((s0 != 0 && s0 != 1) || (s1 != 0 && s1 != 1))) {
        cg_error(CG_ERR_ARG, "%s: padding='same' is not supported for strided convolutions",
                 cls->name);
        return false;
    }
    return true;
}

static cg_module *make_conv(const cg_module_class *cls, conv_kind kind, int in, int out, int kh,
                            int kw, const cg_conv_options *options) {
    static const cg_conv_options defaults;
    const cg_conv_options *o = options ? options : &defaults;
    if (!check_module_args(cls, kind, in, out, kh, kw, o)) return NULL;
    cg_module *m =
        cg_module_new(cls, &(conv_module){kind, in, out, kh, kw, *o}, sizeof(conv_module));
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

cg_module *cg_Conv2d(int in_channels, int out_channels, int kernel_h, int kernel_w,
                     const cg_conv_options *options) {
    return make_conv(&conv2d_class, CONV_2D, in_channels, out_channels, kernel_h, kernel_w,
                     options);
}

cg_module *cg_ConvTranspose2d(int in_channels, int out_channels, int kernel_h, int kernel_w,
                              const cg_conv_options *options) {
    return make_conv(&conv_transpose2d_class, CONV_TRANSPOSE_2D, in_channels, out_channels,
                     kernel_h, kernel_w, options);
}

cg_module *cg_Conv1d(int in_channels, int out_channels, int kernel_size,
                     const cg_conv_options *options) {
    return make_conv(&conv1d_class, CONV_1D, in_channels, out_channels, 1, kernel_size, options);
}

cg_module *cg_ConvTranspose1d(int in_channels, int out_channels, int kernel_size,
                              const cg_conv_options *options) {
    return make_conv(&conv_transpose1d_class, CONV_TRANSPOSE_1D, in_channels, out_channels, 1,
                     kernel_size, options);
}
