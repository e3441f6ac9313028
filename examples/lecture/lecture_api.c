// examples/lecture/lecture_api.c - every number of the lecture page, computed by cgrad
// (see lecture_api.h). Each run works in a cgrad scope and copies what the page shows into
// the result table, so nothing outlives the call but the table.
#include "lecture_api.h"

#include <cgrad.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RESULTS 32

typedef struct result {
    const char *name;
    int ndim;
    int64_t shape[CG_MAX_DIMS];
    int64_t size;
    float *data;
} result;

static result results[MAX_RESULTS];
static int n_results;
static char error_text[1024];

// ---- the result table -----------------------------------------------------------------

static void clear_results(void) {
    for (int i = 0; i < n_results; i++) free(results[i].data);
    n_results = 0;
    error_text[0] = '\0';
}

// Keeps a copy of t under name (t NULL: an error is pending and nothing is kept).
static void keep(const char *name, const cg_tensor *t) {
    if (!t || n_results == MAX_RESULTS) return;
    result *r = &results[n_results];
    r->data = malloc((size_t)(t->numel ? t->numel : 1) * sizeof(float));
    if (!r->data) return;
    memcpy(r->data, t->data, (size_t)t->numel * sizeof(float));
    r->name = name;
    r->ndim = t->ndim;
    memcpy(r->shape, t->shape, sizeof r->shape);
    r->size = t->numel;
    n_results++;
}

int lec_count(void) {
    return n_results;
}
const char *lec_name(int i) {
    return i >= 0 && i < n_results ? results[i].name : "";
}
int lec_find(const char *name) {
    for (int i = 0; i < n_results; i++)
        if (strcmp(results[i].name, name) == 0) return i;
    return -1;
}
int lec_ndim(int i) {
    return i >= 0 && i < n_results ? results[i].ndim : 0;
}
int lec_dim(int i, int d) {
    return i >= 0 && i < n_results && d >= 0 && d < results[i].ndim ? (int)results[i].shape[d] : 0;
}
int lec_size(int i) {
    return i >= 0 && i < n_results ? (int)results[i].size : 0;
}
const float *lec_data(int i) {
    return i >= 0 && i < n_results ? results[i].data : NULL;
}
const char *lec_error(void) {
    return error_text;
}

// ---- one run ---------------------------------------------------------------------------

typedef struct run {
    const int *p;
    bool transposed, one_d;
    cg_conv_options options; // the module's (2-D pairs; 1-D scalars for cg_Conv1d)
    int pads[4];             // left, right, top, bottom: what padding adds around x
    cg_tensor *x, *weight, *bias, *y, *x_p;
    int64_t og; // output channels per group (of the weight's dim 0)
} run;

static int64_t shape_4(int64_t *shape, int64_t a, int64_t b, int64_t c, int64_t d) {
    shape[0] = a, shape[1] = b, shape[2] = c, shape[3] = d;
    return 4;
}

// The explicit amount 'same' (PyTorch: the odd one at the end), 'valid' or numbers mean.
static void resolve_pads(run *r) {
    const int *p = r->p;
    int k[2] = {p[LEC_KH], p[LEC_KW]}, d[2] = {p[LEC_DILATION_H], p[LEC_DILATION_W]},
        n[2] = {p[LEC_PAD_H], p[LEC_PAD_W]};
    for (int a = 0; a < 2; a++) {
        int before = n[a], after = n[a];
        if (p[LEC_PADDING_KIND] == CG_PADDING_VALID) before = after = 0;
        if (p[LEC_PADDING_KIND] == CG_PADDING_SAME) {
            int total = d[a] * (k[a] - 1);
            before = total / 2, after = total - total / 2;
        }
        r->pads[2 - 2 * a] = before, r->pads[3 - 2 * a] = after; // width first, as F.pad
    }
    if (r->transposed) memset(r->pads, 0, sizeof r->pads);
}

static void set_options(run *r) {
    const int *p = r->p;
    cg_conv_options *o = &r->options;
    *o = (cg_conv_options){.groups = p[LEC_GROUPS],
                           .padding_kind = (cg_padding_kind)p[LEC_PADDING_KIND],
                           .padding_mode = (cg_padding_mode)p[LEC_PADDING_MODE],
                           .no_bias = !p[LEC_BIAS]};
    if (r->one_d) {
        o->stride = p[LEC_STRIDE_W], o->padding = p[LEC_PAD_W];
        o->dilation = p[LEC_DILATION_W], o->output_padding = p[LEC_OUT_PAD_W];
        return;
    }
    o->stride_hw[0] = p[LEC_STRIDE_H], o->stride_hw[1] = p[LEC_STRIDE_W];
    o->padding_hw[0] = p[LEC_PAD_H], o->padding_hw[1] = p[LEC_PAD_W];
    o->dilation_hw[0] = p[LEC_DILATION_H], o->dilation_hw[1] = p[LEC_DILATION_W];
    o->output_padding_hw[0] = p[LEC_OUT_PAD_H], o->output_padding_hw[1] = p[LEC_OUT_PAD_W];
    o->kernel_size_hw[0] = p[LEC_KH], o->kernel_size_hw[1] = p[LEC_KW];
}

// The module the user asked for, with the page's weight and bias copied in.
static cg_module *make_module(run *r, const float *weight, const float *bias) {
    const int *p = r->p;
    cg_module *m = r->one_d        ? cg_Conv1d(p[LEC_C_IN], p[LEC_C_OUT], p[LEC_KW], &r->options)
                   : r->transposed ? cg_ConvTranspose2d(p[LEC_C_IN], p[LEC_C_OUT], 0, &r->options)
                                   : cg_Conv2d(p[LEC_C_IN], p[LEC_C_OUT], 0, &r->options);
    if (!m) return NULL;
    cg_tensor *w = cg_module_param(m, "weight"), *b = cg_module_param(m, "bias");
    memcpy(w->data, weight, (size_t)w->numel * sizeof(float));
    if (b) memcpy(b->data, bias, (size_t)b->numel * sizeof(float));
    return m;
}

// The 2-D view of a (possibly 1-D) tensor: a height of 1 inserted before the last dim.
static cg_tensor *as_2d(run *r, cg_tensor *t) {
    return r->one_d ? cg_unsqueeze(t, t->ndim - 1) : t;
}

// The options of the convolution on x_p (padding already applied): stride, dilation, groups.
static cg_conv_options unpadded_options(const run *r) {
    const int *p = r->p;
    return (cg_conv_options){.stride_hw = {p[LEC_STRIDE_H], p[LEC_STRIDE_W]},
                             .dilation_hw = {p[LEC_DILATION_H], p[LEC_DILATION_W]},
                             .groups = p[LEC_GROUPS]};
}

// 1. Sliding window: the definition over x_p, and the products of one window.
static void sliding_window(run *r, cg_tensor *cols, cg_tensor *w_flat) {
    cg_conv_options o = unpadded_options(r);
    keep("direct", cg_conv2d_direct(r->x_p, r->weight, r->bias, &o));
    int64_t o_ch = r->p[LEC_WINDOW_O], pos = r->p[LEC_WINDOW_POS], kk = w_flat->shape[1];
    if (o_ch < 0 || o_ch >= w_flat->shape[0] || pos < 0 || pos >= cols->shape[2]) return;
    cg_tensor *column = cg_narrow(cg_narrow(cols, 2, pos, 1), 1, o_ch / r->og * kk, kk);
    cg_tensor *products =
        cg_mul(cg_reshape(column, 1, &kk), cg_reshape(cg_narrow(w_flat, 0, o_ch, 1), 1, &kk));
    keep("window", products);
    cg_tensor *sum = cg_sum(products, 0, NULL, false);
    if (r->bias) sum = cg_add(sum, cg_narrow(r->bias, 0, o_ch, 1));
    keep("window_sum", sum);
}

// 2. im2col: cols (C_in*kH*kW, L) and w_flat (C_out, C_in/g*kH*kW); per group
//    w_flat_g x cols_g, plus bias, reshaped to (C_out, H_out, W_out).
static void im2col(run *r) {
    const int *p = r->p;
    cg_fold_options f = {.kernel_size_hw = {p[LEC_KH], p[LEC_KW]},
                         .dilation_hw = {p[LEC_DILATION_H], p[LEC_DILATION_W]},
                         .stride_hw = {p[LEC_STRIDE_H], p[LEC_STRIDE_W]}};
    cg_tensor *cols = cg_unfold(r->x_p, &f); // (1, C_in*kk, L)
    cg_tensor *w_flat = cg_flatten(r->weight, 1, -1);
    if (!cols || !w_flat) return;
    int64_t kk = w_flat->shape[1], L = cols->shape[2], groups = p[LEC_GROUPS];
    cg_tensor *prod = cg_empty(2, (int64_t[]){w_flat->shape[0], L});
    for (int64_t g = 0; g < groups; g++) {
        cg_tensor *part =
            cg_matmul(cg_narrow(w_flat, 0, g * r->og, r->og),
                      cg_reshape(cg_narrow(cols, 1, g * kk, kk), 2, (int64_t[]){kk, L}));
        if (!part) return;
        memcpy(prod->data + g * r->og * L, part->data, (size_t)part->numel * sizeof(float));
    }
    if (r->bias) prod = cg_add(prod, cg_reshape(r->bias, 2, (int64_t[]){-1, 1}));
    keep("cols", cg_reshape(cols, 2, (int64_t[]){cols->shape[1], L}));
    keep("w_flat", w_flat);
    keep("col_prod", cg_reshape(prod, r->y->ndim, r->y->shape));
    sliding_window(r, cols, w_flat);
}

// conv_transpose2d(t, weight) over x_p's size (the leftover rows the windows never reach
// come back as output_padding), cropped to x when M acts on x: = M^T vec(t).
static cg_tensor *transpose_of_conv(run *r, cg_tensor *t, bool m_on_x) {
    const int *p = r->p;
    cg_conv_options o = unpadded_options(r);
    int64_t hp = r->x_p->shape[2], wp = r->x_p->shape[3], ho = t->shape[2], wo = t->shape[3];
    o.output_padding_hw[0] =
        (int)(hp - ((ho - 1) * p[LEC_STRIDE_H] + p[LEC_DILATION_H] * (p[LEC_KH] - 1) + 1));
    o.output_padding_hw[1] =
        (int)(wp - ((wo - 1) * p[LEC_STRIDE_W] + p[LEC_DILATION_W] * (p[LEC_KW] - 1) + 1));
    cg_tensor *full = cg_conv_transpose2d(t, r->weight, NULL, &o);
    if (!full || !m_on_x) return full;
    return cg_narrow(cg_narrow(full, 2, r->pads[2], r->x->shape[2]), 3, r->pads[0], r->x->shape[3]);
}

// M vec(v) (or M^T vec(v)) + bias, reshaped to `like`.
static cg_tensor *apply(cg_tensor *m, cg_tensor *v, cg_tensor *bias, const cg_tensor *like) {
    cg_tensor *mv = cg_matmul(m, cg_reshape(v, 2, (int64_t[]){-1, 1}));
    if (mv && bias)
        mv = cg_add(cg_reshape(mv, 2, (int64_t[]){bias->numel, -1}),
                    cg_reshape(bias, 2, (int64_t[]){-1, 1}));
    return mv ? cg_reshape(mv, like->ndim, like->shape) : NULL;
}

// 3. The unrolled kernel M. Conv: on x (zeros padding: the padding drops columns) or on x_p
//    (other modes); transposed: M of the conv2d this one transposes, so y = M^T x.
static void unrolled(run *r) {
    if (r->transposed) {
        cg_conv_options o = r->options;
        o.output_padding_hw[0] = o.output_padding_hw[1] = 0;
        o.kernel_size_hw[0] = o.kernel_size_hw[1] = 0;
        cg_tensor *m = cg_conv2d_matrix(r->weight, (int)r->y->shape[2], (int)r->y->shape[3], &o);
        if (!m) return;
        keep("M", m);
        if (m->shape[0] != r->x->numel) return; // output_padding >= stride: no such conv2d
        keep("M_x", apply(cg_transpose(m, 0, 1), r->x, r->bias, r->y));
        keep("Mt_y", apply(m, r->y, NULL, r->x));
        keep("tconv_y", cg_conv2d(r->y, r->weight, NULL, &o));
        return;
    }
    bool m_on_x = r->options.padding_mode == CG_PAD_ZEROS;
    cg_conv_options o = unpadded_options(r);
    const cg_tensor *space = m_on_x ? r->x : r->x_p;
    if (m_on_x) {
        o.padding_hw[0] = r->pads[2], o.padding_hw[1] = r->pads[0];
        if (r->pads[2] != r->pads[3] || r->pads[0] != r->pads[1]) o.padding_kind = CG_PADDING_SAME;
    }
    cg_tensor *m = cg_conv2d_matrix(r->weight, (int)space->shape[2], (int)space->shape[3], &o);
    if (!m) return;
    keep("M", m);
    keep("M_x", apply(m, m_on_x ? r->x : r->x_p, r->bias, r->y));
    keep("Mt_y", apply(cg_transpose(m, 0, 1), r->y, NULL, space));
    keep("tconv_y", transpose_of_conv(r, r->y, m_on_x));
}

// dW as a convolution: channels of `a` as a batch of images, channels of `b` as kernels
// (per group), cropped to the kernel size: result[b_ch][a_ch] (the weight's layout).
static cg_tensor *weight_grad_as_conv(run *r, cg_tensor *a, cg_tensor *b, int pad_h, int pad_w) {
    const int *p = r->p;
    int64_t groups = p[LEC_GROUPS], ca = a->shape[1] / groups, cb = b->shape[1] / groups;
    int64_t kh = p[LEC_KH], kw = p[LEC_KW], shape[4];
    cg_tensor *dw = cg_empty((int)shape_4(shape, cb * groups, ca, kh, kw), shape);
    cg_conv_options o = {.stride_hw = {p[LEC_DILATION_H], p[LEC_DILATION_W]},
                         .dilation_hw = {p[LEC_STRIDE_H], p[LEC_STRIDE_W]},
                         .padding_hw = {pad_h, pad_w}};
    for (int64_t g = 0; g < groups; g++) {
        cg_tensor *images = cg_permute(cg_narrow(a, 1, g * ca, ca), (int[]){1, 0, 2, 3});
        cg_tensor *kernels = cg_permute(cg_narrow(b, 1, g * cb, cb), (int[]){1, 0, 2, 3});
        cg_tensor *c = cg_conv2d(images, kernels, NULL, &o); // (ca, cb, >= kh, >= kw)
        if (!c) return NULL;
        for (int64_t i = 0; i < ca; i++)
            for (int64_t j = 0; j < cb; j++)
                for (int64_t u = 0; u < kh; u++)
                    for (int64_t v = 0; v < kw; v++)
                        dw->data[(((g * cb + j) * ca + i) * kh + u) * kw + v] =
                            c->data[((i * cb + j) * c->shape[2] + u) * c->shape[3] + v];
    }
    return dw;
}

static cg_tensor *loss_gradient(run *r) {
    switch (r->p[LEC_GRAD_KIND]) {
    case 1: {
        cg_rng rng;
        cg_rng_seed(&rng, (uint64_t)r->p[LEC_GRAD_SEED]);
        return cg_randn(r->y->ndim, r->y->shape, &rng);
    }
    case 2:
        return cg_detach(r->y);
    default:
        return cg_ones_like(r->y);
    }
}

// Backward: autograd of L = sum(y * gy) beside M^T gy as a transposed convolution and dW as
// a convolution of the input with gy.
static void backward(run *r, cg_module *m) {
    cg_tensor *gy = loss_gradient(r);
    keep("gy", gy);
    cg_tensor *x = cg_requires_grad(cg_detach(r->x), true);
    cg_tensor *y = cg_module_forward(m, r->one_d ? cg_squeeze(x, 2) : x);
    if (!y || cg_backward(cg_sum(cg_mul(y, r->one_d ? cg_squeeze(gy, 2) : gy), 0, NULL, false)) < 0)
        return;
    cg_tensor *w = cg_module_param(m, "weight"), *b = cg_module_param(m, "bias");
    keep("dx_auto", x->grad);
    keep("dw_auto", as_2d(r, w->grad));
    if (b) keep("db_auto", b->grad);
    if (r->transposed) {
        cg_conv_options o = r->options;
        o.output_padding_hw[0] = o.output_padding_hw[1] = 0;
        o.kernel_size_hw[0] = o.kernel_size_hw[1] = 0;
        keep("dx_view", cg_conv2d(gy, r->weight, NULL, &o));
        keep("dw_view", weight_grad_as_conv(r, gy, r->x, r->p[LEC_PAD_H], r->p[LEC_PAD_W]));
        return;
    }
    bool zeros = r->options.padding_mode == CG_PAD_ZEROS;
    cg_tensor *dx = transpose_of_conv(r, gy, zeros);
    if (dx && !zeros) { // the pad's own transpose (reflected/replicated/wrapped parts added back)
        cg_tensor *x2 = cg_requires_grad(cg_detach(r->x), true);
        cg_tensor *x2_p = cg_pad(x2, 4, r->pads, r->options.padding_mode, 0.0f);
        dx = x2_p && cg_backward_ex(x2_p, dx, false) == 0 ? x2->grad : NULL;
    }
    keep("dx_view", dx);
    keep("dw_view", weight_grad_as_conv(r, r->x_p, gy, 0, 0));
}

static int compute(run *r, const float *x, const float *weight, const float *bias) {
    const int *p = r->p;
    set_options(r);
    resolve_pads(r);
    cg_module *m = make_module(r, weight, bias);
    if (!m) return -1;
    int64_t shape[4];
    r->x = cg_from_data((int)shape_4(shape, 1, p[LEC_C_IN], p[LEC_H], p[LEC_W]), shape, x);
    r->weight = as_2d(r, cg_detach(cg_module_param(m, "weight")));
    cg_tensor *b = cg_module_param(m, "bias");
    r->bias = b ? cg_detach(b) : NULL;
    cg_tensor *y = cg_module_forward(m, r->one_d ? cg_squeeze(r->x, 2) : r->x);
    if (y) {
        r->og = r->weight->shape[0] / p[LEC_GROUPS];
        r->x_p = cg_pad(r->x, 4, r->pads, r->options.padding_mode, 0.0f);
        if (r->one_d) { // the 2-D code on the padded 1 x L image gives the same numbers
            keep("y_1d", y);
            cg_conv_options o = unpadded_options(r);
            y = cg_conv2d(r->x_p, r->weight, r->bias, &o);
        }
    }
    if (y) {
        r->y = cg_detach(y);
        keep("y", r->y);
        keep("x_p", r->x_p);
        if (!r->transposed) im2col(r);
        unrolled(r);
        backward(r, m);
    }
    cg_module_free(m);
    return y ? 0 : -1;
}

static void keep_quiet(cg_status status, const char *message, void *userdata) {
    (void)status, (void)message, (void)userdata;
}

int lec_run(const int *params, const float *x, const float *weight, const float *bias) {
    clear_results();
    run r = {.p = params, .transposed = params[LEC_MODE] == 1, .one_d = params[LEC_MODE] == 2};
    cg_clear_error();
    cg_set_error_handler(keep_quiet, NULL); // the page shows the message instead
    cg_scope_begin();
    int rc = compute(&r, x, weight, bias);
    cg_scope_end();
    if (cg_last_error_message()[0]) {
        strncpy(error_text, cg_last_error_message(), sizeof error_text - 1);
        error_text[sizeof error_text - 1] = '\0';
    }
    return rc < 0 || error_text[0] ? -1 : 0;
}
