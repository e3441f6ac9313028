// io/data.h - datasets on disk (IDX / MNIST) and a mini-batch loader.
//
//   cg_mnist train;
//   if (cg_mnist_load("/usr/share/datasets/fashion-mnist", true, &train)) return 1;
//   cg_dataloader *dl = cg_dataloader_new(train.images, train.labels, 64, true, 42);
//   cg_dataloader_set_normalize(dl, 0.2860f, 0.3530f);
//   for (int epoch = 0; epoch < 3; epoch++) {
//       cg_tensor *x, *y;
//       while (cg_dataloader_next(dl, &x, &y)) { ... one training step on x (64,1,28,28), y (64)
//       ... }
//   }
//   cg_dataloader_free(dl);
//   cg_mnist_free(&train);
//
// Everything here reports through cg_error (tensor/error.h): a file that cannot be opened
// or read is CG_ERR_IO, one whose contents are wrong (bad magic, truncated, trailing bytes,
// absurd sizes) is CG_ERR_FORMAT, and the message names the file and what was wrong.
// Nothing here exits or crashes on bad input.
#ifndef CG_DATA_H
#define CG_DATA_H

#include <stdbool.h>
#include <stdint.h>

#include "../tensor/tensor.h"

// ---- IDX files (the MNIST container format) ------------------------------------------
// Limits that make a corrupt header fail cleanly instead of allocating gigabytes.
#define CG_IDX_MAX_RANK     4
#define CG_IDX_MAX_ELEMENTS (INT64_C(1) << 28) // 256 Mi bytes of pixel data

// Read an IDX file of unsigned bytes, plain or gzip-compressed (detected from the contents,
// not the name). Layout: 2 zero bytes, dtype byte (0x08 = unsigned byte; the other IDX
// dtypes are reported as unsupported), rank byte (1..CG_IDX_MAX_RANK), rank big-endian
// uint32 dims, then exactly prod(dims) bytes: a shorter file is "truncated", a longer one
// has "trailing bytes".
// Returns a tensor with the file's dims holding the raw byte values 0..255 as floats,
// created outside any scope (the caller frees it with cg_free), or NULL on error.
cg_tensor *cg_idx_load(const char *path);

// ---- MNIST and Fashion-MNIST --------------------------------------------------------------
typedef enum cg_mnist_kind {
    CG_MNIST_DIGITS,  // the original handwritten digits, classes "0".."9"
    CG_MNIST_FASHION, // Zalando's Fashion-MNIST, classes "T-shirt/top".."Ankle boot"
} cg_mnist_kind;

typedef struct cg_mnist {
    cg_tensor *images; // (N,1,H,W) (28x28 for MNIST), pixel/255 in [0,1]; owned, unscoped
                       // (NULL after cg_mnist_load_bytes)
    uint8_t *pixels;   // (N,1,H,W) raw bytes after cg_mnist_load_bytes (owned), else NULL
    int64_t height, width;
    cg_tensor *labels;  // (N) class indices as floats; owned, unscoped
    int64_t count;      // N
    int num_classes;    // largest label + 1 (10 for MNIST and Fashion-MNIST)
    cg_mnist_kind kind; // guessed from the pixel statistics, see cg_mnist_detect
} cg_mnist;

// Load the training (train = true) or test split from `dir`, which must hold the standard
// file names, each plain or with ".gz" (the plain name is tried first):
//   train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte,
//   t10k-labels-idx1-ubyte   ("train-images.idx3-ubyte" with a dot is accepted too).
// Images must have rank 3 (N,H,W), labels rank 1 (N), and the counts must match
// (CG_ERR_FORMAT otherwise). A missing file is CG_ERR_IO with a hint on how to get the data.
// On success fills *out (which the caller releases with cg_mnist_free) and returns 0; on
// error returns -1 and leaves *out zeroed.
int cg_mnist_load(const char *dir, bool train, cg_mnist *out);
// The same, but the images stay bytes (out->pixels; out->images is NULL): a quarter of the
// memory (47 MB instead of 188 MB for the 60,000 training images), as torchvision keeps
// MNIST. cg_dataloader_new_bytes turns them into float batches as it goes.
int cg_mnist_load_bytes(const char *dir, bool train, cg_mnist *out);
void cg_mnist_free(cg_mnist *m); // frees everything and zeroes *m; NULL is fine

// Digits or clothes? Fashion-MNIST pictures are much brighter on average (mean pixel
// ~0.29 against ~0.13 for the digits), which is a reliable test on any few hundred images.
cg_mnist_kind cg_mnist_detect(const cg_tensor *images);

// The 10 class names of each dataset, indexed by label.
extern const char *const cg_mnist_digit_classes[10];
extern const char *const cg_fashion_mnist_classes[10];
// The name of `label` for that kind of dataset, or "?" if out of range.
const char *cg_mnist_class_name(cg_mnist_kind kind, int label);

// ---- mini-batch loader ---------------------------------------------------------------------
// Walks over the rows (dim 0) of x and, if given, y in mini-batches: each epoch visits every
// sample exactly once, in a fresh random order when shuffling (a Fisher-Yates shuffle drawn
// from the loader's own cg_rng, so the order depends only on the seed and the epoch, never
// on the global generator). The batches are copied into two buffers the loader owns and
// reuses: nothing is allocated per batch.
typedef struct cg_dataloader cg_dataloader;

// x (N, ...) and y (N, ...) or NULL (unlabelled data, e.g. an autoencoder); the loader
// reads them on every batch, so they must outlive it (not owned). batch >= 1.
// Defaults: keep the last partial batch, no normalisation. The first epoch is 0.
// Returns NULL (CG_ERR_ARG / CG_ERR_SHAPE) on a NULL x, batch < 1 or row counts that differ.
cg_dataloader *cg_dataloader_new(cg_tensor *x, cg_tensor *y, int batch, bool shuffle,
                                 uint64_t seed);
// A loader over byte samples (e.g. cg_mnist.pixels): x holds n samples of `sample_shape`
// (sample_ndim dims, e.g. {1, 28, 28}); batches are (B, sample_shape...) floats x * scale
// (then normalised). x and y must outlive the loader. Errors as cg_dataloader_new.
cg_dataloader *cg_dataloader_new_bytes(const uint8_t *x, int64_t n, int sample_ndim,
                                       const int64_t *sample_shape, float scale, cg_tensor *y,
                                       int batch, bool shuffle, uint64_t seed);
void cg_dataloader_free(cg_dataloader *dl); // NULL is fine

// Drop the last batch if it is smaller than `batch` (torch DataLoader's drop_last).
// Takes effect from the start of the next epoch; call before the first batch.
void cg_dataloader_set_drop_last(cg_dataloader *dl, bool drop_last);
// Yield (x - mean) / std instead of x (std must be > 0; returns -1 with CG_ERR_ARG if not).
int cg_dataloader_set_normalize(cg_dataloader *dl, float mean, float std);

// The next batch of the current epoch: *x is (B, ...) and *y (B, ...) (or NULL if the
// loader has no y), where B = batch except for a last partial batch. The tensors belong to
// the loader (do not free them) and are overwritten by the next call: copy what you keep.
// At the end of an epoch returns false (leaving *x, *y NULL) and moves to the next epoch,
// reshuffling, so `while (cg_dataloader_next(dl, &x, &y))` is one epoch.
bool cg_dataloader_next(cg_dataloader *dl, cg_tensor **x, cg_tensor **y);
// Restart the current epoch from its first batch (same order).
void cg_dataloader_reset(cg_dataloader *dl);
// Getters: -1 with an error if dl is NULL (set_drop_last, reset: the error only).
int64_t cg_dataloader_epoch(const cg_dataloader *dl);       // the current epoch, from 0
int64_t cg_dataloader_num_batches(const cg_dataloader *dl); // batches per epoch
int64_t cg_dataloader_num_samples(const cg_dataloader *dl); // N

// Everything needed to continue exactly where a loader stood (for checkpoints): the
// generator as it was before the current epoch's shuffle, the epoch and the next batch.
typedef struct cg_dataloader_state {
    cg_rng rng;
    int64_t epoch;
    int64_t batch;  // index of the next batch within the epoch (of this rank's shard)
    int64_t sample; // samples of the epoch's order read so far by all ranks together
    int64_t world;  // the loader's world size (cg_dataloader_set_shard; 0 or 1: none)
} cg_dataloader_state;
cg_dataloader_state cg_dataloader_get_state(const cg_dataloader *dl);
// Reproduces that epoch's order and position. If the state came from a loader with another
// batch size or world size (`world` or `sample` does not match `batch` here), it continues at
// its sample-th sample: the rest of the order, re-sharded over this loader's ranks.
// -1 (CG_ERR_ARG) if batch or sample is out of range for this loader.
int cg_dataloader_set_state(cg_dataloader *dl, const cg_dataloader_state *state);

// ---- distributed sampler (torch.utils.data.DistributedSampler) -------------------------------
// Make this loader rank `rank` of `world`: every rank shuffles with the same seed, so all
// see the same order of each epoch, and rank r reads samples r, r + world, r + 2 world, ...
// of it, `batch` (= global batch / world) at a time. Batch k of all ranks together is then
// exactly batch k of one loader with batch * world. If N is not a multiple of world the
// order is padded by repeating its first samples (drop_last false, PyTorch's default) or
// its tail is dropped (drop_last true), so every rank has ceil(N / world) or
// floor(N / world) samples and the same number of batches (the loader's own drop_last
// then applies to its last batch). Restarts the current epoch. -1 (CG_ERR_ARG) on a bad
// rank / world.
int cg_dataloader_set_shard(cg_dataloader *dl, int rank, int world, bool drop_last);
// The order of epoch `epoch` from now on (torch's sampler.set_epoch): the loader's epochs
// follow from the seed, so this gives every rank the same epoch after a restart.
int cg_dataloader_set_epoch(cg_dataloader *dl, int64_t epoch);
int64_t cg_dataloader_shard_size(const cg_dataloader *dl); // this rank's samples per epoch

#endif
