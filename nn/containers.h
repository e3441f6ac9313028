// nn/containers.h - modules that hold or reshape other modules' data, as torch.nn
// (cg_Sequential itself is in nn/layers.h). Containers take ownership of every module given,
// also on failure (a NULL module - a constructor that failed - frees the others).
#ifndef CG_NN_CONTAINERS_H
#define CG_NN_CONTAINERS_H

#include "module.h"

// Sequential(OrderedDict(...)): children named as given (state_dict "features.conv.weight").
// Names must be non-empty, without '.', and unique.
cg_module *cg_Sequential_named(int n, const char *const *names, cg_module *const *modules);

// ModuleList: children "0", "1", ...; it has no forward (call cg_module_forward on its
// children: cg_module_get(list, "2") or list->children[2]). Append with cg_ModuleList_append.
cg_module *cg_ModuleList(int n, cg_module *const *modules);
cg_module *cg_ModuleList_append(cg_module *list, cg_module *module); // returns module

// Residual(fn): forward is x + fn(x) (shapes must broadcast), so a skip connection needs no
// module class of its own; the child is named "fn" (state_dict "3.fn.weight"), as in the
// usual PyTorch `class Residual(nn.Module): def forward(self, x): return x + self.fn(x)`.
cg_module *cg_Residual(cg_module *fn);

cg_module *cg_Identity(void); // returns its input (the same tensor)
// Unflatten(dim, unflattened_size): dim of the input becomes `ndim` dims `sizes` (one may be
// -1); cg_Unflatten(1, CG_SHAPE(2, 5)) is nn.Unflatten(1, (2, 5)).
cg_module *cg_Unflatten(int dim, int ndim, const int64_t *sizes);

#endif
