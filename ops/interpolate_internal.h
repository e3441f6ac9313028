// ops/interpolate_internal.h - what the interpolate files share: the resolved plan
// (ops/interpolate_resolve.c), the per-dim weight tables (ops/interpolate_weights.c) and the
// passes that apply them (ops/interpolate.c). Not installed.
#ifndef CG_INTERPOLATE_INTERNAL_H
#define CG_INTERPOLATE_INTERNAL_H

#include "interpolate.h"

#define CG_INTERP_MAX_DIMS 3

// One resize of (planes, in[0], ..., in[dims - 1]) -> (planes, out[0], ...).
typedef struct interp_plan {
    int dims; // spatial dims: 1, 2 or 3
    int64_t planes;
    int64_t in[CG_INTERP_MAX_DIMS], out[CG_INTERP_MAX_DIMS];
    double scale[CG_INTERP_MAX_DIMS]; // the scale_factor handed to the kernels, 0: none
    cg_interpolate_mode mode;
    bool align_corners, antialias;
} interp_plan;

// Options and input shape -> plan, every check done; false with an error naming
// "interpolate" (or `op`, for a module) otherwise.
bool cg_interp_resolve(const char *op, const cg_tensor *x, const cg_interpolate_options *o,
                       interp_plan *p);

// The weights of one dim: output index o reads input index[o * taps + k] with weight
// weight[o * taps + k], k < taps (unused taps have weight 0).
typedef struct interp_axis {
    int64_t in, out;
    int taps;
    int64_t *index;
    float *weight;
} interp_axis;

// The table of spatial dim `dim` of p (allocated with cg_alloc); false when out of memory.
bool cg_interp_axis_build(const interp_plan *p, int dim, interp_axis *t);
void cg_interp_axis_free(interp_axis *t);

// The forward resampling x (planes, in...) -> y (planes, out...) of a plan built by hand
// (every field set, as cg_interp_resolve would), all on the calling thread: for callers
// outside the compute team, such as io's Resize on the loader's worker threads. false when
// out of memory.
bool cg_interp_resample_serial(const interp_plan *p, const float *from, float *to);

#endif
