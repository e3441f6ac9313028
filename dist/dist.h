// dist/dist.h - data-parallel training over MPI (torch.distributed + DistributedDataParallel).
//
// The same program runs as one process or as R ranks under a launcher:
//
//   cg_dist_init(&argc, &argv);               // MPI_Init if mpirun/mpiexec/srun started us
//   cg_ddp *ddp = cg_ddp_new(model, NULL);    // rank 0's parameters and buffers everywhere
//   cg_dataloader_set_shard(dl, cg_dist_rank(), cg_dist_world_size(), false);
//   while (cg_dataloader_next(dl, &x, &y)) {  // batch B / R per rank
//       cg_scope_begin();
//       cg_optimizer_zero_grad(opt);
//       cg_tensor *loss = cg_cross_entropy(cg_ddp_forward(ddp, x), y, NULL);
//       cg_backward(loss);                    // buckets are all-reduced as grads get ready
//       cg_ddp_finish(ddp);                   // wait: every rank holds the mean gradient
//       cg_optimizer_step(opt);
//       cg_scope_end();
//   }
//   cg_ddp_free(ddp);
//   cg_dist_finalize();
//
// dist/ is a library of its own, libcgrad_dist (pkg-config cgrad-dist; CMake cgrad::dist,
// find_package(cgrad COMPONENTS dist)): it brings MPI, which no other program links.
//
// Built without MPI (-DCG_USE_MPI=OFF) or run without a launcher, the world is one rank and
// every collective is the identity, so nothing in the program changes.
//
// Failure: every collective waits with a deadline (cg_dist_set_timeout, env CG_DIST_TIMEOUT,
// default 300 s). A rank that exits makes mpirun end the job; one that stops makes the
// others report "dist: ... did not complete within ... s" (CG_ERR_STATE), after which
// cg_dist_finalize aborts the whole job (MPI_Abort) rather than hang in MPI_Finalize.
#ifndef CG_DIST_H
#define CG_DIST_H

#include <stdbool.h>
#include <stdint.h>

#include "../io/checkpoint.h"
#include "../nn/module.h"
#include "../optim/optim.h"
#include "../tensor/tensor.h"

// ---- the process group -------------------------------------------------------------------
// Join the job: MPI_Init when built with MPI and started by a launcher (Open MPI's
// OMPI_COMM_WORLD_SIZE, MPICH/PMI's PMI_SIZE / PMI_RANK, PMIx's PMIX_RANK; CG_DIST=1
// forces it), else a world of one. argc/argv may be NULL. 0, or -1 with cg_error (also when
// called twice or after cg_dist_finalize). The collectives below, DDP and the distributed
// checkpoints need it, as torch.distributed needs init_process_group: before it (or after
// finalize) they fail with CG_ERR_STATE, in a single process too. Counts must be >= 0 and
// a timeout finite and > 0 (CG_ERR_ARG).
int cg_dist_init(int *argc, char ***argv);
void cg_dist_finalize(void);  // MPI_Finalize (MPI_Abort after a failed collective)
int cg_dist_rank(void);       // 0 .. world size - 1; 0 in a single process
int cg_dist_world_size(void); // 1 in a single process
bool cg_dist_is_mpi(void);    // MPI is running (false: built without it or not launched)
int cg_dist_barrier(void);    // 0, or -1 after the timeout
void cg_dist_set_timeout(double seconds);

// In-place collectives on n floats (blocking, with the timeout): the sum / mean over all
// ranks, and rank 0's values on every rank. 0 or -1.
int cg_dist_allreduce_sum(float *data, int64_t n);
int cg_dist_allreduce_mean(float *data, int64_t n);
int cg_dist_broadcast(float *data, int64_t n);
// Every parameter and buffer of m takes rank 0's values (the start of DDP).
int cg_dist_broadcast_module(const cg_module *m);

// ---- checkpoints ---------------------------------------------------------------------------
// Collective: every rank's global generator goes into the file (meta->n_rank_rngs), rank 0
// writes it atomically (cg_checkpoint_save) and every rank returns rank 0's outcome.
int cg_dist_checkpoint_save(const char *path, const cg_module *model, cg_optimizer *opt,
                            const cg_checkpoint_meta *meta);
// Every rank reads the file (cg_checkpoint_load) and takes back its own generator; a rank
// the file has no generator for (resuming on more ranks) keeps the one it has. Not a
// collective. Then cg_dataloader_set_state(dl, &meta->loader) continues the epoch, also on
// another world size.
int cg_dist_checkpoint_load(const char *path, cg_module *model, cg_optimizer *opt,
                            cg_checkpoint_meta *meta);

#endif
