// dist/dist.c - the process group and blocking collectives on top of the transport.
#include "../tensor/error.h"
#include "comm_internal.h"
#include "dist.h"

int cg_dist_init(int *argc, char ***argv) {
    return cg_comm_init(argc, argv);
}
void cg_dist_finalize(void) {
    cg_comm_finalize();
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
    cg_comm_set_timeout(seconds);
}

int cg_dist_barrier(void) {
    cg_comm_request req;
    if (cg_comm_ibarrier(&req)) return -1;
    return cg_comm_wait(&req, 1, "barrier");
}

int cg_dist_allreduce_sum(float *data, int64_t n) {
    if (n > 0 && !data) return cg_error(CG_ERR_ARG, "dist: allreduce: data is NULL"), -1;
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
    if (n > 0 && !data) return cg_error(CG_ERR_ARG, "dist: broadcast: data is NULL"), -1;
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
