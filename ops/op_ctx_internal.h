// ops/op_ctx_internal.h - the node contexts (cg_node.ctx) of the ops whose files would
// otherwise keep them private: read by their own backward and by graph export
// (io/onnx_ops.c), which maps each recorded op to ONNX nodes from the same context. The
// other ops' contexts live in their family's header: cg_conv_geometry
// (kernels/conv_geometry.h), pool_geometry (pool_internal.h), cg_norm_plan
// (norm_internal.h), interp_plan (interpolate_internal.h). Not installed.
#ifndef CG_OP_CTX_INTERNAL_H
#define CG_OP_CTX_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "../tensor/tensor.h"
#include "conv.h"

// ops/unary.c: the op's scalars: the exponent (pow), the bounds (clamp), the slope
// (leaky_relu), alpha (elu), beta and threshold (softplus), the scalar operand (add_scalar
// holds -s for sub_scalar). NULL ctx: the op has none.
typedef struct unary_params {
    float a, b;
} unary_params;

// ops/softmax.c: x seen as (outer, len, inner) around the softmax dim.
typedef struct softmax_plan {
    int64_t outer, len, inner;
    bool log_output; // log_softmax
    float sign;      // -1: softmin, the softmax of -x
} softmax_plan;

// ops/pad.c: the padding of every dim.
typedef struct pad_plan {
    int ndim;
    int64_t in_shape[CG_MAX_DIMS], out_shape[CG_MAX_DIMS];
    int64_t before[CG_MAX_DIMS], after[CG_MAX_DIMS]; // padding of each dim (0: not padded)
    cg_padding_mode mode;
    float value;
} pad_plan;

// ops/reduce.c: the reduced dims of sum, mean, var, max and min.
typedef struct reduction {
    int ndim;       // input rank
    int correction; // var only: Bessel's correction
    bool reduced[CG_MAX_DIMS];
    int64_t keep_shape[CG_MAX_DIMS]; // output shape with reduced dims kept as 1
    int out_ndim;
    int64_t out_shape[CG_MAX_DIMS]; // output shape as returned (keepdim or not)
    int64_t count;                  // input elements per output element
} reduction;

// ops/view.c: narrow's rows [start, start + length) of the input seen as (outer, size,
// inner) around the narrowed dim.
typedef struct narrow_plan {
    int64_t outer, size, inner, start, length;
} narrow_plan;

// ops/view.c: permute's order (output dim i is input dim perm[i]); cat's context is its
// dim (an int).
typedef struct permutation {
    int perm[CG_MAX_DIMS];
} permutation;

#endif
