// tensor/parallel.c - the library's one thread-count setting.
#include "parallel.h"

#include <omp.h>

// 0 means "not set": follow OpenMP's default, which OMP_NUM_THREADS can change.
static int requested_threads;

void cg_set_num_threads(int n) {
    requested_threads = n > 0 ? n : 0;
}

int cg_num_threads(void) {
    return requested_threads > 0 ? requested_threads : omp_get_max_threads();
}
