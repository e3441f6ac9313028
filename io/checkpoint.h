// io/checkpoint.h - model state and resumable training checkpoints, as safetensors files
// (io/safetensors.h). PyTorch's .pth state dicts: io/pth.h.
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
#ifndef CG_CHECKPOINT_H
#define CG_CHECKPOINT_H

#include <stdint.h>

#include "../nn/module.h"
#include "../optim/optim.h"
#include "data.h"
#include "safetensors.h"

// ---- model state ----------------------------------------------------------------------------
// Save cg_module_state_dict(m) (parameters and buffers, PyTorch's state_dict names and
// layouts) with metadata {"format": "pt"}, atomically as cg_safetensors_save.
int cg_module_save(const char *path, const cg_module *m);
// Load a state dict into m's existing tensors. Every tensor of the model must be in the file
// with the same shape and the file must hold nothing else; otherwise nothing is written and
// one CG_ERR_SHAPE message lists the names: "missing: a, b; unexpected: c; mis-shaped:
// fc.weight (file [10,20], model [10,30])". Returns 0 or -1.
int cg_module_load(const char *path, cg_module *m);

// PyTorch's load_state_dict(strict=False): non_strict loads every tensor whose name is both
// in the file and in the model and leaves the rest of the model as it is. A shape mismatch
// is still an error that loads nothing, as PyTorch. false (the default) is cg_module_load.
// key_path (.pth files only, cg_module_load_pth in io/pth.h): the '.'-separated dict keys
// of the state dict inside a training checkpoint dict, e.g. "model" or "state_dict.model";
// NULL or "" for a file that is the state dict.
typedef struct cg_load_options {
    bool non_strict;
    const char *key_path;
} cg_load_options;
// What a load found (PyTorch's missing_keys / unexpected_keys), filled when non-NULL
// (also when a strict load fails on them). Free with cg_load_report_free.
typedef struct cg_load_report {
    int n_missing, n_unexpected;
    char **missing;    // model tensors the file does not have
    char **unexpected; // file tensors the model does not have
} cg_load_report;
//   cg_load_report r;
//   cg_module_load_ex("pretrained.safetensors", m, &(cg_load_options){.non_strict = true}, &r);
//   for (int i = 0; i < r.n_missing; i++) printf("not in the file: %s\n", r.missing[i]);
//   cg_load_report_free(&r);
int cg_module_load_ex(const char *path, cg_module *m, const cg_load_options *options,
                      cg_load_report *report);
void cg_load_report_free(cg_load_report *report);

// ---- resumable training ----------------------------------------------------------------------
#define CG_CHECKPOINT_MAX_RANKS  64
#define CG_CHECKPOINT_MAX_GROUPS 64 // an optimizer's parameter groups
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
    // Data-parallel runs (dist/): the global generator of every rank, saved as "ranks" and
    // "rank.<r>.rng" when n_rank_rngs > 0 (cg_dist_checkpoint_save fills them).
    int n_rank_rngs;
    cg_rng rank_rngs[CG_CHECKPOINT_MAX_RANKS];
} cg_checkpoint_meta;

// Save the model's state dict, the optimizer's state (cg_optimizer_state) under
// "optimizer.<name>" ("optimizer.0.momentum_buffer"; opt may be NULL) and in __metadata__
// (all decimal strings): "epoch", "global_step", "lr", "rng.state", "rng.inc" (the global
// generator), and if meta->has_loader "loader.rng.state", "loader.rng.inc", "loader.epoch",
// "loader.batch", "loader.sample", "loader.world"; with an optimizer "optimizer.groups" and
// every group's lr "optimizer.group.<g>.lr" (%.17g: the exact double);
// plus "format": "cgrad-checkpoint". Atomic. Returns 0 or -1.
int cg_checkpoint_save(const char *path, const cg_module *model, cg_optimizer *opt,
                       const cg_checkpoint_meta *meta);
// Validate everything first (tensors as cg_module_load, optimizer tensors included, and
// the metadata), then write the model and optimizer tensors, set every group's lr to the
// saved one (exactly; files without group lrs give every group "lr"), restore the global generator
// and fill *meta (may be NULL). On error nothing is changed. Returns 0 or -1.
int cg_checkpoint_load(const char *path, cg_module *model, cg_optimizer *opt,
                       cg_checkpoint_meta *meta);

#endif
