// ops/interpolate.c - nearest and bilinear resizing (F.interpolate) and its backward.
//
// Both modes are one blend: output pixel (i, j) = sum over a in {0, 1}, b in {0, 1} of
// wh[a] * ww[b] * x[h[a], w[b]], with per-row and per-column source indices and weights
// from one table builder (nearest: one source, weight 1). Backward scatters g the same way.
#include <math.h>
#include <string.h>

#include "../tensor/checked.h"
#include "../autograd/op.h"
#include "../tensor/alloc.h"
#include "interpolate.h"

typedef struct interp_plan {
    int64_t planes; // N * C
    int64_t in_h, in_w, out_h, out_w;
    double scale_h, scale_w; // user scale factors, 0 when the size was given
    cg_interpolate_mode mode;
    bool align_corners;
} interp_plan;

// Source taps of one output index along a dim of `in` -> `out` elements.
typedef struct taps {
    int64_t index[2];
    float weight[2];
} taps;

// PyTorch's index maths in float (UpSample.h): nearest_idx and the linear source index.
static void build_taps(const interp_plan *p, int64_t in, int64_t out, double user_scale, taps *t) {
    for (int64_t o = 0; o < out; o++) {
        if (p->mode == CG_INTERPOLATE_NEAREST) {
            float scale = user_scale > 0 ? (float)(1.0 / user_scale) : (float)in / (float)out;
            int64_t i = out == in ? o : out == 2 * in ? o >> 1 : (int64_t)floorf((float)o * scale);
            t[o] = (taps){{i < in - 1 ? i : in - 1, 0}, {1.0f, 0.0f}};
            continue;
        }
        float scale = p->align_corners ? (out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f)
                      : user_scale > 0 ? (float)(1.0 / user_scale)
                                       : (float)in / (float)out;
        float src = p->align_corners ? scale * (float)o : scale * ((float)o + 0.5f) - 0.5f;
        if (src < 0) src = 0;
        int64_t i0 = (int64_t)src, i1 = i0 + (i0 < in - 1);
        float l1 = src - (float)i0;
        t[o] = (taps){{i0, i1}, {1.0f - l1, l1}};
    }
}

// Both tap tables (rows then columns) in one allocation; NULL when out of memory.
static taps *build_tables(const interp_plan *p) {
    taps *t = cg_alloc((size_t)(p->out_h + p->out_w) * sizeof *t);
    if (!t) return NULL;
    build_taps(p, p->in_h, p->out_h, p->scale_h, t);
    build_taps(p, p->in_w, p->out_w, p->scale_w, t + p->out_h);
    return t;
}

// forward (y from x) or backward (dx += from g): the same taps, one direction each.
static void blend(const interp_plan *p, const taps *rows, const taps *cols, const float *src,
                  float *dst, bool scatter) {
    int64_t in_plane = p->in_h * p->in_w, out_plane = p->out_h * p->out_w;
    for (int64_t b = 0; b < p->planes; b++) {
        const float *s = src + b * (scatter ? out_plane : in_plane);
        float *d = dst + b * (scatter ? in_plane : out_plane);
        for (int64_t i = 0; i < p->out_h; i++)
            for (int64_t j = 0; j < p->out_w; j++) {
                const taps *r = &rows[i], *c = &cols[j];
                if (!scatter) {
                    const float *r0 = s + r->index[0] * p->in_w, *r1 = s + r->index[1] * p->in_w;
                    d[i * p->out_w + j] =
                        r->weight[0] *
                            (c->weight[0] * r0[c->index[0]] + c->weight[1] * r0[c->index[1]]) +
                        r->weight[1] *
                            (c->weight[0] * r1[c->index[0]] + c->weight[1] * r1[c->index[1]]);
                    continue;
                }
                float g = s[i * p->out_w + j];
                for (int a = 0; a < 2; a++)
                    for (int k = 0; k < 2; k++)
                        d[r->index[a] * p->in_w + c->index[k]] += r->weight[a] * c->weight[k] * g;
            }
    }
}

static void interpolate_backward(cg_node *n, const cg_tensor *grad) {
    const interp_plan *p = n->ctx;
    cg_tensor *dx = cg_zeros_like(n->inputs[0]);
    taps *t = dx ? build_tables(p) : NULL;
    if (!t) return;
    blend(p, t, t + p->out_h, grad->data, dx->data, true);
    cg_dealloc(t);
    cg_accumulate_grad(n->inputs[0], dx);
}
const cg_op cg_op_interpolate = {"interpolate", interpolate_backward, "sizes, mode"};

// Output size along one dim from the size or the scale factor (exactly one is given).
static int64_t out_size(int64_t in, int size, double scale) {
    return size > 0 ? size : (int64_t)floor((double)in * scale);
}

cg_tensor *cg_interpolate(cg_tensor *x, const cg_interpolate_options *options) {
    if (!cg_check_arg(x, "interpolate", "input")) return NULL;
    cg_interpolate_options o = options ? *options : (cg_interpolate_options){0};
    bool one_d = x->ndim == 3;
    if (o.mode != CG_INTERPOLATE_NEAREST && o.mode != CG_INTERPOLATE_BILINEAR)
        return cg_error(CG_ERR_ARG, "interpolate: unknown mode %d", (int)o.mode);
    if (x->ndim != 4 && !(one_d && o.mode == CG_INTERPOLATE_NEAREST))
        return cg_error(CG_ERR_SHAPE, "interpolate: %s expects a %s input, got %s",
                        o.mode == CG_INTERPOLATE_NEAREST ? "nearest" : "bilinear",
                        o.mode == CG_INTERPOLATE_NEAREST ? "3-D (N, C, L) or 4-D (N, C, H, W)"
                                                         : "4-D (N, C, H, W)",
                        cg_tensor_shape_str(x));
    if (o.align_corners && o.mode != CG_INTERPOLATE_BILINEAR)
        return cg_error(CG_ERR_ARG, "interpolate: align_corners is only for bilinear mode");
    bool pair_size = o.size_hw[0] || o.size_hw[1],
         pair_scale = o.scale_factor_hw[0] || o.scale_factor_hw[1];
    int sh = pair_size ? o.size_hw[0] : o.size, sw = pair_size ? o.size_hw[1] : o.size;
    double fh = pair_scale ? o.scale_factor_hw[0] : o.scale_factor;
    double fw = pair_scale ? o.scale_factor_hw[1] : o.scale_factor;
    if (one_d && (pair_size || pair_scale))
        return cg_error(CG_ERR_ARG,
                        "interpolate: size_hw and scale_factor_hw are for 4-D input; 3-D input "
                        "%s takes size or scale_factor",
                        cg_tensor_shape_str(x));
    if (one_d) sh = 0, fh = 0;
    // NaN, Inf or 1e30 would reach the float-to-int conversion of out_size (undefined).
    double max_out = (double)CG_MAX_NUMEL;
    if (!isfinite(fh) || !isfinite(fw) || fh * (double)x->shape[x->ndim - 1] >= max_out ||
        fw * (double)x->shape[x->ndim - 1] >= max_out ||
        (!one_d && fh * (double)x->shape[2] >= max_out))
        return cg_error(CG_ERR_ARG,
                        "interpolate: scale_factor (%g, %g) must be finite and give an output "
                        "size below 2^58 for input %s",
                        fh, fw, cg_tensor_shape_str(x));
    bool by_size = sw != 0 || sh != 0, by_scale = fw != 0 || fh != 0;
    if (by_size == by_scale)
        return cg_error(CG_ERR_ARG, "interpolate: give either size or scale_factor (%s)",
                        by_size ? "both given" : "neither given");
    interp_plan p = {x->shape[0] * x->shape[1],
                     one_d ? 1 : x->shape[2],
                     x->shape[x->ndim - 1],
                     0,
                     0,
                     by_scale ? fh : 0,
                     by_scale ? fw : 0,
                     o.mode,
                     o.align_corners};
    p.out_h = one_d ? 1 : out_size(p.in_h, sh, fh);
    p.out_w = out_size(p.in_w, sw, fw);
    if (p.out_h <= 0 || p.out_w <= 0 || (by_size && (sw < 0 || sh < 0)) ||
        (by_scale && (fw < 0 || fh < 0)))
        return cg_error(CG_ERR_ARG,
                        "interpolate: output size %lldx%lld of input %s must be positive "
                        "(size %d, %d; scale_factor %g, %g)",
                        (long long)p.out_h, (long long)p.out_w, cg_tensor_shape_str(x), sh, sw, fh,
                        fw);
    int64_t shape[4] = {x->shape[0], x->shape[1], p.out_h, p.out_w};
    if (one_d) shape[2] = p.out_w;
    cg_tensor *y = cg_empty_for("interpolate", "output shape", x->ndim, shape);
    taps *t = y ? build_tables(&p) : NULL;
    if (!t) {
        cg_free(y);
        return NULL;
    }
    blend(&p, t, t + p.out_h, x->data, y->data, false);
    cg_dealloc(t);
    cg_node *n = cg_record(y, &cg_op_interpolate, 1, &x);
    if (n) cg_node_set_ctx(n, &p, sizeof p);
    return y;
}
