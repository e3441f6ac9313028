// ops/norm.c - the one normalisation core behind batch, instance, group and layer norm.
//
// x is seen as (N, C, S) and its C channels as G groups of C/G. One statistic (mean and
// biased variance) is taken over every group of one sample, or over a group across the
// whole batch; then y = (x - mean) / sqrt(var + eps) * weight[c] + bias[c]. The norms
// differ only in that view (see ops/norm.h):
//   batch_norm    (N, C, *)  G = C, across the batch; running statistics in eval
//   instance_norm (N, C, *)  G = C, per sample
//   group_norm    (N, C, *)  G groups, per sample
//   layer_norm    (..., D)   N = leading elements, C = D (normalized_shape), S = 1, G = 1, so
//                            weight and bias are elementwise over normalized_shape
// Backward is the closed form below, not a chain of ops.
#include <math.h>

#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "norm_internal.h"

static int64_t stat_count(const cg_norm_plan *p) {
    return p->across_batch ? p->G : p->N * p->G;
}
static int64_t members(const cg_norm_plan *p) {
    return stat_count(p) ? p->N * p->C * p->S / stat_count(p) : 0;
}

// Runs body for every flat index k (of channel c) that statistic st covers.
#define FOR_MEMBERS(p, st, body)                                                                   \
    do {                                                                                           \
        int64_t per_ = (p)->C / (p)->G, g_ = (st) % (p)->G;                                        \
        int64_t n0_ = (p)->across_batch ? 0 : (st) / (p)->G;                                       \
        int64_t n1_ = (p)->across_batch ? (p)->N : n0_ + 1;                                        \
        for (int64_t n_ = n0_; n_ < n1_; n_++)                                                     \
            for (int64_t c = g_ * per_; c < (g_ + 1) * per_; c++)                                  \
                for (int64_t k = (n_ * (p)->C + c) * (p)->S, e_ = k + (p)->S; k < e_; k++) {       \
                    body;                                                                          \
                }                                                                                  \
    } while (0)

// The operands of one pass: each pass runs over statistics (or channels) in parallel.
typedef struct norm_job {
    const cg_norm_plan *p;
    const float *x, *g, *w, *b;
    const float *mean, *invstd; // the saved statistics (2, stat_count)
    double *batch_mean, *batch_var;
    float *y, *dw, *db;
} norm_job;

// fn over [0, items) on the thread team when the items cover more than CG_PARALLEL_MIN
// elements (every pass reads all N * C * S of them).
static void norm_for(const norm_job *j, int64_t items, cg_range_fn fn) {
    int64_t all = j->p->N * j->p->C * j->p->S, per_item = items ? all / items : 1;
    cg_parallel_for(items, CG_PARALLEL_MIN / (per_item > 0 ? per_item : 1), fn, (void *)j);
}

// Mean and biased variance of every statistic (two passes in double).
static void stats_range(void *ctx, int64_t s0, int64_t s1) {
    const norm_job *j = ctx;
    const cg_norm_plan *p = j->p;
    const float *x = j->x;
    double count = (double)members(p);
    for (int64_t st = s0; st < s1; st++) {
        double sum = 0, sq = 0;
        FOR_MEMBERS(p, st, sum += x[k]);
        double m = sum / count;
        FOR_MEMBERS(p, st, sq += (x[k] - m) * (x[k] - m));
        j->batch_mean[st] = m;
        j->batch_var[st] = sq / count;
    }
}

static void batch_stats(const cg_norm_plan *p, const float *x, double *mean, double *var) {
    norm_job j = {.p = p, .x = x, .batch_mean = mean, .batch_var = var};
    norm_for(&j, stat_count(p), stats_range);
}

// y = (x - mean) * invstd * w[c] + b[c]; stats is (2, stat_count): mean then invstd.
static void normalize_range(void *ctx, int64_t s0, int64_t s1) {
    const norm_job *j = ctx;
    const cg_norm_plan *p = j->p;
    const float *x = j->x, *w = j->w, *b = j->b, *mean = j->mean, *invstd = j->invstd;
    float *y = j->y;
    for (int64_t st = s0; st < s1; st++)
        FOR_MEMBERS(p, st,
                    y[k] = (x[k] - mean[st]) * invstd[st] * (w ? w[c] : 1.0f) + (b ? b[c] : 0.0f));
}

static void normalize(const cg_norm_plan *p, const float *x, const float *stats, const float *w,
                      const float *b, float *y) {
    norm_job j = {
        .p = p, .x = x, .w = w, .b = b, .mean = stats, .invstd = stats + stat_count(p), .y = y};
    norm_for(&j, stat_count(p), normalize_range);
}

// dbias[c] = sum g and dweight[c] = sum g * xhat over every element of channel c.
static void affine_range(void *ctx, int64_t c0, int64_t c1) {
    const norm_job *j = ctx;
    const cg_norm_plan *p = j->p;
    const float *x = j->x, *g = j->g, *mean = j->mean, *invstd = j->invstd;
    float *dw = j->dw, *db = j->db;
    int64_t per = p->C / p->G;
    for (int64_t c = c0; c < c1; c++) {
        double sum_g = 0, sum_gx = 0;
        for (int64_t n = 0; n < p->N; n++) {
            int64_t st = p->across_batch ? c / per : n * p->G + c / per;
            for (int64_t k = (n * p->C + c) * p->S; k < (n * p->C + c + 1) * p->S; k++) {
                sum_g += g[k];
                sum_gx += g[k] * (x[k] - mean[st]) * invstd[st];
            }
        }
        if (db) db[c] = (float)sum_g;
        if (dw) dw[c] = (float)sum_gx;
    }
}

// dx, with xhat = (x - mean) * invstd, d = g * w[c] and means over a statistic's M members:
//   dx = invstd * (d - mean(d) - xhat * mean(d * xhat))   (statistics of x itself)
//   dx = invstd * d                                       (given statistics: constants)
static void input_grad_range(void *ctx, int64_t s0, int64_t s1) {
    const norm_job *j = ctx;
    const cg_norm_plan *p = j->p;
    const float *x = j->x, *g = j->g, *w = j->w, *mean = j->mean, *invstd = j->invstd;
    float *dx = j->y;
    double count = (double)members(p);
    for (int64_t st = s0; st < s1; st++) {
        double sum_d = 0, sum_dx = 0;
        if (p->batch_stats)
            FOR_MEMBERS(p, st, {
                double d = g[k] * (w ? w[c] : 1.0f);
                sum_d += d;
                sum_dx += d * (x[k] - mean[st]) * invstd[st];
            });
        float mean_d = (float)(sum_d / count), mean_dx = (float)(sum_dx / count);
        FOR_MEMBERS(p, st, {
            float xhat = (x[k] - mean[st]) * invstd[st];
            dx[k] = invstd[st] * (g[k] * (w ? w[c] : 1.0f) - mean_d - xhat * mean_dx);
        });
    }
}

static void norm_backward(cg_node *node, const cg_tensor *grad) {
    const cg_norm_plan *p = node->ctx;
    cg_tensor *x = node->inputs[0], *weight = node->inputs[1], *bias = node->inputs[2];
    const float *stats = node->saved[0]->data;
    cg_tensor *dw = weight && cg_needs_grad(node, 1) ? cg_empty_like(weight) : NULL;
    cg_tensor *db = bias && cg_needs_grad(node, 2) ? cg_empty_like(bias) : NULL;
    cg_tensor *dx = cg_needs_grad(node, 0) ? cg_empty_like(x) : NULL;
    norm_job j = {.p = p,
                  .x = x->data,
                  .g = grad->data,
                  .w = weight ? weight->data : NULL,
                  .mean = stats,
                  .invstd = stats + stat_count(p),
                  .y = dx ? dx->data : NULL,
                  .dw = dw ? dw->data : NULL,
                  .db = db ? db->data : NULL};
    if (dw || db) norm_for(&j, p->C, affine_range);
    if (dw) cg_accumulate_grad(weight, dw);
    if (db) cg_accumulate_grad(bias, db);
    if (!dx) return;
    norm_for(&j, stat_count(p), input_grad_range);
    cg_accumulate_grad(x, dx);
}

const cg_op cg_op_batch_norm1d = {"batch_norm1d", norm_backward, "mean and 1/std per channel"};
const cg_op cg_op_batch_norm2d = {"batch_norm2d", norm_backward, "mean and 1/std per channel"};
const cg_op cg_op_instance_norm = {"instance_norm", norm_backward, "mean and 1/std per map"};
const cg_op cg_op_group_norm = {"group_norm", norm_backward, "mean and 1/std per group"};
const cg_op cg_op_layer_norm = {"layer_norm", norm_backward, "mean and 1/std per row"};

// running = (1 - momentum) * running + momentum * batch, with the unbiased batch variance.
static void update_running(const cg_norm_plan *p, const double *mean, const double *var,
                           const cg_norm_running *r) {
    double count = (double)members(p), m = r->momentum;
    for (int64_t st = 0; st < stat_count(p); st++) {
        if (r->mean) r->mean->data[st] = (float)((1.0 - m) * r->mean->data[st] + m * mean[st]);
        if (r->var)
            r->var->data[st] =
                (float)((1.0 - m) * r->var->data[st] + m * var[st] * count / (count - 1.0));
    }
}

cg_tensor *cg_norm_run(const cg_op *op, cg_tensor *x, const cg_norm_plan *p, cg_tensor *weight,
                       cg_tensor *bias, double eps, const cg_norm_running *running) {
    if (!isfinite(eps) || eps < 0 || (running && !isfinite(running->momentum)))
        return cg_error(CG_ERR_ARG, "%s: eps (%g) must be finite and >= 0, momentum (%g) finite",
                        op->name, eps, running ? running->momentum : 0.0);
    int64_t ns = stat_count(p);
    cg_tensor *stats = cg_empty(CG_SHAPE(2, ns)); // mean, invstd
    cg_tensor *y = cg_empty_like(x);
    double *work = cg_alloc((size_t)(2 * ns + 1) * sizeof(double));
    if (!stats || !y || !work) {
        cg_free(stats);
        cg_free(y);
        cg_dealloc(work);
        return NULL;
    }
    double *mean = work, *var = work + ns;
    if (p->batch_stats) {
        batch_stats(p, x->data, mean, var);
        // An empty batch has no statistics: the running ones stay (PyTorch), not NaN.
        if (running && members(p) > 0) update_running(p, mean, var, running);
    } else {
        for (int64_t st = 0; st < ns; st++) {
            mean[st] = running->mean->data[st];
            var[st] = running->var->data[st];
        }
    }
    for (int64_t st = 0; st < ns; st++) {
        stats->data[st] = (float)mean[st];
        stats->data[ns + st] = (float)(1.0 / sqrt(var[st] + eps));
    }
    cg_dealloc(work);
    normalize(p, x->data, stats->data, weight ? weight->data : NULL, bias ? bias->data : NULL,
              y->data);
    cg_node *n = cg_record(y, op, 3, (cg_tensor *[]){x, weight, bias});
    if (n) {
        cg_node_set_ctx(n, p, sizeof *p);
        cg_node_save(n, 0, stats);
    } else {
        cg_free(stats);
    }
    return y;
}

bool cg_norm_check_param(const char *op, const char *name, const cg_tensor *t, int ndim,
                         const int64_t *shape, const char *what) {
    bool fits = !t || t->ndim == ndim;
    for (int d = 0; t && fits && d < ndim; d++) fits = t->shape[d] == shape[d];
    if (!fits)
        cg_error(CG_ERR_SHAPE, "%s: %s %s does not match %s", op, name, cg_tensor_shape_str(t),
                 what);
    return fits;
}
