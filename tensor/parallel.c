// tensor/parallel.c - the thread-count setting and the thread team (see parallel.h).
//
// The job protocol. `state` packs the job's generation (high 32 bits) and the next unclaimed
// part (low 32 bits). A thread claims part i of generation g by a compare-and-swap from
// (g, i) to (g, i + 1), and only while i < parts. The job's fields (fn, ctx, parts) live in
// one of two slots chosen by the generation's parity: the caller fills slot (g + 1) & 1 only
// after job g is finished, so a thread whose swap on (g, i) succeeds read slot g & 1 while
// job g was still open (a stale or torn read makes its swap fail, as the state has moved on).
// `done` counts finished parts of the current job; the caller returns when it reaches parts.
//
// The portable build (CG_PORTABLE: -DCG_PORTABLE=ON, the WebAssembly lecture page) has no
// team and no pthreads: one thread, and every job runs inline in the caller.
#define _GNU_SOURCE // sched_getaffinity
#include "parallel.h"

#include <stdlib.h>

#ifdef CG_PORTABLE

static const bool in_part = false; // cg_parallel_for never hands out parts here

void cg_set_num_threads(int n) {
    (void)n;
}

int cg_num_threads(void) {
    return 1;
}

bool cg_in_parallel(void) {
    return in_part;
}

void cg_parallel_parts(int64_t parts, cg_part_fn fn, void *ctx) {
    for (int64_t p = 0; p < parts; p++) fn(ctx, p);
}

#else

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

#define MAX_WORKERS    255
// How long an idle worker spins for the next job before it sleeps (yielding its core every
// 64 spins, so a data loader's worker thread on it runs at once: with 2 loader workers and
// 2 compute threads on 2 cores, a training step's wait for its batch fell from 9-14% to
// 3-9% of the step, bench/loader): longer than the serial
// stretches of a training step, short enough to give the core back to another process
// (with one core kept busy by another process, a 2-thread training step took 1.4-1.5 ms
// with 50 us and 1.6-1.9 ms with 1 ms of spinning; on a quiet machine they ran alike).
#define SPIN_NS        50000
// How long the caller spins on parts a worker has taken before it yields its core (a
// worker descheduled in the middle of a part needs the core back).
#define CALLER_SPIN_NS 200000

// 0 means "not set": the default (OMP_NUM_THREADS or the CPU count).
static int requested_threads;

static int default_threads(void) {
    const char *env = getenv("OMP_NUM_THREADS");
    int n = env ? atoi(env) : 0;
    if (n > 0) return n;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
    return 1;
}

void cg_set_num_threads(int n) {
    requested_threads = n > 0 ? n : 0;
}

int cg_num_threads(void) {
    static _Atomic int fallback; // read once: the environment and affinity are the process's
    if (requested_threads > 0) return requested_threads;
    int n = atomic_load_explicit(&fallback, memory_order_relaxed);
    if (!n) atomic_store_explicit(&fallback, n = default_threads(), memory_order_relaxed);
    return n;
}

// ---- the team ----------------------------------------------------------------------------

typedef struct job_slot {
    _Atomic(cg_part_fn) fn;
    _Atomic(void *) ctx;
    _Atomic int64_t parts;
    _Atomic int workers; // workers [0, workers) may join (the thread count when it started)
} job_slot;

static struct {
    _Atomic uint64_t state;
    _Atomic int64_t done;
    job_slot slots[2];
    uint32_t generation; // the last job's; under caller_lock
    pthread_mutex_t caller_lock;
    int started; // workers running; under caller_lock
    pthread_mutex_t sleep_lock;
    pthread_cond_t wake;
    _Atomic int sleepers;
} team = {.caller_lock = PTHREAD_MUTEX_INITIALIZER,
          .sleep_lock = PTHREAD_MUTEX_INITIALIZER,
          .wake = PTHREAD_COND_INITIALIZER};

static _Thread_local bool in_part;

bool cg_in_parallel(void) {
    return in_part;
}

static void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static int64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

static uint32_t generation_of(uint64_t state) {
    return (uint32_t)(state >> 32);
}

// Claims and runs parts of job `gen` until none is left (or the job is no longer current).
static void take_parts(uint32_t gen) {
    const job_slot *slot = &team.slots[gen & 1];
    uint64_t s = atomic_load(&team.state);
    while (generation_of(s) == gen) {
        cg_part_fn fn = atomic_load_explicit(&slot->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&slot->ctx, memory_order_relaxed);
        int64_t parts = atomic_load_explicit(&slot->parts, memory_order_relaxed);
        int64_t part = (int64_t)(uint32_t)s;
        if (part >= parts) return;
        if (!atomic_compare_exchange_weak(&team.state, &s, s + 1)) continue; // s reloaded
        fn(ctx, part);
        atomic_fetch_add(&team.done, 1);
        s = atomic_load(&team.state);
    }
}

// Returns the generation of the next job after `seen`: spins for SPIN_NS, then sleeps.
static uint32_t wait_for_job(uint32_t seen) {
    int64_t start = now_ns();
    for (int spins = 0;; spins++) {
        uint32_t gen = generation_of(atomic_load(&team.state));
        if (gen != seen) return gen;
        cpu_relax();
        if (spins % 64 != 63) continue;
        if (now_ns() - start > SPIN_NS) break;
        sched_yield(); // a runnable thread on this core (a data loader's worker) goes first
    }
    pthread_mutex_lock(&team.sleep_lock);
    atomic_fetch_add(&team.sleepers, 1);
    uint32_t gen;
    while ((gen = generation_of(atomic_load(&team.state))) == seen)
        pthread_cond_wait(&team.wake, &team.sleep_lock);
    atomic_fetch_sub(&team.sleepers, 1);
    pthread_mutex_unlock(&team.sleep_lock);
    return gen;
}

static void *worker_main(void *arg) {
    int id = (int)(intptr_t)arg;
    in_part = true; // whatever a part calls runs its own jobs inline
    uint32_t seen = generation_of(atomic_load(&team.state));
    for (;;) {
        seen = wait_for_job(seen);
        if (id < atomic_load_explicit(&team.slots[seen & 1].workers, memory_order_relaxed))
            take_parts(seen);
    }
    return NULL;
}

// A child of fork() has none of the workers (and a lock a worker held stays held): it starts
// from an empty team.
static void reset_in_child(void) {
    team.started = 0;
    atomic_store(&team.sleepers, 0);
    pthread_mutex_init(&team.caller_lock, NULL);
    pthread_mutex_init(&team.sleep_lock, NULL);
    pthread_cond_init(&team.wake, NULL);
}

// Starts workers up to `count` (under caller_lock); false if none can be started.
static bool start_workers(int count) {
    static bool fork_handler;
    if (!fork_handler) fork_handler = pthread_atfork(NULL, NULL, reset_in_child) == 0;
    count = count < MAX_WORKERS ? count : MAX_WORKERS;
    for (; team.started < count; team.started++) {
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, worker_main, (void *)(intptr_t)team.started);
        pthread_attr_destroy(&attr);
        if (rc != 0) break;
    }
    return team.started > 0;
}

static void run_inline(int64_t parts, cg_part_fn fn, void *ctx) {
    for (int64_t p = 0; p < parts; p++) fn(ctx, p);
}

void cg_parallel_parts(int64_t parts, cg_part_fn fn, void *ctx) {
    int threads = cg_num_threads();
    // Another thread's job in progress (the team is busy): this one runs inline.
    if (parts <= 1 || threads <= 1 || in_part || parts > UINT32_MAX ||
        pthread_mutex_trylock(&team.caller_lock) != 0) {
        run_inline(parts, fn, ctx);
        return;
    }
    if (!start_workers(threads - 1)) {
        pthread_mutex_unlock(&team.caller_lock);
        run_inline(parts, fn, ctx);
        return;
    }
    uint32_t gen = ++team.generation;
    job_slot *slot = &team.slots[gen & 1];
    atomic_store_explicit(&slot->fn, fn, memory_order_relaxed);
    atomic_store_explicit(&slot->ctx, ctx, memory_order_relaxed);
    atomic_store_explicit(&slot->parts, parts, memory_order_relaxed);
    atomic_store_explicit(&slot->workers, threads - 1, memory_order_relaxed);
    atomic_store(&team.done, 0);
    atomic_store(&team.state, (uint64_t)gen << 32); // publishes the slot (seq_cst)
    // A worker that counted itself a sleeper before the store above rechecks the state
    // under sleep_lock, so it either sees this job or is waiting on `wake` already.
    if (atomic_load(&team.sleepers) > 0) {
        pthread_mutex_lock(&team.sleep_lock);
        pthread_cond_broadcast(&team.wake);
        pthread_mutex_unlock(&team.sleep_lock);
    }
    in_part = true;
    take_parts(gen);
    in_part = false;
    int64_t start = now_ns();
    for (int spins = 0; atomic_load(&team.done) < parts; spins++) {
        cpu_relax();
        if (spins % 64 == 63 && now_ns() - start > CALLER_SPIN_NS) sched_yield();
    }
    pthread_mutex_unlock(&team.caller_lock);
}

#endif // CG_PORTABLE

typedef struct range_job {
    int64_t n, parts;
    cg_range_fn fn;
    void *ctx;
} range_job;

static void range_part(void *ctx, int64_t part) {
    const range_job *r = ctx;
    int64_t begin = cg_part_begin(r->n, part, r->parts),
            end = cg_part_begin(r->n, part + 1, r->parts);
    if (begin < end) r->fn(r->ctx, begin, end);
}

void cg_parallel_for(int64_t n, int64_t min_n, cg_range_fn fn, void *ctx) {
    if (n <= 0) return;
    int threads = cg_num_threads();
    if (n <= min_n || threads <= 1 || in_part) {
        fn(ctx, 0, n);
        return;
    }
    range_job r = {n, threads < n ? threads : n, fn, ctx};
    cg_parallel_parts(r.parts, range_part, &r);
}
