// nn/layers_internal.h - helpers shared by the layer files (not installed).
#ifndef CG_LAYERS_INTERNAL_H
#define CG_LAYERS_INTERNAL_H

#include <stddef.h>

#include "module.h"

// A new module of class `cls` whose impl is a cg_alloc'ed copy of `config` (size bytes).
cg_module *cg_module_with_config(const cg_module_class *cls, const void *config, size_t size);

#endif
