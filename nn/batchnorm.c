// nn/batchnorm.c - the BatchNorm2d module over cg_batch_norm2d (ops/batchnorm.c).
#include <stdio.h>

#include "layers.h"
#include "layers_internal.h"

typedef struct batch_norm_config {
    int num_features;
    float eps, momentum;
} batch_norm_config;

static cg_tensor *batch_norm_module_forward(cg_module *m, cg_tensor *x) {
    const batch_norm_config *c = m->impl;
    if (m->training) {
        cg_tensor *tracked = cg_module_buffer(m, "num_batches_tracked");
        tracked->data[0] += 1.0f;
    }
    return cg_batch_norm2d(x, cg_module_buffer(m, "running_mean"),
                           cg_module_buffer(m, "running_var"), cg_module_param(m, "weight"),
                           cg_module_param(m, "bias"), m->training, c->momentum, c->eps);
}

static void batch_norm_describe(const cg_module *m, char *buf, size_t size) {
    const batch_norm_config *c = m->impl;
    snprintf(buf, size,
             "BatchNorm2d(%d, eps=%g, momentum=%g, affine=True, track_running_stats=True)",
             c->num_features, (double)c->eps, (double)c->momentum);
}

static const cg_module_class batch_norm_class = {"BatchNorm2d", batch_norm_module_forward, NULL,
                                                 batch_norm_describe};

cg_module *cg_BatchNorm2d(int num_features, float eps, float momentum) {
    if (num_features <= 0 || !(eps >= 0.0f) || !(momentum >= 0.0f && momentum <= 1.0f))
        return cg_error(CG_ERR_ARG,
                        "BatchNorm2d: num_features %d must be > 0, eps %g >= 0 and momentum %g "
                        "in [0, 1]",
                        num_features, (double)eps, (double)momentum);
    batch_norm_config c = {num_features, eps, momentum};
    cg_module *m = cg_module_with_config(&batch_norm_class, &c, sizeof c);
    if (!m) return NULL;
    bool ok = cg_module_add_param(m, "weight", cg_ones(CG_SHAPE(num_features))) &&
              cg_module_add_param(m, "bias", cg_zeros(CG_SHAPE(num_features))) &&
              cg_module_add_buffer(m, "running_mean", cg_zeros(CG_SHAPE(num_features))) &&
              cg_module_add_buffer(m, "running_var", cg_ones(CG_SHAPE(num_features))) &&
              cg_module_add_buffer(m, "num_batches_tracked", cg_scalar(0.0f));
    if (!ok) {
        cg_module_free(m);
        return NULL;
    }
    return m;
}
