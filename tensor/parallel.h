// tensor/parallel.h - the library's one thread-count setting.
//
// Every OpenMP region in cgrad uses cg_num_threads() threads; examples expose it as --threads.
#ifndef CG_PARALLEL_H
#define CG_PARALLEL_H

// n <= 0 restores the default (OpenMP's default, normally the number of cores).
void cg_set_num_threads(int n);
int cg_num_threads(void);

#endif
