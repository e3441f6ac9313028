// nn/norm.c - the normalisation modules of nn/norm.h: one configuration, one forward and one
// repr for all five, which differ only in the functional they call and what they register.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "../ops/functional.h"
#include "../ops/norm.h"
#include "layers_internal.h"
#include "norm.h"

typedef enum { BATCH_1D, BATCH_2D, LAYER, GROUP, INSTANCE } norm_kind;

typedef struct norm_config {
    norm_kind kind;
    int num_features, num_groups;
    int ndim; // LayerNorm's normalized_shape
    int64_t shape[CG_MAX_DIMS];
    double eps, momentum;
    bool cumulative, affine, track; // momentum=None, affine, track_running_stats
} norm_config;

// Batch norm: batch statistics when training or not tracking; the running ones move by
// momentum, or by 1 / batches seen for the cumulative average (momentum=None).
// With relu, relu(batch_norm(x)) as one op (cg_batch_norm_relu).
static cg_tensor *batch_norm_forward(cg_module *m, const norm_config *c, cg_tensor *x, bool relu) {
    bool batch_stats = m->training || !c->track;
    double momentum = c->momentum;
    if (m->training && c->track) {
        cg_tensor *tracked = cg_module_buffer(m, "num_batches_tracked");
        tracked->data[0] += 1.0f;
        if (c->cumulative) momentum = 1.0 / tracked->data[0];
    }
    cg_tensor *rm = cg_module_buffer(m, "running_mean"), *rv = cg_module_buffer(m, "running_var");
    cg_tensor *w = cg_module_param(m, "weight"), *b = cg_module_param(m, "bias");
    return (relu ? cg_batch_norm_relu
            : c->kind == BATCH_1D
                ? cg_batch_norm1d
                : cg_batch_norm2d)(x, rm, rv, w, b, batch_stats, (float)momentum, (float)c->eps);
}

static cg_tensor *norm_forward(cg_module *m, cg_tensor *x) {
    const norm_config *c = m->impl;
    cg_tensor *w = cg_module_param(m, "weight"), *b = cg_module_param(m, "bias");
    switch (c->kind) {
    case LAYER:
        return cg_layer_norm(x, c->ndim, c->shape, w, b, (float)c->eps);
    case GROUP:
        return cg_group_norm(x, c->num_groups, w, b, (float)c->eps);
    case INSTANCE:
        return cg_instance_norm(x, 2, cg_module_buffer(m, "running_mean"),
                                cg_module_buffer(m, "running_var"), w, b, m->training || !c->track,
                                (float)c->momentum, (float)c->eps);
    case BATCH_1D:
    case BATCH_2D:
        return batch_norm_forward(m, c, x, false);
    }
    return NULL;
}

// BatchNorm1d/2d then ReLU: relu(batch_norm(x)) in one pass (cg_batch_norm_relu). An input
// of the wrong rank goes through the module alone, for its error.
static bool batch_norm_pairs_with(const cg_module *m, const cg_module *next) {
    (void)m;
    return cg_is_relu_module(next);
}
static cg_tensor *batch_norm_forward_pair(cg_module *m, cg_module *next, cg_tensor *x) {
    const norm_config *c = m->impl;
    bool fits = x && (c->kind == BATCH_2D ? x->ndim == 4 : x->ndim == 2 || x->ndim == 3);
    if (!fits) return cg_module_forward(next, cg_module_forward(m, x));
    return batch_norm_forward(m, c, x, true);
}

static const char *py_bool(bool b) {
    return b ? "True" : "False";
}

static void norm_describe(const cg_module *m, char *buf, size_t size) {
    const norm_config *c = m->impl;
    char momentum[32] = "None";
    if (!c->cumulative) snprintf(momentum, sizeof momentum, "%g", c->momentum);
    if (c->kind == LAYER) {
        char shape[96] = "(";
        for (int d = 0; d < c->ndim; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), d ? ", %lld" : "%lld",
                     (long long)c->shape[d]);
        snprintf(buf, size, "LayerNorm(%s%s), eps=%g, elementwise_affine=%s)", shape,
                 c->ndim == 1 ? "," : "", c->eps, py_bool(c->affine));
    } else if (c->kind == GROUP) {
        snprintf(buf, size, "GroupNorm(%d, %d, eps=%g, affine=%s)", c->num_groups, c->num_features,
                 c->eps, py_bool(c->affine));
    } else {
        snprintf(buf, size, "%s(%d, eps=%g, momentum=%s, affine=%s, track_running_stats=%s)",
                 m->cls->name, c->num_features, c->eps, momentum, py_bool(c->affine),
                 py_bool(c->track));
    }
}

static const cg_module_class classes[] = {
    [BATCH_1D] = {.name = "BatchNorm1d",
                  .forward = norm_forward,
                  .describe = norm_describe,
                  .pairs_with = batch_norm_pairs_with,
                  .forward_pair = batch_norm_forward_pair},
    [BATCH_2D] = {.name = "BatchNorm2d",
                  .forward = norm_forward,
                  .describe = norm_describe,
                  .pairs_with = batch_norm_pairs_with,
                  .forward_pair = batch_norm_forward_pair},
    [LAYER] = {.name = "LayerNorm", .forward = norm_forward, .describe = norm_describe},
    [GROUP] = {.name = "GroupNorm", .forward = norm_forward, .describe = norm_describe},
    [INSTANCE] = {.name = "InstanceNorm2d", .forward = norm_forward, .describe = norm_describe},
};

bool cg_batch_norm_eval_affine(const cg_module *m, int64_t channels, double *scale, double *shift) {
    if (!m || m->cls != &classes[BATCH_2D] || m->training) return false;
    const norm_config *c = m->impl;
    cg_tensor *rm = cg_module_buffer(m, "running_mean"), *rv = cg_module_buffer(m, "running_var");
    if (!c->track || !rm || !rv || c->num_features != channels) return false;
    cg_tensor *w = cg_module_param(m, "weight"), *b = cg_module_param(m, "bias");
    for (int64_t k = 0; scale && k < channels; k++) {
        scale[k] = (w ? w->data[k] : 1.0) / sqrt((double)rv->data[k] + c->eps);
        shift[k] = (b ? b->data[k] : 0.0) - rm->data[k] * scale[k];
    }
    return true;
}

// The module with weight/bias of `shape` (if affine) and, for tracking batch norm, the
// running statistics.
static cg_module *norm_module(const norm_config *c, int ndim, const int64_t *shape) {
    const char *name = classes[c->kind].name;
    if (!(c->eps >= 0) || !(c->momentum >= 0 && c->momentum <= 1))
        return cg_error(CG_ERR_ARG, "%s: eps %g must be >= 0 and momentum %g in [0, 1]", name,
                        c->eps, c->momentum);
    cg_module *m = cg_module_with_config(&classes[c->kind], c, sizeof *c);
    if (!m) return NULL;
    bool ok = true;
    if (c->affine)
        ok = cg_module_add_param(m, "weight", cg_ones(ndim, shape)) &&
             cg_module_add_param(m, "bias", cg_zeros(ndim, shape));
    if (ok && c->track)
        ok = cg_module_add_buffer(m, "running_mean", cg_zeros(ndim, shape)) &&
             cg_module_add_buffer(m, "running_var", cg_ones(ndim, shape)) &&
             cg_module_add_buffer(m, "num_batches_tracked", cg_scalar(0.0f));
    if (!ok) {
        cg_module_free(m);
        return NULL;
    }
    return m;
}

static cg_module *batch_norm(norm_kind kind, int n, const cg_batch_norm_options *options) {
    cg_batch_norm_options o = options ? *options : (cg_batch_norm_options){0};
    if (n <= 0)
        return cg_error(CG_ERR_ARG, "%s: num_features %d must be > 0", classes[kind].name, n);
    norm_config c = {.kind = kind,
                     .num_features = n,
                     .eps = cg_optional_or(o.eps, 1e-5),
                     .momentum = cg_optional_or(o.momentum, 0.1),
                     .cumulative = o.cumulative_average,
                     .affine = !o.no_affine,
                     .track = !o.no_running_stats};
    return norm_module(&c, CG_SHAPE(n));
}

cg_module *cg_BatchNorm1d(int num_features, const cg_batch_norm_options *options) {
    return batch_norm(BATCH_1D, num_features, options);
}
cg_module *cg_BatchNorm2d(int num_features, const cg_batch_norm_options *options) {
    return batch_norm(BATCH_2D, num_features, options);
}

cg_module *cg_LayerNorm(int ndim, const int64_t *normalized_shape, const cg_norm_options *options) {
    cg_norm_options o = options ? *options : (cg_norm_options){0};
    bool ok = ndim >= 1 && ndim <= CG_MAX_DIMS && normalized_shape;
    for (int d = 0; ok && d < ndim; d++) ok = normalized_shape[d] > 0;
    if (!ok)
        return cg_error(CG_ERR_ARG,
                        "LayerNorm: normalized_shape must have 1 to %d dims, each > 0 (got %d "
                        "dims)",
                        CG_MAX_DIMS, ndim);
    norm_config c = {.kind = LAYER, .ndim = ndim, .eps = cg_optional_or(o.eps, 1e-5)};
    c.affine = !o.no_affine;
    memcpy(c.shape, normalized_shape, (size_t)ndim * sizeof *c.shape);
    return norm_module(&c, ndim, normalized_shape);
}

cg_module *cg_GroupNorm(int num_groups, int num_channels, const cg_norm_options *options) {
    cg_norm_options o = options ? *options : (cg_norm_options){0};
    if (num_groups <= 0 || num_channels <= 0 || num_channels % num_groups != 0)
        return cg_error(CG_ERR_ARG,
                        "GroupNorm: num_groups %d must be > 0 and divide num_channels %d (> 0)",
                        num_groups, num_channels);
    norm_config c = {.kind = GROUP,
                     .num_features = num_channels,
                     .num_groups = num_groups,
                     .eps = cg_optional_or(o.eps, 1e-5),
                     .affine = !o.no_affine};
    return norm_module(&c, CG_SHAPE(num_channels));
}

cg_module *cg_InstanceNorm2d(int num_features, const cg_instance_norm_options *options) {
    cg_instance_norm_options o = options ? *options : (cg_instance_norm_options){0};
    if (num_features <= 0)
        return cg_error(CG_ERR_ARG, "InstanceNorm2d: num_features %d must be > 0", num_features);
    norm_config c = {.kind = INSTANCE,
                     .num_features = num_features,
                     .eps = cg_optional_or(o.eps, 1e-5),
                     .momentum = cg_optional_or(o.momentum, 0.1),
                     .affine = o.affine,
                     .track = o.track_running_stats};
    return norm_module(&c, CG_SHAPE(num_features));
}
