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
// of x or (given: one per (n, group)) the running ones.
static cg_tensor *per_sample(const cg_op *op, cg_tensor *x, int64_t groups, cg_tensor *weight,
                             cg_tensor *bias, float eps, const cg_norm_running *given) {
    if (!check_channel_affine(op->name, x, weight, bias)) return NULL;
    cg_norm_plan p = {x->shape[0], x->shape[1], 1, groups, false, !given};
    for (int d = 2; d < x->ndim; d++) p.S *= x->shape[d];
    return cg_norm_run(op, x, &p, weight, bias, eps, given);
}

// Instance norm's running statistics are per channel (PyTorch: batch norm over (1, N*C, *)
// with the running statistics repeated N times, then averaged back): each moves by momentum
// towards the batch average of the instance means and unbiased variances.
static void update_instance_running(const cg_tensor *x, cg_tensor *rm, cg_tensor *rv,
                                    double momentum) {
    int64_t N = x->shape[0], C = x->shape[1], S = x->numel / (N * C);
    for (int64_t c = 0; c < C; c++) {
        double mean_sum = 0, var_sum = 0;
        for (int64_t n = 0; n < N; n++) {
            const float *v = x->data + (n * C + c) * S;
            double sum = 0, sq = 0;
            for (int64_t i = 0; i < S; i++) sum += v[i];
            for (int64_t i = 0; i < S; i++) sq += (v[i] - sum / S) * (v[i] - sum / S);
            mean_sum += sum / S;
            var_sum += sq / (S - 1);
        }
        if (rm) rm->data[c] = (float)((1 - momentum) * rm->data[c] + momentum * mean_sum / N);
        if (rv) rv->data[c] = (float)((1 - momentum) * rv->data[c] + momentum * var_sum / N);
    }
}

// Normalise with the running statistics of every channel, repeated for each sample.
static cg_tensor *instance_norm_eval(cg_tensor *x, cg_tensor *rm, cg_tensor *rv, cg_tensor *weight,
                                     cg_tensor *bias, float eps) {
    int64_t N = x->shape[0], C = x->shape[1];
    cg_tensor *mean = cg_empty(CG_SHAPE(N * C)), *var = cg_empty(CG_SHAPE(N * C));
    cg_tensor *y = NULL;
    if (mean && var) {
        for (int64_t k = 0; k < N * C; k++) {
            mean->data[k] = rm->data[k % C];
            var->data[k] = rv->data[k % C];
        }
        y = per_sample(&cg_op_instance_norm, x, C, weight, bias, eps,
                       &(cg_norm_running){mean, var, 0});
    }
    cg_free(mean);
    cg_free(var);
    return y;
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
    if (!use_input_stats) {
        if (!running_mean || !running_var)
            return cg_error(CG_ERR_ARG, "instance_norm: without use_input_stats it needs "
                                        "running_mean and running_var");
        return instance_norm_eval(x, running_mean, running_var, weight, bias, eps);
    }
    cg_tensor *y = per_sample(&cg_op_instance_norm, x, x->shape[1], weight, bias, eps, NULL);
    if (y && (running_mean || running_var) && x->numel > 0) // empty: stats stay (PyTorch)
        update_instance_running(x, running_mean, running_var, momentum);
    return y;
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
    int64_t maps = batched->shape[0] * batched->shape[1];
    if (maps > 0 && batched->numel / maps <= 1)
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
    // PyTorch's _verify_batch_size: N * C / G times the spatial size must exceed 1.
    if (x->numel > 0 && x->numel / num_groups == 1)
        return cg_error(CG_ERR_SHAPE,
                        "group_norm: expected more than 1 value per group, got input %s with "
                        "num_groups %d",
                        cg_tensor_shape_str(x), num_groups);
    return per_sample(&cg_op_group_norm, x, num_groups, weight, bias, eps, NULL);
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
    cg_norm_plan p = {D ? x->numel / D : 0, D, 1, 1, false, true};
    return cg_norm_run(&cg_op_layer_norm, x, &p, weight, bias, eps, NULL);
}
