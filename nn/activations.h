// nn/activations.h - the activation modules of torch.nn (ReLU is in nn/layers.h): thin
// modules over the ops of ops/activations.h and ops/math.h, printed as PyTorch prints them.
//
// Every line of ops/activations.def declares its module: cg_<Name>(void) when the op has no
// options (cg_Sigmoid(), cg_Mish(), cg_ReLU6(), ...), else cg_<Name>(options) with the op's
// options struct, NULL being PyTorch's defaults:
//
// clang-format off
// | PyTorch                       | cgrad                                                                    |
// |-------------------------------|--------------------------------------------------------------------------|
// | nn.Tanh(), nn.SELU()          | cg_Tanh(), cg_SELU()                                                     |
// | nn.LeakyReLU(0.2)             | cg_LeakyReLU(&(cg_leaky_relu_options){.negative_slope = CG_SET(0.2)})    |
// | nn.ELU(), nn.CELU(alpha=0.5)  | cg_ELU(NULL), cg_CELU(&(cg_celu_options){.alpha = CG_SET(0.5)})          |
// | nn.Hardtanh(-2.0, 2.0)        | cg_Hardtanh(&(cg_hardtanh_options){.min_val = CG_SET(-2), .max_val = CG_SET(2)}) |
// | nn.Softplus(beta=2)           | cg_Softplus(&(cg_softplus_options){.beta = CG_SET(2)})                   |
// | nn.Threshold(0.1, 20.0)       | cg_Threshold(&(cg_threshold_options){.threshold = CG_SET(0.1), .value = CG_SET(20)}) |
// | nn.Softmin(dim=1)             | cg_Softmin(1)                                                            |
// | nn.PReLU(3, init=0.1)         | cg_PReLU(&(cg_prelu_options){.num_parameters = 3, .init = CG_SET(0.1)})  |
// clang-format on
//
// Bad options are refused by the constructor with the op's message, naming the module
// ("Hardtanh: min_val cannot be greater than max_val (min_val=2.0, max_val=1.0)").
#ifndef CG_NN_ACTIVATIONS_H
#define CG_NN_ACTIVATIONS_H

#include "../ops/activations.h"
#include "../ops/math.h"
#include "module.h"

#define ACTIVATION(name, Name, ...)   cg_module *cg_##Name(void);
#define ACTIVATION_1(name, Name, ...) cg_module *cg_##Name(const cg_##name##_options *options);
#define ACTIVATION_2(name, Name, ...) cg_module *cg_##Name(const cg_##name##_options *options);
#include "../ops/activations.def"
#undef ACTIVATION
#undef ACTIVATION_1
#undef ACTIVATION_2

cg_module *cg_GELU(cg_gelu_approximate approximate); // nn.GELU(): CG_GELU_NONE
cg_module *cg_Softmax(int dim);                      // nn.Softmax(dim=1) is cg_Softmax(1)
cg_module *cg_LogSoftmax(int dim);                   // nn.LogSoftmax(dim=1) is cg_LogSoftmax(1)
cg_module *cg_Softmin(int dim);                      // nn.Softmin(dim=1) is cg_Softmin(1)

// nn.PReLU(num_parameters=1, init=0.25): y = x where x > 0, else weight[c] * x, c the index
// along dim 1 (a 0-D or 1-D input needs num_parameters 1). Parameter "weight"
// (num_parameters), filled with init. num_parameters 0 is PyTorch's default 1.
typedef struct cg_prelu_options {
    int num_parameters; // 0: 1
    cg_optional init;   // unset: 0.25
} cg_prelu_options;
cg_module *cg_PReLU(const cg_prelu_options *options);

#endif
