// tensor/parallel.h - cgrad's threads: the thread-count setting and the one thread team.
//
// Every parallel loop in cgrad is a job for one persistent team: cg_num_threads() - 1 worker
// threads started on first use and kept for the life of the process, plus the calling
// thread. A job is `parts` calls of fn(ctx, part). The caller and the workers claim parts
// from one shared counter, so
//   - the caller never waits for a worker that has not started: a worker that is asleep,
//     or whose core is busy with another process, takes no part and the caller runs it;
//   - the caller waits only for parts a worker has already taken.
// Workers spin about 50 us for the next job (the serial stretches of a training step are
// shorter, so they stay awake through a step) and then sleep until one arrives.
//
// A part must not depend on running at the same time as another part (there is no barrier)
// and must not depend on which thread runs it: buffers private to a part are indexed by
// the part number, so results do not depend on timing. A job started from inside a part
// (a GEMM inside a per-image convolution part) runs its parts inline on that thread.
//
//   static void scale_part(void *ctx, int64_t begin, int64_t end) { ... x[begin..end) ... }
//   cg_parallel_for(n, CG_PARALLEL_MIN, scale_part, &args);
#ifndef CG_PARALLEL_H
#define CG_PARALLEL_H

#include <stdbool.h>
#include <stdint.h>

// The one rule for "is a loop big enough to thread": above this many elements (or multiply-adds
// of convolution glue). A team job costs about 0.5 us here (a back-to-back job with 2
// threads; libgomp's fork and join measured the same), and a loop over memory handles about
// 16 floats per ns on one core from L2, so below 2^15 elements (~2 us) a second thread saves
// less than the job costs.
#define CG_PARALLEL_MIN ((int64_t)1 << 15)

// n <= 0 restores the default: OMP_NUM_THREADS if set (a positive number), else the CPUs
// this process may run on.
void cg_set_num_threads(int n);
int cg_num_threads(void);

// fn is required (not checked: the hot path); ctx is the caller's, passed through.
// fn(ctx, part) for every part in [0, parts), spread over the team; returns when all are
// done. Runs inline (in order) for one part, one thread, or inside a part.
typedef void (*cg_part_fn)(void *ctx, int64_t part);
void cg_parallel_parts(int64_t parts, cg_part_fn fn, void *ctx);

// fn(ctx, begin, end) over [0, n) cut into cg_num_threads() equal ranges (one call over all
// of it when n <= min_n).
typedef void (*cg_range_fn)(void *ctx, int64_t begin, int64_t end);
void cg_parallel_for(int64_t n, int64_t min_n, cg_range_fn fn, void *ctx);

// Part `part` of `parts` equal ranges of [0, n): the cut cg_parallel_for uses.
static inline int64_t cg_part_begin(int64_t n, int64_t part, int64_t parts) {
    return n / parts * part + (part < n % parts ? part : n % parts);
}

// Whether the calling thread is running a part of a job.
bool cg_in_parallel(void);

#endif
