// nn/activations.h - more activation modules as torch.nn (ReLU, LeakyReLU, Sigmoid, Tanh are
// in nn/layers.h): thin modules over the ops of ops/math.h, printed as PyTorch prints them.
#ifndef CG_NN_ACTIVATIONS_H
#define CG_NN_ACTIVATIONS_H

#include "../ops/math.h"
#include "module.h"

cg_module *cg_GELU(cg_gelu_approximate approximate); // nn.GELU(): CG_GELU_NONE
cg_module *cg_SiLU(void);
cg_module *cg_ELU(float alpha); // nn.ELU(): alpha 1
// nn.Softplus(): beta 1, threshold 20; beta must be non-zero.
cg_module *cg_Softplus(float beta, float threshold);
cg_module *cg_Hardswish(void);
cg_module *cg_Softmax(int dim);    // nn.Softmax(dim=1) is cg_Softmax(1)
cg_module *cg_LogSoftmax(int dim); // nn.LogSoftmax(dim=1) is cg_LogSoftmax(1)

#endif
