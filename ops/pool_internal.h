// ops/pool_internal.h - what the pooling files share (ops/pool.c: geometry, options and
// recording; ops/max_pool.c; ops/avg_pool.c). Not installed.
#ifndef CG_POOL_INTERNAL_H
#define CG_POOL_INTERNAL_H

#include "../tensor/parallel.h"
#include "../autograd/op.h"
#include "functional.h"

// One pooling of (planes, H, W) -> (planes, OH, OW). Fixed windows start at
// o * stride - padding and take kernel taps dilation apart; adaptive windows split the
// input into OH x OW nearly equal ranges (kernel, stride, padding unused, dilation 1).
typedef struct pool_geometry {
    int64_t planes, H, W, OH, OW;
    int kernel[2], stride[2], padding[2], dilation[2];
    bool adaptive;
    bool exclude_pad;     // average: the divisor counts only input elements
    int divisor_override; // average: 0 = none
} pool_geometry;

// The taps of output (oh, ow): rows h0, h0 + step_h, ... < h1, columns likewise, all inside
// the input; `divisor` is the average's divisor.
typedef struct pool_window {
    int64_t h0, h1, w0, w1, step_h, step_w, divisor;
} pool_window;
pool_window cg_pool_window(const pool_geometry *g, int64_t oh, int64_t ow);

// A pooling pass over the planes of g: fn(ctx, first plane, end plane) on the thread team
// when the planes hold more than CG_PARALLEL_MIN elements in all.
void cg_pool_for_planes(const pool_geometry *g, cg_range_fn fn, void *ctx);

// The fixed-window geometry of x for `options` (validated, output size computed), or
// false with an error naming op. `dilation_ok`: max pooling takes dilation, average not.
bool cg_pool_plan(const char *op, const cg_tensor *x, const cg_pool_options *options,
                  bool dilation_ok, pool_geometry *g);
// The adaptive geometry of x for output (out_h, out_w), CG_NONE keeping the input's size.
bool cg_pool_plan_adaptive(const char *op, const cg_tensor *x, int out_h, int out_w,
                           pool_geometry *g);
// x's shape with the last two dims replaced by (OH, OW); returns ndim.
int cg_pool_output_shape(const cg_tensor *x, const pool_geometry *g, int64_t *shape);
// Record op on y with input x and the geometry as context.
cg_node *cg_pool_record(const cg_op *op, cg_tensor *y, cg_tensor *x, const pool_geometry *g);

// max_unpool2d's context: its planes, and its window (for ONNX export's MaxUnpool).
typedef struct unpool_plan {
    int64_t planes, in_plane, out_plane; // in_plane = H*W of x, out_plane = OH*OW
    int kernel[2], stride[2], padding[2];
} unpool_plan;

// max_unpool2d with errors naming op (max_unpool1d runs through it on (N, C, 1, L)).
cg_tensor *cg_max_unpool(const char *op, cg_tensor *x, cg_tensor *indices,
                         const cg_pool_options *options, int out_h, int out_w);

#endif
