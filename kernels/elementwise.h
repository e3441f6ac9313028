// kernels/elementwise.h - memory-bound loops of the training step, as plain functions over
// contiguous float arrays, so ops can call them with a one-line edit.
//
// Each is compiled for AVX-512, AVX2 and baseline x86-64 and the CPU picks one at load time
// (GCC target_clones), and is written without branches on the data: the ReLU mask of a
// trained network is close to random, and a branch per element mispredicts half the time.
#ifndef CG_ELEMENTWISE_H
#define CG_ELEMENTWISE_H

#include <stdint.h>

// dx[i] = x[i] <= 0 ? 0 : g[i], PyTorch's threshold_backward: NaN or inf in g stays out of
// the masked-off entries, and an x that is NaN passes g (ReLU passes a NaN forward too).
// dx may alias g. Threaded above a size where that pays.
void cg_relu_grad(const float *x, const float *g, float *dx, int64_t n);

// y[i] = x[i] < 0 ? 0 : x[i], PyTorch's relu (a NaN passes, -0 stays -0); y may alias x.
// Threaded above CG_PARALLEL_MIN outside a parallel region.
void cg_relu_floats(const float *x, float *y, int64_t n);

// out[i] = a[i] + b[i]; out may alias a or b. Threaded above CG_PARALLEL_MIN.
void cg_add_floats(const float *a, const float *b, float *out, int64_t n);

// out[i] = relu(a[i] + b[i]) with relu as cg_relu_floats (the sum rounded first, so the
// same values as the two loops); out may alias a or b. Threaded above CG_PARALLEL_MIN.
void cg_add_relu_floats(const float *a, const float *b, float *out, int64_t n);

// Sum of x[0:n] in a fixed order (whatever the thread count): float partial sums over 32
// interleaved lanes, added in double. Relative error about n/32 * 2^-24 in the worst case,
// against n * 2^-24 for one running float sum.
double cg_sum_floats(const float *x, int64_t n);

#endif
