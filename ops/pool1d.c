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
    cg_pool_options o = as_2d(options), resolved;
    if (cg_pool_options_resolve(op, &o, &resolved) < 0) return NULL;
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
    if (output_size <= 0)
        return cg_error(CG_ERR_ARG, "adaptive_avg_pool1d: output_size %d must be > 0", output_size);
    cg_tensor *y = cg_adaptive_avg_pool2d(cg_unsqueeze(x, -2), 1, output_size);
    return y ? cg_squeeze(y, -2) : NULL;
}
