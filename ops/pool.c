// ops/pool.c - what every 2-D pooling op shares: options, output sizes, windows, recording.
// The ops themselves live in ops/max_pool.c (max, adaptive max, unpool) and ops/avg_pool.c
// (average, adaptive average).
//
// Every pooling slides a window over each (H, W) plane of an (N, C, H, W) or (C, H, W)
// input; they differ in where the window of output (oh, ow) lies (cg_pool_window) and in
// what is done with it (max or mean). Planes are independent.
#include <stdio.h>
#include <string.h>

#include "pool_internal.h"

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}
static int64_t max64(int64_t a, int64_t b) {
    return a > b ? a : b;
}

// Adaptive pooling splits `in` into `out` nearly equal, possibly overlapping ranges:
// [floor(i*in/out), ceil((i+1)*in/out)), as PyTorch's start_index/end_index.
static void adaptive_range(int64_t i, int64_t in, int64_t out, int64_t *start, int64_t *end) {
    *start = (i * in) / out;
    *end = ((i + 1) * in + out - 1) / out;
}

// The first tap of a dilated window at or after 0, as PyTorch's `while (start < 0) start +=
// dilation`.
static int64_t first_tap(int64_t start, int dilation) {
    return start >= 0 ? start : start + ((-start + dilation - 1) / dilation) * dilation;
}

pool_window cg_pool_window(const pool_geometry *g, int64_t oh, int64_t ow) {
    pool_window w = {.step_h = g->dilation[0], .step_w = g->dilation[1]};
    if (g->adaptive) {
        adaptive_range(oh, g->H, g->OH, &w.h0, &w.h1);
        adaptive_range(ow, g->W, g->OW, &w.w0, &w.w1);
        w.divisor = (w.h1 - w.h0) * (w.w1 - w.w0);
        return w;
    }
    int64_t h0 = oh * g->stride[0] - g->padding[0], w0 = ow * g->stride[1] - g->padding[1];
    int64_t span_h = (int64_t)(g->kernel[0] - 1) * g->dilation[0] + 1;
    int64_t span_w = (int64_t)(g->kernel[1] - 1) * g->dilation[1] + 1;
    // count_include_pad: the divisor counts padding but not the part of a ceil_mode window
    // that runs past the padded input (PyTorch's pool_size before clipping).
    int64_t h1 = min64(h0 + span_h, g->H + g->padding[0]);
    int64_t w1 = min64(w0 + span_w, g->W + g->padding[1]);
    w.divisor = (h1 - h0) * (w1 - w0);
    w.h0 = first_tap(h0, g->dilation[0]);
    w.w0 = first_tap(w0, g->dilation[1]);
    w.h1 = min64(h1, g->H);
    w.w1 = min64(w1, g->W);
    if (g->exclude_pad) w.divisor = max64(w.h1 - w.h0, 0) * max64(w.w1 - w.w0, 0);
    if (g->divisor_override) w.divisor = g->divisor_override;
    return w;
}

static int64_t floor_div(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// PyTorch's pooling_output_shape: with ceil_mode the last window must still start inside
// the input or its left padding.
static int64_t pooled_size(int64_t in, int kernel, int stride, int pad, int dilation,
                           bool ceil_mode) {
    int64_t span = (int64_t)(kernel - 1) * dilation + 1;
    int64_t out = floor_div(in + 2 * pad - span + (ceil_mode ? stride - 1 : 0), stride) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) out--;
    return out;
}

static int check_resolved(const char *op, const cg_pool_options *r) {
    const int *k = r->kernel_size_hw, *s = r->stride_hw, *p = r->padding_hw, *d = r->dilation_hw;
    for (int i = 0; i < 2; i++) {
        if (k[i] <= 0 || s[i] <= 0 || p[i] < 0 || d[i] <= 0) {
            cg_error(CG_ERR_ARG,
                     "%s: kernel_size (%d, %d), stride (%d, %d) and dilation (%d, %d) must be > 0 "
                     "and padding (%d, %d) >= 0",
                     op, k[0], k[1], s[0], s[1], d[0], d[1], p[0], p[1]);
            return -1;
        }
        // PyTorch 1.13 bounds the padding by the kernel size alone, whatever the dilation
        if (p[i] > k[i] / 2) {
            cg_error(CG_ERR_ARG,
                     "%s: padding (%d, %d) should be at most half of the kernel size (%d, %d)", op,
                     p[0], p[1], k[0], k[1]);
            return -1;
        }
    }
    return 0;
}

int cg_pool_options_resolve(const char *op, const cg_pool_options *o, cg_pool_options *out) {
    if (!o) {
        cg_error(CG_ERR_ARG, "%s: options are NULL (kernel_size is required)", op);
        return -1;
    }
    cg_pool_options r = {.ceil_mode = o->ceil_mode,
                         .exclude_pad = o->exclude_pad,
                         .divisor_override = o->divisor_override};
    cg_option_hw(o->kernel_size, o->kernel_size_hw, 0, 0, r.kernel_size_hw);
    cg_option_hw(o->stride, o->stride_hw, r.kernel_size_hw[0], r.kernel_size_hw[1], r.stride_hw);
    cg_option_hw(o->padding, o->padding_hw, 0, 0, r.padding_hw);
    cg_option_hw(o->dilation, o->dilation_hw, 1, 1, r.dilation_hw);
    if (check_resolved(op, &r) < 0) return -1;
    *out = r;
    return 0;
}

// Planes and (H, W) of a (N, C, H, W) or (C, H, W) input.
static bool plan_input(const char *op, const cg_tensor *x, pool_geometry *g) {
    if (x->ndim != 3 && x->ndim != 4) {
        cg_error(CG_ERR_SHAPE, "%s: input must be (N, C, H, W) or (C, H, W), got %s", op,
                 cg_tensor_shape_str(x));
        return false;
    }
    g->H = x->shape[x->ndim - 2];
    g->W = x->shape[x->ndim - 1];
    if (g->H == 0 || g->W == 0) {
        cg_error(CG_ERR_SHAPE, "%s: input %s has an empty plane", op, cg_tensor_shape_str(x));
        return false;
    }
    g->planes = x->numel / (g->H * g->W);
    return true;
}

bool cg_pool_plan(const char *op, const cg_tensor *x, const cg_pool_options *options,
                  bool dilation_ok, pool_geometry *g) {
    cg_pool_options r;
    memset(g, 0, sizeof *g);
    if (cg_pool_options_resolve(op, options, &r) < 0 || !plan_input(op, x, g)) return false;
    if (!dilation_ok && (r.dilation_hw[0] != 1 || r.dilation_hw[1] != 1)) {
        cg_error(CG_ERR_ARG, "%s: takes no dilation (got dilation (%d, %d))", op, r.dilation_hw[0],
                 r.dilation_hw[1]);
        return false;
    }
    for (int i = 0; i < 2; i++) {
        g->kernel[i] = r.kernel_size_hw[i];
        g->stride[i] = r.stride_hw[i];
        g->padding[i] = r.padding_hw[i];
        g->dilation[i] = r.dilation_hw[i];
    }
    g->exclude_pad = r.exclude_pad;
    g->divisor_override = r.divisor_override;
    g->OH =
        pooled_size(g->H, g->kernel[0], g->stride[0], g->padding[0], g->dilation[0], r.ceil_mode);
    g->OW =
        pooled_size(g->W, g->kernel[1], g->stride[1], g->padding[1], g->dilation[1], r.ceil_mode);
    if (g->OH <= 0 || g->OW <= 0) {
        cg_error(CG_ERR_SHAPE,
                 "%s: input %s is too small for kernel_size (%d, %d) with padding (%d, %d) and "
                 "dilation (%d, %d): output would be %lldx%lld",
                 op, cg_tensor_shape_str(x), g->kernel[0], g->kernel[1], g->padding[0],
                 g->padding[1], g->dilation[0], g->dilation[1], (long long)g->OH, (long long)g->OW);
        return false;
    }
    return true;
}

bool cg_pool_plan_adaptive(const char *op, const cg_tensor *x, int out_h, int out_w,
                           pool_geometry *g) {
    memset(g, 0, sizeof *g);
    if ((out_h <= 0 && out_h != CG_NONE) || (out_w <= 0 && out_w != CG_NONE)) {
        cg_error(CG_ERR_ARG,
                 "%s: output size (%d, %d) must be positive, or CG_NONE to keep the input's size",
                 op, out_h, out_w);
        return false;
    }
    if (!plan_input(op, x, g)) return false;
    g->adaptive = true;
    g->dilation[0] = g->dilation[1] = 1;
    g->OH = out_h == CG_NONE ? g->H : out_h;
    g->OW = out_w == CG_NONE ? g->W : out_w;
    return true;
}

int cg_pool_output_shape(const cg_tensor *x, const pool_geometry *g, int64_t *shape) {
    for (int d = 0; d < x->ndim - 2; d++) shape[d] = x->shape[d];
    shape[x->ndim - 2] = g->OH;
    shape[x->ndim - 1] = g->OW;
    return x->ndim;
}

cg_node *cg_pool_record(const cg_op *op, cg_tensor *y, cg_tensor *x, const pool_geometry *g) {
    cg_node *n = cg_record(y, op, 1, &x);
    if (n) cg_node_set_ctx(n, g, sizeof *g);
    return n;
}

void cg_pool_for_planes(const pool_geometry *g, cg_range_fn fn, void *ctx) {
    int64_t plane = g->H * g->W > 0 ? g->H * g->W : 1;
    cg_parallel_for(g->planes, CG_PARALLEL_MIN / plane, fn, ctx);
}
