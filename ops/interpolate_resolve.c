// ops/interpolate_resolve.c - the one path from cg_interpolate_options and an input shape to
// an interp_plan: which spatial form of size / scale_factor applies, the output sizes, the
// scales the kernels see (recompute_scale_factor), and every check, floating options first
// (a NaN or 1e30 scale must never reach a float-to-int conversion).
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "interpolate_internal.h"

static const char *const MODE_NAMES[CG_INTERPOLATE_MODE_COUNT] = {
    "nearest", "bilinear", "linear", "trilinear", "bicubic", "area", "nearest-exact"};

const char *cg_interpolate_mode_name(cg_interpolate_mode mode) {
    return (unsigned)mode < CG_INTERPOLATE_MODE_COUNT ? MODE_NAMES[mode] : "?";
}

// The input rank a mode needs (0: any of 3, 4, 5), as F.interpolate dispatches.
static int mode_rank(cg_interpolate_mode mode) {
    switch (mode) {
    case CG_INTERPOLATE_LINEAR:
        return 3;
    case CG_INTERPOLATE_BILINEAR:
    case CG_INTERPOLATE_BICUBIC:
        return 4;
    case CG_INTERPOLATE_TRILINEAR:
        return 5;
    case CG_INTERPOLATE_NEAREST:
    case CG_INTERPOLATE_AREA:
    case CG_INTERPOLATE_NEAREST_EXACT:
    case CG_INTERPOLATE_MODE_COUNT:
        return 0;
    }
    return 0;
}

static bool interpolating(cg_interpolate_mode mode) {
    return mode == CG_INTERPOLATE_LINEAR || mode == CG_INTERPOLATE_BILINEAR ||
           mode == CG_INTERPOLATE_TRILINEAR || mode == CG_INTERPOLATE_BICUBIC;
}

static bool any_int(const int *v, int n) {
    for (int i = 0; i < n; i++)
        if (v[i]) return true;
    return false;
}
static bool any_double(const double *v, int n) { // a NaN counts as given
    for (int i = 0; i < n; i++)
        if (v[i] != 0) return true;
    return false;
}

// "scale_factor" or "scale_factor_hw[1]": the field a message names.
static const char *field_label(char *buf, size_t size, const char *name, int n, int i) {
    if (n == 1)
        snprintf(buf, size, "%s", name);
    else
        snprintf(buf, size, "%s[%d]", name, i);
    return buf;
}

// Every scale factor field given must be finite and > 0; every size given > 0.
static bool check_values(const char *op, const cg_interpolate_options *o) {
    const double *scales[3] = {&o->scale_factor, o->scale_factor_hw, o->scale_factor_dhw};
    const int *sizes[3] = {&o->size, o->size_hw, o->size_dhw};
    static const char *const scale_names[3] = {"scale_factor", "scale_factor_hw",
                                               "scale_factor_dhw"};
    static const char *const size_names[3] = {"size", "size_hw", "size_dhw"};
    char label[40];
    for (int f = 0; f < 3; f++) {
        int n = f == 0 ? 1 : f + 1;
        bool scale_given = any_double(scales[f], n), size_given = any_int(sizes[f], n);
        for (int i = 0; i < n; i++) {
            double s = scales[f][i];
            if (scale_given && !(isfinite(s) && s > 0)) {
                cg_error(CG_ERR_ARG, "%s: %s %g must be finite and > 0", op,
                         field_label(label, sizeof label, scale_names[f], n, i), s);
                return false;
            }
            if (size_given && sizes[f][i] <= 0) {
                cg_error(CG_ERR_ARG, "%s: %s %d must be > 0", op,
                         field_label(label, sizeof label, size_names[f], n, i), sizes[f][i]);
                return false;
            }
        }
    }
    return true;
}

bool cg_interpolate_options_check(const char *op, const cg_interpolate_options *o) {
    if (!o) {
        cg_error(CG_ERR_ARG, "%s: give size or scale_factor (options NULL)", op);
        return false;
    }
    if ((unsigned)o->mode >= CG_INTERPOLATE_MODE_COUNT) {
        cg_error(CG_ERR_ARG, "%s: unknown mode %d", op, (int)o->mode);
        return false;
    }
    const char *mode = MODE_NAMES[o->mode];
    if (o->align_corners && !interpolating(o->mode)) {
        cg_error(CG_ERR_ARG,
                 "%s: align_corners is only for the interpolating modes linear, bilinear, "
                 "bicubic and trilinear (mode %s)",
                 op, mode);
        return false;
    }
    if (o->antialias && o->mode != CG_INTERPOLATE_BILINEAR && o->mode != CG_INTERPOLATE_BICUBIC) {
        cg_error(CG_ERR_ARG, "%s: antialias is only for bilinear and bicubic (mode %s)", op, mode);
        return false;
    }
    if (!check_values(op, o)) return false;
    bool by_size = o->size || any_int(o->size_hw, 2) || any_int(o->size_dhw, 3);
    bool by_scale = o->scale_factor != 0 || any_double(o->scale_factor_hw, 2) ||
                    any_double(o->scale_factor_dhw, 3);
    if (by_size == by_scale) {
        cg_error(CG_ERR_ARG, "%s: give either size or scale_factor (%s given)", op,
                 by_size ? "both" : "neither");
        return false;
    }
    if (by_size && o->recompute_scale_factor) {
        cg_error(CG_ERR_ARG, "%s: recompute_scale_factor is not meaningful with an explicit size",
                 op);
        return false;
    }
    return true;
}

// The spatial form that applies to `dims` dims: the scalar, the `_hw` pair (2 dims) or the
// `_dhw` triple (3 dims); a pair or triple given for another rank is an error.
static bool pick_form(const char *op, const cg_interpolate_options *o, int dims, int *size,
                      double *scale) {
    bool pair = any_int(o->size_hw, 2) || any_double(o->scale_factor_hw, 2);
    bool triple = any_int(o->size_dhw, 3) || any_double(o->scale_factor_dhw, 3);
    if ((pair && dims != 2) || (triple && dims != 3)) {
        cg_error(CG_ERR_ARG,
                 "%s: %s is for a %s input; an input with %d spatial dim%s reads the scalar "
                 "size or scale_factor%s",
                 op, pair ? "size_hw/scale_factor_hw" : "size_dhw/scale_factor_dhw",
                 pair ? "4-D (N, C, H, W)" : "5-D (N, C, D, H, W)", dims, dims > 1 ? "s" : "",
                 dims == 2   ? " or the _hw pair"
                 : dims == 3 ? " or the _dhw triple"
                             : "");
        return false;
    }
    for (int d = 0; d < dims; d++) {
        size[d] = pair ? o->size_hw[d] : triple ? o->size_dhw[d] : o->size;
        scale[d] = pair ? o->scale_factor_hw[d] : triple ? o->scale_factor_dhw[d] : o->scale_factor;
    }
    return true;
}

static bool check_input(const char *op, const cg_tensor *x, cg_interpolate_mode mode) {
    int rank = mode_rank(mode);
    if (x->ndim < 3 || x->ndim > 5 || (rank && x->ndim != rank)) {
        cg_error(CG_ERR_SHAPE, "%s: mode %s expects %s input, got %s", op, MODE_NAMES[mode],
                 rank == 3   ? "a 3-D (N, C, L)"
                 : rank == 4 ? "a 4-D (N, C, H, W)"
                 : rank == 5 ? "a 5-D (N, C, D, H, W)"
                             : "a 3-D (N, C, L), 4-D (N, C, H, W) or 5-D (N, C, D, H, W)",
                 cg_tensor_shape_str(x));
        return false;
    }
    for (int d = 2; d < x->ndim; d++)
        if (x->shape[d] == 0) {
            cg_error(CG_ERR_SHAPE, "%s: input %s has an empty spatial dim", op,
                     cg_tensor_shape_str(x));
            return false;
        }
    return true;
}

// floor(in * scale) as PyTorch's compute_output_size, refused beyond INT_MAX (so 1e30
// never reaches the conversion to an integer).
static bool scaled_size(const char *op, const cg_tensor *x, int64_t in, double scale,
                        int64_t *out) {
    double v = floor((double)in * scale);
    if (v > INT_MAX || v < 1) {
        cg_error(CG_ERR_ARG,
                 "%s: scale_factor %g of input %s gives output size %.0f, outside [1, %d]", op,
                 scale, cg_tensor_shape_str(x), v, INT_MAX);
        return false;
    }
    *out = (int64_t)v;
    return true;
}

bool cg_interp_resolve(const char *op, const cg_tensor *x, const cg_interpolate_options *o,
                       interp_plan *p) {
    memset(p, 0, sizeof *p);
    if (!cg_check_arg(x, op, "input") || !cg_interpolate_options_check(op, o) ||
        !check_input(op, x, o->mode))
        return false;
    int size[CG_INTERP_MAX_DIMS];
    double scale[CG_INTERP_MAX_DIMS];
    p->dims = x->ndim - 2;
    if (!pick_form(op, o, p->dims, size, scale)) return false;
    p->planes = x->shape[0] * x->shape[1];
    p->mode = o->mode;
    p->align_corners = o->align_corners;
    p->antialias = o->antialias;
    for (int d = 0; d < p->dims; d++) {
        p->in[d] = x->shape[2 + d];
        if (size[d])
            p->out[d] = size[d];
        else if (!scaled_size(op, x, p->in[d], scale[d], &p->out[d]))
            return false;
        // the kernels see the user's scale unless it is recomputed from the sizes
        p->scale[d] = size[d] || o->recompute_scale_factor ? 0 : scale[d];
    }
    return true;
}
