// ops/pool.c - 2-D max, average and adaptive average pooling (torch.nn.functional.max_pool2d,
// avg_pool2d, adaptive_avg_pool2d) and their modules.
//
// All three slide a window over each (H, W) plane of an (N, C, H, W) or (C, H, W) input; they
// differ only in where the window of output (oh, ow) lies (pool_window) and in what is done
// with it (max or mean). Planes are independent, so every loop is one OpenMP loop over them.
#include <math.h>
#include <stdio.h>

#include "../autograd/op.h"
#include "../tensor/parallel.h"
#include "functional.h"

typedef struct pool_geometry {
    int64_t planes, H, W, OH, OW;
    int kernel[2], stride[2], padding[2]; // unused when adaptive
    bool adaptive;
} pool_geometry;

// Rows [h0, h1) and columns [w0, w1) of the input, clipped to it, that output (oh, ow) reads,
// and the divisor of the average.
typedef struct pool_window {
    int64_t h0, h1, w0, w1, divisor;
} pool_window;

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

static pool_window window_at(const pool_geometry *g, int64_t oh, int64_t ow) {
    pool_window w;
    if (g->adaptive) {
        adaptive_range(oh, g->H, g->OH, &w.h0, &w.h1);
        adaptive_range(ow, g->W, g->OW, &w.w0, &w.w1);
        w.divisor = (w.h1 - w.h0) * (w.w1 - w.w0);
        return w;
    }
    // count_include_pad: the divisor counts padding but not the part of a ceil_mode window
    // that runs past the padded input (PyTorch's pool_size before clipping).
    int64_t h0 = oh * g->stride[0] - g->padding[0], w0 = ow * g->stride[1] - g->padding[1];
    int64_t h1 = min64(h0 + g->kernel[0], g->H + g->padding[0]);
    int64_t w1 = min64(w0 + g->kernel[1], g->W + g->padding[1]);
    w.divisor = (h1 - h0) * (w1 - w0);
    w.h0 = max64(h0, 0);
    w.w0 = max64(w0, 0);
    w.h1 = min64(h1, g->H);
    w.w1 = min64(w1, g->W);
    return w;
}

// ---- max pooling: the output remembers where its maximum came from ----------------------

// Every window lies inside the input (no padding, no ceil_mode overhang): the common
// MaxPool2d(2) case, where window bounds need no clipping.
static bool windows_inside(const pool_geometry *g) {
    return !g->adaptive && g->padding[0] == 0 && g->padding[1] == 0 &&
           (g->OH - 1) * g->stride[0] + g->kernel[0] <= g->H &&
           (g->OW - 1) * g->stride[1] + g->kernel[1] <= g->W;
}

// MaxPool2d(2) on a plane without NaN: four loads per output, selects only, so the
// compiler vectorises it (the general loop below is scalar).
static void max_pool_plane_2x2(const pool_geometry *g, const float *xp, float *y, float *argmax) {
    const int64_t W = g->W;
    for (int64_t oh = 0; oh < g->OH; oh++) {
        const float *r0 = xp + 2 * oh * W, *r1 = r0 + W;
        for (int64_t ow = 0; ow < g->OW; ow++) {
            float a = r0[2 * ow], b = r0[2 * ow + 1], c = r1[2 * ow], d = r1[2 * ow + 1];
            float top = b > a ? b : a, bottom = d > c ? d : c, best = bottom > top ? bottom : top;
            // The first of the four in row-major order that holds the maximum (PyTorch's).
            // Arithmetic, not ?: chains, which compile to mispredicted branches.
            int64_t is_a = a == best, is_b = b == best, is_c = c == best;
            int64_t at = (1 - is_a) * (is_b + (1 - is_b) * (W + 1 - is_c));
            y[oh * g->OW + ow] = best;
            argmax[oh * g->OW + ow] = (float)(2 * oh * W + 2 * ow + at);
        }
    }
}

static bool plane_has_nan(const float *xp, int64_t n) {
    int nan = 0;
    for (int64_t i = 0; i < n; i++) nan |= xp[i] != xp[i];
    return nan != 0;
}

// One plane of max_pool_forward when windows_inside(g).
static void max_pool_plane_inside(const pool_geometry *g, const float *xp, float *y,
                                  float *argmax) {
    const int64_t W = g->W, kh = g->kernel[0], kw = g->kernel[1];
    for (int64_t oh = 0; oh < g->OH; oh++) {
        for (int64_t ow = 0; ow < g->OW; ow++) {
            // Branch-free: which tap wins is random, so a compare-and-branch mispredicts about
            // half the time. First the maximum (maxss), then the first tap that equals it.
            int64_t start = oh * g->stride[0] * W + ow * g->stride[1], best_at = start;
            float best = xp[start];
            int has_nan = 0;
            for (int64_t h = 0; h < kh; h++)
                for (int64_t c = 0; c < kw; c++) {
                    float v = xp[start + h * W + c];
                    best = v > best ? v : best;
                    has_nan |= v != v;
                }
            for (int64_t h = kh - 1; h >= 0; h--)
                for (int64_t c = kw - 1; c >= 0; c--) {
                    int64_t at = start + h * W + c, take = -(int64_t)(xp[at] == best);
                    best_at ^= (best_at ^ at) & take; // at if equal: a mask, so no branch
                }
            if (has_nan) { // NaN propagates and the last NaN wins, as PyTorch's
                for (int64_t h = 0; h < kh; h++)     // `val > max || isnan(val)` (and the
                    for (int64_t c = 0; c < kw; c++) // general path below)
                        if (xp[start + h * W + c] != xp[start + h * W + c])
                            best_at = start + h * W + c;
                best = xp[best_at];
            }
            y[oh * g->OW + ow] = best;
            argmax[oh * g->OW + ow] = (float)best_at;
        }
    }
}

// x (planes, H, W) -> y (planes, OH, OW), argmax (planes, OH, OW) as flat indices in a plane
static void max_pool_forward(const pool_geometry *g, const float *x, float *y, float *argmax) {
    bool inside = windows_inside(g);
    bool pool_2x2 =
        inside && g->kernel[0] == 2 && g->kernel[1] == 2 && g->stride[0] == 2 && g->stride[1] == 2;
#pragma omp parallel for num_threads(cg_num_threads()) if (g->planes > 1)
    for (int64_t p = 0; p < g->planes; p++) {
        const float *xp = x + p * g->H * g->W;
        float *yp = y + p * g->OH * g->OW, *ap = argmax + p * g->OH * g->OW;
        if (pool_2x2 && !plane_has_nan(xp, g->H * g->W)) {
            max_pool_plane_2x2(g, xp, yp, ap);
            continue;
        }
        if (inside) {
            max_pool_plane_inside(g, xp, yp, ap);
            continue;
        }
        for (int64_t oh = 0; oh < g->OH; oh++) {
            for (int64_t ow = 0; ow < g->OW; ow++) {
                pool_window w = window_at(g, oh, ow);
                float best = -INFINITY;
                int64_t best_at = w.h0 * g->W + w.w0;
                for (int64_t h = w.h0; h < w.h1; h++) {
                    for (int64_t c = w.w0; c < w.w1; c++) {
                        float v = xp[h * g->W + c];
                        if (v > best || isnan(v)) { // NaN propagates, as PyTorch
                            best = v;
                            best_at = h * g->W + c;
                        }
                    }
                }
                int64_t o = (p * g->OH + oh) * g->OW + ow;
                y[o] = best;
                argmax[o] = (float)best_at;
            }
        }
    }
}

// dx[argmax] += g: each output's gradient goes to the one input it copied
static void max_pool_backward(cg_node *n, const cg_tensor *grad) {
    const pool_geometry *g = n->ctx;
    const float *argmax = n->saved[0]->data, *dy = grad->data;
    cg_tensor *dx_t = cg_zeros_like(n->inputs[0]);
    if (!dx_t) return;
    float *dx = dx_t->data;
#pragma omp parallel for num_threads(cg_num_threads()) if (g->planes > 1)
    for (int64_t p = 0; p < g->planes; p++) {
        for (int64_t o = p * g->OH * g->OW; o < (p + 1) * g->OH * g->OW; o++)
            dx[p * g->H * g->W + (int64_t)argmax[o]] += dy[o];
    }
    cg_accumulate_grad(n->inputs[0], dx_t);
}
const cg_op cg_op_max_pool2d = {"max_pool2d", max_pool_backward, "argmax indices"};

// ---- average pooling (fixed or adaptive windows) ------------------------------------------

// x (planes, H, W) -> y (planes, OH, OW): the window sum over its divisor
static void avg_pool_forward(const pool_geometry *g, const float *x, float *y) {
#pragma omp parallel for num_threads(cg_num_threads()) if (g->planes > 1)
    for (int64_t p = 0; p < g->planes; p++) {
        const float *xp = x + p * g->H * g->W;
        for (int64_t oh = 0; oh < g->OH; oh++) {
            for (int64_t ow = 0; ow < g->OW; ow++) {
                pool_window w = window_at(g, oh, ow);
                double sum = 0;
                for (int64_t h = w.h0; h < w.h1; h++)
                    for (int64_t c = w.w0; c < w.w1; c++) sum += xp[h * g->W + c];
                y[(p * g->OH + oh) * g->OW + ow] = (float)(sum / (double)w.divisor);
            }
        }
    }
}

// dx[window] += g / divisor for every output
static void avg_pool_backward(cg_node *n, const cg_tensor *grad) {
    const pool_geometry *g = n->ctx;
    const float *dy = grad->data;
    cg_tensor *dx_t = cg_zeros_like(n->inputs[0]);
    if (!dx_t) return;
    float *dx = dx_t->data;
#pragma omp parallel for num_threads(cg_num_threads()) if (g->planes > 1)
    for (int64_t p = 0; p < g->planes; p++) {
        float *dxp = dx + p * g->H * g->W;
        for (int64_t oh = 0; oh < g->OH; oh++) {
            for (int64_t ow = 0; ow < g->OW; ow++) {
                pool_window w = window_at(g, oh, ow);
                float share = dy[(p * g->OH + oh) * g->OW + ow] / (float)w.divisor;
                for (int64_t h = w.h0; h < w.h1; h++)
                    for (int64_t c = w.w0; c < w.w1; c++) dxp[h * g->W + c] += share;
            }
        }
    }
    cg_accumulate_grad(n->inputs[0], dx_t);
}
const cg_op cg_op_avg_pool2d = {"avg_pool2d", avg_pool_backward, "nothing"};
const cg_op cg_op_adaptive_avg_pool2d = {"adaptive_avg_pool2d", avg_pool_backward, "nothing"};

// ---- shapes and options ------------------------------------------------------------------

static int64_t floor_div(int64_t a, int64_t b) {
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

// PyTorch's pooling_output_shape: with ceil_mode the last window must still start inside
// the input or its left padding.
static int64_t pooled_size(int64_t in, int kernel, int stride, int pad, bool ceil_mode) {
    int64_t out = floor_div(in + 2 * pad - kernel + (ceil_mode ? stride - 1 : 0), stride) + 1;
    if (ceil_mode && (out - 1) * stride >= in + pad) out--;
    return out;
}

// Zero entries of the options mean PyTorch's defaults (see cg_pool_options).
int cg_pool_options_resolve(const char *op, const cg_pool_options *o, cg_pool_options *out) {
    if (!o) {
        cg_error(CG_ERR_ARG, "%s: options are NULL (kernel_size is required)", op);
        return -1;
    }
    cg_pool_options r = {.ceil_mode = o->ceil_mode};
    cg_option_hw(o->kernel_size, o->kernel_size_hw, 0, 0, r.kernel_size_hw);
    cg_option_hw(o->stride, o->stride_hw, r.kernel_size_hw[0], r.kernel_size_hw[1], r.stride_hw);
    cg_option_hw(o->padding, o->padding_hw, 0, 0, r.padding_hw);
    const int *k = r.kernel_size_hw, *s = r.stride_hw, *p = r.padding_hw;
    for (int i = 0; i < 2; i++) {
        if (k[i] <= 0 || s[i] <= 0 || p[i] < 0) {
            cg_error(CG_ERR_ARG,
                     "%s: kernel_size (%d, %d) and stride (%d, %d) must be > 0 and padding "
                     "(%d, %d) >= 0",
                     op, k[0], k[1], s[0], s[1], p[0], p[1]);
            return -1;
        }
        if (2 * p[i] > k[i]) {
            cg_error(CG_ERR_ARG,
                     "%s: padding (%d, %d) should be at most half of kernel_size (%d, %d)", op,
                     p[0], p[1], k[0], k[1]);
            return -1;
        }
    }
    *out = r;
    return 0;
}

static bool resolve_options(const cg_pool_options *o, const char *op, pool_geometry *g) {
    cg_pool_options r;
    if (cg_pool_options_resolve(op, o, &r) < 0) return false;
    for (int i = 0; i < 2; i++) {
        g->kernel[i] = r.kernel_size_hw[i];
        g->stride[i] = r.stride_hw[i];
        g->padding[i] = r.padding_hw[i];
    }
    g->adaptive = false;
    return true;
}

// Planes and (H, W) of a (N, C, H, W) or (C, H, W) input.
static bool plan_input(const cg_tensor *x, const char *op, pool_geometry *g) {
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

typedef enum { POOL_MAX, POOL_AVG } pool_kind;

// Run the pooling described by g (H, W, OH, OW filled) on x and record it.
static cg_tensor *pool(pool_kind kind, const cg_op *op, cg_tensor *x, const pool_geometry *g) {
    if (g->OH <= 0 || g->OW <= 0)
        return cg_error(CG_ERR_SHAPE,
                        "%s: input %s is too small for kernel_size (%d, %d) with padding (%d, "
                        "%d): output would be %lldx%lld",
                        op->name, cg_tensor_shape_str(x), g->kernel[0], g->kernel[1], g->padding[0],
                        g->padding[1], (long long)g->OH, (long long)g->OW);
    int64_t shape[4];
    for (int d = 0; d < x->ndim - 2; d++) shape[d] = x->shape[d];
    shape[x->ndim - 2] = g->OH;
    shape[x->ndim - 1] = g->OW;
    cg_tensor *y = cg_empty(x->ndim, shape);
    cg_tensor *argmax = kind == POOL_MAX ? cg_empty(x->ndim, shape) : NULL;
    if (!y || (kind == POOL_MAX && !argmax)) {
        cg_free(y);
        cg_free(argmax);
        return NULL;
    }
    if (kind == POOL_MAX)
        max_pool_forward(g, x->data, y->data, argmax->data);
    else
        avg_pool_forward(g, x->data, y->data);
    cg_node *n = cg_record(y, op, 1, &x);
    if (n) cg_node_set_ctx(n, g, sizeof *g);
    if (n && argmax)
        cg_node_save(n, 0, argmax);
    else
        cg_free(argmax);
    return y;
}

static cg_tensor *fixed_window_pool(pool_kind kind, const cg_op *op, cg_tensor *x,
                                    const cg_pool_options *options) {
    if (!cg_check_arg(x, op->name, "input")) return NULL;
    pool_geometry g;
    if (!resolve_options(options, op->name, &g) || !plan_input(x, op->name, &g)) return NULL;
    g.OH = pooled_size(g.H, g.kernel[0], g.stride[0], g.padding[0], options->ceil_mode);
    g.OW = pooled_size(g.W, g.kernel[1], g.stride[1], g.padding[1], options->ceil_mode);
    return pool(kind, op, x, &g);
}

// x (N, C, H, W) or (C, H, W) -> (..., OH, OW)
cg_tensor *cg_max_pool2d(cg_tensor *x, const cg_pool_options *options) {
    return fixed_window_pool(POOL_MAX, &cg_op_max_pool2d, x, options);
}
cg_tensor *cg_avg_pool2d(cg_tensor *x, const cg_pool_options *options) {
    return fixed_window_pool(POOL_AVG, &cg_op_avg_pool2d, x, options);
}

cg_tensor *cg_adaptive_avg_pool2d(cg_tensor *x, int out_h, int out_w) {
    const char *op = cg_op_adaptive_avg_pool2d.name;
    if (!cg_check_arg(x, op, "input")) return NULL;
    if (out_h <= 0 || out_w <= 0)
        return cg_error(CG_ERR_ARG, "%s: output size (%d, %d) must be positive", op, out_h, out_w);
    pool_geometry g = {0};
    if (!plan_input(x, op, &g)) return NULL;
    g.adaptive = true;
    g.OH = out_h;
    g.OW = out_w;
    return pool(POOL_AVG, &cg_op_adaptive_avg_pool2d, x, &g);
}
