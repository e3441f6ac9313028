// nn/init.h - PyTorch's parameter initialisers (torch.nn.init), in place, from a cg_rng
// (NULL: the global generator seeded by cg_manual_seed).
#ifndef CG_INIT_H
#define CG_INIT_H

#include "../tensor/tensor.h"

// fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (as PyTorch's
// _calculate_fan_in_and_fan_out; receptive field = product of dims 2..). -1 (CG_ERR_SHAPE)
// for a tensor of fewer than 2 dims, as PyTorch's ValueError; so do the initialisers below
// (kaiming leaves a zero-element tensor alone first, as PyTorch).
int cg_init_fans(const cg_tensor *t, int64_t *fan_in, int64_t *fan_out);
// kaiming_uniform_(t, a, mode='fan_in', nonlinearity='leaky_relu'):
//   bound = sqrt(2 / (1 + a^2)) * sqrt(3 / fan_in)
cg_tensor *cg_init_kaiming_uniform_(cg_tensor *t, float a, cg_rng *rng);
cg_tensor *cg_init_xavier_uniform_(cg_tensor *t, float gain, cg_rng *rng);
// What every PyTorch Linear/Conv does: weight kaiming_uniform(a=sqrt(5)), bias
// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in from the weight. bias may be NULL.
void cg_init_default_(cg_tensor *weight, cg_tensor *bias, cg_rng *rng);

#endif
