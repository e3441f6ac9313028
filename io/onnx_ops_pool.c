// io/onnx_ops_pool.c - the emitters of pooling and resizing (io/onnx_ops.c holds the
// table): max and average pooling with their windows, adaptive pooling (global, fixed
// windows when the sizes divide, else window by window) and interpolate as Resize ('area'
// through the adaptive path). A divisor override is a window sum scaled; what ONNX cannot
// express (antialiasing before opset 18) is refused naming the op, its module and the option.
#include "../ops/interpolate_internal.h"
#include "../ops/pool_internal.h"
#include "../tensor/alloc.h"
#include "onnx_internal.h"

// ---- pooling ------------------------------------------------------------------------------------
// Whether PyTorch's ceil_mode made the output larger than the floor formula gives.
static bool ceil_mode(const pool_geometry *p, int dim) {
    int64_t size = dim ? p->W : p->H, out = dim ? p->OW : p->OH;
    int64_t span =
        size + 2 * p->padding[dim] - (int64_t)p->dilation[dim] * (p->kernel[dim] - 1) - 1;
    return out > span / p->stride[dim] + 1;
}

void cg_onnx_pool_window_attrs(cg_onnx_node *nd, const pool_geometry *p, bool dilations) {
    int64_t k[2] = {p->kernel[0], p->kernel[1]}, s[2] = {p->stride[0], p->stride[1]},
            d[2] = {p->dilation[0], p->dilation[1]},
            pads[4] = {p->padding[0], p->padding[1], p->padding[0], p->padding[1]};
    cg_onnx_attr_ints(nd, "kernel_shape", 2, k);
    cg_onnx_attr_ints(nd, "strides", 2, s);
    cg_onnx_attr_ints(nd, "pads", 4, pads);
    if (dilations) cg_onnx_attr_ints(nd, "dilations", 2, d);
    if (ceil_mode(p, 0) || ceil_mode(p, 1)) cg_onnx_attr_int(nd, "ceil_mode", 1);
}

// Adaptive windows that do not tile the input: window o of a dim of size `in` is PyTorch's
// [floor(o * in / out), ceil((o + 1) * in / out)). Average and max over a rectangle are
// separable, so each spatial dim is reduced on its own: per output index a Slice and a
// ReduceMean or ReduceMax over that axis, the results concatenated along it.
static bool adaptive_axis(cg_onnx_graph *g, const char *x, int64_t axis, int64_t in,
                          int64_t out_size, bool max, const char *out) {
    char *names = cg_alloc((size_t)out_size * CG_ONNX_NAME);
    const char **parts = cg_alloc((size_t)out_size * sizeof *parts);
    if (names && parts) {
        for (int64_t o = 0; o < out_size; o++) {
            int64_t start = o * in / out_size, end = ((o + 1) * in + out_size - 1) / out_size;
            char window[CG_ONNX_NAME];
            cg_onnx_slice(g, x, start, end, axis, cg_onnx_temp(g, "window", window));
            parts[o] =
                cg_onnx_temp(g, max ? "window_max" : "window_mean", names + o * CG_ONNX_NAME);
            cg_onnx_node nd;
            cg_onnx_node_begin(&nd, g, max ? "ReduceMax" : "ReduceMean", 1,
                               (const char *[]){window}, parts[o]);
            cg_onnx_attr_ints(&nd, "axes", 1, &axis);
            cg_onnx_attr_int(&nd, "keepdims", 1);
            cg_onnx_node_end(&nd);
        }
        cg_onnx_node cat;
        cg_onnx_node_begin(&cat, g, "Concat", (int)out_size, parts, out);
        cg_onnx_attr_int(&cat, "axis", axis);
        cg_onnx_node_end(&cat);
    }
    bool ok = names && parts;
    cg_dealloc(names);
    cg_dealloc(parts);
    return ok;
}

// An adaptive pooling as a fixed one: global when the output is 1x1, windows of
// H/OH x W/OW when they divide, else window by window (adaptive_axis).
static bool adaptive(cg_onnx_graph *g, const cg_node *n, const char *x, const char *out, bool max) {
    const pool_geometry *p = n->ctx;
    if (p->OH == 1 && p->OW == 1) {
        cg_onnx_simple(g, max ? "GlobalMaxPool" : "GlobalAveragePool", 1, &x, out);
        return true;
    }
    if (p->H % p->OH || p->W % p->OW) {
        char rows[CG_ONNX_NAME];
        const char *mid = x;
        if (p->H != p->OH) {
            mid = p->W != p->OW ? cg_onnx_temp(g, "rows", rows) : out;
            if (!adaptive_axis(g, x, 2, p->H, p->OH, max, mid)) return false;
        }
        return p->W == p->OW || adaptive_axis(g, mid, 3, p->W, p->OW, max, out);
    }
    int64_t k[2] = {p->H / p->OH, p->W / p->OW};
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, max ? "MaxPool" : "AveragePool", 1, &x, out);
    cg_onnx_attr_ints(&nd, "kernel_shape", 2, k);
    cg_onnx_attr_ints(&nd, "strides", 2, k);
    cg_onnx_node_end(&nd);
    return true;
}

// divisor_override: the sum over the window's taps in the input (padding zeros add nothing)
// over the divisor. AveragePool with count_include_pad divides that sum by the kernel area
// when every window lies inside the padded input, so a Mul by area / divisor follows; a
// ceil_mode window that runs past the padded input gets as many more end pads instead of
// ceil_mode (zeros again; fewer than a kernel, as ONNX Runtime requires).
static void sum_pool(cg_onnx_graph *g, const pool_geometry *p, const char *x, const char *out) {
    int64_t k[2] = {p->kernel[0], p->kernel[1]}, s[2] = {p->stride[0], p->stride[1]},
            pads[4] = {p->padding[0], p->padding[1], p->padding[0], p->padding[1]};
    for (int d = 0; d < 2; d++) {
        int64_t size = d ? p->W : p->H, o = d ? p->OW : p->OH;
        int64_t past = (o - 1) * s[d] + k[d] - (size + 2 * p->padding[d]);
        if (past > 0) pads[2 + d] += past;
    }
    char avg[CG_ONNX_NAME], scale[CG_ONNX_NAME];
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, "AveragePool", 1, &x, cg_onnx_temp(g, "window_mean", avg));
    cg_onnx_attr_ints(&nd, "kernel_shape", 2, k);
    cg_onnx_attr_ints(&nd, "strides", 2, s);
    cg_onnx_attr_ints(&nd, "pads", 4, pads);
    cg_onnx_attr_int(&nd, "count_include_pad", 1);
    cg_onnx_node_end(&nd);
    cg_onnx_const_scalar(g, "area_over_divisor", (float)(k[0] * k[1]) / (float)p->divisor_override,
                         scale);
    cg_onnx_simple(g, "Mul", 2, (const char *[]){avg, scale}, out);
}

static bool pool(cg_onnx_graph *g, const cg_node *n, const char *x, const char *out, bool max) {
    const pool_geometry *p = n->ctx;
    if (n->inputs[0]->ndim != 4) return cg_onnx_refuse(g, n, "the input has no batch dim");
    if (p->adaptive) return adaptive(g, n, x, out, max);
    if (!max && p->divisor_override) {
        sum_pool(g, p, x, out);
        return true;
    }
    cg_onnx_node nd;
    cg_onnx_node_begin(&nd, g, max ? "MaxPool" : "AveragePool", 1, &x, out);
    cg_onnx_pool_window_attrs(&nd, p, max);
    if (!max) cg_onnx_attr_int(&nd, "count_include_pad", !p->exclude_pad);
    cg_onnx_node_end(&nd);
    return true;
}

bool cg_onnx_emit_max_pool(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                           const char *out) {
    return pool(g, n, in[0], out, true);
}
bool cg_onnx_emit_avg_pool(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                           const char *out) {
    return pool(g, n, in[0], out, false);
}
bool cg_onnx_emit_relu_max_pool(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                                const char *out) {
    char r[CG_ONNX_NAME];
    cg_onnx_simple(g, "Relu", 1, in, cg_onnx_temp(g, "relu", r));
    return pool(g, n, r, out, true);
}

// ---- interpolate ---------------------------------------------------------------------------
// Resize with PyTorch's sampling rule for each mode. A scale_factor becomes `scales` (the
// kernels map coordinates with it, as ONNX does); a size becomes `sizes`, the input's
// (N, C) from its Shape then the traced spatial sizes, so the batch stays free.
static bool resize_modes(cg_onnx_node *nd, const cg_node *n, const interp_plan *p) {
    const char *mode = "linear", *coord = p->align_corners ? "align_corners" : "pytorch_half_pixel";
    switch (p->mode) {
    case CG_INTERPOLATE_NEAREST:
        mode = "nearest";
        coord = "asymmetric";
        cg_onnx_attr_string(nd, "nearest_mode", "floor");
        break;
    case CG_INTERPOLATE_NEAREST_EXACT:
        mode = "nearest";
        coord = "half_pixel";
        cg_onnx_attr_string(nd, "nearest_mode", "round_prefer_ceil");
        break;
    case CG_INTERPOLATE_BILINEAR:
    case CG_INTERPOLATE_LINEAR:
    case CG_INTERPOLATE_TRILINEAR:
        break;
    case CG_INTERPOLATE_BICUBIC:
        mode = "cubic";
        cg_onnx_attr_float(nd, "cubic_coeff_a", -0.75f);
        break;
    case CG_INTERPOLATE_AREA:
    case CG_INTERPOLATE_MODE_COUNT:
        return cg_onnx_refuse(nd->graph, n, "mode 'area' has no ONNX Resize mode");
    }
    cg_onnx_attr_string(nd, "mode", mode);
    cg_onnx_attr_string(nd, "coordinate_transformation_mode", coord);
    return true;
}

// 'area' is adaptive average pooling to the output size: each resized dim window by window.
static bool area(cg_onnx_graph *g, const interp_plan *p, const char *x, const char *out) {
    char names[2][CG_ONNX_NAME];
    const char *src = x;
    int last = -1;
    for (int d = 0; d < p->dims; d++)
        if (p->in[d] != p->out[d]) last = d;
    if (last < 0) {
        cg_onnx_simple(g, "Identity", 1, &x, out);
        return true;
    }
    for (int d = 0; d <= last; d++) {
        if (p->in[d] == p->out[d]) continue;
        const char *dst = d == last ? out : cg_onnx_temp(g, "area", names[d % 2]);
        if (!adaptive_axis(g, src, 2 + d, p->in[d], p->out[d], false, dst)) return false;
        src = dst;
    }
    return true;
}

bool cg_onnx_emit_interpolate(cg_onnx_graph *g, const cg_node *n, const char *const *in,
                              const char *out) {
    const interp_plan *p = n->ctx;
    if (p->antialias)
        return cg_onnx_refuse(g, n, "antialias has no ONNX Resize equivalent before opset 18");
    if (p->mode == CG_INTERPOLATE_AREA) return area(g, p, in[0], out);
    int nd_x = n->inputs[0]->ndim;
    bool by_scale = p->scale[0] != 0;
    char scales[CG_ONNX_NAME] = "", sizes[CG_ONNX_NAME] = "";
    if (by_scale) {
        float v[2 + CG_INTERP_MAX_DIMS] = {1, 1};
        for (int d = 0; d < p->dims; d++) v[2 + d] = (float)p->scale[d];
        cg_onnx_const_floats(g, "scales", 1, (const int64_t[]){nd_x}, v, scales);
    } else {
        cg_onnx_batch_shape(g, in[0], p->dims, p->out, cg_onnx_temp(g, "sizes", sizes));
    }
    cg_onnx_node nd;
    const char *inputs[4] = {in[0], "", scales, sizes};
    cg_onnx_node_begin(&nd, g, "Resize", by_scale ? 3 : 4, inputs, out);
    bool ok = resize_modes(&nd, n, p);
    cg_onnx_node_end(&nd);
    return ok;
}
