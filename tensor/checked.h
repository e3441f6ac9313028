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

#define CG_MAX_NUMEL ((int64_t)1 << 58)

// a * b into *out for non-negative a and b; true (and *out unspecified) if it overflows.
static inline bool cg_mul_overflows(int64_t a, int64_t b, int64_t *out) {
    return __builtin_mul_overflow(a, b, out);
}

// The product of n non-negative sizes into *numel; false if it exceeds CG_MAX_NUMEL (a
// zero size makes the product 0 however large the others are, as in PyTorch).
static inline bool cg_checked_numel(int n, const int64_t *sizes, int64_t *numel) {
    int64_t p = 1;
    bool too_big = false;
    for (int i = 0; i < n; i++) {
        if (sizes[i] == 0) {
            *numel = 0;
            return true;
        }
        too_big = too_big || sizes[i] < 0 || cg_mul_overflows(p, sizes[i], &p) || p > CG_MAX_NUMEL;
    }
    *numel = p;
    return !too_big;
}

#endif
