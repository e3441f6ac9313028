// kernels/norm.c - see norm.h.
//
// Each statistic is a set of runs (one per sample it covers) of C/G channels of S values.
// The outer loops walk statistics, runs and channels; the inner loops run over one plane
// (S values, per-channel scalars hoisted) or, when S = 1 (layer norm), over one row with a
// weight per element, so both vectorise.
#include "norm.h"

#include <math.h>
#include <stddef.h>

#include "../tensor/parallel.h"
#include "simd_clones.h"

int64_t cg_norm_stat_count(const cg_norm_layout *l) {
    return l->across_batch ? l->G : l->N * l->G;
}

int64_t cg_norm_stat_members(const cg_norm_layout *l) {
    int64_t count = cg_norm_stat_count(l);
    return count ? l->N * l->C * l->S / count : 0;
}

// The samples [n0, n1) and first channel c0 of statistic st; it has C/G channels per run.
typedef struct stat_runs {
    int64_t n0, n1, c0, per;
} stat_runs;

static stat_runs runs_of(const cg_norm_layout *l, int64_t st) {
    int64_t per = l->C / l->G, g = st % l->G, n0 = l->across_batch ? 0 : st / l->G;
    return (stat_runs){n0, l->across_batch ? l->N : n0 + 1, g * per, per};
}

// fn over the statistics, threaded when they hold more than CG_PARALLEL_MIN values.
static void for_stats(const cg_norm_layout *l, cg_range_fn fn, void *ctx) {
    int64_t members = cg_norm_stat_members(l);
    cg_parallel_for(cg_norm_stat_count(l), CG_PARALLEL_MIN / (members > 0 ? members : 1), fn, ctx);
}

// ---- statistics ------------------------------------------------------------------------

// 8 independent double chains: the adds' latency hidden, one AVX-512 vector (two AVX2).
#define LANES 8

// sum += sum of (x - shift), sq += sum of (x - shift)^2 over x[0:n].
CG_SIMD_CLONES static void shifted_sums(const float *x, int64_t n, double shift, double *sum,
                                        double *sq) {
    double s[LANES] = {0}, q[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) {
            double d = (double)x[i + j] - shift;
            s[j] += d;
            q[j] += d * d;
        }
    for (; i < n; i++) {
        double d = (double)x[i] - shift;
        s[0] += d;
        q[0] += d * d;
    }
    for (int j = 0; j < LANES; j++) *sum += s[j], *sq += q[j];
}

typedef struct stats_job {
    const cg_norm_layout *l;
    const float *x;
    double *mean, *var;
} stats_job;

static void stats_range(void *ctx, int64_t s0, int64_t s1) {
    const stats_job *j = ctx;
    const cg_norm_layout *l = j->l;
    double count = (double)cg_norm_stat_members(l);
    for (int64_t st = s0; st < s1; st++) {
        stat_runs r = runs_of(l, st);
        double shift = count > 0 ? j->x[(r.n0 * l->C + r.c0) * l->S] : 0.0, sum = 0, sq = 0;
        if (!isfinite(shift)) shift = 0.0; // an infinite mean stays infinite, as two-pass
        for (int64_t n = r.n0; n < r.n1; n++)
            shifted_sums(j->x + (n * l->C + r.c0) * l->S, r.per * l->S, shift, &sum, &sq);
        double centred = sum / count; // mean - shift
        j->mean[st] = shift + centred;
        double var = sq / count - centred * centred;
        j->var[st] = var > 0 ? var : var == var ? 0.0 : var; // rounding below 0 is 0
    }
}

void cg_norm_stats(const cg_norm_layout *l, const float *x, double *mean, double *var) {
    stats_job j = {l, x, mean, var};
    for_stats(l, stats_range, &j);
}

// ---- normalise, scale, shift (and ReLU) ------------------------------------------------

// One plane: y = (x - mean) * invstd * w + b, floored at 0 with relu.
CG_SIMD_CLONES static void plane_apply(const float *x, float *y, int64_t n, float mean,
                                       float invstd, float w, float b, bool relu) {
    if (relu)
        for (int64_t i = 0; i < n; i++) {
            float v = (x[i] - mean) * invstd * w + b;
            y[i] = v < 0.0f ? 0.0f : v;
        }
    else
        for (int64_t i = 0; i < n; i++) y[i] = (x[i] - mean) * invstd * w + b;
}

// One row of single-value channels: weight and bias per element (NULL: 1 and 0).
CG_SIMD_CLONES static void row_apply(const float *x, float *y, int64_t n, float mean, float invstd,
                                     const float *w, const float *b, bool relu) {
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] - mean) * invstd * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
        y[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

typedef struct pass_job {
    const cg_norm_layout *l;
    const float *x, *dy, *relu_y, *mean, *invstd, *w, *b, *mean_d, *mean_dxhat;
    bool relu;
    float *out;
    double *sum_g, *sum_gxhat;
} pass_job;

static void apply_range(void *ctx, int64_t s0, int64_t s1) {
    const pass_job *j = ctx;
    const cg_norm_layout *l = j->l;
    for (int64_t st = s0; st < s1; st++) {
        stat_runs r = runs_of(l, st);
        float m = j->mean[st], a = j->invstd[st];
        for (int64_t n = r.n0; n < r.n1; n++) {
            int64_t at = (n * l->C + r.c0) * l->S;
            if (l->S == 1 || (!j->w && !j->b)) { // the run as one row
                row_apply(j->x + at, j->out + at, r.per * l->S, m, a, j->w ? j->w + r.c0 : NULL,
                          j->b ? j->b + r.c0 : NULL, j->relu);
                continue;
            }
            for (int64_t c = r.c0; c < r.c0 + r.per; c++, at += l->S)
                plane_apply(j->x + at, j->out + at, l->S, m, a, j->w ? j->w[c] : 1.0f,
                            j->b ? j->b[c] : 0.0f, j->relu);
        }
    }
}

void cg_norm_apply(const cg_norm_layout *l, const float *x, const float *mean, const float *invstd,
                   const float *weight, const float *bias, bool relu, float *y) {
    pass_job j = {
        .l = l, .x = x, .mean = mean, .invstd = invstd, .w = weight, .b = bias, .relu = relu};
    j.out = y;
    for_stats(l, apply_range, &j);
}

// ---- backward --------------------------------------------------------------------------

// g = dy, masked by a fused ReLU's output: 0 where relu_y <= 0 (threshold_backward).
static inline float masked(const float *dy, const float *relu_y, int64_t i) {
    return relu_y && relu_y[i] <= 0.0f ? 0.0f : dy[i];
}

// One plane: the sums of g and of g * xhat, in double lanes. The mask is applied to a copy
// of dy in blocks first: with the select inside the lanes loop GCC does not vectorise it.
#define MASK_BLOCK 256
CG_SIMD_CLONES static void plane_grad_sums(const float *x, const float *dy, const float *relu_y,
                                           int64_t n, float mean, float invstd, double *sum_g,
                                           double *sum_gxhat) {
    double s[LANES] = {0}, q[LANES] = {0};
    float block[MASK_BLOCK];
    for (int64_t b0 = 0; b0 < n; b0 += MASK_BLOCK) {
        int64_t len = n - b0 < MASK_BLOCK ? n - b0 : MASK_BLOCK, i = 0;
        const float *g = dy + b0, *xb = x + b0;
        if (relu_y) {
            for (int64_t k = 0; k < len; k++) block[k] = relu_y[b0 + k] <= 0.0f ? 0.0f : g[k];
            g = block;
        }
        for (; i + LANES <= len; i += LANES)
            for (int k = 0; k < LANES; k++) {
                s[k] += g[i + k];
                q[k] += g[i + k] * ((xb[i + k] - mean) * invstd);
            }
        for (; i < len; i++) {
            s[0] += g[i];
            q[0] += g[i] * ((xb[i] - mean) * invstd);
        }
    }
    double ts = 0, tq = 0;
    for (int k = 0; k < LANES; k++) ts += s[k], tq += q[k];
    *sum_g = ts, *sum_gxhat = tq;
}

// One row of single-value channels: each channel's sums are its one term.
CG_SIMD_CLONES static void row_grad_sums(const float *x, const float *dy, const float *relu_y,
                                         int64_t n, float mean, float invstd, double *sum_g,
                                         double *sum_gxhat) {
    for (int64_t i = 0; i < n; i++) {
        float g = masked(dy, relu_y, i);
        sum_g[i] = g;
        sum_gxhat[i] = g * ((x[i] - mean) * invstd);
    }
}

static void grad_sums_range(void *ctx, int64_t s0, int64_t s1) {
    const pass_job *j = ctx;
    const cg_norm_layout *l = j->l;
    for (int64_t st = s0; st < s1; st++) {
        stat_runs r = runs_of(l, st);
        float m = j->mean[st], a = j->invstd[st];
        for (int64_t n = r.n0; n < r.n1; n++) {
            int64_t plane = n * l->C + r.c0, at = plane * l->S;
            const float *relu_y = j->relu_y ? j->relu_y + at : NULL;
            if (l->S == 1) {
                row_grad_sums(j->x + at, j->dy + at, relu_y, r.per, m, a, j->sum_g + plane,
                              j->sum_gxhat + plane);
                continue;
            }
            for (int64_t c = 0; c < r.per; c++, plane++, at += l->S)
                plane_grad_sums(j->x + at, j->dy + at, j->relu_y ? j->relu_y + at : NULL, l->S, m,
                                a, j->sum_g + plane, j->sum_gxhat + plane);
        }
    }
}

void cg_norm_grad_sums(const cg_norm_layout *l, const float *x, const float *dy,
                       const float *relu_y, const float *mean, const float *invstd, double *sum_g,
                       double *sum_gxhat) {
    pass_job j = {.l = l, .x = x, .dy = dy, .relu_y = relu_y, .mean = mean, .invstd = invstd};
    j.sum_g = sum_g, j.sum_gxhat = sum_gxhat;
    for_stats(l, grad_sums_range, &j);
}

// Small (N * C values): serial.
void cg_norm_grad_reduce(const cg_norm_layout *l, const float *weight, const double *sum_g,
                         const double *sum_gxhat, float *mean_d, float *mean_dxhat, float *dweight,
                         float *dbias) {
    double count = (double)cg_norm_stat_members(l);
    for (int64_t st = 0; mean_d && st < cg_norm_stat_count(l); st++) {
        stat_runs r = runs_of(l, st);
        double d = 0, dxhat = 0;
        for (int64_t n = r.n0; n < r.n1; n++)
            for (int64_t c = r.c0; c < r.c0 + r.per; c++) {
                double w = weight ? weight[c] : 1.0;
                d += w * sum_g[n * l->C + c];
                dxhat += w * sum_gxhat[n * l->C + c];
            }
        mean_d[st] = (float)(d / count);
        mean_dxhat[st] = (float)(dxhat / count);
    }
    for (int64_t c = 0; (dweight || dbias) && c < l->C; c++) {
        double g = 0, gxhat = 0;
        for (int64_t n = 0; n < l->N; n++)
            g += sum_g[n * l->C + c], gxhat += sum_gxhat[n * l->C + c];
        if (dbias) dbias[c] = (float)g;
        if (dweight) dweight[c] = (float)gxhat;
    }
}

// One plane: dx = invstd * (g * w - md - xhat * mdx).
CG_SIMD_CLONES static void plane_input_grad(const float *x, const float *dy, const float *relu_y,
                                            float *dx, int64_t n, float mean, float invstd, float w,
                                            float md, float mdx) {
    if (relu_y)
        for (int64_t i = 0; i < n; i++) {
            float xhat = (x[i] - mean) * invstd, g = relu_y[i] <= 0.0f ? 0.0f : dy[i];
            dx[i] = invstd * (g * w - md - xhat * mdx);
        }
    else
        for (int64_t i = 0; i < n; i++) {
            float xhat = (x[i] - mean) * invstd;
            dx[i] = invstd * (dy[i] * w - md - xhat * mdx);
        }
}

// One plane with constant statistics: dx = invstd * (g * w).
CG_SIMD_CLONES static void plane_input_grad_fixed(const float *dy, const float *relu_y, float *dx,
                                                  int64_t n, float invstd, float w) {
    if (relu_y)
        for (int64_t i = 0; i < n; i++) dx[i] = invstd * ((relu_y[i] <= 0.0f ? 0.0f : dy[i]) * w);
    else
        for (int64_t i = 0; i < n; i++) dx[i] = invstd * (dy[i] * w);
}

// One row of single-value channels (weight per element).
CG_SIMD_CLONES static void row_input_grad(const float *x, const float *dy, const float *relu_y,
                                          float *dx, int64_t n, float mean, float invstd,
                                          const float *w, float md, float mdx) {
    for (int64_t i = 0; i < n; i++) {
        float xhat = (x[i] - mean) * invstd;
        dx[i] = invstd * (masked(dy, relu_y, i) * (w ? w[i] : 1.0f) - md - xhat * mdx);
    }
}

static void input_grad_range(void *ctx, int64_t s0, int64_t s1) {
    const pass_job *j = ctx;
    const cg_norm_layout *l = j->l;
    for (int64_t st = s0; st < s1; st++) {
        stat_runs r = runs_of(l, st);
        float m = j->mean[st], a = j->invstd[st];
        float md = j->mean_d ? j->mean_d[st] : 0.0f, mdx = j->mean_d ? j->mean_dxhat[st] : 0.0f;
        for (int64_t n = r.n0; n < r.n1; n++) {
            int64_t at = (n * l->C + r.c0) * l->S;
            const float *relu_y = j->relu_y ? j->relu_y + at : NULL;
            if (j->mean_d && (l->S == 1 || !j->w)) { // the run as one row
                row_input_grad(j->x + at, j->dy + at, relu_y, j->out + at, r.per * l->S, m, a,
                               j->w ? j->w + r.c0 : NULL, md, mdx);
                continue;
            }
            for (int64_t c = r.c0; c < r.c0 + r.per; c++, at += l->S) {
                const float *ry = j->relu_y ? j->relu_y + at : NULL;
                float w = j->w ? j->w[c] : 1.0f;
                if (j->mean_d)
                    plane_input_grad(j->x + at, j->dy + at, ry, j->out + at, l->S, m, a, w, md,
                                     mdx);
                else
                    plane_input_grad_fixed(j->dy + at, ry, j->out + at, l->S, a, w);
            }
        }
    }
}

void cg_norm_input_grad(const cg_norm_layout *l, const float *x, const float *dy,
                        const float *relu_y, const float *mean, const float *invstd,
                        const float *weight, const float *mean_d, const float *mean_dxhat,
                        float *dx) {
    pass_job j = {.l = l,
                  .x = x,
                  .dy = dy,
                  .relu_y = relu_y,
                  .mean = mean,
                  .invstd = invstd,
                  .w = weight,
                  .mean_d = mean_d,
                  .mean_dxhat = mean_dxhat,
                  .out = dx};
    for_stats(l, input_grad_range, &j);
}
