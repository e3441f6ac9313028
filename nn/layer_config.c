// nn/layer_config.c - small helpers the layer files share (see layers_internal.h).
#include <stdio.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "layers_internal.h"

cg_module *cg_module_with_config(const cg_module_class *cls, const void *config, size_t size) {
    return cg_module_new(cls, config, size);
}
