// ops/pool1d.c - 1-D pooling through the 2-D pools: (N, C, L) is viewed as (N, C, 1, L),
// pooled with a 1 x k window, and viewed back. The views are differentiable, so backward is
// the 2-D pool's.
#include "../tensor/tensor.h"
#include "pool1d.h"
#include "view.h"

typedef cg_tensor *(*pool2d_fn)(cg_tensor *x, const cg_pool_options *options);

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

static cg_tensor *pool1d(const char *op, pool2d_fn pool, cg_tensor *x,
                         const cg_pool_options *options) {
    if (!check_input(op, x)) return NULL;
    if (!options || options->kernel_size <= 0)
        return cg_error(CG_ERR_ARG, "%s: kernel_size %d must be > 0", op,
                        options ? options->kernel_size : 0);
    const cg_pool_options *p = options;
    if (p->kernel_size_hw[0] || p->kernel_size_hw[1] || p->stride_hw[0] || p->stride_hw[1] ||
        p->padding_hw[0] || p->padding_hw[1] || p->dilation_hw[0] || p->dilation_hw[1])
        return cg_error(CG_ERR_ARG,
                        "%s: the _hw pairs are for 2-D pools; a 1-D pool takes kernel_size, "
                        "stride, padding and dilation",
                        op);
    cg_pool_options o = as_2d(options), resolved;
    if (cg_pool_options_resolve(op, &o, &resolved) < 0) return NULL;
    // The output length (PyTorch's pooling_output_shape), checked here so that a too-short
    // input is reported in 1-D terms, not as the 2-D pool's (N, C, 1, L).
    int64_t L = x->shape[x->ndim - 1], k = resolved.kernel_size_hw[1], s = resolved.stride_hw[1],
            pad = resolved.padding_hw[1], d = resolved.dilation_hw[1];
    int64_t num = L + 2 * pad - d * (k - 1) - 1 + (p->ceil_mode ? s - 1 : 0);
    int64_t out = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
    if (p->ceil_mode && (out - 1) * s >= L + pad) out--;
    if (out < 1)
        return cg_error(CG_ERR_SHAPE,
                        "%s: input %s of length %lld is too short for kernel_size %lld "
                        "(dilation %lld, padding %lld): the output length would be %lld",
                        op, cg_tensor_shape_str(x), (long long)L, (long long)k, (long long)d,
                        (long long)pad, (long long)out);
    cg_tensor *y = pool(cg_unsqueeze(x, -2), &o);
    return y ? cg_squeeze(y, -2) : NULL;
}

cg_tensor *cg_max_pool1d(cg_tensor *x, const cg_pool_options *options) {
    return pool1d("max_pool1d", cg_max_pool2d, x, options);
}
cg_tensor *cg_avg_pool1d(cg_tensor *x, const cg_pool_options *options) {
    return pool1d("avg_pool1d", cg_avg_pool2d, x, options);
}

cg_tensor *cg_adaptive_avg_pool1d(cg_tensor *x, int output_size) {
    if (!check_input("adaptive_avg_pool1d", x)) return NULL;
    if (output_size <= 0) // PyTorch returns an empty tensor for 0; cgrad refuses it
        return cg_error(CG_ERR_ARG,
                        "adaptive_avg_pool1d: output_size %d must be > 0 (cgrad does not "
                        "support an empty output, which PyTorch gives for 0)",
                        output_size);
    cg_tensor *y = cg_adaptive_avg_pool2d(cg_unsqueeze(x, -2), 1, output_size);
    return y ? cg_squeeze(y, -2) : NULL;
}
