// ops/batchnorm.c - batch normalisation (torch.nn.functional.batch_norm) over the shared
// normalisation core (ops/norm.c).
//
// Per channel c of x (N, C, *), over its M = N * prod(*) values:
//   training: y = (x - mean) / sqrt(var + eps) * weight + bias with the batch mean and the
//             biased variance; the running statistics move towards the batch ones by
//             `momentum`, the running variance towards the unbiased variance (var * M/(M-1));
//   eval:     the same with the running statistics, which stay fixed.
// An empty batch (N = 0) gives an empty output and leaves the running statistics.
// batch_norm_relu is relu(batch_norm(x)) in one pass (ops/norm.c).
#include <stdio.h>

#include "functional.h"
#include "norm.h"
#include "norm_internal.h"

static bool check_batch_norm_args(const char *op, cg_tensor *x, cg_tensor *running_mean,
                                  cg_tensor *running_var, cg_tensor *weight, cg_tensor *bias,
                                  bool training) {
    char what[96];
    snprintf(what, sizeof what, "the %lld channels of input %s", (long long)x->shape[1],
             cg_tensor_shape_str(x));
    const cg_tensor *per_channel[] = {running_mean, running_var, weight, bias};
    const char *names[] = {"running_mean", "running_var", "weight", "bias"};
    for (int i = 0; i < 4; i++)
        if (!cg_norm_check_param(op, names[i], per_channel[i], 1, &x->shape[1], what)) return false;
    if (!training && (!running_mean || !running_var)) {
        cg_error(CG_ERR_ARG, "%s: eval mode needs running_mean and running_var", op);
        return false;
    }
    if (training && x->numel > 0 && x->numel / x->shape[1] <= 1) { // C = 0: no division
        cg_error(CG_ERR_SHAPE,
                 "%s: expected more than 1 value per channel when training, got input %s", op,
                 cg_tensor_shape_str(x));
        return false;
    }
    return true;
}

static cg_tensor *batch_norm(const cg_op *op, cg_tensor *x, cg_tensor *running_mean,
                             cg_tensor *running_var, cg_tensor *weight, cg_tensor *bias,
                             bool training, float momentum, float eps, bool relu) {
    if (!check_batch_norm_args(op->name, x, running_mean, running_var, weight, bias, training))
        return NULL;
    cg_norm_plan p = {{x->shape[0], x->shape[1], 1, x->shape[1], true}, training, relu, 0};
    for (int d = 2; d < x->ndim; d++) p.layout.S *= x->shape[d];
    cg_norm_running r = {running_mean, running_var, momentum};
    bool use_running = !training || running_mean || running_var;
    return cg_norm_run(op, x, &p, weight, bias, eps, use_running ? &r : NULL);
}

cg_tensor *cg_batch_norm2d(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                           cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                           float eps) {
    if (!cg_check_arg(x, "batch_norm2d", "input")) return NULL;
    if (x->ndim != 4)
        return cg_error(CG_ERR_SHAPE, "batch_norm2d: expected 4-D input (N, C, H, W), got %s",
                        cg_tensor_shape_str(x));
    return batch_norm(&cg_op_batch_norm2d, x, running_mean, running_var, weight, bias, training,
                      momentum, eps, false);
}

cg_tensor *cg_batch_norm1d(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                           cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                           float eps) {
    if (!cg_check_arg(x, "batch_norm1d", "input")) return NULL;
    if (x->ndim != 2 && x->ndim != 3)
        return cg_error(CG_ERR_SHAPE,
                        "batch_norm1d: expected 2-D or 3-D input (N, C) or (N, C, L), "
                        "got %s",
                        cg_tensor_shape_str(x));
    return batch_norm(&cg_op_batch_norm1d, x, running_mean, running_var, weight, bias, training,
                      momentum, eps, false);
}

cg_tensor *cg_batch_norm_relu(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                              cg_tensor *weight, cg_tensor *bias, bool training, float momentum,
                              float eps) {
    if (!cg_check_arg(x, "batch_norm_relu", "input")) return NULL;
    if (x->ndim < 2 || x->ndim > 4)
        return cg_error(CG_ERR_SHAPE,
                        "batch_norm_relu: expected 2-D to 4-D input (N, C, *), got %s",
                        cg_tensor_shape_str(x));
    return batch_norm(&cg_op_batch_norm_relu, x, running_mean, running_var, weight, bias, training,
                      momentum, eps, true);
}
