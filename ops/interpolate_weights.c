// ops/interpolate_weights.c - the weight table of one spatial dim for every interpolate
// mode: which input indices output index o reads and with what weights. The arithmetic is
// PyTorch 1.13's CPU kernels' (UpSample.h, UpSampleKernel.cpp), in float where they use
// float and in double where their expressions promote, so the same indices come out.
#include <math.h>

#include "../tensor/alloc.h"
#include "interpolate_internal.h"

// compute_scales_value: 1 / scale_factor when given, else in / out.
static float plain_scale(int64_t in, int64_t out, double user) {
    return user > 0 ? (float)(1.0 / user) : (float)in / (float)out;
}

// area_pixel_compute_scale: with align_corners corners map to corners.
static float area_scale(int64_t in, int64_t out, bool align_corners, double user) {
    if (align_corners) return out > 1 ? (float)(in - 1) / (float)(out - 1) : 0.0f;
    return plain_scale(in, out, user);
}

// area_pixel_compute_source_index: the source coordinate of output o; the linear modes
// clamp a negative one to 0, cubic keeps it.
static float source_index(float scale, int64_t o, bool align_corners, bool cubic) {
    if (align_corners) return scale * (float)o;
    float src = scale * ((float)o + 0.5f) - 0.5f;
    return !cubic && src < 0 ? 0.0f : src;
}

static int64_t min64(int64_t a, int64_t b) {
    return a < b ? a : b;
}
static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

// Keys' cubic convolution kernel for |x| <= 1 and 1 < |x| < 2.
static float cubic1(float x, float a) {
    return ((a + 2) * x - (a + 3)) * x * x + 1;
}
static float cubic2(float x, float a) {
    return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
}

// ---- one tap per output -----------------------------------------------------------------

// nearest: floor(o * scale); nearest-exact: floor((o + 0.5) * scale), computed as PyTorch's
// forward does (the half-pixel source index, then + 0.5 in double).
static void fill_nearest(interp_axis *t, double user, bool exact) {
    float scale = plain_scale(t->in, t->out, user);
    for (int64_t o = 0; o < t->out; o++) {
        float src = exact
                        ? (float)floorf((float)((double)source_index(scale, o, false, false) + 0.5))
                        : floorf(source_index(scale, o, true, false));
        t->index[o] = min64((int64_t)src, t->in - 1);
        t->weight[o] = 1.0f;
    }
}

// ---- fixed kernels: linear (2 taps) and cubic (4 taps) ----------------------------------

// compute_source_index_and_lambda: out == in copies; else the two neighbours of src.
static void fill_linear(interp_axis *t, bool align_corners, double user) {
    float scale = area_scale(t->in, t->out, align_corners, user);
    for (int64_t o = 0; o < t->out; o++) {
        int64_t *idx = t->index + 2 * o;
        float *w = t->weight + 2 * o;
        if (t->out == t->in) {
            idx[0] = idx[1] = o;
            w[0] = 1.0f, w[1] = 0.0f;
            continue;
        }
        float src = source_index(scale, o, align_corners, false);
        idx[0] = min64((int64_t)src, t->in - 1);
        idx[1] = idx[0] + (idx[0] < t->in - 1);
        float l1 = fminf(fmaxf(src - (float)idx[0], 0.0f), 1.0f);
        w[0] = 1.0f - l1, w[1] = l1;
    }
}

// The four neighbours floor(src) - 1 .. + 2 (clamped into the input), weights of cubic
// convolution with A = -0.75 at the fraction of src.
static void fill_cubic(interp_axis *t, bool align_corners, double user) {
    const float A = -0.75f;
    float scale = area_scale(t->in, t->out, align_corners, user);
    for (int64_t o = 0; o < t->out; o++) {
        float src = source_index(scale, o, align_corners, true);
        int64_t i = (int64_t)floorf(src);
        float f = src - (float)i;
        float *w = t->weight + 4 * o;
        float g = 1.0f - f;
        w[0] = cubic2(f + 1.0f, A), w[1] = cubic1(f, A);
        w[2] = cubic1(g, A), w[3] = cubic2(g + 1.0f, A);
        for (int k = 0; k < 4; k++) t->index[4 * o + k] = clamp64(i + k - 1, 0, t->in - 1);
    }
}

// ---- variable windows: area and antialias ----------------------------------------------

// Adaptive average pooling: [floor(o * in / out), ceil((o + 1) * in / out)), equal weights.
static void area_range(const interp_axis *t, int64_t o, int64_t *start, int64_t *end) {
    *start = o * t->in / t->out;
    *end = ((o + 1) * t->in + t->out - 1) / t->out;
}
static int area_taps(int64_t in, int64_t out) {
    interp_axis t = {.in = in, .out = out};
    int64_t most = 1, s, e;
    for (int64_t o = 0; o < out; o++) {
        area_range(&t, o, &s, &e);
        most = e - s > most ? e - s : most;
    }
    return (int)most;
}
static void fill_area(interp_axis *t) {
    for (int64_t o = 0; o < t->out; o++) {
        int64_t s, e;
        area_range(t, o, &s, &e);
        for (int k = 0; k < t->taps; k++) {
            t->index[o * t->taps + k] = min64(s + k, e - 1);
            t->weight[o * t->taps + k] = k < e - s ? 1.0f / (float)(e - s) : 0.0f;
        }
    }
}

// The antialias filters: triangle (bilinear) and cubic convolution with A = -0.5 (bicubic).
static float aa_filter(float x, bool cubic) {
    x = fabsf(x);
    if (!cubic) return x < 1.0f ? 1.0f - x : 0.0f;
    return x < 1.0f ? cubic1(x, -0.5f) : x < 2.0f ? cubic2(x, -0.5f) : 0.0f;
}
// The filter's half-width: 1 (triangle) or 2 (cubic), times the scale when downsampling.
static float aa_support(float scale, bool cubic) {
    float half = cubic ? 2.0f : 1.0f;
    return scale >= 1.0f ? half * scale : half;
}
static int aa_taps(float scale, bool cubic) {
    return (int)ceilf(aa_support(scale, cubic)) * 2 + 1;
}
// _compute_weights_aa: the filter centred on (o + 0.5) * scale, stretched by the scale when
// downsampling, over the inputs it covers, normalised to sum 1.
static void fill_antialias(interp_axis *t, float scale, bool cubic) {
    float support = aa_support(scale, cubic), invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
    for (int64_t o = 0; o < t->out; o++) {
        float center = (float)((double)scale * ((double)o + 0.5));
        int64_t lo = (int64_t)((double)center - support + 0.5);
        lo = lo > 0 ? lo : 0;
        int64_t n = min64((int64_t)((double)center + support + 0.5), t->in) - lo;
        float *w = t->weight + o * t->taps, total = 0.0f;
        for (int k = 0; k < t->taps; k++) {
            t->index[o * t->taps + k] = min64(lo + (k < n ? k : 0), t->in - 1);
            float at = (float)(((double)((float)(lo + k) - center) + 0.5) * invscale);
            w[k] = k < n ? aa_filter(at, cubic) : 0.0f;
            total += w[k];
        }
        for (int k = 0; k < n && total != 0.0f; k++) w[k] /= total;
    }
}

// ---- the table ----------------------------------------------------------------------------

static int taps_of(const interp_plan *p, int64_t in, int64_t out, float aa_scale) {
    switch (p->mode) {
    case CG_INTERPOLATE_NEAREST:
    case CG_INTERPOLATE_NEAREST_EXACT:
        return 1;
    case CG_INTERPOLATE_LINEAR:
    case CG_INTERPOLATE_BILINEAR:
    case CG_INTERPOLATE_TRILINEAR:
        return p->antialias ? aa_taps(aa_scale, false) : 2;
    case CG_INTERPOLATE_BICUBIC:
        return p->antialias ? aa_taps(aa_scale, true) : 4;
    case CG_INTERPOLATE_AREA:
        return area_taps(in, out);
    case CG_INTERPOLATE_MODE_COUNT:
        return 0;
    }
    return 0;
}

bool cg_interp_axis_build(const interp_plan *p, int dim, interp_axis *t) {
    *t = (interp_axis){.in = p->in[dim], .out = p->out[dim]};
    double user = p->scale[dim];
    float aa_scale = area_scale(t->in, t->out, p->align_corners, user);
    t->taps = taps_of(p, t->in, t->out, aa_scale);
    size_t n = (size_t)t->out * (size_t)t->taps;
    t->index = cg_alloc(n * sizeof *t->index);
    t->weight = t->index ? cg_alloc(n * sizeof *t->weight) : NULL;
    if (!t->weight) {
        cg_interp_axis_free(t);
        return false;
    }
    bool cubic = p->mode == CG_INTERPOLATE_BICUBIC;
    switch (p->mode) {
    case CG_INTERPOLATE_NEAREST:
        fill_nearest(t, user, false);
        break;
    case CG_INTERPOLATE_NEAREST_EXACT:
        fill_nearest(t, user, true);
        break;
    case CG_INTERPOLATE_LINEAR:
    case CG_INTERPOLATE_BILINEAR:
    case CG_INTERPOLATE_TRILINEAR:
    case CG_INTERPOLATE_BICUBIC:
        if (p->antialias)
            fill_antialias(t, aa_scale, cubic);
        else if (cubic)
            fill_cubic(t, p->align_corners, user);
        else
            fill_linear(t, p->align_corners, user);
        break;
    case CG_INTERPOLATE_AREA:
        fill_area(t);
        break;
    case CG_INTERPOLATE_MODE_COUNT:
        break;
    }
    return true;
}

void cg_interp_axis_free(interp_axis *t) {
    cg_dealloc(t->index);
    cg_dealloc(t->weight);
    t->index = NULL;
    t->weight = NULL;
}
