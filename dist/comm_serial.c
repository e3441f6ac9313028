// dist/comm_serial.c - the transport of a cgrad built without MPI: one process, whose
// collectives are the identity (the sum over one rank is its own value).
#ifndef CG_HAVE_MPI
#include "comm_internal.h"

static double timeout_s = 300;

int cg_comm_init(int *argc, char ***argv) {
    (void)argc, (void)argv;
    return 0;
}
void cg_comm_finalize(void) {}
int cg_comm_rank(void) {
    return 0;
}
int cg_comm_size(void) {
    return 1;
}
bool cg_comm_is_mpi(void) {
    return false;
}
int cg_comm_iallreduce_sum(float *data, int64_t n, cg_comm_request *req) {
    (void)data, (void)n;
    req->done = true;
    return 0;
}
int cg_comm_ibroadcast(float *data, int64_t n, cg_comm_request *req) {
    return cg_comm_iallreduce_sum(data, n, req);
}
int cg_comm_ibarrier(cg_comm_request *req) {
    req->done = true;
    return 0;
}
int cg_comm_iallgather_u64(const uint64_t *mine, int n, uint64_t *all, cg_comm_request *req) {
    for (int i = 0; i < n; i++) all[i] = mine[i];
    req->done = true;
    return 0;
}
void cg_comm_progress(cg_comm_request *reqs, int n) {
    (void)reqs, (void)n;
}
int cg_comm_wait(cg_comm_request *reqs, int n, const char *what) {
    (void)reqs, (void)n, (void)what;
    return 0;
}
double cg_comm_timeout(void) {
    return timeout_s;
}
void cg_comm_set_timeout(double seconds) {
    timeout_s = seconds;
}
bool cg_comm_broken(void) {
    return false;
}
#else
typedef int cg_comm_serial_unused; // ISO C wants a translation unit to declare something
#endif
