// tensor/parallel.h - the library's one thread-count setting.
//
// Every OpenMP region in cgrad uses cg_num_threads() threads; examples expose it as --threads.
#ifndef CG_PARALLEL_H
#define CG_PARALLEL_H

// The one rule for "is a loop big enough to thread": above this many elements (or multiply-adds
// of convolution glue). A parallel region costs about 0.5 us here (libgomp's pool: its threads
// persist between regions and spin before sleeping, measured back to back with 2 threads),
// and a loop over memory handles about 16 floats per ns on one core from L2, so below
// 2^15 elements (~2 us) a second thread saves less than the region costs.
#define CG_PARALLEL_MIN ((int64_t)1 << 15)

// n <= 0 restores the default (OpenMP's default, normally the number of cores).
void cg_set_num_threads(int n);
int cg_num_threads(void);

#endif
