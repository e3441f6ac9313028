// tensor/alloc.c - aligned allocation with a size-class cache (and an exact mode for ASan).
//
// Blocks are rounded up to a size class (powers of two split in four steps: 64, 80, 96,
// 112, 128, 160, ...) so that a freed block serves any later request of the same class.
// Each block carries a small header with its class and a state word, so freeing a block
// twice, or freeing memory that cg_alloc did not hand out, is reported (CG_ERR_STATE)
// instead of corrupting the cache. The cache keeps at most CACHE_LIMIT_BYTES; beyond that
// blocks go back to the system.
//
// Under AddressSanitizer the cache would hide exactly what ASan looks for (slack after a
// rounded-up block, reuse after free, double free), so there every block is an exact-size
// posix_memalign block without header, returned to the system at once.
#include "alloc.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

#if defined(CG_SANITIZE) || defined(__SANITIZE_ADDRESS__)
#define CG_EXACT_BLOCKS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CG_EXACT_BLOCKS 1
#endif
#endif
#ifdef CG_EXACT_BLOCKS
// ASan's allocator interface (sanitizer/allocator_interface.h, which GCC does not ship):
// whether p is a live block, and its requested size, asked without touching p.
int __sanitizer_get_ownership(const volatile void *p);
size_t __sanitizer_get_allocated_size(const volatile void *p);
#endif

#define ALIGNMENT         64
#define N_CLASSES         200
#define CACHE_LIMIT_BYTES ((int64_t)2 << 30)
// Large requests may reuse a cached block of up to this many classes more (take_cached).
#define REUSE_LARGER_CLASSES   8
#define REUSE_LARGER_MIN_BYTES ((size_t)1 << 20)
#define LIVE_MAGIC             UINT64_C(0xc6a110cb10c4a11e)
#define FREE_MAGIC             UINT64_C(0xc6f7eeb10c4f7eed)

static _Thread_local const char *current_op;

const char *cg_alloc_set_op(const char *op) {
    const char *previous = current_op;
    current_op = op;
    return previous;
}
const char *cg_alloc_op(void) {
    return current_op ? current_op : "alloc";
}

static cg_alloc_stats stats;
// Parts of a parallel job allocate too: one lock for the counts, one for the cache below.
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;

static void count(int64_t bytes, int64_t blocks) {
    pthread_mutex_lock(&stats_lock);
    stats.live_bytes += bytes;
    stats.live_blocks += blocks;
    if (stats.live_bytes > stats.peak_live_bytes) stats.peak_live_bytes = stats.live_bytes;
    pthread_mutex_unlock(&stats_lock);
}

// Fault injection for tests (cg_alloc_fail_after): allocations left before one fails on
// this thread; -1 means never.
static _Thread_local int64_t allocations_before_failure = -1;

void cg_alloc_fail_after(int64_t n) {
    allocations_before_failure = n < 0 ? -1 : n;
}

// True when this allocation is the one cg_alloc_fail_after chose to fail.
static bool injected_failure(void) {
    if (allocations_before_failure < 0) return false;
    if (allocations_before_failure > 0) {
        allocations_before_failure--;
        return false;
    }
    allocations_before_failure = -1; // one failure, then back to normal
    return true;
}

static void *out_of_memory(size_t bytes) {
    return cg_error(CG_ERR_MEMORY, "%s: out of memory allocating %zu bytes (%.1f MiB)",
                    cg_alloc_op(), bytes, (double)bytes / (1 << 20));
}

void *cg_alloc_zeroed(size_t bytes) {
    void *p = cg_alloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

cg_alloc_stats cg_alloc_get_stats(void) {
    pthread_mutex_lock(&stats_lock);
    cg_alloc_stats s = stats;
    pthread_mutex_unlock(&stats_lock);
    return s;
}

void cg_alloc_reset_peak(void) {
    pthread_mutex_lock(&stats_lock);
    stats.peak_live_bytes = stats.live_bytes;
    pthread_mutex_unlock(&stats_lock);
}

#ifdef CG_EXACT_BLOCKS

// ASan aborts on requests above its 1 TiB maximum instead of failing; refuse them first.
#define EXACT_MAX_BYTES ((size_t)1 << 40)

void *cg_alloc(size_t bytes) {
    void *p = NULL;
    if (injected_failure() || bytes > EXACT_MAX_BYTES ||
        posix_memalign(&p, ALIGNMENT, bytes ? bytes : 1) != 0)
        return out_of_memory(bytes);
    count((int64_t)__sanitizer_get_allocated_size(p), 1);
    return p;
}

void cg_dealloc(void *ptr) {
    if (!ptr) return;
    if (__sanitizer_get_ownership(ptr)) count(-(int64_t)__sanitizer_get_allocated_size(ptr), -1);
    free(ptr); // ASan reports a double free (or a foreign pointer) right here
}

void cg_alloc_trim(void) {}

#else

typedef struct block_header {
    size_t size_class;              // index into the class table
    struct block_header *next_free; // link while cached
    uint64_t magic;                 // LIVE_MAGIC while handed out, FREE_MAGIC while cached
    char pad[ALIGNMENT - sizeof(size_t) - sizeof(void *) - sizeof(uint64_t)];
} block_header;

static block_header *free_lists[N_CLASSES];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

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

// A cached block for class c, or NULL; the caller holds cache_lock. A large request that
// misses its class takes a cached block up to REUSE_LARGER_CLASSES classes (4x) larger:
// its pages are already touched, and an evaluation pass frees activations whose sizes the
// next layers do not ask for again, so without this each layer's output would take fresh
// pages while the freed ones sat in the cache, and freeing them early would not lower the
// peak RSS. The block keeps its own class and returns to it when freed; a training loop,
// which asks for the same sizes every step, hits its own classes after its first steps.
static block_header *take_cached(size_t c) {
    size_t last = class_size(c) >= REUSE_LARGER_MIN_BYTES ? c + REUSE_LARGER_CLASSES : c;
    for (size_t d = c; d <= last && d < N_CLASSES; d++) {
        block_header *h = free_lists[d];
        if (h) {
            free_lists[d] = h->next_free;
            stats.cached_bytes -= (int64_t)class_size(d);
            return h;
        }
    }
    return NULL;
}

void *cg_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    size_t c = class_of(bytes);
    if (injected_failure() || c >= N_CLASSES) return out_of_memory(bytes);
    pthread_mutex_lock(&cache_lock);
    block_header *h = take_cached(c);
    pthread_mutex_unlock(&cache_lock);
    if (!h) {
        // aligned_alloc wants a multiple of the alignment; the header already is one.
        size_t size = class_size(c), rounded = (size + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        h = aligned_alloc(ALIGNMENT, sizeof(block_header) + rounded);
        if (!h) return out_of_memory(bytes);
        h->size_class = c;
    }
    h->magic = LIVE_MAGIC;
    count((int64_t)class_size(h->size_class), 1);
    return h + 1;
}

void cg_dealloc(void *ptr) {
    if (!ptr) return;
    block_header *h = (block_header *)ptr - 1;
    if (h->magic != LIVE_MAGIC) {
        cg_error(CG_ERR_STATE, "dealloc: %p %s", ptr,
                 h->magic == FREE_MAGIC ? "is freed twice (double free)"
                                        : "was not allocated by cg_alloc");
        return;
    }
    h->magic = FREE_MAGIC;
    int64_t size = (int64_t)class_size(h->size_class);
    count(-size, -1);
    bool keep;
    pthread_mutex_lock(&cache_lock);
    keep = stats.cached_bytes + size <= CACHE_LIMIT_BYTES;
    if (keep) {
        h->next_free = free_lists[h->size_class];
        free_lists[h->size_class] = h;
        stats.cached_bytes += size;
    }
    pthread_mutex_unlock(&cache_lock);
    if (!keep) {
        h->magic = 0;
        free(h);
    }
}

void cg_alloc_trim(void) {
    pthread_mutex_lock(&cache_lock);
    for (int c = 0; c < N_CLASSES; c++) {
        while (free_lists[c]) {
            block_header *h = free_lists[c];
            free_lists[c] = h->next_free;
            h->magic = 0;
            free(h);
        }
    }
    stats.cached_bytes = 0;
    pthread_mutex_unlock(&cache_lock);
}

#endif
