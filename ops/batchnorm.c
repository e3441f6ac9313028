// ops/batchnorm.c - 2-D batch normalisation (torch.nn.functional.batch_norm, nn.BatchNorm2d).
//
// Per channel c of x (N, C, H, W), over its M = N*H*W values:
//   training: y = (x - mean) / sqrt(var + eps) * weight + bias with the batch mean and the
//             biased variance; the running statistics move towards the batch ones by
//             `momentum`, the running variance towards the unbiased variance (var * M/(M-1));
//   eval:     the same with the running statistics, which stay fixed.
// Forward and backward are one op; backward uses the closed form below, not a chain of ops.
#include <math.h>
#include <stdio.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "functional.h"

typedef struct batch_norm_plan {
    int64_t N, C, HW; // x seen as (N, C, HW)
    bool training;
} batch_norm_plan;

// Element i of channel c in batch item n.
#define AT(p, n, c, i) (((n) * (p)->C + (c)) * (p)->HW + (i))

// Batch mean and biased variance of every channel (two passes in double).
static void channel_stats(const batch_norm_plan *p, const float *x, double *mean, double *var) {
    double count = (double)(p->N * p->HW);
#pragma omp parallel for num_threads(cg_num_threads()) if (p->C > 1)
    for (int64_t c = 0; c < p->C; c++) {
        double sum = 0, sq = 0;
        for (int64_t n = 0; n < p->N; n++)
            for (int64_t i = 0; i < p->HW; i++) sum += x[AT(p, n, c, i)];
        double m = sum / count;
        for (int64_t n = 0; n < p->N; n++)
            for (int64_t i = 0; i < p->HW; i++) {
                double d = x[AT(p, n, c, i)] - m;
                sq += d * d;
            }
        mean[c] = m;
        var[c] = sq / count;
    }
}

// y = (x - mean[c]) * invstd[c] * w[c] + b[c]; stats is (2, C): mean then invstd
static void normalize(const batch_norm_plan *p, const float *x, const float *stats, const float *w,
                      const float *b, float *y) {
    const float *mean = stats, *invstd = stats + p->C;
#pragma omp parallel for num_threads(cg_num_threads()) if (p->C > 1)
    for (int64_t c = 0; c < p->C; c++) {
        float scale = invstd[c] * (w ? w[c] : 1.0f), shift = b ? b[c] : 0.0f;
        for (int64_t n = 0; n < p->N; n++)
            for (int64_t i = 0; i < p->HW; i++)
                y[AT(p, n, c, i)] = (x[AT(p, n, c, i)] - mean[c]) * scale + shift;
    }
}

// With xhat = (x - mean) * invstd and sums over a channel's M values:
//   dbias = sum g, dweight = sum g*xhat,
//   dx = w*invstd * (g - sum(g)/M - xhat*sum(g*xhat)/M)   (training: mean, var depend on x)
//   dx = w*invstd * g                                      (eval: statistics are constants)
static void batch_norm_backward(cg_node *node, const cg_tensor *grad) {
    const batch_norm_plan *p = node->ctx;
    cg_tensor *x = node->inputs[0], *weight = node->inputs[1], *bias = node->inputs[2];
    const float *mean = node->saved[0]->data, *invstd = mean + p->C, *g = grad->data;
    cg_tensor *dx = cg_needs_grad(node, 0) ? cg_empty_like(x) : NULL;
    cg_tensor *dw = weight && cg_needs_grad(node, 1) ? cg_empty_like(weight) : NULL;
    cg_tensor *db = bias && cg_needs_grad(node, 2) ? cg_empty_like(bias) : NULL;
    double count = (double)(p->N * p->HW);
#pragma omp parallel for num_threads(cg_num_threads()) if (p->C > 1)
    for (int64_t c = 0; c < p->C; c++) {
        double sum_g = 0, sum_gx = 0;
        for (int64_t n = 0; n < p->N; n++)
            for (int64_t i = 0; i < p->HW; i++) {
                int64_t k = AT(p, n, c, i);
                sum_g += g[k];
                sum_gx += g[k] * (x->data[k] - mean[c]) * invstd[c];
            }
        if (db) db->data[c] = (float)sum_g;
        if (dw) dw->data[c] = (float)sum_gx;
        if (!dx) continue;
        float scale = invstd[c] * (weight ? weight->data[c] : 1.0f);
        float mean_g = p->training ? (float)(sum_g / count) : 0.0f;
        float mean_gx = p->training ? (float)(sum_gx / count) : 0.0f;
        for (int64_t n = 0; n < p->N; n++)
            for (int64_t i = 0; i < p->HW; i++) {
                int64_t k = AT(p, n, c, i);
                float xhat = (x->data[k] - mean[c]) * invstd[c];
                dx->data[k] = scale * (g[k] - mean_g - xhat * mean_gx);
            }
    }
    if (dx) cg_accumulate_grad(x, dx);
    if (dw) cg_accumulate_grad(weight, dw);
    if (db) cg_accumulate_grad(bias, db);
}
const cg_op cg_op_batch_norm2d = {"batch_norm2d", batch_norm_backward,
                                  "mean and 1/std per channel"};

// Every per-channel tensor that is given must be (C).
static bool check_channel_tensor(const cg_tensor *t, const char *name, const cg_tensor *x) {
    if (!t || (t->ndim == 1 && t->shape[0] == x->shape[1])) return true;
    cg_error(CG_ERR_SHAPE, "batch_norm2d: %s %s does not match the %lld channels of input %s", name,
             cg_tensor_shape_str(t), (long long)x->shape[1], cg_tensor_shape_str(x));
    return false;
}

static bool check_batch_norm_args(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                                  cg_tensor *weight, cg_tensor *bias, bool training) {
    if (!cg_check_arg(x, "batch_norm2d", "input")) return false;
    if (x->ndim != 4) {
        cg_error(CG_ERR_SHAPE, "batch_norm2d: expected 4-D input (N, C, H, W), got %s",
                 cg_tensor_shape_str(x));
        return false;
    }
    if (!check_channel_tensor(running_mean, "running_mean", x) ||
        !check_channel_tensor(running_var, "running_var", x) ||
        !check_channel_tensor(weight, "weight", x) || !check_channel_tensor(bias, "bias", x))
        return false;
    if (!training && (!running_mean || !running_var)) {
        cg_error(CG_ERR_ARG, "batch_norm2d: eval mode needs running_mean and running_var");
        return false;
    }
    if (training && x->numel / x->shape[1] <= 1 && x->numel > 0) {
        cg_error(CG_ERR_SHAPE,
                 "batch_norm2d: expected more than 1 value per channel when training, got "
                 "input %s",
                 cg_tensor_shape_str(x));
        return false;
    }
    return true;
}

// running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance.
static void update_running_stats(const batch_norm_plan *p, const double *mean, const double *var,
                                 cg_tensor *running_mean, cg_tensor *running_var, float momentum) {
    double count = (double)(p->N * p->HW);
    for (int64_t c = 0; c < p->C; c++) {
        if (running_mean)
            running_mean->data[c] =
                (float)((1.0 - momentum) * running_mean->data[c] + momentum * mean[c]);
        if (running_var)
            running_var->data[c] = (float)((1.0 - momentum) * running_var->data[c] +
                                           momentum * var[c] * count / (count - 1.0));
    }
}

// x (N, C, H, W); running_mean, running_var, weight, bias (C), each may be NULL except the
// running statistics in eval mode.
cg_tensor *cg_batch_norm2d(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                           cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                           float eps) {
    if (!check_batch_norm_args(x, running_mean, running_var, weight, bias, training)) return NULL;
    batch_norm_plan p = {x->shape[0], x->shape[1], x->shape[2] * x->shape[3], training};
    cg_tensor *stats = cg_empty(CG_SHAPE(2, p.C)); // mean, invstd
    cg_tensor *y = cg_empty_like(x);
    double *work = cg_alloc((size_t)(2 * p.C + 1) * sizeof(double));
    if (!stats || !y || !work) {
        cg_free(stats);
        cg_free(y);
        cg_dealloc(work);
        return NULL;
    }
    double *mean = work, *var = work + p.C;
    if (training) {
        channel_stats(&p, x->data, mean, var);
        update_running_stats(&p, mean, var, running_mean, running_var, momentum);
    } else {
        for (int64_t c = 0; c < p.C; c++) {
            mean[c] = running_mean->data[c];
            var[c] = running_var->data[c];
        }
    }
    for (int64_t c = 0; c < p.C; c++) {
        stats->data[c] = (float)mean[c];
        stats->data[p.C + c] = (float)(1.0 / sqrt(var[c] + eps));
    }
    cg_dealloc(work);
    normalize(&p, x->data, stats->data, weight ? weight->data : NULL, bias ? bias->data : NULL,
              y->data);
    cg_node *n = cg_record(y, &cg_op_batch_norm2d, 3, (cg_tensor *[]){x, weight, bias});
    if (n) {
        cg_node_set_ctx(n, &p, sizeof p);
        cg_node_save(n, 0, stats);
    } else {
        cg_free(stats);
    }
    return y;
}
