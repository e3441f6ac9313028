// io/transform_internal.h - helpers shared by the io/transform_*.c files.
#ifndef CG_TRANSFORM_INTERNAL_H
#define CG_TRANSFORM_INTERNAL_H

#include "transforms.h"

// Makes *s floats (ToTensor if it holds bytes); -1 after cg_error naming `op`.
int tf_floats(cg_sample *s, const char *op);
// A new c*h*w float buffer for `op`, or NULL after cg_error (checked sizes).
float *tf_alloc(const char *op, int c, int h, int w);
// Replaces s->data by `data` (c, h, w), freeing the old one.
void tf_replace(cg_sample *s, float *data, int c, int h, int w);

// An unbiased draw from [0, bound) (bound >= 1), rejecting the biased tail of cg_rng_next.
uint32_t tf_below(cg_rng *rng, uint32_t bound);
// rgb_to_grayscale's luma of the 3 planes at rgb (each `plane` floats) into out.
void tf_gray(const float *rgb, size_t plane, float *out);

// The random steps of io/transform_affine.c and io/transform_color.c, for cg_transform_apply.
int tf_random_rotation(const cg_transform *t, cg_sample *s, cg_rng *rng);
int tf_random_affine(const cg_transform *t, cg_sample *s, cg_rng *rng);
int tf_color_jitter(const cg_transform *t, cg_sample *s, cg_rng *rng);

#endif
