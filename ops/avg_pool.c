// ops/avg_pool.c - average pooling over fixed or adaptive windows
// (torch.nn.functional.avg_pool2d with count_include_pad and divisor_override,
// adaptive_avg_pool2d with None in output_size); the shared geometry is ops/pool.c's.
#include "../tensor/parallel.h"
#include "pool_internal.h"

// The operands of one pass over the planes.
typedef struct avg_job {
    const pool_geometry *g;
    const float *x; // forward: the input; backward: the output gradient
    float *y;       // forward: the output; backward: the input gradient
} avg_job;

// x (planes, H, W) -> y (planes, OH, OW): the window sum over its divisor
static void avg_forward_planes(void *ctx, int64_t p0, int64_t p1) {
    const avg_job *j = ctx;
    const pool_geometry *g = j->g;
    const float *x = j->x;
    float *y = j->y;
    for (int64_t p = p0; p < p1; p++) {
        const float *xp = x + p * g->H * g->W;
        for (int64_t oh = 0; oh < g->OH; oh++) {
            for (int64_t ow = 0; ow < g->OW; ow++) {
                pool_window w = cg_pool_window(g, oh, ow);
                double sum = 0;
                for (int64_t h = w.h0; h < w.h1; h++)
                    for (int64_t c = w.w0; c < w.w1; c++) sum += xp[h * g->W + c];
                y[(p * g->OH + oh) * g->OW + ow] = (float)(sum / (double)w.divisor);
            }
        }
    }
}

static void avg_pool_forward(const pool_geometry *g, const float *x, float *y) {
    avg_job j = {g, x, y};
    cg_pool_for_planes(g, avg_forward_planes, &j);
}

// dx[window] += g / divisor for every output
static void avg_backward_planes(void *ctx, int64_t p0, int64_t p1) {
    const avg_job *j = ctx;
    const pool_geometry *g = j->g;
    const float *dy = j->x;
    float *dx = j->y;
    for (int64_t p = p0; p < p1; p++) {
        float *dxp = dx + p * g->H * g->W;
        for (int64_t oh = 0; oh < g->OH; oh++) {
            for (int64_t ow = 0; ow < g->OW; ow++) {
                pool_window w = cg_pool_window(g, oh, ow);
                float share = dy[(p * g->OH + oh) * g->OW + ow] / (float)w.divisor;
                for (int64_t h = w.h0; h < w.h1; h++)
                    for (int64_t c = w.w0; c < w.w1; c++) dxp[h * g->W + c] += share;
            }
        }
    }
}

static void avg_pool_backward(cg_node *n, const cg_tensor *grad) {
    cg_tensor *dx = cg_zeros_like(n->inputs[0]);
    if (!dx) return;
    avg_job j = {n->ctx, grad->data, dx->data};
    cg_pool_for_planes(j.g, avg_backward_planes, &j);
    cg_accumulate_grad(n->inputs[0], dx);
}
const cg_op cg_op_avg_pool2d = {"avg_pool2d", avg_pool_backward, "nothing"};
const cg_op cg_op_adaptive_avg_pool2d = {"adaptive_avg_pool2d", avg_pool_backward, "nothing"};

static cg_tensor *avg_pool(const cg_op *op, cg_tensor *x, const pool_geometry *g) {
    int64_t shape[4];
    cg_tensor *y = cg_empty(cg_pool_output_shape(x, g, shape), shape);
    if (!y) return NULL;
    avg_pool_forward(g, x->data, y->data);
    cg_pool_record(op, y, x, g);
    return y;
}

cg_tensor *cg_avg_pool2d(cg_tensor *x, const cg_pool_options *options) {
    const char *op = cg_op_avg_pool2d.name;
    pool_geometry g;
    if (!cg_check_arg(x, op, "input") || !cg_pool_plan(op, x, options, false, &g)) return NULL;
    return avg_pool(&cg_op_avg_pool2d, x, &g);
}

cg_tensor *cg_adaptive_avg_pool2d(cg_tensor *x, int out_h, int out_w) {
    const char *op = cg_op_adaptive_avg_pool2d.name;
    pool_geometry g;
    if (!cg_check_arg(x, op, "input") || !cg_pool_plan_adaptive(op, x, out_h, out_w, &g))
        return NULL;
    return avg_pool(&cg_op_adaptive_avg_pool2d, x, &g);
}
