// kernels/norm.c - see norm.h.
//
// Each statistic is a set of runs (one per sample it covers) of C/G channels of S values.
// The outer loops walk statistics, runs and channels; the inner loops run over one plane
// (S values, per-channel scalars hoisted) or, when S = 1 (layer norm), over one row with a
// weight per element, so both vectorise.
#include "norm.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/parallel.h"
#include "norm_columns.h"
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

// The 8 chains as one value: GCC's vector extensions, so every clone runs them as vector
// code. Written as 8 scalar chains, GCC left the float-to-double sums below scalar (10% of
// the ResNet's training step in plane_grad_sums alone). Lane j still sums elements j, j + 8,
// ... of each run, so the values are the same as the scalar chains' to the bit.
typedef float f8 __attribute__((vector_size(LANES * sizeof(float))));
typedef double d8 __attribute__((vector_size(LANES * sizeof(double))));

// *to = p[0:8], in float or widened to double. (Vectors pass by pointer: a vector
// argument's ABI differs between the clones' targets.)
static inline void load8(f8 *to, const float *p) {
    memcpy(to, p, sizeof *to);
}
static inline void load_widened(d8 *to, const float *p) {
    f8 v;
    load8(&v, p);
    *to = __builtin_convertvector(v, d8);
}

// The lanes' total, lane 0 first (the order the scalar chains were added in).
static inline double lanes_total(const d8 *v) {
    double t = 0;
    for (int j = 0; j < LANES; j++) t += (*v)[j];
    return t;
}

// The lanes of the sums of (x - shift) and (x - shift)^2 over x[0:n] (the tail in lane 0).
CG_SIMD_CLONES static void shifted_lanes(const float *x, int64_t n, double shift, double sum[LANES],
                                         double sq[LANES]) {
    d8 s = {0}, q = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES) {
        d8 d;
        load_widened(&d, x + i);
        d -= shift;
        s += d;
        q += d * d;
    }
    for (; i < n; i++) {
        double d = (double)x[i] - shift;
        s[0] += d;
        q[0] += d * d;
    }
    memcpy(sum, &s, sizeof s);
    memcpy(sq, &q, sizeof q);
}

// *sum += the lanes of sum, *sq those of sq, lane 0 first.
static void add_lanes(double *sum, double *sq, const double *lanes_sum, const double *lanes_sq) {
    for (int j = 0; j < LANES; j++) *sum += lanes_sum[j], *sq += lanes_sq[j];
}

typedef struct stats_job {
    const cg_norm_layout *l;
    const float *x;
    double *mean, *var;
} stats_job;

// Statistic st's shift: its first value (0 if not finite: an infinite mean stays infinite,
// as two-pass).
static double stat_shift(const cg_norm_layout *l, const float *x, int64_t st) {
    stat_runs r = runs_of(l, st);
    double shift = cg_norm_stat_members(l) > 0 ? x[(r.n0 * l->C + r.c0) * l->S] : 0.0;
    return isfinite(shift) ? shift : 0.0;
}

// mean[st] and var[st] from the sums of x - shift and its squares.
static void finish_moments(const cg_norm_layout *l, int64_t st, double shift, double sum, double sq,
                           double *mean, double *var) {
    double count = (double)cg_norm_stat_members(l);
    double centred = sum / count; // mean - shift
    mean[st] = shift + centred;
    double v = sq / count - centred * centred;
    var[st] = v > 0 ? v : v == v ? 0.0 : v; // rounding below 0 is 0
}

// mean[st] and var[st] of statistic st.
static void stat_moments(const cg_norm_layout *l, const float *x, int64_t st, double *mean,
                         double *var) {
    stat_runs r = runs_of(l, st);
    double shift = stat_shift(l, x, st), sum = 0, sq = 0, ls[LANES], lq[LANES];
    for (int64_t n = r.n0; n < r.n1; n++) {
        shifted_lanes(x + (n * l->C + r.c0) * l->S, r.per * l->S, shift, ls, lq);
        add_lanes(&sum, &sq, ls, lq);
    }
    finish_moments(l, st, shift, sum, sq, mean, var);
}

static void stats_range(void *ctx, int64_t s0, int64_t s1) {
    const stats_job *j = ctx;
    for (int64_t st = s0; st < s1; st++) stat_moments(j->l, j->x, st, j->mean, j->var);
}

void cg_norm_stats(const cg_norm_layout *l, const float *x, double *mean, double *var) {
    if (cg_norm_by_columns(l)) {
        cg_norm_columns_stats(l, x, mean, var);
        return;
    }
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
    float *out, *mean_d_out, *mean_dxhat_out;
    double *sum_g, *sum_gxhat;
    const double *shift; // by planes: each statistic's shift, and each plane's lanes
    double *lanes;
} pass_job;

// y of statistic st.
// y of statistic st's run in sample n.
static void apply_run(const pass_job *j, int64_t st, int64_t n) {
    const cg_norm_layout *l = j->l;
    stat_runs r = runs_of(l, st);
    float m = j->mean[st], a = j->invstd[st];
    int64_t at = (n * l->C + r.c0) * l->S;
    if (l->S == 1 || (!j->w && !j->b)) { // the run as one row
        row_apply(j->x + at, j->out + at, r.per * l->S, m, a, j->w ? j->w + r.c0 : NULL,
                  j->b ? j->b + r.c0 : NULL, j->relu);
        return;
    }
    for (int64_t c = r.c0; c < r.c0 + r.per; c++, at += l->S)
        plane_apply(j->x + at, j->out + at, l->S, m, a, j->w ? j->w[c] : 1.0f,
                    j->b ? j->b[c] : 0.0f, j->relu);
}

// y of statistic st.
static void apply_stat(const pass_job *j, int64_t st) {
    stat_runs r = runs_of(j->l, st);
    for (int64_t n = r.n0; n < r.n1; n++) apply_run(j, st, n);
}

static void apply_range(void *ctx, int64_t s0, int64_t s1) {
    for (int64_t st = s0; st < s1; st++) apply_stat(ctx, st);
}

void cg_norm_apply(const cg_norm_layout *l, const float *x, const float *mean, const float *invstd,
                   const float *weight, const float *bias, bool relu, float *y) {
    if (cg_norm_by_columns(l)) {
        cg_norm_columns_apply(l, x, mean, invstd, weight, bias, relu, y);
        return;
    }
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
    d8 s = {0}, q = {0};
    float block[MASK_BLOCK];
    for (int64_t b0 = 0; b0 < n; b0 += MASK_BLOCK) {
        int64_t len = n - b0 < MASK_BLOCK ? n - b0 : MASK_BLOCK, i = 0;
        const float *g = dy + b0, *xb = x + b0;
        if (relu_y) {
            for (int64_t k = 0; k < len; k++) block[k] = relu_y[b0 + k] <= 0.0f ? 0.0f : g[k];
            g = block;
        }
        for (; i + LANES <= len; i += LANES) {
            f8 gi, xi;
            load8(&gi, g + i), load8(&xi, xb + i);
            s += __builtin_convertvector(gi, d8);
            q += __builtin_convertvector(gi * ((xi - mean) * invstd), d8);
        }
        for (; i < len; i++) {
            s[0] += g[i];
            q[0] += g[i] * ((xb[i] - mean) * invstd);
        }
    }
    *sum_g = lanes_total(&s), *sum_gxhat = lanes_total(&q);
}

// One row of single-value channels (layer norm, group norm on (N, C)): the sums of
// d = g * w and d * xhat over its n values, in double lanes.
CG_SIMD_CLONES static void row_stat_sums(const float *x, const float *dy, const float *relu_y,
                                         const float *w, int64_t n, float mean, float invstd,
                                         double *sum_d, double *sum_dxhat) {
    double s[LANES] = {0}, q[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int k = 0; k < LANES; k++) {
            float d = masked(dy, relu_y, i + k) * (w ? w[i + k] : 1.0f);
            s[k] += d;
            q[k] += d * ((x[i + k] - mean) * invstd);
        }
    for (; i < n; i++) {
        float d = masked(dy, relu_y, i) * (w ? w[i] : 1.0f);
        s[0] += d;
        q[0] += d * ((x[i] - mean) * invstd);
    }
    double ts = 0, tq = 0;
    for (int k = 0; k < LANES; k++) ts += s[k], tq += q[k];
    *sum_d = ts, *sum_dxhat = tq;
}

// Per plane (n, c) sums of g and g * xhat (S > 1) of statistic st's run in sample n.
static void plane_sums_run(const pass_job *j, int64_t st, int64_t n) {
    const cg_norm_layout *l = j->l;
    stat_runs r = runs_of(l, st);
    int64_t plane = n * l->C + r.c0, at = plane * l->S;
    for (int64_t c = 0; c < r.per; c++, plane++, at += l->S)
        plane_grad_sums(j->x + at, j->dy + at, j->relu_y ? j->relu_y + at : NULL, l->S, j->mean[st],
                        j->invstd[st], j->sum_g + plane, j->sum_gxhat + plane);
}

// ... of every run of statistic st.
static void plane_sums_stat(const pass_job *j, int64_t st) {
    stat_runs r = runs_of(j->l, st);
    for (int64_t n = r.n0; n < r.n1; n++) plane_sums_run(j, st, n);
}

static void plane_sums_range(void *ctx, int64_t s0, int64_t s1) {
    for (int64_t st = s0; st < s1; st++) plane_sums_stat(ctx, st);
}

// Per statistic (n, g) means of d and d * xhat, straight from the rows (S = 1, per sample).
static void row_means_range(void *ctx, int64_t s0, int64_t s1) {
    const pass_job *j = ctx;
    const cg_norm_layout *l = j->l;
    double count = (double)cg_norm_stat_members(l);
    for (int64_t st = s0; st < s1; st++) {
        stat_runs r = runs_of(l, st);
        int64_t at = r.n0 * l->C + r.c0;
        double d, dxhat;
        row_stat_sums(j->x + at, j->dy + at, j->relu_y ? j->relu_y + at : NULL,
                      j->w ? j->w + r.c0 : NULL, r.per, j->mean[st], j->invstd[st], &d, &dxhat);
        j->mean_d_out[st] = (float)(d / count);
        j->mean_dxhat_out[st] = (float)(dxhat / count);
    }
}

// From per (n, c) sums over `rows` rows of them (N, or 1 for sums already over the batch):
// statistic st's means of d = g * w and d * xhat.
static void stat_grad_means(const cg_norm_layout *l, int64_t rows, const float *weight,
                            const double *sum_g, const double *sum_gxhat, int64_t st, float *mean_d,
                            float *mean_dxhat) {
    double count = (double)cg_norm_stat_members(l);
    stat_runs r = runs_of(l, st);
    double d = 0, dxhat = 0;
    for (int64_t n = r.n0; n < (l->across_batch ? rows : r.n1); n++)
        for (int64_t c = r.c0; c < r.c0 + r.per; c++) {
            double w = weight ? weight[c] : 1.0;
            d += w * sum_g[n * l->C + c];
            dxhat += w * sum_gxhat[n * l->C + c];
        }
    mean_d[st] = (float)(d / count);
    mean_dxhat[st] = (float)(dxhat / count);
}

// The same, for every statistic, and the per-channel totals.
static void reduce_sums(const cg_norm_layout *l, int64_t rows, const float *weight,
                        const double *sum_g, const double *sum_gxhat, float *mean_d,
                        float *mean_dxhat, float *dweight, float *dbias) {
    for (int64_t st = 0; mean_d && st < cg_norm_stat_count(l); st++)
        stat_grad_means(l, rows, weight, sum_g, sum_gxhat, st, mean_d, mean_dxhat);
    for (int64_t c = 0; (dweight || dbias) && c < l->C; c++) {
        double g = 0, gxhat = 0;
        for (int64_t n = 0; n < rows; n++)
            g += sum_g[n * l->C + c], gxhat += sum_gxhat[n * l->C + c];
        if (dbias) dbias[c] = (float)g;
        if (dweight) dweight[c] = (float)gxhat;
    }
}

// Planes (S > 1): per-plane sums, then reduced. Single-value channels: per-channel sums
// over the rows (cg_norm_columns_grad_sums) give the channel totals and, across the
// batch, the statistics' means; per sample, those come from one pass over each row.
bool cg_norm_grad_stats(const cg_norm_layout *l, const float *x, const float *dy,
                        const float *relu_y, const float *mean, const float *invstd,
                        const float *weight, float *mean_d, float *mean_dxhat, float *dweight,
                        float *dbias) {
    pass_job j = {.l = l, .x = x, .dy = dy, .relu_y = relu_y, .mean = mean, .invstd = invstd};
    j.w = weight, j.mean_d_out = mean_d, j.mean_dxhat_out = mean_dxhat;
    bool by_rows = l->S == 1 && !l->across_batch;
    bool sums = l->S > 1 || dweight || dbias || (mean_d && !by_rows);
    int64_t rows = l->S > 1 ? l->N : 1;
    double *scratch = sums ? cg_alloc((size_t)(2 * rows * l->C + 1) * sizeof(double)) : NULL;
    if (sums && !scratch) return false;
    if (sums) {
        j.sum_g = scratch, j.sum_gxhat = scratch + rows * l->C;
        if (l->S > 1)
            for_stats(l, plane_sums_range, &j);
        else
            cg_norm_columns_grad_sums(l, x, dy, relu_y, mean, invstd, j.sum_g, j.sum_gxhat);
        reduce_sums(l, rows, weight, j.sum_g, j.sum_gxhat, by_rows ? NULL : mean_d, mean_dxhat,
                    dweight, dbias);
        cg_dealloc(scratch);
    }
    if (mean_d && by_rows) for_stats(l, row_means_range, &j);
    return true;
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

// dx of statistic st's run in sample n.
static void input_grad_run(const pass_job *j, int64_t st, int64_t n) {
    const cg_norm_layout *l = j->l;
    stat_runs r = runs_of(l, st);
    float m = j->mean[st], a = j->invstd[st];
    float md = j->mean_d ? j->mean_d[st] : 0.0f, mdx = j->mean_d ? j->mean_dxhat[st] : 0.0f;
    int64_t at = (n * l->C + r.c0) * l->S;
    const float *relu_y = j->relu_y ? j->relu_y + at : NULL;
    if (j->mean_d && (l->S == 1 || !j->w)) { // the run as one row
        row_input_grad(j->x + at, j->dy + at, relu_y, j->out + at, r.per * l->S, m, a,
                       j->w ? j->w + r.c0 : NULL, md, mdx);
        return;
    }
    for (int64_t c = r.c0; c < r.c0 + r.per; c++, at += l->S) {
        const float *ry = j->relu_y ? j->relu_y + at : NULL;
        float w = j->w ? j->w[c] : 1.0f;
        if (j->mean_d)
            plane_input_grad(j->x + at, j->dy + at, ry, j->out + at, l->S, m, a, w, md, mdx);
        else
            plane_input_grad_fixed(j->dy + at, ry, j->out + at, l->S, a, w);
    }
}

// dx of statistic st.
static void input_grad_stat(const pass_job *j, int64_t st) {
    stat_runs r = runs_of(j->l, st);
    for (int64_t n = r.n0; n < r.n1; n++) input_grad_run(j, st, n);
}

static void input_grad_range(void *ctx, int64_t s0, int64_t s1) {
    for (int64_t st = s0; st < s1; st++) input_grad_stat(ctx, st);
}

void cg_norm_input_grad(const cg_norm_layout *l, const float *x, const float *dy,
                        const float *relu_y, const float *mean, const float *invstd,
                        const float *weight, const float *mean_d, const float *mean_dxhat,
                        float *dx) {
    if (cg_norm_by_columns(l)) {
        cg_norm_columns_input_grad(l, x, dy, relu_y, mean, invstd, weight, mean_d, mean_dxhat, dx);
        return;
    }
    pass_job j = {.l = l, .x = x, .dy = dy, .relu_y = relu_y, .mean = mean, .invstd = invstd};
    j.w = weight, j.mean_d = mean_d, j.mean_dxhat = mean_dxhat, j.out = dx;
    for_stats(l, input_grad_range, &j);
}

// ---- batch norm on several threads: by planes -------------------------------------------
// A statistic at a time (below) gives each thread whole channels of every sample, while the
// convolutions and elementwise ops around a batch norm give each thread a share of the
// samples: on this VM's two cores (no shared cache) half of every channel was then read
// from, or written for, the other core. With several threads batch norm goes by planes
// instead, thread t taking the same share of the samples, in passes: each plane's sums,
// the statistics from them in a fixed order (the same bits as a statistic at a time), each
// plane's outputs.

static bool by_planes(const cg_norm_layout *l) {
    return l->across_batch && l->G == l->C && l->S > 1 && cg_num_threads() > 1 &&
           !cg_in_parallel() && l->N * l->C * l->S > CG_PARALLEL_MIN;
}

typedef void (*run_fn)(const pass_job *j, int64_t st, int64_t n);
typedef struct planes_job {
    const pass_job *j;
    run_fn fn;
} planes_job;

static void planes_range(void *ctx, int64_t p0, int64_t p1) {
    const planes_job *pj = ctx;
    for (int64_t plane = p0; plane < p1; plane++)
        pj->fn(pj->j, plane % pj->j->l->C, plane / pj->j->l->C);
}

// fn over the planes (n, c) of a batch norm (one channel a statistic), in equal shares.
static void for_planes(const pass_job *j, run_fn fn) {
    planes_job pj = {j, fn};
    cg_parallel_for(j->l->N * j->l->C, CG_PARALLEL_MIN / j->l->S, planes_range, &pj);
}

// The lanes of plane (n, st)'s shifted sums.
static void lanes_run(const pass_job *j, int64_t st, int64_t n) {
    int64_t plane = n * j->l->C + st;
    double *lanes = j->lanes + plane * 2 * LANES;
    shifted_lanes(j->x + plane * j->l->S, j->l->S, j->shift[st], lanes, lanes + LANES);
}

// ---- forward and backward, a statistic at a time ---------------------------------------
// A statistic's planes are read for its sums and read again for its outputs straight after,
// while they are still in cache (a ResNet batch norm's channel across 64 images of 28x28 is
// 200 KB an array), rather than after every other statistic's sums have been through.

typedef struct forward_job {
    pass_job pass; // mean, invstd: the float statistics below, written before they are read
    double *mean, *var, eps;
    float *mean_f, *invstd_f;
} forward_job;

static void forward_range(void *ctx, int64_t s0, int64_t s1) {
    const forward_job *f = ctx;
    for (int64_t st = s0; st < s1; st++) {
        stat_moments(f->pass.l, f->pass.x, st, f->mean, f->var);
        f->mean_f[st] = (float)f->mean[st];
        f->invstd_f[st] = cg_norm_invstd(f->var[st], f->eps);
        apply_stat(&f->pass, st);
    }
}

void cg_norm_forward(const cg_norm_layout *l, const float *x, double eps, const float *weight,
                     const float *bias, bool relu, double *mean, double *var, float *mean_f,
                     float *invstd_f, float *y) {
    if (cg_norm_by_columns(l)) {
        cg_norm_stats(l, x, mean, var);
        for (int64_t st = 0; st < cg_norm_stat_count(l); st++)
            mean_f[st] = (float)mean[st], invstd_f[st] = cg_norm_invstd(var[st], eps);
        cg_norm_apply(l, x, mean_f, invstd_f, weight, bias, relu, y);
        return;
    }
    forward_job f = {.pass = {.l = l, .x = x, .mean = mean_f, .invstd = invstd_f, .w = weight}};
    f.pass.b = bias, f.pass.relu = relu, f.pass.out = y;
    f.mean = mean, f.var = var, f.eps = eps, f.mean_f = mean_f, f.invstd_f = invstd_f;
    int64_t planes = l->N * l->C;
    double *lanes =
        by_planes(l) ? cg_alloc((size_t)(2 * LANES * planes + l->C) * sizeof(double)) : NULL;
    if (!lanes) { // one thread (or no memory for the lanes): a statistic at a time
        for_stats(l, forward_range, &f);
        return;
    }
    double *shift = lanes + 2 * LANES * planes;
    for (int64_t st = 0; st < l->C; st++) shift[st] = stat_shift(l, x, st);
    f.pass.shift = shift, f.pass.lanes = lanes;
    for_planes(&f.pass, lanes_run);
    for (int64_t st = 0; st < l->C; st++) {
        double sum = 0, sq = 0;
        for (int64_t n = 0; n < l->N; n++) {
            const double *at = lanes + (n * l->C + st) * 2 * LANES;
            add_lanes(&sum, &sq, at, at + LANES);
        }
        finish_moments(l, st, shift[st], sum, sq, mean, var);
        mean_f[st] = (float)mean[st], invstd_f[st] = cg_norm_invstd(var[st], eps);
    }
    for_planes(&f.pass, apply_run);
    cg_dealloc(lanes);
}

// Planes with the batch's statistics: sums, means, dx per statistic.
static void backward_range(void *ctx, int64_t s0, int64_t s1) {
    const pass_job *j = ctx;
    for (int64_t st = s0; st < s1; st++) {
        plane_sums_stat(j, st);
        stat_grad_means(j->l, j->l->N, j->w, j->sum_g, j->sum_gxhat, st, j->mean_d_out,
                        j->mean_dxhat_out);
        input_grad_stat(j, st);
    }
}

bool cg_norm_backward(const cg_norm_layout *l, const float *x, const float *dy, const float *relu_y,
                      const float *mean, const float *invstd, const float *weight, bool batch_stats,
                      float *dx, float *dweight, float *dbias) {
    int64_t ns = cg_norm_stat_count(l);
    bool means = dx && batch_stats, fused = means && l->S > 1;
    float *md = means ? cg_alloc((size_t)(2 * ns + 1) * sizeof(float)) : NULL;
    double *sums = fused ? cg_alloc((size_t)(2 * l->N * l->C + 1) * sizeof(double)) : NULL;
    bool ok = (!means || md) && (!fused || sums);
    if (ok && fused) {
        pass_job j = {.l = l, .x = x, .dy = dy, .relu_y = relu_y, .mean = mean, .invstd = invstd};
        j.w = weight, j.mean_d = j.mean_d_out = md, j.mean_dxhat = j.mean_dxhat_out = md + ns;
        j.out = dx, j.sum_g = sums, j.sum_gxhat = sums + l->N * l->C;
        if (by_planes(l)) {
            for_planes(&j, plane_sums_run);
            for (int64_t st = 0; st < ns; st++)
                stat_grad_means(l, l->N, weight, j.sum_g, j.sum_gxhat, st, md, md + ns);
            for_planes(&j, input_grad_run);
        } else {
            for_stats(l, backward_range, &j);
        }
        reduce_sums(l, l->N, weight, j.sum_g, j.sum_gxhat, NULL, NULL, dweight, dbias);
    } else if (ok) {
        ok = cg_norm_grad_stats(l, x, dy, relu_y, mean, invstd, weight, md, md ? md + ns : NULL,
                                dweight, dbias);
        if (ok && dx)
            cg_norm_input_grad(l, x, dy, relu_y, mean, invstd, weight, md, md ? md + ns : NULL, dx);
    }
    cg_dealloc(sums);
    cg_dealloc(md);
    return ok;
}
