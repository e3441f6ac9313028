// tests/dist/dist_fail.c - a data-parallel job in which rank 1 fails in the middle of step 2.
//
//   mpirun -np 2 dist_fail exit    rank 1 calls _exit(3): mpirun ends the job
//   mpirun -np 2 dist_fail stall   rank 1 stops answering: rank 0's all-reduce gives up
//                                  after CG_DIST_TIMEOUT with a message, then aborts the job
// Either way the job must end with a failure status and a clear message, never hang
// (ctest gives it a timeout). Run by tests/CMakeLists.txt through expect_failure.sh.
#define _POSIX_C_SOURCE 200809L
#include <cgrad.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (cg_dist_init(&argc, &argv)) return 1;
    bool stall = argc > 1 && strcmp(argv[1], "stall") == 0;
    cg_manual_seed(1);
    cg_module *model =
        cg_Sequential(2, (cg_module *[]){cg_Linear(4, 8, NULL), cg_Linear(8, 2, NULL)});
    cg_ddp *ddp = cg_ddp_new(model, &(cg_ddp_options){.bucket_bytes = 64});
    int rc = ddp ? 0 : 1;
    for (int step = 0; rc == 0 && step < 5; step++) {
        cg_scope_begin();
        cg_tensor *y = cg_ddp_forward(ddp, cg_randn(2, (int64_t[]){3, 4}, NULL));
        cg_backward(cg_sum(cg_mul(y, y), CG_ALL_DIMS, false));
        if (step == 2 && cg_dist_rank() == 1) {
            if (!stall) _exit(3); // dies without a word, as a crashed process would
            nanosleep(&(struct timespec){600, 0}, NULL);
        }
        if (cg_ddp_finish(ddp)) {
            fprintf(stderr, "dist_fail: rank %d: step %d: %s\n", cg_dist_rank(), step,
                    cg_last_error_message());
            rc = 1;
        }
        cg_scope_end();
    }
    cg_ddp_free(ddp);
    cg_module_free(model);
    cg_dist_finalize(); // MPI_Abort after the failure: the stalled rank goes too
    return rc;
}
