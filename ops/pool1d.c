// ops/pool1d.c - 1-D pooling through the 2-D pools: (N, C, L) is viewed as (N, C, 1, L),
// pooled with a 1 x k window, and viewed back. The views are differentiable, so backward is
// the 2-D pool's; the 2-D indices of a (1, L) plane are the positions in L.
#include "../tensor/tensor.h"
#include "pool1d.h"
#include "pool_internal.h"
#include "view.h"

// The 2-D options of a 1-D pool: window 1 x k, stride 1 x s, padding 0 x p, dilation
// 1 x d; ceil_mode, exclude_pad and divisor_override as given.
static cg_pool_options as_2d(const cg_pool_options *o) {
    cg_pool_options p = *o;
    int k = o->kernel_size, s = o->stride ? o->stride : k, d = o->dilation ? o->dilation : 1;
    p.kernel_size = p.stride = p.padding = p.dilation = 0;
    p.kernel_size_hw[0] = p.stride_hw[0] = p.dilation_hw[0] = 1;
    p.kernel_size_hw[1] = k;
    p.stride_hw[1] = s;
    p.dilation_hw[1] = d;
    p.padding_hw[0] = 0;
    p.padding_hw[1] = o->padding;
    return p;
}

static bool check_input(const char *op, const cg_tensor *x) {
    if (!cg_check_arg(x, op, "input")) return false;
    if (x->ndim == 2 || x->ndim == 3) return true;
    cg_error(CG_ERR_SHAPE, "%s: expected a 2-D (C, L) or 3-D (N, C, L) input, got %s", op,
             cg_tensor_shape_str(x));
    return false;
}

// The 2-D options of a 1-D pool's options, checked under the 1-D op's name; false if bad.
// With x (a pool's input, not max_unpool1d's), also the output length in 1-D terms, so a
// too-short input is not reported as the 2-D pool's (N, C, 1, L).
static bool options_2d(const char *op, const cg_tensor *x, const cg_pool_options *options,
                       cg_pool_options *o) {
    if (!options || options->kernel_size <= 0) {
        cg_error(CG_ERR_ARG, "%s: kernel_size %d must be > 0", op,
                 options ? options->kernel_size : 0);
        return false;
    }
    const cg_pool_options *p = options;
    if (p->kernel_size_hw[0] || p->kernel_size_hw[1] || p->stride_hw[0] || p->stride_hw[1] ||
        p->padding_hw[0] || p->padding_hw[1] || p->dilation_hw[0] || p->dilation_hw[1]) {
        cg_error(CG_ERR_ARG,
                 "%s: the _hw pairs are for 2-D pools; a 1-D pool takes kernel_size, stride, "
                 "padding and dilation",
                 op);
        return false;
    }
    cg_pool_options resolved;
    *o = as_2d(options);
    if (cg_pool_options_resolve(op, o, &resolved) < 0) return false;
    if (!x) return true;
    // The output length (PyTorch's pooling_output_shape).
    int64_t L = x->shape[x->ndim - 1], k = resolved.kernel_size_hw[1], s = resolved.stride_hw[1],
            pad = resolved.padding_hw[1], d = resolved.dilation_hw[1];
    int64_t num = L + 2 * pad - d * (k - 1) - 1 + (p->ceil_mode ? s - 1 : 0);
    int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
    if (p->ceil_mode && (out - 1) * s >= L + pad) out--;
    if (out >= 1) return true;
    cg_error(CG_ERR_SHAPE,
             "%s: input %s of length %lld is too short for kernel_size %lld (dilation %lld, "
             "padding %lld): the output length would be %lld",
             op, cg_tensor_shape_str(x), (long long)L, (long long)k, (long long)d, (long long)pad,
             (long long)out);
    return false;
}

// y (and *indices, if asked) of a 2-D pool's result on (..., 1, L), viewed back as (..., L).
static cg_tensor *squeezed(cg_tensor *y, cg_tensor **indices) {
    if (indices && *indices) *indices = cg_squeeze(*indices, -2);
    return y ? cg_squeeze(y, -2) : NULL;
}

static cg_tensor *max_pool1d(cg_tensor *x, const cg_pool_options *options, cg_tensor **indices) {
    cg_pool_options o;
    if (!check_input("max_pool1d", x) || !options_2d("max_pool1d", x, options, &o)) return NULL;
    cg_tensor *x2 = cg_unsqueeze(x, -2);
    if (!indices) return squeezed(cg_max_pool2d(x2, &o), NULL);
    return squeezed(cg_max_pool2d_with_indices(x2, &o, indices), indices);
}
cg_tensor *cg_max_pool1d(cg_tensor *x, const cg_pool_options *options) {
    return max_pool1d(x, options, NULL);
}
cg_tensor *cg_max_pool1d_with_indices(cg_tensor *x, const cg_pool_options *options,
                                      cg_tensor **indices) {
    if (!indices) return cg_error(CG_ERR_ARG, "max_pool1d: argument 'indices' is NULL");
    *indices = NULL;
    return max_pool1d(x, options, indices);
}

cg_tensor *cg_relu_max_pool1d(cg_tensor *x, const cg_pool_options *options) {
    cg_pool_options o;
    if (!check_input("relu_max_pool1d", x) || !options_2d("relu_max_pool1d", x, options, &o))
        return NULL;
    return squeezed(cg_relu_max_pool2d(cg_unsqueeze(x, -2), &o), NULL);
}

cg_tensor *cg_avg_pool1d(cg_tensor *x, const cg_pool_options *options) {
    cg_pool_options o;
    if (!check_input("avg_pool1d", x) || !options_2d("avg_pool1d", x, options, &o)) return NULL;
    return squeezed(cg_avg_pool2d(cg_unsqueeze(x, -2), &o), NULL);
}

// PyTorch returns an empty tensor for output_size 0; cgrad refuses it and says so.
static bool check_output_size(const char *op, int output_size) {
    if (output_size > 0) return true;
    cg_error(CG_ERR_ARG,
             "%s: output_size %d must be > 0 (cgrad does not support an empty output, which "
             "PyTorch gives for 0)",
             op, output_size);
    return false;
}

cg_tensor *cg_adaptive_avg_pool1d(cg_tensor *x, int output_size) {
    const char *op = "adaptive_avg_pool1d";
    if (!check_input(op, x) || !check_output_size(op, output_size)) return NULL;
    return squeezed(cg_adaptive_avg_pool2d(cg_unsqueeze(x, -2), 1, output_size), NULL);
}

cg_tensor *cg_adaptive_max_pool1d_with_indices(cg_tensor *x, int output_size, cg_tensor **indices) {
    const char *op = "adaptive_max_pool1d";
    if (indices) *indices = NULL;
    if (!check_input(op, x) || !check_output_size(op, output_size)) return NULL;
    return squeezed(
        cg_adaptive_max_pool2d_with_indices(cg_unsqueeze(x, -2), 1, output_size, indices), indices);
}
cg_tensor *cg_adaptive_max_pool1d(cg_tensor *x, int output_size) {
    return cg_adaptive_max_pool1d_with_indices(x, output_size, NULL);
}

cg_tensor *cg_max_unpool1d(cg_tensor *x, cg_tensor *indices, const cg_pool_options *options,
                           int output_size) {
    const char *op = "max_unpool1d";
    cg_pool_options o;
    if (!check_input(op, x) || !cg_check_arg(indices, op, "indices") ||
        !options_2d(op, NULL, options, &o))
        return NULL;
    if (options->dilation > 1)
        return cg_error(CG_ERR_ARG, "%s: takes no dilation (got %d)", op, options->dilation);
    if (output_size < 0)
        return cg_error(CG_ERR_ARG, "%s: output_size %d must not be negative", op, output_size);
    cg_tensor *y = cg_max_unpool(op, cg_unsqueeze(x, -2), cg_unsqueeze(indices, -2), &o,
                                 output_size ? 1 : 0, output_size);
    return squeezed(y, NULL);
}
