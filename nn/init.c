// nn/init.c - torch.nn.init's initialisers used by the layers.
#include "init.h"

#include <math.h>

#include "../autograd/op.h"

void cg_init_fans(const cg_tensor *t, int64_t *fan_in, int64_t *fan_out) {
    int64_t receptive = 1;
    for (int d = 2; d < t->ndim; d++) receptive *= t->shape[d];
    *fan_in = (t->ndim > 1 ? t->shape[1] : t->shape[0]) * receptive;
    *fan_out = t->shape[0] * receptive;
}

cg_tensor *cg_init_kaiming_uniform_(cg_tensor *t, float a, cg_rng *rng) {
    if (!cg_check_arg(t, "kaiming_uniform_", "tensor")) return NULL;
    int64_t fan_in, fan_out;
    cg_init_fans(t, &fan_in, &fan_out);
    if (fan_in == 0) return t; // PyTorch warns and leaves a zero-element tensor alone
    double gain = sqrt(2.0 / (1.0 + (double)a * a));
    float bound = (float)(gain * sqrt(3.0 / (double)fan_in));
    return cg_uniform_(t, -bound, bound, rng);
}

cg_tensor *cg_init_xavier_uniform_(cg_tensor *t, float gain, cg_rng *rng) {
    if (!cg_check_arg(t, "xavier_uniform_", "tensor")) return NULL;
    int64_t fan_in, fan_out;
    cg_init_fans(t, &fan_in, &fan_out);
    float bound = (float)(gain * sqrt(6.0 / (double)(fan_in + fan_out)));
    return cg_uniform_(t, -bound, bound, rng);
}

void cg_init_default_(cg_tensor *weight, cg_tensor *bias, cg_rng *rng) {
    cg_init_kaiming_uniform_(weight, sqrtf(5.0f), rng);
    if (!bias || !weight) return;
    int64_t fan_in, fan_out;
    cg_init_fans(weight, &fan_in, &fan_out);
    float bound = fan_in > 0 ? 1.0f / sqrtf((float)fan_in) : 0.0f;
    cg_uniform_(bias, -bound, bound, rng);
}
