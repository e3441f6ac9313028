// io/transform_affine.c - RandomRotation and RandomAffine with their functional forms
// F.rotate and F.affine, as torchvision 0.14's tensor backend computes them: an inverse
// affine matrix (functional.py's _get_inverse_affine_matrix, in double as Python does), a
// sampling grid built in float (functional_tensor.py's _gen_affine_grid) and grid_sample's
// taps (align_corners=False, zeros padding) with the fill blended through a sampled mask.
#include <math.h>

#include "transform_internal.h"

// _get_inverse_affine_matrix(center, angle, translate, scale, shear), inverted: the 2x3
// matrix taking an output point (relative to the image centre) to its input point.
static void inverse_affine(const double center[2], double angle, const double translate[2],
                           double scale, const double shear[2], double m[6]) {
    const double radians = 3.14159265358979323846 / 180.0; // math.radians' factor
    double rot = angle * radians, sx = shear[0] * radians, sy = shear[1] * radians;
    double cx = center[0], cy = center[1], tx = translate[0], ty = translate[1];
    // RotateScaleShear without the scale; its determinant is 1.
    double a = cos(rot - sy) / cos(sy);
    double b = -cos(rot - sy) * tan(sx) / cos(sy) - sin(rot);
    double c = sin(rot - sy) / cos(sy);
    double d = -sin(rot - sy) * tan(sx) / cos(sy) + cos(rot);
    double inv[6] = {d, -b, 0.0, -c, a, 0.0};
    for (int k = 0; k < 6; k++) m[k] = inv[k] / scale;
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty);
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty);
    m[2] += cx, m[5] += cy;
}

// torchvision's centre convention on tensors: (x, y) in pixels from the top-left corner
// becomes an offset from the image centre; NULL is the centre itself.
static void centre_offset(const cg_sample *s, const float *center, double out[2]) {
    out[0] = center ? center[0] - s->w * 0.5 : 0.0;
    out[1] = center ? center[1] - s->h * 0.5 : 0.0;
}

// One grid_sample tap set at input position (ix, iy): the value of channel plane `src` and
// the mask (the in-bounds share of the weights), as the vectorized CPU kernel forms them.
static float sample(const float *src, int h, int w, float ix, float iy, cg_interp interp,
                    float *mask) {
    if (interp == CG_INTERP_NEAREST) {
        float x = nearbyintf(ix), y = nearbyintf(iy);
        bool in = x >= 0 && x <= (float)(w - 1) && y >= 0 && y <= (float)(h - 1);
        *mask = in ? 1.0f : 0.0f;
        return in ? src[(size_t)y * (size_t)w + (size_t)x] : 0.0f;
    }
    float xw = floorf(ix), yn = floorf(iy);
    float fw = ix - xw, fe = 1.0f - fw, fn = iy - yn, fs = 1.0f - fn;
    float weight[4] = {fs * fe, fs * fw, fn * fe, fn * fw}; // nw, ne, sw, se
    float value = 0.0f, in_share = 0.0f;
    for (int k = 0; k < 4; k++) {
        float x = xw + (float)(k & 1), y = yn + (float)(k >> 1);
        bool in = x >= 0 && x <= (float)(w - 1) && y >= 0 && y <= (float)(h - 1);
        value += in ? src[(size_t)y * (size_t)w + (size_t)x] * weight[k] : 0.0f;
        in_share += in ? weight[k] : 0.0f;
    }
    *mask = in_share;
    return value;
}

// The warp: output (c, oh, ow) pixel (i, j) reads the input at m applied to its centre,
// offsets and scalings in float as _gen_affine_grid and grid_sample's unnormalize do.
static int warp(cg_sample *s, const char *op, const double m[6], int oh, int ow, cg_interp interp,
                float fill) {
    float *d = tf_alloc(op, s->c, oh, ow);
    if (!d) return -1;
    float half_w = (float)(0.5 * s->w), half_h = (float)(0.5 * s->h);
    float r[6]; // theta.transpose / [0.5 w, 0.5 h]
    for (int k = 0; k < 3; k++) r[k] = (float)m[k] / half_w, r[3 + k] = (float)m[3 + k] / half_h;
    size_t plane = (size_t)oh * (size_t)ow, in_plane = (size_t)s->h * (size_t)s->w;
    for (int i = 0; i < oh; i++) {
        float y = (float)i - (float)oh * 0.5f + 0.5f;
        for (int j = 0; j < ow; j++) {
            float x = (float)j - (float)ow * 0.5f + 0.5f;
            float gx = x * r[0] + y * r[1] + r[2], gy = x * r[3] + y * r[4] + r[5];
            float ix = (gx + 1.0f) * half_w - 0.5f, iy = (gy + 1.0f) * half_h - 0.5f;
            for (int c = 0; c < s->c; c++) {
                float mask,
                    v = sample(s->data + (size_t)c * in_plane, s->h, s->w, ix, iy, interp, &mask);
                float out = interp == CG_INTERP_NEAREST ? (mask < 0.5f ? fill : v)
                                                        : v * mask + (1.0f - mask) * fill;
                d[(size_t)c * plane + (size_t)i * (size_t)ow + (size_t)j] = out;
            }
        }
    }
    tf_replace(s, d, s->c, oh, ow);
    return 0;
}

static int check_interp(const char *op, cg_interp interp) {
    switch (interp) {
    case CG_INTERP_BILINEAR:
    case CG_INTERP_NEAREST:
        return 0;
    }
    cg_error(CG_ERR_ARG, "%s: interpolation %d is not nearest or bilinear", op, (int)interp);
    return -1;
}

// _compute_affine_output_size: the box of the four corners mapped by m, in float with
// torchvision's 1e-4 truncation before the ceil and floor.
static void expanded_size(const double m[6], int w, int h, int *ow, int *oh) {
    float t[6], lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    for (int k = 0; k < 6; k++) t[k] = (float)m[k];
    float px[4] = {-0.5f * w, -0.5f * w, 0.5f * w, 0.5f * w};
    float py[4] = {-0.5f * h, 0.5f * h, 0.5f * h, -0.5f * h};
    for (int p = 0; p < 4; p++)
        for (int a = 0; a < 2; a++) {
            float v = px[p] * t[3 * a] + py[p] * t[3 * a + 1] + t[3 * a + 2];
            lo[a] = fminf(lo[a], v), hi[a] = fmaxf(hi[a], v);
        }
    float half[2] = {(float)w * 0.5f, (float)h * 0.5f}, size[2];
    for (int a = 0; a < 2; a++) {
        float top = ceilf(truncf((hi[a] + half[a]) / 1e-4f) * 1e-4f);
        float bottom = floorf(truncf((lo[a] + half[a]) / 1e-4f) * 1e-4f);
        size[a] = top - bottom;
    }
    *ow = (int)size[0], *oh = (int)size[1];
}

int cg_tf_rotate(cg_sample *s, float angle, cg_interp interp, bool expand, const float *center,
                 float fill) {
    const char *op = "rotate";
    if (tf_floats(s, op) || check_interp(op, interp)) return -1;
    if (!isfinite(angle) || (center && !(isfinite(center[0]) && isfinite(center[1])))) {
        cg_error(CG_ERR_ARG, "%s: angle %g and center must be finite", op, angle);
        return -1;
    }
    double c[2], m[6], none[2] = {0, 0};
    centre_offset(s, center, c);
    // torchvision: "due to current incoherence of rotation angle direction between affine
    // and rotate implementations we need to set -angle".
    inverse_affine(c, -(double)angle, none, 1.0, none, m);
    int ow = s->w, oh = s->h;
    if (expand) expanded_size(m, s->w, s->h, &ow, &oh);
    return warp(s, op, m, oh, ow, interp, fill);
}

int cg_tf_affine(cg_sample *s, float angle, const float translate[2], float scale,
                 const float shear[2], cg_interp interp, float fill, const float *center) {
    const char *op = "affine";
    if (tf_floats(s, op) || check_interp(op, interp) || !cg_check_ptr(translate, op, "translate") ||
        !cg_check_ptr(shear, op, "shear"))
        return -1;
    if (!(scale > 0) || !isfinite(scale) || !isfinite(angle) || !isfinite(translate[0]) ||
        !isfinite(translate[1]) || !isfinite(shear[0]) || !isfinite(shear[1])) {
        cg_error(CG_ERR_ARG,
                 "%s: scale %g must be positive and angle %g, translate (%g, %g), shear (%g, "
                 "%g) finite",
                 op, scale, angle, translate[0], translate[1], shear[0], shear[1]);
        return -1;
    }
    if (center && !(isfinite(center[0]) && isfinite(center[1]))) {
        cg_error(CG_ERR_ARG, "%s: center (%g, %g) must be finite", op, center[0], center[1]);
        return -1;
    }
    double c[2], m[6], t[2] = {translate[0], translate[1]}, sh[2] = {shear[0], shear[1]};
    centre_offset(s, center, c);
    inverse_affine(c, angle, t, scale, sh, m);
    return warp(s, op, m, s->h, s->w, interp, fill);
}

// torch.empty(1).uniform_(lo, hi): lo + (hi - lo) * u.
static float uniform(cg_rng *rng, float lo, float hi) {
    return lo + (hi - lo) * cg_rng_uniform(rng);
}

static int check_range(const char *op, const char *arg, const float *r) {
    if (!(r[0] <= r[1]) || !isfinite(r[0]) || !isfinite(r[1])) {
        cg_error(CG_ERR_ARG, "%s: %s (%g, %g) must be a finite ordered range", op, arg, r[0], r[1]);
        return -1;
    }
    return 0;
}

int cg_random_rotation_params(cg_rng *rng, const float degrees[2], float *angle) {
    const char *op = "random_rotation";
    if (!cg_check_ptr(degrees, op, "degrees") || !cg_check_ptr(angle, op, "angle") ||
        check_range(op, "degrees", degrees))
        return -1;
    *angle = uniform(rng, degrees[0], degrees[1]);
    return 0;
}

int cg_random_affine_params(cg_rng *rng, const cg_transform *t, int h, int w,
                            cg_affine_params *out) {
    const char *op = "random_affine";
    if (!cg_check_ptr(t, op, "t") || !cg_check_ptr(out, op, "out") ||
        check_range(op, "degrees", t->degrees) || check_range(op, "scale", t->scale) ||
        check_range(op, "shear x", t->shear) || check_range(op, "shear y", t->shear + 2))
        return -1;
    const float *tr = t->translate;
    bool translate = tr[0] != 0 || tr[1] != 0, scale = t->scale[0] != 0 || t->scale[1] != 0;
    bool shear = t->shear[0] != 0 || t->shear[1] != 0 || t->shear[2] != 0 || t->shear[3] != 0;
    if (!(tr[0] >= 0 && tr[0] <= 1 && tr[1] >= 0 && tr[1] <= 1) || (scale && !(t->scale[0] > 0))) {
        cg_error(CG_ERR_ARG,
                 "%s: translate (%g, %g) must be in [0, 1] and scale (%g, %g) positive (or "
                 "both 0: no scaling)",
                 op, tr[0], tr[1], t->scale[0], t->scale[1]);
        return -1;
    }
    *out = (cg_affine_params){.scale = 1.0f};
    out->angle = uniform(rng, t->degrees[0], t->degrees[1]);
    if (translate) {
        float dx = tr[0] * (float)w, dy = tr[1] * (float)h;
        out->translate[0] = nearbyintf(uniform(rng, -dx, dx));
        out->translate[1] = nearbyintf(uniform(rng, -dy, dy));
    }
    if (scale) out->scale = uniform(rng, t->scale[0], t->scale[1]);
    if (shear) out->shear[0] = uniform(rng, t->shear[0], t->shear[1]);
    if (shear && (t->shear[2] != 0 || t->shear[3] != 0))
        out->shear[1] = uniform(rng, t->shear[2], t->shear[3]);
    return 0;
}

// The step's center (cg_optional x, y) as the functional forms take it.
static const float *step_center(const cg_transform *t, float buf[2]) {
    if (!t->center[0].set && !t->center[1].set) return NULL;
    buf[0] = (float)t->center[0].value, buf[1] = (float)t->center[1].value;
    return buf;
}

int tf_random_rotation(const cg_transform *t, cg_sample *s, cg_rng *rng) {
    float angle, c[2];
    if (tf_floats(s, "random_rotation") || cg_random_rotation_params(rng, t->degrees, &angle))
        return -1;
    return cg_tf_rotate(s, angle, t->interp, t->expand, step_center(t, c), t->fill);
}

int tf_random_affine(const cg_transform *t, cg_sample *s, cg_rng *rng) {
    cg_affine_params a;
    float c[2];
    if (tf_floats(s, "random_affine") || cg_random_affine_params(rng, t, s->h, s->w, &a)) return -1;
    return cg_tf_affine(s, a.angle, a.translate, a.scale, a.shear, t->interp, t->fill,
                        step_center(t, c));
}

cg_transform cg_t_random_rotation(float degrees) {
    return (cg_transform){
        .kind = CG_T_RANDOM_ROTATION, .degrees = {-degrees, degrees}, .interp = CG_INTERP_NEAREST};
}

cg_transform cg_t_random_affine(float degrees) {
    return (cg_transform){
        .kind = CG_T_RANDOM_AFFINE, .degrees = {-degrees, degrees}, .interp = CG_INTERP_NEAREST};
}
