// tensor/checked.h - size arithmetic that cannot wrap around.
//
// Every element count, byte count and output shape in cgrad is computed with these, so a
// huge or corrupt shape fails with a named error instead of wrapping to a small number
// (a 2^64-element shape used to become numel 0, and a 2^62-element one a 1-byte buffer).
// CG_MAX_NUMEL bounds every tensor: far beyond any real memory, yet small enough that
// numel * sizeof(double), offsets and strides derived from it never overflow int64_t.
#ifndef CG_CHECKED_H
#define CG_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor.h"

#define CG_MAX_NUMEL ((int64_t)1 << 58)

// a * b into *out for non-negative a and b; true (and *out unspecified) if it overflows.
static inline bool cg_mul_overflows(int64_t a, int64_t b, int64_t *out) {
    return __builtin_mul_overflow(a, b, out);
}

// The product of n non-negative sizes into *numel; false if a size is negative or the
// product of the non-zero sizes exceeds CG_MAX_NUMEL. A zero size makes the product 0, but
// the others must still fit: then every partial product of a tensor's dims (the outer and
// inner counts around a dim, a flattened range) fits too, so code looping over the dims of
// a live tensor cannot wrap ([0, 2^40, 2^40] used to be accepted, and flattening its last
// two dims wrapped).
static inline bool cg_checked_numel(int n, const int64_t *sizes, int64_t *numel) {
    int64_t p = 1;
    bool too_big = false, zero = false;
    for (int i = 0; i < n; i++) {
        zero = zero || sizes[i] == 0;
        too_big = too_big || sizes[i] < 0 ||
                  (sizes[i] != 0 && (cg_mul_overflows(p, sizes[i], &p) || p > CG_MAX_NUMEL));
    }
    *numel = zero ? 0 : p;
    return !too_big;
}

// The same for sizes a caller chose (a reshape target, Unflatten sizes, a loader's sample
// shape): on failure, a CG_ERR_SHAPE naming `op` and `arg`, as PyTorch's "numel: integer
// multiplication overflow" ("reshape: shape [7,7905747460161236407] is invalid: integer
// multiplication overflow (more than 2^58 elements)"). Sizes of -1 are skipped (inferred
// dims). Defined in tensor/shape.c. Every product of caller-given sizes goes through this
// or cg_checked_numel; products over the dims of an existing tensor need neither.
bool cg_shape_numel(const char *op, const char *arg, int n, const int64_t *sizes, int64_t *numel);

// cg_empty for a shape an op computed from its arguments: an overflow names the op and the
// argument ("Conv2d: weight shape [1073741824,1073741824,3,3] has more than 2^58 elements
// (integer multiplication overflow)") instead of "empty". Defined in tensor/tensor.c.
cg_tensor *cg_empty_for(const char *op, const char *arg, int ndim, const int64_t *shape);

#endif
