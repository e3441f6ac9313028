// dist/comm_internal.h - the transport under dist/: MPI when cgrad is built with it
// (CG_HAVE_MPI, comm_mpi.c) and run under a launcher, a single process otherwise
// (comm_serial.c, or comm_mpi.c when no launcher set up the environment).
//
// Everything is non-blocking underneath so that one waiting loop (cg_comm_wait) can give
// up after the timeout with a clear error instead of hanging when a peer has died.
#ifndef CG_COMM_INTERNAL_H
#define CG_COMM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

// One outstanding collective; `done` is set once it has completed.
typedef struct cg_comm_request {
    bool done;
    uint64_t handle[2]; // the MPI_Request (comm_mpi.c); unused in a single process
} cg_comm_request;

int cg_comm_init(int *argc, char ***argv); // 0 or -1 (cg_error)
void cg_comm_finalize(void);
int cg_comm_rank(void);
int cg_comm_size(void);
bool cg_comm_is_mpi(void); // MPI is initialised (world size may still be 1)

// Start an in-place sum over all ranks / a broadcast from rank 0 of n floats.
int cg_comm_iallreduce_sum(float *data, int64_t n, cg_comm_request *req);
int cg_comm_ibroadcast(float *data, int64_t n, cg_comm_request *req);
int cg_comm_ibarrier(cg_comm_request *req);
// Every rank's n values of `mine`, rank by rank, into all[size * n].
int cg_comm_iallgather_u64(const uint64_t *mine, int n, uint64_t *all, cg_comm_request *req);
// Let MPI progress outstanding requests without blocking (marks finished ones done).
void cg_comm_progress(cg_comm_request *reqs, int n);
// Wait for all n requests; -1 with a cg_error naming `what` after the timeout.
int cg_comm_wait(cg_comm_request *reqs, int n, const char *what);

double cg_comm_timeout(void);
void cg_comm_set_timeout(double seconds);
// Whether a wait failed: the job cannot continue, cg_dist_finalize aborts it.
bool cg_comm_broken(void);

#endif
