// nn/resize.h - nn.Upsample over cg_interpolate (ops/interpolate.h).
#ifndef CG_NN_RESIZE_H
#define CG_NN_RESIZE_H

#include "../ops/interpolate.h"
#include "module.h"

// nn.Upsample(size=..., scale_factor=..., mode=..., align_corners=...): the options of
// cg_interpolate, checked on every forward; printed as PyTorch ("Upsample(scale_factor=2.0,
// mode=nearest)"). cg_Upsample(&(cg_interpolate_options){.scale_factor = 2}).
cg_module *cg_Upsample(const cg_interpolate_options *options);

#endif
