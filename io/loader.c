// io/loader.c - cg_loader: shuffled, sharded batches of a cg_dataset through a transform
// pipeline, made by worker pthreads into a bounded ring of slots and handed out in order.
#define _GNU_SOURCE // SCHED_BATCH
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/scope.h"
#include "loader.h"

typedef enum slot_state { SLOT_EMPTY, SLOT_BUSY, SLOT_READY, SLOT_FAILED } slot_state;

// One batch being made or waiting for the caller.
typedef struct slot {
    slot_state state;
    int64_t batch;
    float *x, *y;
    size_t cap; // floats x can hold
    int rows, c, h, w;
    cg_status status; // SLOT_FAILED: the worker's error, re-raised by next()
    char message[512];
} slot;

struct cg_loader {
    const cg_dataset *data;
    const cg_transform *steps;
    int n_steps;
    cg_loader_options o;
    int64_t n, epoch, batches;
    int64_t *order, *index, count; // the epoch's order and this rank's share of it
    int64_t claimed, yielded;      // batches taken by workers / handed to the caller
    slot *slots;
    int n_slots;
    pthread_t *threads;
    int started;
    pthread_mutex_t lock;
    pthread_cond_t work, done;
    bool stop;
    cg_tensor *x, *y; // the batch last handed out
};

// SplitMix64: seeds of different (seed, epoch, batch) triples land far apart.
static uint64_t mix(uint64_t z) {
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

cg_rng cg_loader_batch_rng(uint64_t seed, int64_t epoch, int64_t batch) {
    cg_rng r;
    cg_rng_seed(&r, mix(mix(mix(seed) ^ (uint64_t)epoch) ^ (uint64_t)batch));
    return r;
}

static uint32_t below(cg_rng *rng, uint32_t bound) {
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = cg_rng_next(rng);
        if (r >= threshold) return r % bound;
    }
}

// The generator of epoch `epoch`'s shuffle, before it draws (a checkpoint's "rng").
static cg_rng shuffle_rng(uint64_t seed, int64_t epoch) {
    cg_rng rng;
    cg_rng_seed(&rng, mix(mix(seed) ^ (uint64_t)epoch ^ 0x5ca1ab1eULL));
    return rng;
}

// The epoch's order (Fisher-Yates from a generator seeded by (seed, epoch)) and this rank's
// share of it, as torch's DistributedSampler (see cg_dataloader_set_shard).
static void plan_epoch(cg_loader *dl) {
    cg_rng rng = shuffle_rng(dl->o.seed, dl->epoch);
    for (int64_t i = 0; i < dl->n; i++) dl->order[i] = i;
    for (int64_t i = dl->n - 1; dl->o.shuffle && i > 0; i--) {
        int64_t j = below(&rng, (uint32_t)(i + 1)), t = dl->order[i];
        dl->order[i] = dl->order[j], dl->order[j] = t;
    }
    int64_t w = dl->o.world,
            total = dl->o.shard_drop_last ? dl->n / w * w : (dl->n + w - 1) / w * w;
    dl->count = total / w;
    for (int64_t j = 0; j < dl->count; j++) dl->index[j] = dl->order[(j * w + dl->o.rank) % dl->n];
    int64_t b = dl->o.batch;
    dl->batches = dl->o.drop_last ? dl->count / b : (dl->count + b - 1) / b;
}

// Load and transform one sample into the batch (the first one sizes it).
static int add_sample(cg_loader *dl, slot *s, int r, int64_t i, cg_rng *rng) {
    cg_sample smp;
    if (cg_dataset_get(dl->data, i, &smp)) return -1;
    if (cg_transform_apply(dl->steps, dl->n_steps, &smp, rng)) {
        cg_sample_clear(&smp);
        return -1;
    }
    size_t size = (size_t)smp.c * (size_t)smp.h * (size_t)smp.w;
    if (r == 0) {
        if (s->cap < size * (size_t)s->rows) {
            cg_dealloc(s->x);
            s->cap = 0;
            if (!(s->x = cg_alloc(size * (size_t)s->rows * sizeof(float)))) goto fail;
            s->cap = size * (size_t)s->rows;
        }
        s->c = smp.c, s->h = smp.h, s->w = smp.w;
    } else if (smp.c != s->c || smp.h != s->h || smp.w != s->w) {
        cg_error(CG_ERR_SHAPE,
                 "loader: sample %lld is %dx%dx%d after the transforms but the batch's first "
                 "is %dx%dx%d: add a Resize / CenterCrop so every sample has one size",
                 (long long)i, smp.c, smp.h, smp.w, s->c, s->h, s->w);
        goto fail;
    }
    memcpy(s->x + (size_t)r * size, smp.data, size * sizeof(float));
    s->y[r] = (float)smp.label;
    cg_sample_clear(&smp);
    return 0;
fail:
    cg_sample_clear(&smp);
    return -1;
}

// Make batch k into s; on failure keep the error in the slot for the caller.
static bool make_batch(cg_loader *dl, slot *s, int64_t k) {
    int64_t first = k * dl->o.batch, left = dl->count - first;
    s->rows = (int)(left < dl->o.batch ? left : dl->o.batch);
    cg_rng rng = cg_loader_batch_rng(dl->o.seed, dl->epoch, k);
    for (int r = 0; r < s->rows; r++)
        if (add_sample(dl, s, r, dl->index[first + r], &rng)) {
            s->status = cg_last_error();
            snprintf(s->message, sizeof s->message, "%s", cg_last_error_message());
            return false;
        }
    return true;
}

// A worker runs as a batch thread (Linux's SCHED_BATCH: the same share of the CPU, but its
// wake-up does not preempt a running thread). Woken when the training thread frees a slot, a
// normal thread would take that thread's core at once, in the middle of cg_loader_next: a
// 2-thread small-CNN step with 2 workers on 2 cores then spent 2-30% of its time there with a
// batch ready every time, against 1.2-1.7% as batch threads (bench/loader).
static void become_batch_thread(void) {
#ifdef SCHED_BATCH
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &(struct sched_param){0});
#endif
}

static void *worker(void *arg) {
    cg_loader *dl = arg;
    cg_error_defer(true); // reported once, by next() on the caller's thread
    become_batch_thread();
    pthread_mutex_lock(&dl->lock);
    while (!dl->stop) {
        if (dl->claimed >= dl->batches || dl->claimed >= dl->yielded + dl->n_slots) {
            pthread_cond_wait(&dl->work, &dl->lock);
            continue;
        }
        int64_t k = dl->claimed++;
        slot *s = &dl->slots[k % dl->n_slots];
        s->state = SLOT_BUSY, s->batch = k;
        pthread_mutex_unlock(&dl->lock);
        bool ok = make_batch(dl, s, k);
        pthread_mutex_lock(&dl->lock);
        s->state = ok ? SLOT_READY : SLOT_FAILED;
        pthread_cond_broadcast(&dl->done);
    }
    pthread_mutex_unlock(&dl->lock);
    return NULL;
}

// Wait for the workers to finish what they hold, then lay out epoch `epoch` from its batch
// `first` (0 but for a resumed state).
static void start_epoch(cg_loader *dl, int64_t epoch, int64_t first) {
    pthread_mutex_lock(&dl->lock);
    for (int i = 0; i < dl->n_slots; i++)
        while (dl->slots[i].state == SLOT_BUSY) pthread_cond_wait(&dl->done, &dl->lock);
    dl->epoch = epoch; // the workers read it (and the order) only while they hold a slot
    for (int i = 0; i < dl->n_slots; i++) dl->slots[i].state = SLOT_EMPTY;
    plan_epoch(dl);
    dl->claimed = dl->yielded = first < dl->batches ? first : dl->batches;
    pthread_cond_broadcast(&dl->work);
    pthread_mutex_unlock(&dl->lock);
}

void cg_loader_free(cg_loader *dl) {
    if (!dl) return;
    pthread_mutex_lock(&dl->lock);
    dl->stop = true;
    pthread_cond_broadcast(&dl->work);
    pthread_mutex_unlock(&dl->lock);
    for (int i = 0; i < dl->started; i++) pthread_join(dl->threads[i], NULL);
    for (int i = 0; dl->slots && i < dl->n_slots; i++) {
        cg_dealloc(dl->slots[i].x);
        cg_dealloc(dl->slots[i].y);
    }
    pthread_mutex_destroy(&dl->lock);
    pthread_cond_destroy(&dl->work);
    pthread_cond_destroy(&dl->done);
    cg_free(dl->x), cg_free(dl->y);
    cg_dealloc(dl->slots), cg_dealloc(dl->threads), cg_dealloc(dl->order), cg_dealloc(dl->index);
    cg_dealloc(dl);
}

static bool options_ok(const cg_dataset *data, cg_loader_options *o) {
    if (o->batch == 0) o->batch = 1;
    if (o->world == 0) o->world = 1;
    if (o->prefetch == 0) o->prefetch = o->workers > 0 ? 2 * o->workers : 1;
    int64_t n = cg_dataset_count(data);
    if (!data || n < 1 || n > UINT32_MAX)
        cg_error(CG_ERR_ARG, "loader: the dataset is %s (%lld samples)",
                 data ? "empty or too large" : "NULL", (long long)n);
    else if (o->batch < 0 || o->workers < 0 || o->workers > 256 || o->prefetch < 0 ||
             o->prefetch > 1024)
        cg_error(CG_ERR_ARG, "loader: batch %d, workers %d, prefetch %d out of range", o->batch,
                 o->workers, o->prefetch);
    else if (o->world < 0 || o->rank < 0 || o->rank >= o->world)
        cg_error(CG_ERR_ARG, "loader: rank %d of world size %d", o->rank, o->world);
    else
        return true;
    return false;
}

cg_loader *cg_loader_new(const cg_dataset *data, const cg_transform *steps, int n_steps,
                         const cg_loader_options *options) {
    cg_loader_options o = options ? *options : (cg_loader_options){0};
    if (!options_ok(data, &o)) return NULL;
    if (n_steps < 0 || (n_steps > 0 && !steps))
        return cg_error(CG_ERR_ARG, "loader: %d transform steps at %p", n_steps,
                        (const void *)steps);
    cg_loader *dl = cg_alloc_zeroed(sizeof *dl);
    if (!dl) return NULL;
    dl->data = data, dl->steps = steps, dl->n_steps = n_steps, dl->o = o;
    dl->n = cg_dataset_count(data);
    dl->n_slots = o.workers > 0 ? o.prefetch : 1;
    pthread_mutex_init(&dl->lock, NULL);
    pthread_cond_init(&dl->work, NULL);
    pthread_cond_init(&dl->done, NULL);
    dl->order = cg_alloc((size_t)dl->n * sizeof *dl->order);
    dl->index = cg_alloc((size_t)dl->n * sizeof *dl->index);
    dl->slots = cg_alloc_zeroed((size_t)dl->n_slots * sizeof *dl->slots);
    dl->threads = cg_alloc_zeroed((size_t)(o.workers + 1) * sizeof *dl->threads);
    bool ok = dl->order && dl->index && dl->slots && dl->threads;
    for (int i = 0; ok && i < dl->n_slots; i++)
        ok = (dl->slots[i].y = cg_alloc((size_t)o.batch * sizeof(float))) != NULL;
    if (ok) start_epoch(dl, 0, 0);
    for (int i = 0; ok && i < o.workers; i++, dl->started++)
        if (pthread_create(&dl->threads[i], NULL, worker, dl) != 0) {
            cg_error(CG_ERR_STATE, "loader: cannot start worker thread %d", i);
            ok = false;
            break;
        }
    if (ok) return dl;
    cg_loader_free(dl);
    return NULL;
}

// The loader's batch tensors shaped for slot s (reused while the shape holds).
static int hand_out(cg_loader *dl, const slot *s, cg_tensor **x, cg_tensor **y) {
    if (!dl->x || dl->x->shape[0] != s->rows || dl->x->shape[1] != s->c ||
        dl->x->shape[2] != s->h || dl->x->shape[3] != s->w) {
        cg_free(dl->x), cg_free(dl->y);
        dl->x = cg_empty_unscoped(CG_SHAPE(s->rows, s->c, s->h, s->w));
        dl->y = cg_empty_unscoped(CG_SHAPE(s->rows));
        if (!dl->x || !dl->y) return -1;
    }
    memcpy(dl->x->data, s->x, (size_t)dl->x->numel * sizeof(float));
    memcpy(dl->y->data, s->y, (size_t)s->rows * sizeof(float));
    if (x) *x = dl->x;
    if (y) *y = dl->y;
    return 1;
}

int cg_loader_next(cg_loader *dl, cg_tensor **x, cg_tensor **y) {
    if (x) *x = NULL;
    if (y) *y = NULL;
    if (!cg_check_ptr(dl, "loader_next", "dl") || !cg_check_ptr(x, "loader_next", "x")) return -1;
    if (dl->yielded >= dl->batches) { // the end: the workers start on the next epoch now
        start_epoch(dl, dl->epoch + 1, 0);
        return 0;
    }
    int64_t k = dl->yielded;
    slot *s = &dl->slots[k % dl->n_slots];
    if (dl->o.workers == 0) {
        cg_error_defer(true); // reported once, below, as with workers
        s->state = make_batch(dl, s, k) ? SLOT_READY : SLOT_FAILED;
        cg_error_defer(false);
    } else {
        pthread_mutex_lock(&dl->lock);
        while (s->batch != k || (s->state != SLOT_READY && s->state != SLOT_FAILED))
            pthread_cond_wait(&dl->done, &dl->lock);
        pthread_mutex_unlock(&dl->lock);
    }
    int rc = s->state == SLOT_READY ? hand_out(dl, s, x, y) : -1;
    if (s->state == SLOT_FAILED) cg_error(s->status, "%s", s->message);
    pthread_mutex_lock(&dl->lock);
    s->state = SLOT_EMPTY;
    dl->yielded = rc == 1 ? k + 1 : dl->batches; // an error abandons the epoch
    if (rc != 1) dl->claimed = dl->batches;
    pthread_cond_broadcast(&dl->work);
    pthread_mutex_unlock(&dl->lock);
    return rc;
}

int cg_loader_set_epoch(cg_loader *dl, int64_t epoch) {
    if (!dl || epoch < 0) {
        cg_error(CG_ERR_ARG, "loader_set_epoch: epoch %lld (loader %s)", (long long)epoch,
                 dl ? "set" : "NULL");
        return -1;
    }
    start_epoch(dl, epoch, 0);
    return 0;
}

cg_dataloader_state cg_loader_get_state(const cg_loader *dl) {
    if (!cg_check_ptr(dl, "loader_get_state", "dl")) return (cg_dataloader_state){.epoch = -1};
    int64_t next = dl->yielded; // written only by the caller's thread (next, set_epoch)
    return (cg_dataloader_state){.rng = shuffle_rng(dl->o.seed, dl->epoch),
                                 .epoch = dl->epoch,
                                 .batch = next,
                                 .sample = next * dl->o.batch * dl->o.world,
                                 .world = dl->o.world};
}

int cg_loader_set_state(cg_loader *dl, const cg_dataloader_state *state) {
    const char *op = "loader_set_state";
    if (!cg_check_ptr(dl, op, "dl") || !cg_check_ptr(state, op, "state")) return -1;
    cg_rng mine = shuffle_rng(dl->o.seed, state->epoch);
    if (state->epoch < 0 || mine.state != state->rng.state || mine.inc != state->rng.inc) {
        cg_error(CG_ERR_ARG,
                 "%s: the state (epoch %lld) comes from a loader with another seed than this "
                 "one's %llu: its batches cannot be reproduced",
                 op, (long long)state->epoch, (unsigned long long)dl->o.seed);
        return -1;
    }
    // Another batch size or world: the position is the samples read, in this loader's batches.
    int64_t per_batch = (int64_t)dl->o.batch * dl->o.world, first = state->batch;
    bool same = (state->world <= 1 ? 1 : state->world) == dl->o.world &&
                state->sample == state->batch * per_batch;
    if (!same) first = state->sample % per_batch == 0 ? state->sample / per_batch : -1;
    int64_t total = dl->batches; // the same in every epoch
    if (first < 0 || first > total) {
        cg_error(CG_ERR_ARG,
                 "%s: batch %lld (sample %lld) is not a batch boundary of this loader's %lld "
                 "batches of %d x %d ranks",
                 op, (long long)state->batch, (long long)state->sample, (long long)total,
                 dl->o.batch, dl->o.world);
        return -1;
    }
    start_epoch(dl, state->epoch, first);
    return 0;
}

int64_t cg_loader_epoch(const cg_loader *dl) {
    return cg_check_ptr(dl, "loader_epoch", "dl") ? dl->epoch : -1;
}
int64_t cg_loader_num_batches(const cg_loader *dl) {
    return cg_check_ptr(dl, "loader_num_batches", "dl") ? dl->batches : -1;
}
int64_t cg_loader_shard_size(const cg_loader *dl) {
    return cg_check_ptr(dl, "loader_shard_size", "dl") ? dl->count : -1;
}
