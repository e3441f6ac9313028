// kernels/pool.h - the pooling loop of the training step that is worth a SIMD kernel.
#ifndef CG_POOL_KERNELS_H
#define CG_POOL_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

// MaxPool2d(2) on one plane whose windows all lie inside it: y (OH, OW) = the maximum of each
// 2x2 window of x (H, W) at (2*oh, 2*ow), argmax (OH, OW) = the flat index in the plane of
// the first of its four inputs (row-major) holding that maximum, as PyTorch picks it.
// Returns false if the plane holds a NaN anywhere it read: y and argmax are then unfinished
// and the caller runs its general loop, which gives PyTorch's NaN rule (the last NaN wins).
bool cg_max_pool_2x2_plane(const float *x, int64_t H, int64_t W, int64_t OH, int64_t OW, float *y,
                           float *argmax);

// The backward of that MaxPool2d(2) on one plane in one pass: every dx (H, W) written once,
// dy (OH, OW) at each window's argmax and 0 at the window's other three inputs and at the
// rows and columns no window covers. (A zero fill and then a scatter of dy would write dx
// twice.)
void cg_max_pool_2x2_backward_plane(const float *dy, const float *argmax, int64_t H, int64_t W,
                                    int64_t OH, int64_t OW, float *dx);

#endif
