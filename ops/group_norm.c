// ops/group_norm.c - instance, group and layer normalisation (torch.nn.functional) over the
// shared normalisation core (ops/norm.c): always the statistics of x itself, per sample.
#include <stdio.h>

#include <math.h>

#include "norm.h"
#include "view.h"
#include "norm_internal.h"

// weight and bias of a per-channel norm must be (C).
static bool check_channel_affine(const char *op, const cg_tensor *x, const cg_tensor *weight,
                                 const cg_tensor *bias) {
    char what[96];
    snprintf(what, sizeof what, "the %lld channels of input %s", (long long)x->shape[1],
             cg_tensor_shape_str(x));
    return cg_norm_check_param(op, "weight", weight, 1, &x->shape[1], what) &&
           cg_norm_check_param(op, "bias", bias, 1, &x->shape[1], what);
}

// x (N, C, *) normalised per sample over groups of C / groups channels, with the statistics
// of x (batch_stats; then running, if given, is updated) or the running ones (per group).
static cg_tensor *per_sample(const cg_op *op, cg_tensor *x, int64_t groups, cg_tensor *weight,
                             cg_tensor *bias, float eps, bool batch_stats,
                             const cg_norm_running *running) {
    if (!check_channel_affine(op->name, x, weight, bias)) return NULL;
    cg_norm_plan p = {{x->shape[0], x->shape[1], 1, groups, false}, batch_stats, false, 0};
    for (int d = 2; d < x->ndim; d++) p.layout.S *= x->shape[d];
    return cg_norm_run(op, x, &p, weight, bias, eps, running);
}

static cg_tensor *instance_norm(cg_tensor *x, cg_tensor *running_mean, cg_tensor *running_var,
                                cg_tensor *weight, cg_tensor *bias, bool use_input_stats,
                                float momentum, float eps) {
    char what[96];
    snprintf(what, sizeof what, "the %lld channels of input %s", (long long)x->shape[1],
             cg_tensor_shape_str(x));
    if (!cg_norm_check_param("instance_norm", "running_mean", running_mean, 1, &x->shape[1],
                             what) ||
        !cg_norm_check_param("instance_norm", "running_var", running_var, 1, &x->shape[1], what))
        return NULL;
    if (!use_input_stats && (!running_mean || !running_var))
        return cg_error(CG_ERR_ARG, "instance_norm: without use_input_stats it needs "
                                    "running_mean and running_var");
    // PyTorch: batch norm over (1, N*C, *) with the running statistics repeated N times
    // (then averaged back): per channel, shared by the samples (ops/norm_internal.h).
    cg_norm_running r = {running_mean, running_var, momentum};
    return per_sample(&cg_op_instance_norm, x, x->shape[1], weight, bias, eps, use_input_stats,
                      running_mean || running_var ? &r : NULL);
}

cg_tensor *cg_instance_norm(cg_tensor *x, int spatial_dims, cg_tensor *running_mean,
                            cg_tensor *running_var, cg_tensor *weight, cg_tensor *bias,
                            bool use_input_stats, float momentum, float eps) {
    if (!cg_check_arg(x, "instance_norm", "input")) return NULL;
    if (spatial_dims < 1 || (x->ndim != spatial_dims + 1 && x->ndim != spatial_dims + 2))
        return cg_error(CG_ERR_SHAPE,
                        "instance_norm: expected a %d-D or %d-D input (unbatched or batched, "
                        "%d spatial dims), got %s",
                        spatial_dims + 1, spatial_dims + 2, spatial_dims, cg_tensor_shape_str(x));
    if (!isfinite(momentum))
        return cg_error(CG_ERR_ARG, "instance_norm: momentum (%g) must be finite", momentum);
    bool unbatched = x->ndim == spatial_dims + 1;
    cg_tensor *batched = unbatched ? cg_unsqueeze(x, 0) : x;
    if (!batched) return NULL;
    // PyTorch checks the plane size only when it takes statistics of x: in eval with
    // running statistics a 1x1 plane is normalised with them.
    int64_t maps = batched->shape[0] * batched->shape[1];
    if (use_input_stats && maps > 0 && batched->numel / maps <= 1)
        return cg_error(CG_ERR_SHAPE,
                        "instance_norm: expected more than 1 spatial element per channel, got "
                        "input %s",
                        cg_tensor_shape_str(x));
    cg_tensor *y = instance_norm(batched, running_mean, running_var, weight, bias, use_input_stats,
                                 momentum, eps);
    return unbatched && y ? cg_squeeze(y, 0) : y;
}

cg_tensor *cg_group_norm(cg_tensor *x, int num_groups, cg_tensor *weight, cg_tensor *bias,
                         float eps) {
    if (!cg_check_arg(x, "group_norm", "input")) return NULL;
    if (x->ndim < 2)
        return cg_error(CG_ERR_SHAPE, "group_norm: expected input (N, C, *), got %s",
                        cg_tensor_shape_str(x));
    if (num_groups <= 0 || x->shape[1] % num_groups != 0)
        return cg_error(CG_ERR_ARG,
                        "group_norm: num_groups %d must be > 0 and divide the %lld channels of "
                        "input %s",
                        num_groups, (long long)x->shape[1], cg_tensor_shape_str(x));
    // PyTorch's _verify_batch_size on (N * C / G, G, *): one value per statistic in all
    // (a single sample, one channel per group, no spatial extent) is refused.
    if (x->numel > 0 && x->numel / num_groups == 1)
        return cg_error(CG_ERR_SHAPE,
                        "group_norm: expected more than 1 value per group, got input %s with "
                        "num_groups %d",
                        cg_tensor_shape_str(x), num_groups);
    return per_sample(&cg_op_group_norm, x, num_groups, weight, bias, eps, true, NULL);
}

cg_tensor *cg_layer_norm(cg_tensor *x, int ndim, const int64_t *normalized_shape, cg_tensor *weight,
                         cg_tensor *bias, float eps) {
    if (!cg_check_arg(x, "layer_norm", "input")) return NULL;
    bool fits = ndim >= 1 && normalized_shape && ndim <= x->ndim;
    int64_t D = 1;
    for (int d = 0; fits && d < ndim; d++) {
        fits = x->shape[x->ndim - ndim + d] == normalized_shape[d];
        D *= normalized_shape[d]; // bounded: equal to x's dims
    }
    if (!fits)
        return cg_error(CG_ERR_SHAPE, "layer_norm: input %s does not end in normalized_shape %s",
                        cg_tensor_shape_str(x),
                        ndim >= 1 && normalized_shape ? cg_shape_str(ndim, normalized_shape)
                                                      : "(empty)");
    char what[96];
    snprintf(what, sizeof what, "normalized_shape %s", cg_shape_str(ndim, normalized_shape));
    if (!cg_norm_check_param("layer_norm", "weight", weight, ndim, normalized_shape, what) ||
        !cg_norm_check_param("layer_norm", "bias", bias, ndim, normalized_shape, what))
        return NULL;
    cg_norm_plan p = {{D ? x->numel / D : 0, D, 1, 1, false}, true, false, 0};
    return cg_norm_run(&cg_op_layer_norm, x, &p, weight, bias, eps, NULL);
}
