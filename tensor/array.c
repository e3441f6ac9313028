// tensor/array.c - the growable array's one allocation rule (tensor/array.h).
#include "array.h"

#include <string.h>

#include "alloc.h"
#include "checked.h"
#include "error.h"

int cg_array_reserve(void *items, int64_t *capacity, int64_t needed, size_t item_size) {
    if (needed <= *capacity) return 0;
    int64_t cap = *capacity > 0 ? *capacity : 8, bytes;
    while (cap < needed) cap = cap > INT64_MAX / 2 ? needed : 2 * cap;
    if (cg_mul_overflows(cap, (int64_t)item_size, &bytes)) {
        cg_error(CG_ERR_SHAPE, "array: %lld items of %zu bytes overflow", (long long)cap,
                 item_size);
        return -1;
    }
    void *old; // *items is some T*: read and write it as bytes, whatever T is
    memcpy(&old, items, sizeof old);
    void *bigger = cg_alloc((size_t)bytes);
    if (!bigger) return -1;
    if (old && *capacity > 0) memcpy(bigger, old, (size_t)*capacity * item_size);
    cg_dealloc(old);
    memcpy(items, &bigger, sizeof bigger);
    *capacity = cap;
    return 0;
}
