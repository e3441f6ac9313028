// ops/max_pool.c - max pooling (torch.nn.functional.max_pool2d with dilation and
// return_indices), adaptive max pooling and its inverse, max_unpool2d.
//
// A max pooling remembers, for each output, the flat index in its plane of the input it
// copied (PyTorch's indices); backward sends each output's gradient there. A NaN in a
// window propagates and, with several, the last one wins: PyTorch's CPU kernel tests
// `val > max || isnan(val)`. Every path below gives that answer.
#include <math.h>
#include <string.h>

#include "../kernels/elementwise.h"
#include "../kernels/pool.h"
#include "../tensor/parallel.h"
#include "pool_internal.h"

// Every window lies inside the input (no padding, no ceil_mode overhang): the common
// MaxPool2d(2) case, where window bounds need no clipping.
static bool windows_inside(const pool_geometry *g) {
    return !g->adaptive && g->padding[0] == 0 && g->padding[1] == 0 &&
           (g->OH - 1) * g->stride[0] + (g->kernel[0] - 1) * g->dilation[0] + 1 <= g->H &&
           (g->OW - 1) * g->stride[1] + (g->kernel[1] - 1) * g->dilation[1] + 1 <= g->W;
}

// One plane, any geometry (padding, ceil_mode, adaptive): windows clipped to the input.
static void max_pool_plane_general(const pool_geometry *g, const float *xp, float *y,
                                   float *argmax) {
    for (int64_t oh = 0; oh < g->OH; oh++) {
        for (int64_t ow = 0; ow < g->OW; ow++) {
            pool_window w = cg_pool_window(g, oh, ow);
            float best = -INFINITY;
            int64_t best_at = w.h0 * g->W + w.w0;
            for (int64_t h = w.h0; h < w.h1; h += w.step_h) {
                for (int64_t c = w.w0; c < w.w1; c += w.step_w) {
                    float v = xp[h * g->W + c];
                    if (v > best || isnan(v)) {
                        best = v;
                        best_at = h * g->W + c;
                    }
                }
            }
            y[oh * g->OW + ow] = best;
            argmax[oh * g->OW + ow] = (float)best_at;
        }
    }
}

// x (planes, H, W) -> y (planes, OH, OW), argmax (planes, OH, OW) as flat indices in a plane
static bool pool_2x2(const pool_geometry *g) {
    return windows_inside(g) && g->kernel[0] == 2 && g->kernel[1] == 2 && g->stride[0] == 2 &&
           g->stride[1] == 2 && g->dilation[0] == 1 && g->dilation[1] == 1;
}

// The operands of one pass over the planes.
typedef struct max_job {
    const pool_geometry *g;
    const float *x; // forward: the input; backward: the output gradient
    float *y;       // forward: the output; backward: the input gradient
    float *argmax;
} max_job;

static void max_forward_planes(void *ctx, int64_t p0, int64_t p1) {
    const max_job *j = ctx;
    const pool_geometry *g = j->g;
    const float *x = j->x;
    float *y = j->y, *argmax = j->argmax;
    bool inside = windows_inside(g), two = pool_2x2(g);
    const cg_pool_taps taps = {{g->kernel[0], g->kernel[1]},
                               {g->stride[0], g->stride[1]},
                               {g->dilation[0], g->dilation[1]}};
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = x + p * g->H * g->W;
        float *yp = y + p * g->OH * g->OW, *ap = argmax + p * g->OH * g->OW;
        // the 2x2 kernel declines planes with a NaN (kernels/pool.h)
        if (two && cg_max_pool_2x2_plane(xp, g->H, g->W, g->OH, g->OW, yp, ap)) continue;
        if (inside)
            cg_max_pool_inside_plane(xp, g->H, g->W, g->OH, g->OW, &taps, yp, ap);
        else
            max_pool_plane_general(g, xp, yp, ap);
    }
}

static void max_pool_forward(const pool_geometry *g, const float *x, float *y, float *argmax) {
    max_job j = {g, x, y, argmax};
    cg_pool_for_planes(g, max_forward_planes, &j);
}

// dx[argmax] += dy: each output's gradient goes to the one input it copied
static void scatter_planes(void *ctx, int64_t p0, int64_t p1) {
    const max_job *j = ctx;
    const pool_geometry *g = j->g;
    const float *dy = j->x, *argmax = j->argmax;
    float *dx = j->y;
    bool two = pool_2x2(g);
    for (int64_t p = p0; p < p1; p++) {
        if (two) {
            cg_max_pool_2x2_backward_plane(dy + p * g->OH * g->OW, argmax + p * g->OH * g->OW, g->H,
                                           g->W, g->OH, g->OW, dx + p * g->H * g->W);
            continue;
        }
        // Any other window: the plane is zeroed and takes the sums while it is in L1.
        float *plane = dx + p * g->H * g->W;
        memset(plane, 0, (size_t)(g->H * g->W) * sizeof(float));
        for (int64_t o = p * g->OH * g->OW; o < (p + 1) * g->OH * g->OW; o++)
            plane[(int64_t)argmax[o]] += dy[o];
    }
}

static void scatter_to_argmax(cg_node *n, const float *dy) {
    const pool_geometry *g = n->ctx;
    // Every plane is zeroed by scatter_planes as it goes (no separate zero fill of dx).
    cg_tensor *dx = cg_empty_like(n->inputs[0]);
    if (!dx) return;
    max_job j = {g, dy, dx->data, n->saved[0]->data};
    cg_pool_for_planes(g, scatter_planes, &j);
    cg_accumulate_grad(n->inputs[0], dx);
}

static void max_pool_backward(cg_node *n, const cg_tensor *grad) {
    scatter_to_argmax(n, grad->data);
}
const cg_op cg_op_max_pool2d = {"max_pool2d", max_pool_backward, "argmax indices"};

// relu_max_pool2d: y = relu(m), m the window's maximum of x, and ReLU's gradient rule
// (threshold_backward: none where m <= 0, a NaN passes) on the pooled outputs, where
// y <= 0 exactly when m <= 0; then the scatter.
static void relu_max_pool_backward(cg_node *n, const cg_tensor *grad) {
    cg_tensor *dy = cg_empty_like(grad);
    if (!dy) return;
    cg_relu_grad(n->output->data, grad->data, dy->data, grad->numel);
    scatter_to_argmax(n, dy->data);
}
const cg_op cg_op_relu_max_pool2d = {"relu_max_pool2d", relu_max_pool_backward,
                                     "argmax indices, output"};
const cg_op cg_op_adaptive_max_pool2d = {"adaptive_max_pool2d", max_pool_backward,
                                         "argmax indices"};

// Run the max pooling g on x and record it; *indices (if asked) gets a copy of the argmax.
static cg_tensor *max_pool(const cg_op *op, cg_tensor *x, const pool_geometry *g,
                           cg_tensor **indices) {
    int64_t shape[4];
    int nd = cg_pool_output_shape(x, g, shape);
    cg_tensor *y = cg_empty(nd, shape), *argmax = cg_empty(nd, shape);
    cg_tensor *out_indices = indices ? cg_empty(nd, shape) : NULL;
    if (!y || !argmax || (indices && !out_indices)) {
        cg_free(y);
        cg_free(argmax);
        cg_free(out_indices);
        return NULL;
    }
    max_pool_forward(g, x->data, y->data, argmax->data);
    if (indices) {
        memcpy(out_indices->data, argmax->data, (size_t)argmax->numel * sizeof(float));
        *indices = out_indices;
    }
    cg_node *n = cg_pool_record(op, y, x, g);
    // Backward scatters through the argmax into a tensor of x's shape: x's values are never
    // read, nor y's except by relu_max_pool2d (ReLU's mask).
    if (n)
        n->unread =
            CG_OP_INPUT_UNREAD(0) | (op == &cg_op_relu_max_pool2d ? 0 : CG_OP_OUTPUT_UNREAD);
    if (n)
        cg_node_save(n, 0, argmax);
    else
        cg_free(argmax);
    return y;
}

// max_pool2d or relu_max_pool2d (op) with fixed windows: the options checked, the pooling run.
static cg_tensor *max_pool_fixed(const cg_op *op, cg_tensor *x, const cg_pool_options *options,
                                 cg_tensor **indices) {
    if (!cg_check_arg(x, op->name, "input")) return NULL;
    if (options && (options->exclude_pad || options->divisor_override))
        return cg_error(CG_ERR_ARG, "%s: exclude_pad and divisor_override are avg_pool2d options",
                        op->name);
    pool_geometry g;
    if (!cg_pool_plan(op->name, x, options, true, &g)) return NULL;
    return max_pool(op, x, &g, indices);
}

cg_tensor *cg_max_pool2d(cg_tensor *x, const cg_pool_options *options) {
    return max_pool_fixed(&cg_op_max_pool2d, x, options, NULL);
}

// ReLU and a window maximum commute (both are monotone, and ReLU passes NaN as the pooling
// does), so the maximum is taken first and ReLU runs on 1/4 of the elements (2x2 windows);
// there is no ReLU output the size of x to write, keep or read back in the backward.
cg_tensor *cg_relu_max_pool2d(cg_tensor *x, const cg_pool_options *options) {
    cg_tensor *y = max_pool_fixed(&cg_op_relu_max_pool2d, x, options, NULL);
    if (!y) return NULL;
    cg_relu_floats(y->data, y->data, y->numel);
    return y;
}
cg_tensor *cg_max_pool2d_with_indices(cg_tensor *x, const cg_pool_options *options,
                                      cg_tensor **indices) {
    if (!indices) return cg_error(CG_ERR_ARG, "max_pool2d: argument 'indices' is NULL");
    *indices = NULL;
    return max_pool_fixed(&cg_op_max_pool2d, x, options, indices);
}

cg_tensor *cg_adaptive_max_pool2d_with_indices(cg_tensor *x, int out_h, int out_w,
                                               cg_tensor **indices) {
    const char *op = cg_op_adaptive_max_pool2d.name;
    if (indices) *indices = NULL;
    pool_geometry g;
    if (!cg_check_arg(x, op, "input") || !cg_pool_plan_adaptive(op, x, out_h, out_w, &g))
        return NULL;
    return max_pool(&cg_op_adaptive_max_pool2d, x, &g, indices);
}
cg_tensor *cg_adaptive_max_pool2d(cg_tensor *x, int out_h, int out_w) {
    return cg_adaptive_max_pool2d_with_indices(x, out_h, out_w, NULL);
}
