// ops/group_norm.c - instance, group and layer normalisation (torch.nn.functional) over the
// shared normalisation core (ops/norm.c): always the statistics of x itself, per sample.
#include <stdio.h>

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

// x (N, C, *) normalised per sample over groups of C / groups channels.
static cg_tensor *per_sample(const cg_op *op, cg_tensor *x, int64_t groups, cg_tensor *weight,
                             cg_tensor *bias, float eps) {
    if (!check_channel_affine(op->name, x, weight, bias)) return NULL;
    cg_norm_plan p = {x->shape[0], x->shape[1], 1, groups, false, true};
    for (int d = 2; d < x->ndim; d++) p.S *= x->shape[d];
    return cg_norm_run(op, x, &p, weight, bias, eps, NULL);
}

cg_tensor *cg_instance_norm(cg_tensor *x, int spatial_dims, cg_tensor *weight, cg_tensor *bias,
                            float eps) {
    if (!cg_check_arg(x, "instance_norm", "input")) return NULL;
    if (spatial_dims < 1 || (x->ndim != spatial_dims + 1 && x->ndim != spatial_dims + 2))
        return cg_error(CG_ERR_SHAPE,
                        "instance_norm: expected a %d-D or %d-D input (unbatched or batched, "
                        "%d spatial dims), got %s",
                        spatial_dims + 1, spatial_dims + 2, spatial_dims, cg_tensor_shape_str(x));
    bool unbatched = x->ndim == spatial_dims + 1;
    cg_tensor *batched = unbatched ? cg_unsqueeze(x, 0) : x;
    if (!batched) return NULL;
    int64_t maps = batched->shape[0] * batched->shape[1];
    if (maps > 0 && batched->numel / maps <= 1)
        return cg_error(CG_ERR_SHAPE,
                        "instance_norm: expected more than 1 spatial element per channel, got "
                        "input %s",
                        cg_tensor_shape_str(x));
    cg_tensor *y = per_sample(&cg_op_instance_norm, batched, batched->shape[1], weight, bias, eps);
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
    return per_sample(&cg_op_group_norm, x, num_groups, weight, bias, eps);
}

cg_tensor *cg_layer_norm(cg_tensor *x, int ndim, const int64_t *normalized_shape, cg_tensor *weight,
                         cg_tensor *bias, float eps) {
    if (!cg_check_arg(x, "layer_norm", "input")) return NULL;
    bool fits = ndim >= 1 && normalized_shape && ndim <= x->ndim;
    int64_t D = 1;
    for (int d = 0; fits && d < ndim; d++) {
        fits = x->shape[x->ndim - ndim + d] == normalized_shape[d];
        D *= normalized_shape[d];
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
