// dist/checkpoint.c - one checkpoint for a data-parallel job: rank 0 writes, all ranks read.
//
// Parameters, buffers and optimizer state are the same on every rank (DDP keeps them so),
// and so is the loader's position; only the global generators differ, so they are gathered
// into the file. Resuming on another number of ranks works: the loader continues at the
// saved sample (cg_dataloader_set_state), ranks that were saved get their generator back,
// new ranks keep theirs.
#include "../io/checkpoint.h"
#include "../tensor/error.h"
#include "comm_internal.h"
#include "dist.h"

int cg_dist_checkpoint_save(const char *path, const cg_module *model, cg_optimizer *opt,
                            const cg_checkpoint_meta *meta) {
    if (!meta) return cg_error(CG_ERR_ARG, "dist: checkpoint_save: meta is NULL"), -1;
    int world = cg_comm_size();
    if (world > CG_CHECKPOINT_MAX_RANKS) {
        cg_error(CG_ERR_ARG, "dist: checkpoint_save: %d ranks, a checkpoint holds at most %d",
                 world, CG_CHECKPOINT_MAX_RANKS);
        return -1;
    }
    cg_checkpoint_meta m = *meta;
    const cg_rng *g = cg_global_rng();
    uint64_t mine[2] = {g->state, g->inc}, all[2 * CG_CHECKPOINT_MAX_RANKS];
    cg_comm_request req;
    if (cg_comm_iallgather_u64(mine, 2, all, &req) ||
        cg_comm_wait(&req, 1, "checkpoint rng gather"))
        return -1;
    m.n_rank_rngs = world;
    for (int r = 0; r < world; r++) m.rank_rngs[r] = (cg_rng){all[2 * r], all[2 * r + 1]};
    // Rank 0's outcome, so that every rank returns the same and no one reads a missing file.
    float rc = cg_comm_rank() == 0 ? (float)cg_checkpoint_save(path, model, opt, &m) : 0.0f;
    if (cg_dist_broadcast(&rc, 1)) return -1;
    if (rc != 0 && cg_comm_rank() != 0)
        cg_error(CG_ERR_IO, "dist: checkpoint_save: rank 0 could not write %s", path);
    return rc == 0 ? 0 : -1;
}

int cg_dist_checkpoint_load(const char *path, cg_module *model, cg_optimizer *opt,
                            cg_checkpoint_meta *meta) {
    cg_rng own = *cg_global_rng();
    cg_checkpoint_meta m;
    if (cg_checkpoint_load(path, model, opt, &m)) return -1;
    int rank = cg_comm_rank();
    *cg_global_rng() = rank < m.n_rank_rngs ? m.rank_rngs[rank]
                       : m.n_rank_rngs      ? own
                                            : m.global_rng;
    m.global_rng = *cg_global_rng();
    if (meta) *meta = m;
    return 0;
}
