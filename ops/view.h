// ops/view.h - views and layout: reshape, flatten, squeeze, narrow, permute, cat, copy.
// Every function here is differentiable (ops/view.c) except cg_detach and the writes.
#ifndef CG_VIEW_H
#define CG_VIEW_H

#include "../tensor/tensor.h"

// ---- views and layout ----------------------------------------------------------
// Views share storage with their input, as in PyTorch; they are differentiable.
cg_tensor *cg_reshape(cg_tensor *t, int ndim, const int64_t *shape); // one dim may be -1
cg_tensor *cg_view(cg_tensor *t, int ndim, const int64_t *shape);    // same as reshape
cg_tensor *cg_flatten(cg_tensor *t, int start_dim, int end_dim);     // negative dims count back
cg_tensor *cg_squeeze(cg_tensor *t, int dim);                        // drops dim if size 1
cg_tensor *cg_squeeze_all(cg_tensor *t);                             // drops every size-1 dim
cg_tensor *cg_unsqueeze(cg_tensor *t, int dim);
// Rows [start, start+length) along `dim`. A view when dim 0 (or every dim before `dim` has
// size 1), otherwise a copy. cg_slice(t, a, b) is rows [a, b) of dim 0: mini-batches.
cg_tensor *cg_narrow(cg_tensor *t, int dim, int64_t start, int64_t length);
cg_tensor *cg_slice(cg_tensor *t, int64_t start, int64_t end);
cg_tensor *cg_detach(cg_tensor *t); // shares storage, no graph, requires_grad false
// permute/transpose always copy (cgrad tensors are contiguous); differentiable.
cg_tensor *cg_permute(cg_tensor *t, const int *dims);
cg_tensor *cg_transpose(cg_tensor *t, int dim0, int dim1);
// Concatenate along dim (copy, differentiable).
cg_tensor *cg_cat(int n, cg_tensor *const *tensors, int dim);
// A differentiable copy with its own storage (torch.clone).
cg_tensor *cg_copy(cg_tensor *t);

// ---- writing values (ops/copy.c; not recorded, like PyTorch's in-place ops) ----------
// They refuse the result of an op, and a leaf that requires grad while grad mode is on
// (write parameters inside cg_set_grad_enabled(false), as inside torch.no_grad()).
// dst.copy_(src): same shape; returns dst, or NULL with an error.
cg_tensor *cg_copy_(cg_tensor *dst, const cg_tensor *src);
// n floats (n == numel, row-major) into t; returns t, or NULL with an error.
cg_tensor *cg_copy_from_(cg_tensor *t, const float *data, int64_t n);
// t.grad = grad (a copy, owned by t; same shape), or t.grad = None for grad NULL. 0 or -1.
int cg_set_grad(cg_tensor *t, const cg_tensor *grad);

#endif
