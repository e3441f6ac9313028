// nn/conv_module.h - Conv2d, ConvTranspose2d, Conv1d, ConvTranspose1d modules over the
// functional ops of ops/conv.h (which also defines cg_conv_options).
#ifndef CG_CONV_MODULE_H
#define CG_CONV_MODULE_H

#include "../ops/conv.h"
#include "module.h"

// ---- modules (weight and bias created with PyTorch's default initialisation) -------------
// weight ~ kaiming_uniform(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the
// same bound, fan_in = (in_channels/groups)*kH*kW for Conv, (out_channels/groups)*kH*kW
// for ConvTranspose (PyTorch computes it from weight dim 1). Random numbers come from the
// global generator (cg_manual_seed). State names: "weight", "bias".
//
// The argument order is PyTorch's: (in_channels, out_channels, kernel_size, options), so
// nn.Conv2d(1, 32, 3, 1) cannot compile into something else - its stride goes in the
// options. kernel_size is the square kernel; a rectangle is `.kernel_size_hw = {kh, kw}`
// (tensor/options.h, rule 2: a pair with a non-zero entry wins). The options hold what
// has a default (NULL: stride 1, padding 0, dilation 1, groups 1, a bias, zeros padding).
// nn.Conv2d(1, 8, 3, padding=1) is cg_Conv2d(1, 8, 3, &(cg_conv_options){.padding = 1});
// nn.Conv2d(1, 8, (3, 5)) is cg_Conv2d(1, 8, 0, &(cg_conv_options){.kernel_size_hw = {3, 5}}).
// 1-D modules take the length as kernel_size; a kernel_size_hw there is an error.
cg_module *cg_Conv2d(int in_channels, int out_channels, int kernel_size,
                     const cg_conv_options *options);
cg_module *cg_ConvTranspose2d(int in_channels, int out_channels, int kernel_size,
                              const cg_conv_options *options);
cg_module *cg_Conv1d(int in_channels, int out_channels, int kernel_size,
                     const cg_conv_options *options);
cg_module *cg_ConvTranspose1d(int in_channels, int out_channels, int kernel_size,
                              const cg_conv_options *options);

#endif
