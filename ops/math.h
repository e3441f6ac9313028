// tensor/math.h - differentiable tensor math: elementwise (with broadcasting), reductions,
// softmax and matmul. Each op's backward is registered in autograd/ops.def.
//
// Broadcasting follows PyTorch: shapes are aligned at the trailing dim; each pair of sizes
// must be equal or one of them 1. The gradient of a broadcast input is summed back to its
// shape.
#ifndef CG_MATH_H
#define CG_MATH_H

#include "../tensor/tensor.h"
#include "activations.h" // sigmoid, tanh, silu, elu, ...: the pointwise activations

// ---- binary elementwise (broadcasting) -----------------------------------------
cg_tensor *cg_add(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_sub(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_mul(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_div(cg_tensor *a, cg_tensor *b);
// scalar forms: a + s, a - s, s - a, a * s, a / s, s / a
cg_tensor *cg_add_scalar(cg_tensor *a, float s);
cg_tensor *cg_sub_scalar(cg_tensor *a, float s);
cg_tensor *cg_rsub_scalar(float s, cg_tensor *a);
cg_tensor *cg_mul_scalar(cg_tensor *a, float s);
cg_tensor *cg_div_scalar(cg_tensor *a, float s);
cg_tensor *cg_rdiv_scalar(float s, cg_tensor *a);

// ---- unary elementwise -----------------------------------------------------------
cg_tensor *cg_neg(cg_tensor *x);
cg_tensor *cg_exp(cg_tensor *x);
cg_tensor *cg_log(cg_tensor *x);
cg_tensor *cg_sqrt(cg_tensor *x);
cg_tensor *cg_abs(cg_tensor *x); // gradient sign(x), 0 at 0 (as PyTorch)
cg_tensor *cg_pow(cg_tensor *x, float exponent);
// min/max: pass -INFINITY / INFINITY for a missing bound. Gradient 1 inside [min, max].
cg_tensor *cg_clamp(cg_tensor *x, float min, float max);
// relu and gelu are written by hand (ops/unary.c); the other activations are declared
// from ops/activations.def by ops/activations.h.
cg_tensor *cg_relu(cg_tensor *x);
// relu(a + b) (broadcasting as cg_add) as one op: the same values and gradients as
// cg_relu(cg_add(a, b)) with one pass and one tensor fewer (the ReLU's mask is read from the
// output). For the residual add of a ResNet block written as a module class:
//   return cg_add_relu(out, shortcut);   // out = bn2(conv2(...)), shortcut = x or downsample
cg_tensor *cg_add_relu(cg_tensor *a, cg_tensor *b);
// GELU as torch.nn.functional.gelu: exact x * Phi(x) (CG_GELU_NONE, PyTorch's default) or
// the tanh approximation (CG_GELU_TANH, approximate='tanh').
typedef enum { CG_GELU_NONE = 0, CG_GELU_TANH } cg_gelu_approximate;
cg_tensor *cg_gelu(cg_tensor *x, cg_gelu_approximate approximate);

// ---- comparisons and masks (not differentiable; 1.0 where true, 0.0 where false) -----
cg_tensor *cg_eq(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_ne(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_lt(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_le(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_gt(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_ge(cg_tensor *a, cg_tensor *b);
cg_tensor *cg_gt_scalar(cg_tensor *a, float s);
cg_tensor *cg_lt_scalar(cg_tensor *a, float s);
cg_tensor *cg_eq_scalar(cg_tensor *a, float s);
// where(cond, a, b): a where cond != 0, else b; broadcasts all three; differentiable in a, b.
cg_tensor *cg_where(cg_tensor *cond, cg_tensor *a, cg_tensor *b);

// ---- reductions --------------------------------------------------------------------
// `ndims, dims` name the reduced dims (negative counts from the end); CG_ALL_DIMS reduces
// everything. keepdim keeps reduced dims with size 1, as PyTorch.
//   cg_sum(x, CG_DIMS(0, 2), false), cg_mean(x, CG_ALL_DIMS, false)
cg_tensor *cg_sum(cg_tensor *x, int ndims, const int *dims, bool keepdim);
cg_tensor *cg_mean(cg_tensor *x, int ndims, const int *dims, bool keepdim);
// var with Bessel's correction `correction` (PyTorch's default unbiased=True is 1).
cg_tensor *cg_var(cg_tensor *x, int ndims, const int *dims, int correction, bool keepdim);
// max/min along one dim: values (differentiable; the gradient goes to the first maximum)
// and indices (whole numbers as float). cg_max_all / cg_min_all reduce everything.
cg_tensor *cg_max(cg_tensor *x, int dim, bool keepdim);
cg_tensor *cg_argmax(cg_tensor *x, int dim, bool keepdim);
cg_tensor *cg_min(cg_tensor *x, int dim, bool keepdim);
cg_tensor *cg_argmin(cg_tensor *x, int dim, bool keepdim);
cg_tensor *cg_max_all(cg_tensor *x);
cg_tensor *cg_min_all(cg_tensor *x);
// Numerically stable (the maximum is subtracted first).
cg_tensor *cg_softmax(cg_tensor *x, int dim);
cg_tensor *cg_log_softmax(cg_tensor *x, int dim);
// softmax(-x) along dim, as F.softmin.
cg_tensor *cg_softmin(cg_tensor *x, int dim);

// ---- matrix product ------------------------------------------------------------------
// As torch.matmul: 1-D x 1-D dot product; 2-D x 2-D; 1-D operands are promoted and the
// added dim removed; N-D operands are batched with broadcasting of the batch dims.
// All go through cg_gemm (tensor/gemm.h).
cg_tensor *cg_matmul(cg_tensor *a, cg_tensor *b);

#endif
