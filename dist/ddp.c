// dist/ddp.c - DistributedDataParallel: bucketed gradient averaging that overlaps backward.
//
// Parameters are grouped into buckets in reverse registration order, the order backward
// usually finishes them. Autograd's grad-ready hook copies each final gradient into its
// bucket's flat buffer; when a bucket is full and every earlier bucket has started, its
// MPI_Iallreduce starts. Buckets start in index order on every rank whatever order the
// gradients arrived in, which is what keeps the ranks' collectives matched. Each bucket
// also carries one "had a gradient" flag per parameter, so a parameter that no rank gave a
// gradient keeps .grad NULL as it would in one process.
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../autograd/autograd.h"
#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "../tensor/error.h"
#include "comm_internal.h"
#include "ddp.h"
#include "dist.h"

typedef struct bucket {
    int first, count; // its parameters: slots first .. first+count-1 of ddp->slots
    int64_t grads;    // floats of gradient; then `count` flags
    float *data;
    int pending; // parameters not yet copied in this step
    bool started;
} bucket;

typedef struct slot {
    cg_tensor *param;
    int index;      // in cg_module_named_parameters order
    int bucket;     // which bucket
    int64_t offset; // where its gradient starts in the bucket
    int flag;       // where its flag is in the bucket
    bool ready;     // copied in this step
} slot;

typedef struct lookup {
    const cg_tensor *param;
    int slot;
} lookup;

struct cg_ddp {
    cg_module *model;
    int n_slots, n_buckets, next_start;
    slot *slots;    // bucket order (reverse registration order)
    lookup *by_ptr; // slots sorted by parameter address
    bucket *buckets;
    cg_comm_request *requests; // one per bucket
    bool sync, overlap, broadcast_buffers, twice;
    cg_tensor_list buffers;
    float *buffer_data; // all buffers, flat, for one broadcast per forward
    int64_t buffer_floats;
    cg_ddp_stats stats;
};

static cg_ddp *active; // the autograd hook serves one cg_ddp

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int by_address(const void *a, const void *b) {
    uintptr_t x = (uintptr_t)((const lookup *)a)->param, y = (uintptr_t)((const lookup *)b)->param;
    return (x > y) - (x < y);
}

static slot *find_slot(cg_ddp *d, const cg_tensor *t) {
    lookup key = {t, 0};
    lookup *hit = bsearch(&key, d->by_ptr, (size_t)d->n_slots, sizeof key, by_address);
    return hit ? &d->slots[hit->slot] : NULL;
}

// Copy a parameter's gradient (zeros and flag 0 if it has none) into its bucket.
static void fill(cg_ddp *d, slot *s) {
    bucket *b = &d->buckets[s->bucket];
    float *dst = b->data + s->offset;
    const cg_tensor *g = s->param->grad;
    if (g)
        memcpy(dst, g->data, (size_t)s->param->numel * sizeof(float));
    else
        memset(dst, 0, (size_t)s->param->numel * sizeof(float));
    b->data[b->grads + s->flag] = g ? 1.0f : 0.0f;
    s->ready = true;
    b->pending--;
}

// Start every bucket that is complete and whose predecessors have started.
static int start_ready_buckets(cg_ddp *d) {
    while (d->next_start < d->n_buckets && d->buckets[d->next_start].pending == 0) {
        bucket *b = &d->buckets[d->next_start];
        if (cg_comm_iallreduce_sum(b->data, b->grads + b->count, &d->requests[d->next_start]))
            return -1;
        b->started = true;
        d->next_start++;
    }
    return 0;
}

static void on_grad_ready(cg_tensor *leaf, void *ctx) {
    cg_ddp *d = ctx;
    if (!d->sync) return;
    slot *s = find_slot(d, leaf);
    if (!s) return; // not one of the model's parameters
    if (s->ready) {
        d->twice = true;
        return;
    }
    fill(d, s);
    if (!d->overlap) return;
    int before = d->next_start;
    start_ready_buckets(d);
    d->stats.started_in_backward += d->next_start - before;
    cg_comm_progress(d->requests, d->next_start); // MPI moves data only inside MPI calls
}

static void reset_step(cg_ddp *d) {
    for (int i = 0; i < d->n_slots; i++) d->slots[i].ready = false;
    for (int k = 0; k < d->n_buckets; k++) {
        d->buckets[k].pending = d->buckets[k].count;
        d->buckets[k].started = false;
    }
    d->next_start = 0;
    d->twice = false;
}

// ---- building ------------------------------------------------------------------------------

// Slots in reverse registration order, cut into buckets of about bucket_bytes.
static int plan_buckets(cg_ddp *d, const cg_tensor_list *params, int64_t bucket_bytes) {
    d->n_slots = params->count;
    d->slots = cg_alloc_zeroed((size_t)(d->n_slots + 1) * sizeof *d->slots);
    d->by_ptr = cg_alloc_zeroed((size_t)(d->n_slots + 1) * sizeof *d->by_ptr);
    d->buckets = cg_alloc_zeroed((size_t)(d->n_slots + 1) * sizeof *d->buckets);
    d->requests = cg_alloc_zeroed((size_t)(d->n_slots + 1) * sizeof *d->requests);
    if (!d->slots || !d->by_ptr || !d->buckets || !d->requests) return -1;
    bucket *b = NULL;
    for (int j = 0; j < d->n_slots; j++) {
        int i = d->n_slots - 1 - j;
        cg_tensor *p = params->items[i].tensor;
        if (!b || (b->grads > 0 && (b->grads + p->numel) * (int64_t)sizeof(float) > bucket_bytes)) {
            b = &d->buckets[d->n_buckets++];
            b->first = j;
        }
        d->slots[j] = (slot){p, i, (int)(b - d->buckets), b->grads, b->count, false};
        d->by_ptr[j] = (lookup){p, j};
        b->grads += p->numel;
        b->count++;
    }
    for (int k = 0; k < d->n_buckets; k++) {
        d->buckets[k].data =
            cg_alloc((size_t)(d->buckets[k].grads + d->buckets[k].count) * sizeof(float));
        if (!d->buckets[k].data) return -1;
    }
    qsort(d->by_ptr, (size_t)d->n_slots, sizeof *d->by_ptr, by_address);
    d->stats.buckets = d->n_buckets;
    return 0;
}

// The state dict's entries that are not parameters, and one flat buffer for them.
static int collect_buffers(cg_ddp *d) {
    cg_tensor_list sd = cg_module_state_dict(d->model);
    if (sd.count < 0) return -1;
    d->buffers.items = cg_alloc((size_t)(sd.count + 1) * sizeof *d->buffers.items);
    if (!d->buffers.items) return cg_tensor_list_free(&sd), -1;
    for (int i = 0; i < sd.count; i++)
        if (!find_slot(d, sd.items[i].tensor)) {
            d->buffers.items[d->buffers.count++] = sd.items[i];
            d->buffer_floats += sd.items[i].tensor->numel;
        }
    cg_tensor_list_free(&sd);
    d->buffer_data = cg_alloc((size_t)(d->buffer_floats + 1) * sizeof(float));
    return d->buffer_data ? 0 : -1;
}

cg_ddp *cg_ddp_new(cg_module *model, const cg_ddp_options *options) {
    if (!model) return cg_error(CG_ERR_ARG, "ddp: model is NULL");
    if (active) return cg_error(CG_ERR_STATE, "ddp: another cg_ddp is active (free it first)");
    cg_ddp_options o = options ? *options : (cg_ddp_options){0};
    if (o.bucket_bytes < 0)
        return cg_error(CG_ERR_ARG, "ddp: bucket_bytes must be >= 0, got %lld",
                        (long long)o.bucket_bytes);
    cg_ddp *d = cg_alloc_zeroed(sizeof *d);
    if (!d) return NULL;
    d->model = model;
    d->sync = true;
    d->overlap = !o.no_overlap;
    d->broadcast_buffers = !o.no_broadcast_buffers;
    cg_tensor_list params = cg_module_named_parameters(model);
    int rc = params.count < 0
                 ? -1
                 : plan_buckets(d, &params, o.bucket_bytes ? o.bucket_bytes : 256 << 10);
    cg_tensor_list_free(&params);
    if (rc == 0) rc = collect_buffers(d);
    if (rc == 0) rc = cg_dist_broadcast_module(model);
    if (rc != 0) {
        cg_ddp_free(d);
        return NULL;
    }
    reset_step(d);
    active = d;
    cg_set_grad_ready_hook(on_grad_ready, d);
    return d;
}

void cg_ddp_free(cg_ddp *d) {
    if (!d) return;
    if (active == d) {
        cg_set_grad_ready_hook(NULL, NULL);
        active = NULL;
    }
    for (int k = 0; d->buckets && k < d->n_buckets; k++) cg_dealloc(d->buckets[k].data);
    cg_dealloc(d->buckets), cg_dealloc(d->slots), cg_dealloc(d->by_ptr);
    cg_dealloc(d->requests), cg_dealloc(d->buffer_data);
    cg_tensor_list_free(&d->buffers);
    cg_dealloc(d);
}

// ---- a step --------------------------------------------------------------------------------

static int broadcast_buffers(cg_ddp *d) {
    if (!d->broadcast_buffers || d->buffer_floats == 0 || cg_comm_size() == 1) return 0;
    int64_t at = 0;
    for (int i = 0; i < d->buffers.count; i++) {
        const cg_tensor *t = d->buffers.items[i].tensor;
        memcpy(d->buffer_data + at, t->data, (size_t)t->numel * sizeof(float));
        at += t->numel;
    }
    if (cg_dist_broadcast(d->buffer_data, d->buffer_floats)) return -1;
    at = 0;
    for (int i = 0; i < d->buffers.count; i++) {
        cg_tensor *t = d->buffers.items[i].tensor;
        memcpy(t->data, d->buffer_data + at, (size_t)t->numel * sizeof(float));
        at += t->numel;
    }
    return 0;
}

cg_tensor *cg_ddp_forward(cg_ddp *d, cg_tensor *x) {
    if (!d) return cg_error(CG_ERR_ARG, "ddp: forward: ddp is NULL");
    if (d->model->training && broadcast_buffers(d)) return NULL;
    return cg_module_forward(d->model, x);
}

void cg_ddp_set_sync(cg_ddp *d, bool sync) {
    if (d) d->sync = sync;
}

// Write the mean of every bucket back into .grad (only where some rank had a gradient).
static int write_back(cg_ddp *d) {
    float inv = 1.0f / (float)cg_comm_size();
    for (int j = 0; j < d->n_slots; j++) {
        slot *s = &d->slots[j];
        const bucket *b = &d->buckets[s->bucket];
        if (b->data[b->grads + s->flag] == 0.0f) continue; // no rank had a gradient
        cg_tensor *g = cg_grad_buffer(s->param);
        if (!g) return -1;
        const float *src = b->data + s->offset;
        for (int64_t i = 0; i < s->param->numel; i++) g->data[i] = src[i] * inv;
    }
    return 0;
}

int cg_ddp_finish(cg_ddp *d) {
    if (!d) return cg_error(CG_ERR_ARG, "ddp: finish: ddp is NULL"), -1;
    if (!d->sync) return 0;
    double start = seconds();
    int rc = 0;
    if (d->twice) {
        cg_error(CG_ERR_STATE, "ddp: finish: backward ran more than once since the last "
                               "cg_ddp_finish; accumulate with cg_ddp_set_sync(ddp, false)");
        rc = -1;
    }
    for (int j = 0; j < d->n_slots; j++)
        if (!d->slots[j].ready) fill(d, &d->slots[j]); // no gradient here this step
    if (start_ready_buckets(d) ||
        cg_comm_wait(d->requests, d->n_buckets, "ddp gradient all-reduce"))
        rc = -1;
    if (rc == 0) rc = write_back(d);
    reset_step(d);
    d->stats.steps++;
    d->stats.wait_seconds += seconds() - start;
    return rc;
}

cg_ddp_stats cg_ddp_get_stats(const cg_ddp *d) {
    return d ? d->stats : (cg_ddp_stats){0};
}

int cg_ddp_bucket_of(const cg_ddp *d, int param) {
    for (int j = 0; d && j < d->n_slots; j++)
        if (d->slots[j].index == param) return d->slots[j].bucket;
    return -1;
}
