// kernels/norm.h - the loops of batch, instance, group and layer normalisation, as plain
// functions over contiguous float buffers (llm.c style), one set for all four norms.
//
// x is seen as (N, C, S): N samples, C channels, S contiguous values per channel (a plane).
// The channels form G groups of C/G; one statistic (mean, 1/std) covers
//   across_batch: group g of every sample       (batch norm: G = C)
//   otherwise:    group g of one sample n      (instance norm: G = C; group norm; layer
//                                               norm: C = normalized size, S = 1, G = 1)
// so statistic st (st = g, or n * G + g) covers the runs of C/G * S contiguous values at
// (n * C + g * C/G) * S for its samples n. weight and bias are per channel (C) or NULL (1, 0).
//
// Every function runs over the statistics on the thread team (tensor/parallel.h) when they
// hold more than CG_PARALLEL_MIN values; each statistic is computed by one thread in a fixed
// order, so results do not depend on the thread count. The inner loops run over one plane
// with per-channel scalars (compiled for AVX-512/AVX2/baseline, kernels/simd_clones.h);
// single-value channels (S = 1) run over rows, vectorised across channels
// (kernels/norm_columns.c).
// Tested against a double-precision reference in tests/test_norm_kernels.c.
#ifndef CG_KERNELS_NORM_H
#define CG_KERNELS_NORM_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct cg_norm_layout {
    int64_t N, C, S, G;
    bool across_batch; // one statistic per group over the whole batch (batch norm)
} cg_norm_layout;

// The number of statistics (G or N * G) and the values each covers.
int64_t cg_norm_stat_count(const cg_norm_layout *l);
int64_t cg_norm_stat_members(const cg_norm_layout *l);

// mean[st] and the biased var[st] (stat_count each) of x (N, C, S), in one pass: sums of
// x - x0 and (x - x0)^2 in double, x0 the statistic's first value, so the variance keeps
// its precision when the mean is far from 0 (error ~1e-16 * (1 + (mean - x0)^2 / var)).
// A statistic with no members gets NaN.
void cg_norm_stats(const cg_norm_layout *l, const float *x, double *mean, double *var);

// y = (x - mean[st]) * invstd[st] * weight[c] + bias[c] for x, y (N, C, S); with relu, then
// y = y < 0 ? 0 : y (PyTorch's relu: NaN passes, -0 stays -0). y may alias x.
void cg_norm_apply(const cg_norm_layout *l, const float *x, const float *mean, const float *invstd,
                   const float *weight, const float *bias, bool relu, float *y);

// The backward's reductions, with g = dy, or with relu_y (the output of a fused ReLU)
// g = relu_y <= 0 ? 0 : dy (threshold_backward: the masked-off entries are 0 also where dy
// is NaN), xhat = (x - mean[st]) * invstd[st] and d = g * weight[c]:
//   mean_d[st], mean_dxhat[st]  the means of d and d * xhat over statistic st's members
//                               (stat_count each; both NULL: not wanted)
//   dweight[c], dbias[c]        the sums of g * xhat and g over channel c (C; NULL: not wanted)
// The sums of g and g * xhat are taken together in one pass over x and dy, in double.
// Returns false when out of memory (a per-plane scratch of 2 * N * C doubles).
bool cg_norm_grad_stats(const cg_norm_layout *l, const float *x, const float *dy,
                        const float *relu_y, const float *mean, const float *invstd,
                        const float *weight, float *mean_d, float *mean_dxhat, float *dweight,
                        float *dbias);

// dx = invstd[st] * (g * weight[c] - mean_d[st] - xhat * mean_dxhat[st]), g and xhat as in
// cg_norm_grad_stats; mean_d and mean_dxhat NULL (the statistics were given, not taken from
// x: constants) make it dx = invstd[st] * g * weight[c].
void cg_norm_input_grad(const cg_norm_layout *l, const float *x, const float *dy,
                        const float *relu_y, const float *mean, const float *invstd,
                        const float *weight, const float *mean_d, const float *mean_dxhat,
                        float *dx);

// 1/std of a statistic as a float: 1 / sqrt(var + eps), in double, rounded once.
static inline float cg_norm_invstd(double var, double eps) {
    return (float)(1.0 / sqrt(var + eps));
}

// The training forward, fused: cg_norm_stats into mean, var (double), their floats
// mean_f[st] = mean[st] and invstd_f[st] = cg_norm_invstd(var[st], eps), then cg_norm_apply
// with them into y, one statistic at a time so its planes are still in cache for the
// apply. The same values as those calls.
void cg_norm_forward(const cg_norm_layout *l, const float *x, double eps, const float *weight,
                     const float *bias, bool relu, double *mean, double *var, float *mean_f,
                     float *invstd_f, float *y);

// The backward, fused: what cg_norm_grad_stats and cg_norm_input_grad give for dx, dweight
// and dbias (each NULL: not wanted), with mean_d and mean_dxhat taken from x's sums when
// batch_stats (else the statistics are constants). Planes with batch statistics go one
// statistic at a time: its sums, its means, its dx. The same values as the two calls.
// Returns false when out of memory.
bool cg_norm_backward(const cg_norm_layout *l, const float *x, const float *dy, const float *relu_y,
                      const float *mean, const float *invstd, const float *weight, bool batch_stats,
                      float *dx, float *dweight, float *dbias);

#endif
