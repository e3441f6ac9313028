// kernels/pool.h - the pooling loop of the training step that is worth a SIMD kernel.
#ifndef CG_POOL_KERNELS_H
#define CG_POOL_KERNELS_H

#include <stdbool.h>
#include <stdint.h>

// The window shape of a max pooling: kernel, stride and dilation as (rows, columns).
typedef struct cg_pool_taps {
    int64_t kernel[2], stride[2], dilation[2];
} cg_pool_taps;

// Max pooling of one plane whose windows all lie inside it (no padding, no ceil_mode
// overhang), any kernel, stride and dilation: y (OH, OW) = each window's maximum, argmax
// (OH, OW) = its flat index in the plane, by PyTorch's rule: the taps are visited row-major
// and a tap replaces the maximum if it is greater or NaN (ties: the first tap; NaN: the
// last NaN). AVX-512 takes 16 outputs at a time (gathers when the stride is not 1), for
// H * W below 2^24 (indices exact in float); elsewhere a portable loop gives the same answer.
void cg_max_pool_inside_plane(const float *x, int64_t H, int64_t W, int64_t OH, int64_t OW,
                              const cg_pool_taps *t, float *y, float *argmax);

// MaxPool2d(2) on one plane whose windows all lie inside it: y (OH, OW) = the maximum of each
// 2x2 window of x (H, W) at (2*oh, 2*ow), argmax (OH, OW) = the flat index in the plane of
// the first of its four inputs (row-major) holding that maximum, as PyTorch picks it.
// Returns false if the plane holds a NaN anywhere it read: y and argmax are then unfinished
// and the caller runs its general loop, which gives PyTorch's NaN rule (the last NaN wins).
bool cg_max_pool_2x2_plane(const float *x, int64_t H, int64_t W, int64_t OH, int64_t OW, float *y,
                           float *argmax);

// The backward of that MaxPool2d(2) on one plane: dx (H, W) = dy (OH, OW) at each window's
// argmax, 0 everywhere else (the window's other inputs, rows and columns no window covers).
// One plane at a time, so the zeros and the gradients are written while the plane is in L1
// (a zero fill of the whole tensor and then a scatter passed over it twice).
void cg_max_pool_2x2_backward_plane(const float *dy, const float *argmax, int64_t H, int64_t W,
                                    int64_t OH, int64_t OW, float *dx);

#endif
