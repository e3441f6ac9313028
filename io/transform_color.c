// io/transform_color.c - ColorJitter and its functional forms adjust_brightness, _contrast,
// _saturation and _hue, as torchvision 0.14's functional_tensor.py computes them on floats:
// every adjustment but hue is _blend(img, other, factor) = clamp(factor * img + (1 - factor)
// * other, 0, 1), hue a round trip through HSV.
#include <math.h>

#include "../tensor/alloc.h"
#include "transform_internal.h"

// Makes *s floats with 1 or 3 channels (torchvision's _assert_channels) and checks factor.
static int check(cg_sample *s, const char *op, float factor, float low, float high) {
    if (tf_floats(s, op)) return -1;
    if (s->c != 1 && s->c != 3) {
        cg_error(CG_ERR_ARG, "%s: the image has %d channels; 1 or 3 are supported", op, s->c);
        return -1;
    }
    if (!(factor >= low && factor <= high)) {
        cg_error(CG_ERR_ARG, "%s: factor %g is not in [%g, %g]", op, factor, low, high);
        return -1;
    }
    return 0;
}

// _blend: clamp(ratio * x + (1 - ratio) * other, 0, 1), other a plane (per pixel) or NULL
// for the constant `value`; every channel of *s against the same plane.
static void blend(cg_sample *s, float ratio, const float *other, float value) {
    float keep = (float)(1.0 - (double)ratio); // (1.0 - ratio) in Python's double, then float
    size_t plane = (size_t)s->h * (size_t)s->w;
    for (int c = 0; c < s->c; c++) {
        float *p = s->data + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) {
            float v = ratio * p[i] + keep * (other ? other[i] : value);
            p[i] = v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
        }
    }
}

int cg_tf_adjust_brightness(cg_sample *s, float factor) {
    if (check(s, "adjust_brightness", factor, 0, INFINITY)) return -1;
    blend(s, factor, NULL, 0.0f); // against zeros_like(img)
    return 0;
}

int cg_tf_adjust_contrast(cg_sample *s, float factor) {
    if (check(s, "adjust_contrast", factor, 0, INFINITY)) return -1;
    size_t plane = (size_t)s->h * (size_t)s->w;
    float *gray = s->c == 3 ? cg_alloc(plane * sizeof(float)) : NULL;
    if (s->c == 3 && !gray) return -1;
    if (gray) tf_gray(s->data, plane, gray);
    const float *src = gray ? gray : s->data; // the mean over (C, H, W) of the luma, or x
    size_t n = gray ? plane : plane * (size_t)s->c;
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += src[i];
    cg_dealloc(gray);
    blend(s, factor, NULL, (float)(sum / (double)n));
    return 0;
}

int cg_tf_adjust_saturation(cg_sample *s, float factor) {
    const char *op = "adjust_saturation";
    if (check(s, op, factor, 0, INFINITY)) return -1;
    if (s->c == 1) return 0; // torchvision: "Match PIL behaviour"
    size_t plane = (size_t)s->h * (size_t)s->w;
    float *gray = cg_alloc(plane * sizeof(float));
    if (!gray) return -1;
    tf_gray(s->data, plane, gray);
    blend(s, factor, gray, 0.0f);
    cg_dealloc(gray);
    return 0;
}

// _rgb2hsv for one pixel, in float and in its order of operations.
static void rgb_to_hsv(float r, float g, float b, float hsv[3]) {
    float maxc = fmaxf(r, fmaxf(g, b)), minc = fminf(r, fminf(g, b));
    bool eqc = maxc == minc;
    float cr = maxc - minc, divisor = eqc ? 1.0f : cr;
    float s = cr / (eqc ? 1.0f : maxc);
    float rc = (maxc - r) / divisor, gc = (maxc - g) / divisor, bc = (maxc - b) / divisor;
    float hr = maxc == r ? bc - gc : 0.0f;
    float hg = maxc == g && maxc != r ? 2.0f + rc - bc : 0.0f;
    float hb = maxc != g && maxc != r ? 4.0f + gc - rc : 0.0f;
    float h = hr + hg + hb;
    hsv[0] = fmodf(h / 6.0f + 1.0f, 1.0f), hsv[1] = s, hsv[2] = maxc;
}

static float clamp01(float v) {
    return v < 0.0f ? 0.0f : v > 1.0f ? 1.0f : v;
}

// _hsv2rgb for one pixel: the sector i = floor(6 h) mod 6 picks among v, p, q, t.
static void hsv_to_rgb(float h, float s, float v, float rgb[3]) {
    float i = floorf(h * 6.0f), f = h * 6.0f - i;
    float p = clamp01(v * (1.0f - s)), q = clamp01(v * (1.0f - s * f));
    float t = clamp01(v * (1.0f - s * (1.0f - f)));
    int sector = ((int)i % 6 + 6) % 6;
    const float table[6][3] = {{v, t, p}, {q, v, p}, {p, v, t}, {p, q, v}, {t, p, v}, {v, p, q}};
    rgb[0] = table[sector][0], rgb[1] = table[sector][1], rgb[2] = table[sector][2];
}

int cg_tf_adjust_hue(cg_sample *s, float factor) {
    if (check(s, "adjust_hue", factor, -0.5f, 0.5f)) return -1;
    if (s->c == 1) return 0;
    size_t plane = (size_t)s->h * (size_t)s->w;
    float *r = s->data, *g = r + plane, *b = g + plane;
    for (size_t i = 0; i < plane; i++) {
        float hsv[3], rgb[3];
        rgb_to_hsv(r[i], g[i], b[i], hsv);
        float h = fmodf(hsv[0] + factor, 1.0f); // torch's remainder: the sign of 1.0
        if (h != 0.0f && h < 0.0f) h += 1.0f;
        hsv_to_rgb(h, hsv[1], hsv[2], rgb);
        r[i] = rgb[0], g[i] = rgb[1], b[i] = rgb[2];
    }
    return 0;
}

// The None test of ColorJitter._check_input: a range equal to {centre, centre}.
static bool is_none(const float range[2], float centre) {
    return range[0] == centre && range[1] == centre;
}

int cg_color_jitter_params(cg_rng *rng, const cg_transform *t, int order[4], float factors[4]) {
    const char *op = "color_jitter";
    if (!cg_check_ptr(t, op, "t") || !cg_check_ptr(order, op, "order") ||
        !cg_check_ptr(factors, op, "factors"))
        return -1;
    static const char *const names[4] = {"brightness", "contrast", "saturation", "hue"};
    for (int k = 0; k < 4; k++) {
        float low = k == 3 ? -0.5f : 0.0f, high = k == 3 ? 0.5f : INFINITY;
        const float *r = t->jitter[k];
        if (!(low <= r[0] && r[0] <= r[1] && r[1] <= high)) {
            cg_error(CG_ERR_ARG, "%s: %s values (%g, %g) should be ordered within [%g, %g]", op,
                     names[k], r[0], r[1], low, high);
            return -1;
        }
    }
    for (int k = 0; k < 4; k++) order[k] = k;
    for (int k = 3; k > 0; k--) { // Fisher-Yates: a uniform permutation
        int j = (int)tf_below(rng, (uint32_t)(k + 1)), tmp = order[k];
        order[k] = order[j], order[j] = tmp;
    }
    for (int k = 0; k < 4; k++) {
        const float *r = t->jitter[k];
        factors[k] =
            is_none(r, k == 3 ? 0.0f : 1.0f) ? NAN : r[0] + (r[1] - r[0]) * cg_rng_uniform(rng);
    }
    return 0;
}

int tf_color_jitter(const cg_transform *t, cg_sample *s, cg_rng *rng) {
    int order[4];
    float f[4];
    if (tf_floats(s, "color_jitter") || cg_color_jitter_params(rng, t, order, f)) return -1;
    for (int k = 0; k < 4; k++) {
        int fn = order[k];
        if (isnan(f[fn])) continue;
        int rc = fn == 0   ? cg_tf_adjust_brightness(s, f[fn])
                 : fn == 1 ? cg_tf_adjust_contrast(s, f[fn])
                 : fn == 2 ? cg_tf_adjust_saturation(s, f[fn])
                           : cg_tf_adjust_hue(s, f[fn]);
        if (rc) return -1;
    }
    return 0;
}

// ColorJitter._check_input for a number: [max(0, 1 - v), 1 + v], [-v, v] for hue.
cg_transform cg_t_color_jitter(float brightness, float contrast, float saturation, float hue) {
    cg_transform t = {.kind = CG_T_COLOR_JITTER};
    float v[3] = {brightness, contrast, saturation};
    for (int k = 0; k < 3; k++) {
        t.jitter[k][0] = v[k] >= 0 ? fmaxf(0.0f, 1.0f - v[k]) : 1.0f - v[k];
        t.jitter[k][1] = 1.0f + v[k];
    }
    t.jitter[3][0] = -hue, t.jitter[3][1] = hue;
    return t;
}
