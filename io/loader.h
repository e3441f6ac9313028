// io/loader.h - batches from any cg_dataset through a transform pipeline, on worker threads
// of its own (torch.utils.data.DataLoader with num_workers, a seeded shuffle and the
// DistributedSampler). See io/dataset.h for an example and docs/data.md for the guide.
//
// Determinism: epoch e's order is a Fisher-Yates shuffle drawn from a generator seeded by
// (seed, e); batch k of it is made from the same indices and from its own random stream,
// seeded by (seed, e, k), whichever worker makes it and whatever the number of workers, so
// a run is reproducible bit for bit with 0, 1 or 8 workers. Batches come out in order.
//
// Workers are plain pthreads, not the compute thread team (tensor/parallel.h): they decode
// and augment batch k+1.. while the caller trains on batch k, at most `prefetch` batches
// ahead, so memory stays bounded (images are decoded per batch; ImageFolder's cache option
// keeps the decoded bytes).
#ifndef CG_LOADER_H
#define CG_LOADER_H

#include "data.h"
#include "dataset.h"
#include "transforms.h"

// Zero fields mean the defaults.
typedef struct cg_loader_options {
    int batch;      // samples per batch; 0: 1 (torch's default)
    bool shuffle;   // a fresh order every epoch
    bool drop_last; // drop the last partial batch
    uint64_t seed;
    int workers;  // background threads; 0 decodes on the calling thread inside next()
    int prefetch; // batches made ahead of the caller; 0: 2 per worker
    // DistributedSampler: rank `rank` of `world` (0: no sharding) reads samples rank,
    // rank + world, ... of each epoch's order, padded by repeating its start to a multiple
    // of world (or its tail dropped with shard_drop_last), as cg_dataloader_set_shard.
    int rank, world;
    bool shard_drop_last;
} cg_loader_options;

typedef struct cg_loader cg_loader;

// dataset and steps[0..n_steps) must outlive the loader (not copied, not owned).
// NULL (CG_ERR_ARG) on a NULL / empty dataset or bad options.
cg_loader *cg_loader_new(const cg_dataset *dataset, const cg_transform *steps, int n_steps,
                         const cg_loader_options *options);
void cg_loader_free(cg_loader *dl); // stops and joins the workers; NULL is fine

// The next batch of the current epoch: *x (B, C, H, W) and *y (B) labels as floats, which
// belong to the loader until the next call. Returns 1 for a batch; 0 at the end of the
// epoch (*x, *y NULL; the next call starts the next epoch); -1 on error (a sample that
// could not be loaded or transformed, samples of different shapes in one batch), with the
// message naming the sample and file. After an error the epoch is abandoned.
int cg_loader_next(cg_loader *dl, cg_tensor **x, cg_tensor **y);
// Start epoch `epoch` (torch's sampler.set_epoch) from its first batch.
int cg_loader_set_epoch(cg_loader *dl, int64_t epoch);
int64_t cg_loader_epoch(const cg_loader *dl);
int64_t cg_loader_num_batches(const cg_loader *dl);
int64_t cg_loader_shard_size(const cg_loader *dl); // samples of this rank per epoch

// Checkpoints: the position as cg_dataloader_state (io/data.h), so cg_checkpoint_meta's
// `loader` saves and restores it: rng is the generator of the epoch's shuffle before it
// draws (a function of the seed and the epoch), batch the next batch of the epoch, sample
// the samples all ranks have read, world the world size. A loader built with the same
// dataset, steps and options and given the state hands out the same batches from there
// on, bit for bit (the order comes from (seed, epoch), each batch's transforms from (seed,
// epoch, batch)), whatever the number of workers. A state saved at the end of an epoch
// resumes at that end (the next call returns 0, then the next epoch).
cg_dataloader_state cg_loader_get_state(const cg_loader *dl);
// -1 (CG_ERR_ARG) if the state's generator is not this loader's for its epoch (another
// seed), or its position is not a batch boundary here (another batch size or world size
// continues at sample `sample` when that is one: sample / (batch * world)).
int cg_loader_set_state(cg_loader *dl, const cg_dataloader_state *state);

// The stream the random transforms of batch `batch` of epoch `epoch` draw from, sample
// after sample in batch order.
cg_rng cg_loader_batch_rng(uint64_t seed, int64_t epoch, int64_t batch);

#endif
