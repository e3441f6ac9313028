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

// The random steps of io/transform_affine.c, for cg_transform_apply.
int tf_random_rotation(const cg_transform *t, cg_sample *s, cg_rng *rng);
int tf_random_affine(const cg_transform *t, cg_sample *s, cg_rng *rng);

#endif
