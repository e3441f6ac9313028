// kernels/norm_columns.c - see norm_columns.h.
//
// Statistics and gradient sums: each thread takes a range of columns and walks every row
// over blocks of COLS columns, accumulating per column in double. Normalisation and the
// input gradient: each thread takes a range of rows, with the statistics read per column.
#include "norm_columns.h"

#include <math.h>
#include <stddef.h>

#include "../tensor/parallel.h"
#include "simd_clones.h"

// Columns per block: its accumulators (2 * COLS doubles) stay in L1.
#define COLS 256

bool cg_norm_by_columns(const cg_norm_layout *l) {
    return l->S == 1 && l->across_batch && l->G == l->C;
}

typedef struct column_job {
    const cg_norm_layout *l;
    const float *x, *dy, *relu_y, *mean, *invstd, *w, *b, *mean_d, *mean_dxhat;
    bool relu;
    float *out;
    double *sum, *sq;
} column_job;

// Columns or rows in parallel: each item is a row or column of the other dimension.
static void for_items(int64_t items, int64_t item_size, cg_range_fn fn, column_job *j) {
    cg_parallel_for(items, CG_PARALLEL_MIN / (item_size > 0 ? item_size : 1), fn, j);
}

// ---- statistics per column -------------------------------------------------------------

// s[k] += row[k] - shift[k], q[k] += (row[k] - shift[k])^2.
CG_SIMD_CLONES static void shifted_row(const float *row, const double *shift, double *s, double *q,
                                       int64_t len) {
    for (int64_t k = 0; k < len; k++) {
        double d = (double)row[k] - shift[k];
        s[k] += d;
        q[k] += d * d;
    }
}

// As cg_norm_stats: shifted by each column's first value (0 if it is not finite).
static void column_stats_range(void *ctx, int64_t c0, int64_t c1) {
    const column_job *j = ctx;
    int64_t N = j->l->N, C = j->l->C;
    for (int64_t cb = c0; cb < c1; cb += COLS) {
        int64_t len = c1 - cb < COLS ? c1 - cb : COLS;
        double shift[COLS], s[COLS] = {0}, q[COLS] = {0};
        for (int64_t k = 0; k < len; k++)
            shift[k] = N > 0 && isfinite(j->x[cb + k]) ? (double)j->x[cb + k] : 0.0;
        for (int64_t n = 0; n < N; n++) shifted_row(j->x + n * C + cb, shift, s, q, len);
        for (int64_t k = 0; k < len; k++) {
            double centred = s[k] / (double)N, var = q[k] / (double)N - centred * centred;
            j->sum[cb + k] = shift[k] + centred;
            j->sq[cb + k] = var > 0 ? var : var == var ? 0.0 : var;
        }
    }
}

void cg_norm_columns_stats(const cg_norm_layout *l, const float *x, double *mean, double *var) {
    column_job j = {.l = l, .x = x, .sum = mean, .sq = var};
    for_items(l->C, l->N, column_stats_range, &j);
}

// ---- normalise rows, statistics per column ---------------------------------------------

CG_SIMD_CLONES static void apply_row(const float *x, float *y, int64_t n, const float *mean,
                                     const float *invstd, const float *w, const float *b,
                                     bool relu) {
    for (int64_t i = 0; i < n; i++) {
        float v = (x[i] - mean[i]) * invstd[i] * (w ? w[i] : 1.0f) + (b ? b[i] : 0.0f);
        y[i] = relu && v < 0.0f ? 0.0f : v;
    }
}

static void apply_rows(void *ctx, int64_t n0, int64_t n1) {
    const column_job *j = ctx;
    int64_t C = j->l->C;
    for (int64_t n = n0; n < n1; n++)
        apply_row(j->x + n * C, j->out + n * C, C, j->mean, j->invstd, j->w, j->b, j->relu);
}

void cg_norm_columns_apply(const cg_norm_layout *l, const float *x, const float *mean,
                           const float *invstd, const float *weight, const float *bias, bool relu,
                           float *y) {
    column_job j = {.l = l, .x = x, .mean = mean, .invstd = invstd, .w = weight, .b = bias};
    j.relu = relu, j.out = y;
    for_items(l->N, l->C, apply_rows, &j);
}

// ---- gradient sums per column ----------------------------------------------------------

// s[k] += g, q[k] += g * (x - mean[k]) * invstd[k], g = dy masked by relu_y (len <= COLS;
// the mask goes to a copy first: with the select in the accumulating loop GCC does not
// vectorise it).
CG_SIMD_CLONES static void grad_row(const float *x, const float *dy, const float *relu_y,
                                    const float *mean, const float *invstd, double *s, double *q,
                                    int64_t len) {
    float masked[COLS];
    if (relu_y) {
        for (int64_t k = 0; k < len; k++) masked[k] = relu_y[k] <= 0.0f ? 0.0f : dy[k];
        dy = masked;
    }
    for (int64_t k = 0; k < len; k++) {
        s[k] += dy[k];
        q[k] += dy[k] * ((x[k] - mean[k]) * invstd[k]);
    }
}

static void grad_sums_range(void *ctx, int64_t c0, int64_t c1) {
    const column_job *j = ctx;
    const cg_norm_layout *l = j->l;
    int64_t C = l->C, per = l->C / l->G;
    for (int64_t cb = c0; cb < c1; cb += COLS) {
        int64_t len = c1 - cb < COLS ? c1 - cb : COLS;
        double s[COLS] = {0}, q[COLS] = {0};
        float mean[COLS], invstd[COLS]; // row n's statistics per column (per sample)
        for (int64_t n = 0; n < l->N; n++) {
            const float *m = j->mean + cb, *a = j->invstd + cb;
            if (!l->across_batch) {
                for (int64_t k = 0; k < len; k++) {
                    int64_t st = n * l->G + (cb + k) / per;
                    mean[k] = j->mean[st], invstd[k] = j->invstd[st];
                }
                m = mean, a = invstd;
            }
            int64_t at = n * C + cb;
            grad_row(j->x + at, j->dy + at, j->relu_y ? j->relu_y + at : NULL, m, a, s, q, len);
        }
        for (int64_t k = 0; k < len; k++) j->sum[cb + k] = s[k], j->sq[cb + k] = q[k];
    }
}

void cg_norm_columns_grad_sums(const cg_norm_layout *l, const float *x, const float *dy,
                               const float *relu_y, const float *mean, const float *invstd,
                               double *sum_g, double *sum_gxhat) {
    column_job j = {.l = l, .x = x, .dy = dy, .relu_y = relu_y, .mean = mean, .invstd = invstd};
    j.sum = sum_g, j.sq = sum_gxhat;
    for_items(l->C, l->N, grad_sums_range, &j);
}

// ---- input gradient, statistics per column ---------------------------------------------

// dx = invstd * (g * w - md - xhat * mdx) per column; md, mdx NULL: constant statistics.
CG_SIMD_CLONES static void input_grad_row(const float *x, const float *dy, const float *relu_y,
                                          float *dx, int64_t n, const float *mean,
                                          const float *invstd, const float *w, const float *md,
                                          const float *mdx) {
    for (int64_t i = 0; i < n; i++) {
        float g = relu_y && relu_y[i] <= 0.0f ? 0.0f : dy[i], gw = g * (w ? w[i] : 1.0f);
        if (md)
            dx[i] = invstd[i] * (gw - md[i] - (x[i] - mean[i]) * invstd[i] * mdx[i]);
        else
            dx[i] = invstd[i] * gw;
    }
}

static void input_grad_rows(void *ctx, int64_t n0, int64_t n1) {
    const column_job *j = ctx;
    int64_t C = j->l->C;
    for (int64_t n = n0; n < n1; n++)
        input_grad_row(j->x + n * C, j->dy + n * C, j->relu_y ? j->relu_y + n * C : NULL,
                       j->out + n * C, C, j->mean, j->invstd, j->w, j->mean_d, j->mean_dxhat);
}

void cg_norm_columns_input_grad(const cg_norm_layout *l, const float *x, const float *dy,
                                const float *relu_y, const float *mean, const float *invstd,
                                const float *weight, const float *mean_d, const float *mean_dxhat,
                                float *dx) {
    column_job j = {.l = l, .x = x, .dy = dy, .relu_y = relu_y, .mean = mean, .invstd = invstd};
    j.w = weight, j.mean_d = mean_d, j.mean_dxhat = mean_dxhat, j.out = dx;
    for_items(l->N, l->C, input_grad_rows, &j);
}
