// nn/init.c - torch.nn.init's initialisers used by the layers.
#include "init.h"

#include <math.h>

#include "../autograd/op.h"

// The fans for `op`: as PyTorch, a tensor of fewer than 2 dims has none.
static int fans(const cg_tensor *t, const char *op, int64_t *fan_in, int64_t *fan_out) {
    if (!cg_check_arg(t, op, "tensor") || !cg_check_ptr(fan_in, op, "fan_in") ||
        !cg_check_ptr(fan_out, op, "fan_out"))
        return -1;
    if (t->ndim < 2) {
        cg_error(CG_ERR_SHAPE,
                 "%s: fan in and fan out can not be computed for a tensor of shape %s (fewer "
                 "than 2 dimensions)",
                 op, cg_tensor_shape_str(t));
        return -1;
    }
    int64_t receptive = 1;
    for (int d = 2; d < t->ndim; d++) receptive *= t->shape[d];
    *fan_in = t->shape[1] * receptive;
    *fan_out = t->shape[0] * receptive;
    return 0;
}

int cg_init_fans(const cg_tensor *t, int64_t *fan_in, int64_t *fan_out) {
    return fans(t, "init_fans", fan_in, fan_out);
}

cg_tensor *cg_init_kaiming_uniform_(cg_tensor *t, float a, cg_rng *rng) {
    if (!cg_check_arg(t, "kaiming_uniform_", "tensor")) return NULL;
    if (t->numel == 0) return t; // PyTorch warns and leaves a zero-element tensor alone
    int64_t fan_in, fan_out;
    if (fans(t, "kaiming_uniform_", &fan_in, &fan_out) < 0) return NULL;
    double gain = sqrt(2.0 / (1.0 + (double)a * a));
    float bound = (float)(gain * sqrt(3.0 / (double)fan_in));
    return cg_uniform_(t, -bound, bound, rng);
}

cg_tensor *cg_init_xavier_uniform_(cg_tensor *t, float gain, cg_rng *rng) {
    if (!cg_check_arg(t, "xavier_uniform_", "tensor")) return NULL;
    int64_t fan_in, fan_out;
    if (fans(t, "xavier_uniform_", &fan_in, &fan_out) < 0) return NULL;
    float bound = (float)(gain * sqrt(6.0 / (double)(fan_in + fan_out)));
    return cg_uniform_(t, -bound, bound, rng);
}

void cg_init_default_(cg_tensor *weight, cg_tensor *bias, cg_rng *rng) {
    cg_init_kaiming_uniform_(weight, sqrtf(5.0f), rng);
    if (!bias || !weight) return;
    int64_t fan_in = 0, fan_out;
    if (weight->numel > 0 && fans(weight, "init_default_", &fan_in, &fan_out) < 0) return;
    float bound = fan_in > 0 ? 1.0f / sqrtf((float)fan_in) : 0.0f;
    cg_uniform_(bias, -bound, bound, rng);
}
