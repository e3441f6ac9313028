// tensor/alloc.h - the one way cgrad allocates and frees memory.
//
// Buffers are 64-byte aligned and come from a cache of freed blocks grouped by size class,
// so a training loop that allocates the same sizes every step reuses the same pages instead
// of returning them to the OS (on this kind of VM the first touch of a page costs ~13 us).
// The cache is bounded; cg_alloc_trim() returns it to the system. Freeing a block twice, or
// a pointer cg_alloc did not return, is reported (CG_ERR_STATE) and otherwise ignored.
//
// In a build with AddressSanitizer (CG_SANITIZE, or any -fsanitize=address compile) every
// block is exact-size and freed at once, so ASan sees every overflow, use after free and
// double free; the statistics then count requested bytes and nothing is cached.
#ifndef CG_ALLOC_H
#define CG_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *cg_alloc(size_t bytes); // reports CG_ERR_MEMORY and returns NULL on failure
void *cg_alloc_zeroed(size_t bytes);
void cg_dealloc(void *ptr); // NULL is fine
void cg_alloc_trim(void);   // give cached blocks back to the system

// Out-of-memory messages start with the op allocating on this thread ("conv2d: out of
// memory allocating 4294967296 bytes ..."): cg_check_arg() sets it as each op checks its
// arguments, so it names the op that most recently started on this thread ("alloc" if
// none). cg_alloc_set_op returns the previous name; cg_alloc_op reads the current one.
const char *cg_alloc_set_op(const char *op);
const char *cg_alloc_op(void);

typedef struct cg_alloc_stats {
    int64_t live_bytes;   // handed out and not yet freed
    int64_t cached_bytes; // freed and kept for reuse
    int64_t live_blocks;
    int64_t peak_live_bytes; // the most live_bytes reached since start (or the last reset)
} cg_alloc_stats;
cg_alloc_stats cg_alloc_get_stats(void);
// Start peak_live_bytes again from live_bytes, to measure the peak of one stretch of code
// (as torch.cuda.reset_peak_memory_stats).
void cg_alloc_reset_peak(void);

// For tests of failure paths: on this thread, after n more successful allocations the next
// one fails as if memory ran out (reported as CG_ERR_MEMORY), then allocation works again.
// n < 0 turns a pending failure off.
void cg_alloc_fail_after(int64_t n);

#endif
