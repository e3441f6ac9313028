// ops/norm_internal.h - the normalisation core shared by the norm ops (ops/norm.c).
#ifndef CG_NORM_INTERNAL_H
#define CG_NORM_INTERNAL_H

#include <stdbool.h>

#include "../autograd/op.h"
#include "../kernels/norm.h"

// x seen as (N, C, S), its channels as G groups of C/G (kernels/norm.h).
typedef struct cg_norm_plan {
    cg_norm_layout layout;
    bool batch_stats; // statistics of x itself (else the given running ones: eval mode)
    bool relu;        // a ReLU fused after the affine step (batch_norm_relu)
    double eps;       // set by cg_norm_run from its argument: the recorded node's context
                      // keeps it for graph export (io/onnx_ops_norm.c)
} cg_norm_plan;

// Running statistics, one per group (G): every sample's statistic of group g reads
// running[g] when !batch_stats; when batch_stats, running[g] moves with momentum towards
// the average of those statistics' means and unbiased variances (batch norm: the one
// statistic across the batch; instance norm: PyTorch's average over the samples). Either
// tensor may be NULL when updating.
typedef struct cg_norm_running {
    cg_tensor *mean, *var;
    double momentum;
} cg_norm_running;

// Normalise x as planned (weight, bias: C values or NULL; running: NULL or as above) and
// record `op`. Arguments are checked by the caller.
cg_tensor *cg_norm_run(const cg_op *op, cg_tensor *x, const cg_norm_plan *p, cg_tensor *weight,
                       cg_tensor *bias, double eps, const cg_norm_running *running);

// Fails naming op unless t is NULL or has `ndim` dims equal to `shape` ("weight", "bias",
// "running_mean": what describes the expected size, e.g. "the 3 channels of input [2,3,4]").
bool cg_norm_check_param(const char *op, const char *name, const cg_tensor *t, int ndim,
                         const int64_t *shape, const char *what);

extern const cg_op cg_op_batch_norm1d, cg_op_batch_norm2d, cg_op_batch_norm_relu,
    cg_op_instance_norm, cg_op_group_norm, cg_op_layer_norm;

#endif
