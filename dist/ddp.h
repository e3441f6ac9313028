// dist/ddp.h - DistributedDataParallel: gradients averaged over the ranks (dist/dist.h shows
// a whole training loop).
#ifndef CG_DDP_H
#define CG_DDP_H

#include <stdbool.h>
#include <stdint.h>

#include "../nn/module.h"
#include "../tensor/tensor.h"

// Gradients are averaged in buckets of about bucket_bytes, filled in reverse parameter
// order (the order backward finishes them). A bucket's MPI_Iallreduce starts as soon as
// autograd reports its last gradient final (cg_set_grad_ready_hook), so communication
// overlaps the rest of backward; buckets start in the same order on every rank.
typedef struct cg_ddp_options {
    int64_t bucket_bytes;      // 0: 256 KiB (PyTorch's 25 MiB would be one bucket here)
    bool no_overlap;           // start every all-reduce in cg_ddp_finish (for measuring)
    bool no_broadcast_buffers; // default: rank 0's buffers (BN running stats) before each forward
} cg_ddp_options;
typedef struct cg_ddp cg_ddp;

// Broadcast model's parameters and buffers from rank 0 and take over gradient averaging
// for its parameters (one cg_ddp at a time). NULL with cg_error on failure.
cg_ddp *cg_ddp_new(cg_module *model, const cg_ddp_options *options);
void cg_ddp_free(cg_ddp *ddp); // NULL is fine; uninstalls the autograd hook
// cg_module_forward, after giving every rank rank 0's buffers (torch's broadcast_buffers).
cg_tensor *cg_ddp_forward(cg_ddp *ddp, cg_tensor *x);
// no_sync: with sync off, backward only accumulates local gradients (gradient accumulation
// over micro-batches); turn it on for the last micro-batch, whose cg_ddp_finish averages
// the accumulated sum. Default on.
void cg_ddp_set_sync(cg_ddp *ddp, bool sync);
// After backward, before the optimizer step: start the buckets backward did not (those with
// parameters that got no gradient on this rank count zeros), wait for all, and write the
// mean gradient into every parameter's .grad. A parameter no rank gave a gradient keeps
// .grad NULL, as in one process. With sync off this does nothing. 0 or -1.
int cg_ddp_finish(cg_ddp *ddp);

typedef struct cg_ddp_stats {
    int buckets;                 // number of buckets
    int64_t steps;               // cg_ddp_finish calls that reduced
    int64_t started_in_backward; // bucket all-reduces started before cg_ddp_finish
    double wait_seconds;         // total time blocked in cg_ddp_finish
} cg_ddp_stats;
cg_ddp_stats cg_ddp_get_stats(const cg_ddp *ddp);
// Which bucket parameter i (cg_module_named_parameters order) is in, or -1.
int cg_ddp_bucket_of(const cg_ddp *ddp, int param);

#endif
