// dist/comm_mpi.c - the transport over MPI (Open MPI or MPICH, standard MPI-3 calls only).
//
// MPI is initialised only when a launcher (mpirun, mpiexec, srun) set up the environment,
// so the same program run by hand is one process without touching MPI. Collectives are the
// non-blocking MPI-3 ones, waited for by polling with a deadline: a peer that died or
// stopped makes the survivors fail with a message after the timeout instead of hanging.
#ifdef CG_HAVE_MPI
#include <mpi.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tensor/error.h"
#include "comm_internal.h"

_Static_assert(sizeof(MPI_Request) <= sizeof(((cg_comm_request *)0)->handle),
               "MPI_Request must fit in cg_comm_request");

static bool active; // MPI_Init was called by us
static bool broken; // a wait timed out or MPI reported an error
static int world_rank, world_size = 1;
static double timeout_s = 300; // CG_DIST_TIMEOUT overrides

// mpirun / mpiexec (Open MPI, MPICH's hydra, PMIx) and srun leave one of these behind.
static bool launched_by_mpi(void) {
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return true;
    const char *force = getenv("CG_DIST");
    return force && strcmp(force, "1") == 0;
}

static int mpi_failed(int rc, const char *call) {
    if (rc == MPI_SUCCESS) return 0;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(rc, text, &length);
    broken = true;
    cg_error(CG_ERR_IO, "dist: %s failed on rank %d of %d: %s", call, world_rank, world_size, text);
    return -1;
}

int cg_comm_init(int *argc, char ***argv) {
    const char *t = getenv("CG_DIST_TIMEOUT");
    if (t && atof(t) > 0) timeout_s = atof(t);
    if (active || !launched_by_mpi()) return 0;
    int provided = 0;
    // Only the main thread calls MPI; OpenMP threads compute in between (FUNNELED).
    if (mpi_failed(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init"))
        return -1;
    active = true;
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &world_size);
    return 0;
}

void cg_comm_finalize(void) {
    if (!active) return;
    // Outstanding collectives of a failed job would make MPI_Finalize wait forever.
    if (broken) MPI_Abort(MPI_COMM_WORLD, 1);
    MPI_Finalize();
    active = false;
    world_rank = 0, world_size = 1;
}

int cg_comm_rank(void) {
    return world_rank;
}
int cg_comm_size(void) {
    return world_size;
}
bool cg_comm_is_mpi(void) {
    return active;
}

static MPI_Request *handle(cg_comm_request *req) {
    return (MPI_Request *)(void *)req->handle;
}

// A request that is already complete (one process, or nothing to send).
static int finished(cg_comm_request *req) {
    *handle(req) = MPI_REQUEST_NULL;
    req->done = true;
    return 0;
}

// The common start of a collective on n floats: 1 when MPI must run it, 0 when it is
// already complete (one process, nothing to send), -1 when n is beyond MPI's int count.
static int begin(cg_comm_request *req, int64_t n, const char *what) {
    req->done = false;
    if (!active || world_size == 1 || n == 0) return finished(req);
    if (n > INT32_MAX) {
        cg_error(CG_ERR_ARG, "dist: %s of %lld floats is more than MPI's int count", what,
                 (long long)n);
        return -1;
    }
    return 1;
}

int cg_comm_iallreduce_sum(float *data, int64_t n, cg_comm_request *req) {
    int rc = begin(req, n, "all-reduce");
    if (rc <= 0) return rc;
    return mpi_failed(
        MPI_Iallreduce(MPI_IN_PLACE, data, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, handle(req)),
        "MPI_Iallreduce");
}

int cg_comm_ibroadcast(float *data, int64_t n, cg_comm_request *req) {
    int rc = begin(req, n, "broadcast");
    if (rc <= 0) return rc;
    return mpi_failed(MPI_Ibcast(data, (int)n, MPI_FLOAT, 0, MPI_COMM_WORLD, handle(req)),
                      "MPI_Ibcast");
}

int cg_comm_ibarrier(cg_comm_request *req) {
    req->done = false;
    if (!active || world_size == 1) return finished(req);
    return mpi_failed(MPI_Ibarrier(MPI_COMM_WORLD, handle(req)), "MPI_Ibarrier");
}

int cg_comm_iallgather_u64(const uint64_t *mine, int n, uint64_t *all, cg_comm_request *req) {
    req->done = false;
    if (!active || world_size == 1) {
        for (int i = 0; i < n; i++) all[i] = mine[i];
        return finished(req);
    }
    return mpi_failed(
        MPI_Iallgather(mine, n, MPI_UINT64_T, all, n, MPI_UINT64_T, MPI_COMM_WORLD, handle(req)),
        "MPI_Iallgather");
}

// Test every request not yet done; -1 on an MPI error.
static int test_all(cg_comm_request *reqs, int n, bool *all_done) {
    *all_done = true;
    for (int i = 0; i < n; i++) {
        if (reqs[i].done) continue;
        int flag = 0;
        if (mpi_failed(MPI_Test(handle(&reqs[i]), &flag, MPI_STATUS_IGNORE), "MPI_Test")) return -1;
        reqs[i].done = flag != 0;
        *all_done &= reqs[i].done;
    }
    return 0;
}

void cg_comm_progress(cg_comm_request *reqs, int n) {
    bool all_done;
    if (active) test_all(reqs, n, &all_done);
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cg_comm_wait(cg_comm_request *reqs, int n, const char *what) {
    if (!active) return 0;
    double deadline = seconds() + timeout_s;
    for (;;) {
        bool all_done;
        if (test_all(reqs, n, &all_done)) return -1;
        if (all_done) return 0;
        if (seconds() > deadline) {
            broken = true;
            cg_error(CG_ERR_STATE,
                     "dist: %s did not complete within %g s on rank %d of %d: another rank "
                     "failed, exited or stopped (set CG_DIST_TIMEOUT to wait longer)",
                     what, timeout_s, world_rank, world_size);
            return -1;
        }
        sched_yield(); // oversubscribed ranks share cores: let the peer run
    }
}

double cg_comm_timeout(void) {
    return timeout_s;
}
void cg_comm_set_timeout(double seconds) {
    if (seconds > 0) timeout_s = seconds;
}
bool cg_comm_broken(void) {
    return broken;
}
#else
typedef int cg_comm_mpi_unused; // ISO C wants a translation unit to declare something
#endif
