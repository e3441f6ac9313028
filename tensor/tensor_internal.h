// tensor/tensor_internal.h - helpers shared by the files of tensor/ and nn/.
#ifndef CG_TENSOR_INTERNAL_H
#define CG_TENSOR_INTERNAL_H

#include "tensor.h"

// A new tensor (in the current scope) sharing t's storage, starting `offset` elements in.
cg_tensor *cg_tensor_view_of(cg_tensor *t, int ndim, const int64_t *shape, int64_t offset);

// Row-major strides of a shape, in elements.
static inline void cg_contiguous_strides(int ndim, const int64_t *shape, int64_t *strides) {
    int64_t s = 1;
    for (int i = ndim - 1; i >= 0; i--) {
        strides[i] = s;
        s *= shape[i];
    }
}

#endif
