// kernels/norm_columns.h - the loops of kernels/norm.c for layouts with single-value
// channels (S = 1), where a channel is a column of x (N, C), not a contiguous plane: batch
// norm on (N, C) (one statistic per column) and the per-channel gradient sums of layer norm
// and group norm on (N, C). Walking columns one at a time would read one float per cache
// line, so these run over rows and vectorise across the columns. Used by kernels/norm.c
// only; shapes and meanings as kernels/norm.h.
#ifndef CG_KERNELS_NORM_COLUMNS_H
#define CG_KERNELS_NORM_COLUMNS_H

#include "norm.h"

// Whether l is batch norm on (N, C): one statistic per column.
bool cg_norm_by_columns(const cg_norm_layout *l);

// cg_norm_stats, cg_norm_apply and cg_norm_input_grad for such a layout.
void cg_norm_columns_stats(const cg_norm_layout *l, const float *x, double *mean, double *var);
void cg_norm_columns_apply(const cg_norm_layout *l, const float *x, const float *mean,
                           const float *invstd, const float *weight, const float *bias, bool relu,
                           float *y);
void cg_norm_columns_input_grad(const cg_norm_layout *l, const float *x, const float *dy,
                                const float *relu_y, const float *mean, const float *invstd,
                                const float *weight, const float *mean_d, const float *mean_dxhat,
                                float *dx);

// For any layout with S = 1: per channel c (C each), sum_g[c] = sum over n of g and
// sum_gxhat[c] = sum over n of g * xhat (g masked by relu_y when given), in double.
void cg_norm_columns_grad_sums(const cg_norm_layout *l, const float *x, const float *dy,
                               const float *relu_y, const float *mean, const float *invstd,
                               double *sum_g, double *sum_gxhat);

#endif
