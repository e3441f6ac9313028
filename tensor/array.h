// tensor/array.h - the one growable array of cgrad: a pointer to items, a count and a
// capacity, grown by doubling through cg_alloc with checked sizes.
//
// Failure is a return value the caller passes on (cg_alloc has already reported
// CG_ERR_MEMORY, or the size check CG_ERR_SHAPE), so nothing is dropped silently:
//   if (CG_ARRAY_PUSH(list.items, list.count, list.capacity, x) < 0) return -1;
// or, to fill several items (or two arrays that grow together) after one check:
//   if (cg_array_reserve(&items, &capacity, count + n, sizeof *items) < 0) return -1;
// On failure the array is unchanged (still valid, still owned by the caller).
#ifndef CG_ARRAY_H
#define CG_ARRAY_H

#include <stddef.h>
#include <stdint.h>

// Make *items (a pointer to any object pointer: T **) hold at least `needed` items of
// item_size bytes, keeping the first *capacity; 0, or -1 with an error.
int cg_array_reserve(void *items, int64_t *capacity, int64_t needed, size_t item_size);

// Append value to items[count] (count and capacity are int64_t lvalues); 0, or -1.
#define CG_ARRAY_PUSH(items, count, capacity, value)                                               \
    (cg_array_reserve(&(items), &(capacity), (count) + 1, sizeof *(items)) < 0                     \
         ? -1                                                                                      \
         : ((items)[(count)++] = (value), 0))

#endif
