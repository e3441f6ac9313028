// dist/dist.c - the process group and blocking collectives on top of the transport.
#include <math.h>

#include "../tensor/error.h"
#include "comm_internal.h"
#include "dist.h"

// Where the process stands: as torch.distributed, collectives need an initialised group
// (in a single process too, so a program that forgot cg_dist_init fails the same way on
// one rank as under mpirun), and MPI cannot be joined again once finalised.
static enum { BEFORE_INIT, JOINED, FINALIZED } stage = BEFORE_INIT;

static bool joined(const char *what) {
    if (stage == JOINED) return true;
    cg_error(CG_ERR_STATE, "dist: %s: %s", what,
             stage == BEFORE_INIT ? "called before cg_dist_init" : "called after cg_dist_finalize");
    return false;
}

int cg_dist_init(int *argc, char ***argv) {
    if (stage != BEFORE_INIT)
        return cg_error(CG_ERR_STATE, "dist: init: %s",
                        stage == JOINED ? "already initialised (cg_dist_init called twice)"
                                        : "called after cg_dist_finalize (MPI cannot restart)"),
               -1;
    if (cg_comm_init(argc, argv)) return -1;
    stage = JOINED;
    return 0;
}
void cg_dist_finalize(void) {
    if (!joined("finalize")) return;
    cg_comm_finalize();
    stage = FINALIZED;
}
int cg_dist_rank(void) {
    return cg_comm_rank();
}
int cg_dist_world_size(void) {
    return cg_comm_size();
}
bool cg_dist_is_mpi(void) {
    return cg_comm_is_mpi();
}
void cg_dist_set_timeout(double seconds) {
    if (!(seconds > 0) || isinf(seconds)) { // NaN too
        cg_error(CG_ERR_ARG, "dist: set_timeout: %g seconds must be finite and > 0", seconds);
        return;
    }
    cg_comm_set_timeout(seconds);
}

int cg_dist_barrier(void) {
    if (!joined("barrier")) return -1;
    cg_comm_request req;
    if (cg_comm_ibarrier(&req)) return -1;
    return cg_comm_wait(&req, 1, "barrier");
}

int cg_dist_allreduce_sum(float *data, int64_t n) {
    if (!joined("all-reduce")) return -1;
    if (n < 0)
        return cg_error(CG_ERR_ARG, "dist: all-reduce: count %lld is negative", (long long)n), -1;
    if (n > 0 && !data)
        return cg_error(CG_ERR_ARG, "dist: all-reduce: argument 'data' is NULL"), -1;
    cg_comm_request req;
    if (cg_comm_iallreduce_sum(data, n, &req)) return -1;
    return cg_comm_wait(&req, 1, "all-reduce");
}

int cg_dist_allreduce_mean(float *data, int64_t n) {
    if (cg_dist_allreduce_sum(data, n)) return -1;
    float inv = 1.0f / (float)cg_comm_size();
    for (int64_t i = 0; i < n; i++) data[i] *= inv;
    return 0;
}

int cg_dist_broadcast(float *data, int64_t n) {
    if (!joined("broadcast")) return -1;
    if (n < 0)
        return cg_error(CG_ERR_ARG, "dist: broadcast: count %lld is negative", (long long)n), -1;
    if (n > 0 && !data) return cg_error(CG_ERR_ARG, "dist: broadcast: argument 'data' is NULL"), -1;
    cg_comm_request req;
    if (cg_comm_ibroadcast(data, n, &req)) return -1;
    return cg_comm_wait(&req, 1, "broadcast");
}

int cg_dist_broadcast_module(const cg_module *m) {
    if (!m) return cg_error(CG_ERR_ARG, "dist: broadcast_module: module is NULL"), -1;
    cg_tensor_list sd = cg_module_state_dict(m);
    int rc = sd.count < 0 ? -1 : 0;
    for (int i = 0; rc == 0 && i < sd.count; i++)
        rc = cg_dist_broadcast(sd.items[i].tensor->data, sd.items[i].tensor->numel);
    cg_tensor_list_free(&sd);
    return rc;
}
