// tensor/alloc.c - aligned allocation with a size-class cache.
//
// Blocks are rounded up to a size class (powers of two split in four steps: 64, 80, 96,
// 112, 128, 160, ...) so that a freed block serves any later request of the same class.
// Each block carries a small header with its class. The cache keeps at most
// CACHE_LIMIT_BYTES; beyond that blocks go back to the system.
#include "alloc.h"

#include <stdlib.h>
#include <string.h>

#include "error.h"

#define ALIGNMENT         64
#define N_CLASSES         200
#define CACHE_LIMIT_BYTES ((int64_t)2 << 30)

typedef struct block_header {
    size_t size_class;              // index into the class table
    struct block_header *next_free; // link while cached
    char pad[ALIGNMENT - sizeof(size_t) - sizeof(void *)];
} block_header;

static block_header *free_lists[N_CLASSES];
static cg_alloc_stats stats;

// Class c covers sizes up to class_size(c): 4 steps per power of two, starting at 64 bytes.
static size_t class_size(size_t c) {
    size_t pow2 = (size_t)64 << (c / 4);
    return pow2 + (pow2 / 4) * (c % 4);
}

static size_t class_of(size_t bytes) {
    size_t c = 0;
    while (c < N_CLASSES && class_size(c) < bytes) c += 4; // jump powers of two first
    if (c >= 4) c -= 4;
    while (c < N_CLASSES && class_size(c) < bytes) c++;
    return c;
}

void *cg_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    size_t c = class_of(bytes);
    if (c >= N_CLASSES) return cg_error(CG_ERR_MEMORY, "alloc: %zu bytes is too large", bytes);
    size_t size = class_size(c);
    block_header *h;
#pragma omp critical(cg_alloc)
    {
        h = free_lists[c];
        if (h) {
            free_lists[c] = h->next_free;
            stats.cached_bytes -= (int64_t)size;
        }
    }
    if (!h) {
        // aligned_alloc wants a multiple of the alignment; the header already is one.
        size_t rounded = (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        h = aligned_alloc(ALIGNMENT, sizeof(block_header) + rounded);
        if (!h) return cg_error(CG_ERR_MEMORY, "alloc: out of memory allocating %zu bytes", bytes);
        h->size_class = c;
    }
#pragma omp critical(cg_alloc)
    {
        stats.live_bytes += (int64_t)size;
        stats.live_blocks++;
        if (stats.live_bytes > stats.peak_live_bytes) stats.peak_live_bytes = stats.live_bytes;
    }
    return h + 1;
}

void *cg_alloc_zeroed(size_t bytes) {
    void *p = cg_alloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void cg_dealloc(void *ptr) {
    if (!ptr) return;
    block_header *h = (block_header *)ptr - 1;
    int64_t size = (int64_t)class_size(h->size_class);
    bool keep;
#pragma omp critical(cg_alloc)
    {
        stats.live_bytes -= size;
        stats.live_blocks--;
        keep = stats.cached_bytes + size <= CACHE_LIMIT_BYTES;
        if (keep) {
            h->next_free = free_lists[h->size_class];
            free_lists[h->size_class] = h;
            stats.cached_bytes += size;
        }
    }
    if (!keep) free(h);
}

void cg_alloc_trim(void) {
#pragma omp critical(cg_alloc)
    {
        for (int c = 0; c < N_CLASSES; c++) {
            while (free_lists[c]) {
                block_header *h = free_lists[c];
                free_lists[c] = h->next_free;
                free(h);
            }
        }
        stats.cached_bytes = 0;
    }
}

cg_alloc_stats cg_alloc_get_stats(void) {
    return stats;
}
