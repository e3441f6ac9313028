// nn/checkpoint.h - safetensors files, model state and resumable training checkpoints.
//
//   cg_module_save("model.safetensors", model);   // PyTorch: model.load_state_dict(
//                                                 //   safetensors.torch.load_file(path))
//   cg_module_load("model.safetensors", model);   // and the reverse
//
//   cg_checkpoint_meta meta = {.epoch = epoch + 1, .global_step = step,
//                              .lr = cg_optimizer_lr(opt), .has_loader = true,
//                              .loader = cg_dataloader_get_state(dl)};
//   cg_checkpoint_save("run.ckpt", model, opt, &meta);
//   ... later, with a freshly built model and optimizer ...
//   cg_checkpoint_load("run.ckpt", model, opt, &meta);
//   cg_dataloader_set_state(dl, &meta.loader);      // and continue from meta.epoch
//
// The safetensors format (https://github.com/huggingface/safetensors):
//   8 bytes       N, the header length, unsigned little-endian
//   N bytes       JSON: {"__metadata__": {"key": "value", ...},
//                        "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
//                        ...}, padded with spaces so that N is a multiple of 8
//   rest          the tensors' raw little-endian bytes, row-major, back to back; data_offsets
//                 are [begin, end) relative to the start of this part.
// cgrad writes what the reference implementation writes for the same input, byte for byte:
// compact JSON, "__metadata__" first (its keys sorted), tensors stored in name order
// (byte-wise strcmp), F32 only.
//
// Errors: a file that cannot be opened/read/written is CG_ERR_IO; a corrupt file
// (truncated, header length beyond the file, malformed JSON, unknown dtype, offsets that
// are out of bounds, overlap or leave gaps, shapes that do not match the byte counts) is
// CG_ERR_FORMAT naming the file and the problem; a file that is fine but does not fit the
// model is CG_ERR_SHAPE. Readers never crash on corrupt input.
#ifndef CG_CHECKPOINT_H
#define CG_CHECKPOINT_H

#include <stdint.h>

#include "../optim/optim.h"
#include "../tensor/tensor.h"
#include "data.h"
#include "module.h"

// Header lengths above this are treated as corrupt (as the reference implementation does).
#define CG_SAFETENSORS_MAX_HEADER 100000000

// ---- raw safetensors ----------------------------------------------------------------------
// Write `tensors` (names must be unique and not "__metadata__"; any shape, 0-d included)
// as F32 with n_meta string pairs in "__metadata__" (none if n_meta is 0). The tensors are
// only read. Atomic: the data goes to "<path>.tmp-XXXXXX", is flushed and fsynced and then
// renamed over path, so on any failure an existing file at path is unchanged.
// Returns 0, or -1 (CG_ERR_ARG for bad names/NULL tensors, CG_ERR_IO for write failures).
int cg_safetensors_save(const char *path, const cg_tensor_list *tensors, int n_meta,
                        const char *const *meta_keys, const char *const *meta_values);

// A loaded file: tensors in the order of their data in the file, all float32 (F64, F16,
// BF16, I64, I32, I16, I8, U8 and BOOL are converted on load, e.g. PyTorch's I64
// num_batches_tracked), created outside any scope and owned by this struct.
typedef struct cg_safetensors {
    cg_tensor_list tensors;
    int n_meta;
    char **meta_keys, **meta_values; // NUL-terminated UTF-8
} cg_safetensors;

// Read and validate a whole file into *out (zeroed first). Returns 0, or -1 with *out
// empty. Names longer than CG_NAME_MAX-1 bytes are rejected as CG_ERR_FORMAT.
int cg_safetensors_load(const char *path, cg_safetensors *out);
void cg_safetensors_free(cg_safetensors *st); // frees everything and zeroes *st; NULL is fine
// The tensor called name (owned by st), or NULL.
cg_tensor *cg_safetensors_find(const cg_safetensors *st, const char *name);
// The metadata value for key (owned by st), or NULL.
const char *cg_safetensors_meta(const cg_safetensors *st, const char *key);

// ---- model state ----------------------------------------------------------------------------
// Save cg_module_state_dict(m) (parameters and buffers, PyTorch's state_dict names and
// layouts) with metadata {"format": "pt"}, atomically as cg_safetensors_save.
int cg_module_save(const char *path, const cg_module *m);
// Load a state dict into m's existing tensors. Every tensor of the model must be in the file
// with the same shape and the file must hold nothing else; otherwise nothing is written and
// one CG_ERR_SHAPE message lists the names: "missing: a, b; unexpected: c; mis-shaped:
// fc.weight (file [10,20], model [10,30])". Returns 0 or -1.
int cg_module_load(const char *path, cg_module *m);

// ---- resumable training ----------------------------------------------------------------------
typedef struct cg_checkpoint_meta {
    int64_t epoch;       // what the caller wants to resume from (e.g. epochs completed)
    int64_t global_step; // optimizer steps so far
    double lr;           // current learning rate
    // Whether `loader` is saved / was found in the file.
    bool has_loader;
    cg_dataloader_state loader;
    // Load: the global generator's state found in the file (also installed with
    // *cg_global_rng() = global_rng). Save: ignored, the live global generator is stored.
    cg_rng global_rng;
} cg_checkpoint_meta;

// Save the model's state dict, the optimizer's state (cg_optimizer_state) under
// "optimizer.<name>" ("optimizer.0.momentum_buffer"; opt may be NULL) and in __metadata__
// (all decimal strings): "epoch", "global_step", "lr", "rng.state", "rng.inc" (the global
// generator), and if meta->has_loader "loader.rng.state", "loader.rng.inc", "loader.epoch",
// "loader.batch"; plus "format": "cgrad-checkpoint". Atomic. Returns 0 or -1.
int cg_checkpoint_save(const char *path, const cg_module *model, cg_optimizer *opt,
                       const cg_checkpoint_meta *meta);
// Validate everything first (tensors as cg_module_load, optimizer tensors included, and
// the metadata), then write the model and optimizer tensors, set the optimizer's lr to the
// saved one, restore the global generator and fill *meta (may be NULL). On error nothing
// is changed. Returns 0 or -1.
int cg_checkpoint_load(const char *path, cg_module *model, cg_optimizer *opt,
                       cg_checkpoint_meta *meta);

#endif
