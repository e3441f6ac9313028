// tensor/alloc.h - the one way cgrad allocates and frees memory.
//
// Buffers are 64-byte aligned and come from a cache of freed blocks grouped by size class,
// so a training loop that allocates the same sizes every step reuses the same pages instead
// of returning them to the OS (on this kind of VM the first touch of a page costs ~13 us).
// The cache is bounded; cg_alloc_trim() returns it to the system.
#ifndef CG_ALLOC_H
#define CG_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *cg_alloc(size_t bytes); // reports CG_ERR_MEMORY and returns NULL on failure
void *cg_alloc_zeroed(size_t bytes);
void cg_dealloc(void *ptr); // NULL is fine
void cg_alloc_trim(void);   // give cached blocks back to the system

typedef struct cg_alloc_stats {
    int64_t live_bytes;   // handed out and not yet freed
    int64_t cached_bytes; // freed and kept for reuse
    int64_t live_blocks;
    int64_t peak_live_bytes;
} cg_alloc_stats;
cg_alloc_stats cg_alloc_get_stats(void);

#endif
