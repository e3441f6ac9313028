// io/transform_geometry.c - resize, crop, pad and flip on a CHW float sample, as
// torchvision.transforms.functional on tensors.
#include <math.h>
#include <string.h>

#include "../ops/interpolate_internal.h"
#include "../tensor/alloc.h"
#include "transform_internal.h"

// ---- resize: F.interpolate(align_corners=False), antialias off or on -------------------------

// Source row/column of each output one for bilinear: index, neighbour and weight of the
// neighbour (PyTorch's area_pixel_compute_source_index in float).
static void bilinear_taps(int in, int out, int *i0, int *i1, float *l1) {
    float scale = (float)in / (float)out;
    for (int o = 0; o < out; o++) {
        float src = scale * ((float)o + 0.5f) - 0.5f;
        if (src < 0) src = 0;
        int i = (int)src;
        i0[o] = i;
        i1[o] = i + (i < in - 1);
        l1[o] = src - (float)i;
    }
}

static void nearest_taps(int in, int out, int *i0) {
    float scale = (float)in / (float)out;
    for (int o = 0; o < out; o++) {
        int i = (int)floorf((float)o * scale);
        i0[o] = i < in - 1 ? i : in - 1;
    }
}

// Resize's size: (height, width), or with width 0 an int size (the smaller edge becomes
// `height`, the other follows); -1 after cg_error naming `op`.
static int resize_size(cg_sample *s, const char *op, int *height, int *width) {
    if (tf_floats(s, op)) return -1;
    if (*height < 1 || *width < 0) {
        cg_error(CG_ERR_ARG, "%s: size (%d, %d) must be positive", op, *height, *width);
        return -1;
    }
    if (*width == 0) {
        int small = s->h <= s->w ? s->h : s->w, large = s->h <= s->w ? s->w : s->h;
        int other = (int)((int64_t)*height * large / small);
        *width = s->h <= s->w ? other : *height;
        *height = s->h <= s->w ? *height : other;
    }
    return 0;
}

// F.resize(antialias=True) on a tensor is F.interpolate(mode="bilinear", antialias=True):
// ops/interpolate's weight tables and passes, run on this thread (a loader worker is not
// part of the compute team).
int cg_tf_resize_antialias(cg_sample *s, int height, int width) {
    const char *op = "resize_antialias";
    if (resize_size(s, op, &height, &width)) return -1;
    float *d = tf_alloc(op, s->c, height, width);
    if (!d) return -1;
    interp_plan p = {.dims = 2,
                     .planes = s->c,
                     .in = {s->h, s->w},
                     .out = {height, width},
                     .mode = CG_INTERPOLATE_BILINEAR,
                     .antialias = true};
    if (!cg_interp_resample_serial(&p, s->data, d)) {
        cg_dealloc(d);
        return -1;
    }
    tf_replace(s, d, s->c, height, width);
    return 0;
}

int cg_tf_resize(cg_sample *s, int height, int width, cg_interp interp) {
    const char *op = "resize";
    if (resize_size(s, op, &height, &width)) return -1;
    float *d = tf_alloc(op, s->c, height, width);
    int *y0 = cg_alloc(sizeof(int) * (size_t)(2 * height + 2 * width));
    float *wy = cg_alloc(sizeof(float) * (size_t)(height + width));
    if (!d || !y0 || !wy) {
        cg_dealloc(d), cg_dealloc(y0), cg_dealloc(wy);
        return -1;
    }
    int *y1 = y0 + height, *x0 = y1 + height, *x1 = x0 + width;
    float *wx = wy + height;
    if (interp == CG_INTERP_BILINEAR) {
        bilinear_taps(s->h, height, y0, y1, wy);
        bilinear_taps(s->w, width, x0, x1, wx);
    } else {
        nearest_taps(s->h, height, y0);
        nearest_taps(s->w, width, x0);
    }
    for (int c = 0; c < s->c; c++) {
        const float *src = s->data + (size_t)c * (size_t)s->h * (size_t)s->w;
        float *dst = d + (size_t)c * (size_t)height * (size_t)width;
        for (int y = 0; y < height; y++) {
            const float *r0 = src + (size_t)y0[y] * (size_t)s->w;
            // Nearest fills y0 only: y1 is read (and its row formed) for bilinear alone.
            const float *r1 =
                interp == CG_INTERP_BILINEAR ? src + (size_t)y1[y] * (size_t)s->w : r0;
            for (int x = 0; x < width; x++) {
                if (interp == CG_INTERP_NEAREST) {
                    dst[(size_t)y * (size_t)width + (size_t)x] = r0[x0[x]];
                    continue;
                }
                float h1 = wy[y], h0 = 1.0f - h1, w1 = wx[x], w0 = 1.0f - w1;
                dst[(size_t)y * (size_t)width + (size_t)x] =
                    h0 * (w0 * r0[x0[x]] + w1 * r0[x1[x]]) + h1 * (w0 * r1[x0[x]] + w1 * r1[x1[x]]);
            }
        }
    }
    cg_dealloc(y0), cg_dealloc(wy);
    tf_replace(s, d, s->c, height, width);
    return 0;
}

// ---- crop and pad: one gather with a per-mode source index
// ---------------------------------------

// The source index of padded position i (i < 0 or i >= n lies in the padding), or -1 for the
// constant fill.
static int pad_source(int i, int n, cg_border_mode mode) {
    if (i >= 0 && i < n) return i;
    switch (mode) {
    case CG_BORDER_CONSTANT:
        return -1;
    case CG_BORDER_EDGE:
        return i < 0 ? 0 : n - 1;
    case CG_BORDER_REFLECT:
        return i < 0 ? -i : 2 * (n - 1) - i;
    case CG_BORDER_SYMMETRIC:
        return i < 0 ? -i - 1 : 2 * n - 1 - i;
    }
    return -1;
}

// out (c, height, width) at (y, x) = s at (top + y, left + x), padded by `mode`.
static int gather(cg_sample *s, const char *op, int top, int left, int height, int width,
                  cg_border_mode mode, float fill) {
    float *d = tf_alloc(op, s->c, height, width);
    if (!d) return -1;
    for (int c = 0; c < s->c; c++) {
        const float *src = s->data + (size_t)c * (size_t)s->h * (size_t)s->w;
        float *dst = d + (size_t)c * (size_t)height * (size_t)width;
        for (int y = 0; y < height; y++) {
            int sy = pad_source(top + y, s->h, mode);
            for (int x = 0; x < width; x++) {
                int sx = pad_source(left + x, s->w, mode);
                dst[(size_t)y * (size_t)width + (size_t)x] =
                    sy < 0 || sx < 0 ? fill : src[(size_t)sy * (size_t)s->w + (size_t)sx];
            }
        }
    }
    tf_replace(s, d, s->c, height, width);
    return 0;
}

int cg_tf_crop(cg_sample *s, int top, int left, int height, int width) {
    if (tf_floats(s, "crop")) return -1;
    if (height < 1 || width < 1) {
        cg_error(CG_ERR_ARG, "crop: size (%d, %d) must be positive", height, width);
        return -1;
    }
    return gather(s, "crop", top, left, height, width, CG_BORDER_CONSTANT, 0.0f);
}

// Python's round(x / 2) for an integer x (half to even), as torchvision's center_crop.
static int half_round_even(int x) {
    int q = x >= 0 ? x / 2 : -((-x) / 2);
    if (x % 2 != 0 && q % 2 != 0) q += x > 0 ? 1 : -1;
    return q;
}

int cg_tf_center_crop(cg_sample *s, int height, int width) {
    if (tf_floats(s, "center_crop")) return -1;
    if (height < 1 || width < 1) {
        cg_error(CG_ERR_ARG, "center_crop: size (%d, %d) must be positive", height, width);
        return -1;
    }
    // Larger than the image: torchvision pads ((cw - w) // 2 left, (cw - w + 1) // 2 right)
    // with zeros first, then crops at 0; the same window as a negative offset here.
    int top = height > s->h ? -((height - s->h) / 2) : half_round_even(s->h - height);
    int left = width > s->w ? -((width - s->w) / 2) : half_round_even(s->w - width);
    return gather(s, "center_crop", top, left, height, width, CG_BORDER_CONSTANT, 0.0f);
}

int cg_tf_pad(cg_sample *s, int left, int top, int right, int bottom, cg_border_mode mode,
              float fill) {
    if (tf_floats(s, "pad")) return -1;
    int most_x = left > right ? left : right, most_y = top > bottom ? top : bottom;
    int limit_x = mode == CG_BORDER_REFLECT     ? s->w - 1
                  : mode == CG_BORDER_SYMMETRIC ? s->w
                                                : INT32_MAX;
    int limit_y = mode == CG_BORDER_REFLECT     ? s->h - 1
                  : mode == CG_BORDER_SYMMETRIC ? s->h
                                                : INT32_MAX;
    if (left < 0 || top < 0 || right < 0 || bottom < 0 || most_x > limit_x || most_y > limit_y) {
        cg_error(CG_ERR_ARG,
                 "pad: padding (%d, %d, %d, %d) must be >= 0 and, for reflect (symmetric) "
                 "mode, less than (at most) the image side %dx%d",
                 left, top, right, bottom, s->h, s->w);
        return -1;
    }
    return gather(s, "pad", -top, -left, s->h + top + bottom, s->w + left + right, mode, fill);
}

static int flip(cg_sample *s, const char *op, bool horizontal) {
    if (tf_floats(s, op)) return -1;
    for (int c = 0; c < s->c; c++) {
        float *p = s->data + (size_t)c * (size_t)s->h * (size_t)s->w;
        for (int y = 0; y < s->h; y++)
            for (int x = 0; x < (horizontal ? s->w / 2 : s->w); x++) {
                int yy = horizontal ? y : s->h - 1 - y, xx = horizontal ? s->w - 1 - x : x;
                if (!horizontal && y >= s->h / 2) break;
                float *a = p + (size_t)y * (size_t)s->w + (size_t)x;
                float *b = p + (size_t)yy * (size_t)s->w + (size_t)xx;
                float t = *a;
                *a = *b, *b = t;
            }
    }
    return 0;
}

int cg_tf_hflip(cg_sample *s) {
    return flip(s, "hflip", true);
}
int cg_tf_vflip(cg_sample *s) {
    return flip(s, "vflip", false);
}
