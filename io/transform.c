// io/transform.c - the transform steps (constructors, Compose), the random parameters, and
// the per-pixel functional forms: ToTensor, Normalize, Grayscale.
#include <math.h>
#include <string.h>

#include "../tensor/alloc.h"
#include "../tensor/checked.h"
#include "transform_internal.h"

float *tf_alloc(const char *op, int c, int h, int w) {
    int64_t n;
    if (c < 1 || h < 1 || w < 1 || cg_mul_overflows((int64_t)c * h, w, &n) ||
        n > (INT64_C(1) << 28))
        return cg_error(CG_ERR_ARG, "%s: output of %d x %d x %d is empty or too large", op, c, h,
                        w);
    return cg_alloc((size_t)n * sizeof(float));
}

void tf_replace(cg_sample *s, float *data, int c, int h, int w) {
    cg_dealloc(s->data);
    s->data = data, s->c = c, s->h = h, s->w = w;
}

int tf_floats(cg_sample *s, const char *op) {
    if (!s || (!s->data && !s->bytes)) {
        cg_error(CG_ERR_ARG, "%s: the sample is NULL or holds no image", op);
        return -1;
    }
    if (s->data) return 0;
    float *d = tf_alloc(op, s->c, s->h, s->w);
    if (!d) return -1;
    size_t plane = (size_t)s->h * (size_t)s->w;
    for (int c = 0; c < s->c; c++) // torchvision: img.permute(2, 0, 1).float().div(255)
        for (size_t p = 0; p < plane; p++)
            d[(size_t)c * plane + p] = (float)s->bytes[p * (size_t)s->c + (size_t)c] / 255.0f;
    cg_dealloc(s->bytes);
    s->bytes = NULL;
    s->data = d;
    return 0;
}

int cg_tf_to_tensor(cg_sample *s) {
    return tf_floats(s, "to_tensor");
}

int cg_tf_normalize(cg_sample *s, const float *mean, const float *std) {
    if (tf_floats(s, "normalize")) return -1;
    if (!mean || !std) {
        cg_error(CG_ERR_ARG, "normalize: mean or std is NULL");
        return -1;
    }
    for (int c = 0; c < s->c; c++)
        if (!(std[c] != 0.0f)) {
            cg_error(CG_ERR_ARG, "normalize: std[%d] is %g; std evaluated to zero", c, std[c]);
            return -1;
        }
    size_t plane = (size_t)s->h * (size_t)s->w;
    for (int c = 0; c < s->c; c++) {
        float m = mean[c], d = std[c]; // torchvision: tensor.sub_(mean).div_(std)
        float *p = s->data + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) p[i] = (p[i] - m) / d;
    }
    return 0;
}

void tf_gray(const float *rgb, size_t plane, float *out) {
    const float *r = rgb, *g = r + plane, *b = g + plane;
    for (size_t i = 0; i < plane; i++) // torchvision's tensor weights, in its order
        out[i] = 0.2989f * r[i] + 0.587f * g[i] + 0.114f * b[i];
}

int cg_tf_rgb_to_grayscale(cg_sample *s, int channels) {
    const char *op = "rgb_to_grayscale";
    if (tf_floats(s, op)) return -1;
    if (s->c != 3 || (channels != 1 && channels != 3)) {
        cg_error(CG_ERR_ARG, "%s: needs 3 input channels (got %d) and 1 or 3 output ones (got %d)",
                 op, s->c, channels);
        return -1;
    }
    float *d = tf_alloc(op, channels, s->h, s->w);
    if (!d) return -1;
    size_t plane = (size_t)s->h * (size_t)s->w;
    tf_gray(s->data, plane, d);
    for (int c = 1; c < channels; c++) memcpy(d + (size_t)c * plane, d, plane * sizeof *d);
    tf_replace(s, d, channels, s->h, s->w);
    return 0;
}

uint32_t tf_below(cg_rng *rng, uint32_t bound) {
    uint32_t threshold = (uint32_t)(-bound) % bound;
    for (;;) {
        uint32_t r = cg_rng_next(rng);
        if (r >= threshold) return r % bound;
    }
}

int cg_random_crop_params(cg_rng *rng, int h, int w, int th, int tw, int *top, int *left) {
    if (!cg_check_ptr(top, "random_crop", "top") || !cg_check_ptr(left, "random_crop", "left"))
        return -1;
    if (h < th || w < tw || th < 1 || tw < 1) {
        cg_error(CG_ERR_ARG,
                 "random_crop: required crop size (%d, %d) is larger than input "
                 "image size (%d, %d)",
                 th, tw, h, w);
        return -1;
    }
    *top = (int)tf_below(rng, (uint32_t)(h - th + 1));
    *left = (int)tf_below(rng, (uint32_t)(w - tw + 1));
    return 0;
}

int cg_random_resized_crop_params(cg_rng *rng, int h, int w, const float scale[2],
                                  const float ratio[2], int box[4]) {
    if (!cg_check_ptr(scale, "random_resized_crop", "scale") ||
        !cg_check_ptr(ratio, "random_resized_crop", "ratio") ||
        !cg_check_ptr(box, "random_resized_crop", "box"))
        return -1;
    if (!(scale[0] <= scale[1]) || !(ratio[0] <= ratio[1]) || !(ratio[0] > 0) || h < 1 || w < 1) {
        cg_error(CG_ERR_ARG,
                 "random_resized_crop: scale (%g, %g) and ratio (%g, %g) must be ordered "
                 "ranges, ratio > 0 (image %dx%d)",
                 scale[0], scale[1], ratio[0], ratio[1], h, w);
        return -1;
    }
    double area = (double)h * w, lo = log(ratio[0]), hi = log(ratio[1]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * (scale[0] + (scale[1] - scale[0]) * cg_rng_uniform(rng));
        double aspect = exp(lo + (hi - lo) * cg_rng_uniform(rng));
        int cw = (int)nearbyint(sqrt(target * aspect)), ch = (int)nearbyint(sqrt(target / aspect));
        if (cw > 0 && cw <= w && ch > 0 && ch <= h) {
            box[0] = (int)tf_below(rng, (uint32_t)(h - ch + 1));
            box[1] = (int)tf_below(rng, (uint32_t)(w - cw + 1));
            box[2] = ch, box[3] = cw;
            return 0;
        }
    }
    double in_ratio = (double)w / h; // the fallback: a central crop
    int cw = w, ch = h;
    if (in_ratio < ratio[0])
        ch = (int)nearbyint(cw / (double)ratio[0]);
    else if (in_ratio > ratio[1])
        cw = (int)nearbyint(ch * (double)ratio[1]);
    box[0] = (h - ch) / 2, box[1] = (w - cw) / 2, box[2] = ch, box[3] = cw;
    return 0;
}

// ---- the steps -------------------------------------------------------------------------------

cg_transform cg_t_to_tensor(void) {
    return (cg_transform){.kind = CG_T_TO_TENSOR};
}
cg_transform cg_t_normalize(int channels, const float *mean, const float *std) {
    cg_transform t = {.kind = CG_T_NORMALIZE, .channels = channels};
    if (!cg_check_ptr(mean, "normalize", "mean") || !cg_check_ptr(std, "normalize", "std"))
        t.channels = 0; // refused again when applied: no channel matches
    for (int c = 0; c < channels && c < 4 && mean && std; c++)
        t.mean[c] = mean[c], t.std[c] = std[c];
    return t;
}
cg_transform cg_t_resize(int height, int width, cg_interp interp) {
    return (cg_transform){.kind = CG_T_RESIZE, .height = height, .width = width, .interp = interp};
}
cg_transform cg_t_center_crop(int height, int width) {
    return (cg_transform){.kind = CG_T_CENTER_CROP, .height = height, .width = width};
}
cg_transform cg_t_pad(int left, int top, int right, int bottom, cg_border_mode mode, float fill) {
    return (cg_transform){
        .kind = CG_T_PAD, .pad = {left, top, right, bottom}, .pad_mode = mode, .fill = fill};
}
cg_transform cg_t_grayscale(int channels) {
    return (cg_transform){.kind = CG_T_GRAYSCALE, .channels = channels};
}
cg_transform cg_t_random_crop(int height, int width, int pad) {
    return (cg_transform){
        .kind = CG_T_RANDOM_CROP, .height = height, .width = width, .pad = {pad, pad, pad, pad}};
}
cg_transform cg_t_random_horizontal_flip(float p) {
    return (cg_transform){.kind = CG_T_RANDOM_HFLIP, .p = p};
}
cg_transform cg_t_random_resized_crop(int height, int width) {
    return (cg_transform){.kind = CG_T_RANDOM_RESIZED_CROP,
                          .height = height,
                          .width = width,
                          .scale = {0.08f, 1.0f},
                          .ratio = {3.0f / 4.0f, 4.0f / 3.0f}};
}
cg_transform cg_t_random_erasing(float p, float value) {
    return (cg_transform){.kind = CG_T_RANDOM_ERASING,
                          .p = p,
                          .value = value,
                          .scale = {0.02f, 0.33f},
                          .ratio = {0.3f, 3.3f}};
}
cg_transform cg_t_random_vertical_flip(float p) {
    return (cg_transform){.kind = CG_T_RANDOM_VFLIP, .p = p};
}

// Resize and RandomResizedCrop's resampling: antialias as torchvision 0.14 on tensors,
// bilinear only (its ValueError for other modes).
static int resize(cg_sample *s, int height, int width, cg_interp interp, bool antialias) {
    if (!antialias) return cg_tf_resize(s, height, width, interp);
    if (interp != CG_INTERP_BILINEAR) {
        cg_error(CG_ERR_ARG, "resize: antialias is supported for bilinear interpolation only");
        return -1;
    }
    return cg_tf_resize_antialias(s, height, width);
}

// torchvision's RandomCrop.forward: pad, pad_if_needed (both sides by the shortfall), then
// a window drawn by get_params.
static int random_crop(const cg_transform *t, cg_sample *s, cg_rng *rng) {
    const int *p = t->pad;
    if ((p[0] || p[1] || p[2] || p[3]) &&
        cg_tf_pad(s, p[0], p[1], p[2], p[3], t->pad_mode, t->fill))
        return -1;
    if (tf_floats(s, "random_crop")) return -1;
    int dw = t->width - s->w, dh = t->height - s->h;
    if (t->pad_if_needed && dw > 0 && cg_tf_pad(s, dw, 0, dw, 0, t->pad_mode, t->fill)) return -1;
    if (t->pad_if_needed && dh > 0 && cg_tf_pad(s, 0, dh, 0, dh, t->pad_mode, t->fill)) return -1;
    int top, left;
    if (cg_random_crop_params(rng, s->h, s->w, t->height, t->width, &top, &left)) return -1;
    return cg_tf_crop(s, top, left, t->height, t->width);
}

static int random_resized_crop(const cg_transform *t, cg_sample *s, cg_rng *rng) {
    int box[4];
    if (tf_floats(s, "random_resized_crop") ||
        cg_random_resized_crop_params(rng, s->h, s->w, t->scale, t->ratio, box) ||
        cg_tf_crop(s, box[0], box[1], box[2], box[3]))
        return -1;
    return resize(s, t->height, t->width, t->interp, t->antialias);
}

// RandomErasing.forward: erase with probability p, at a box drawn after the coin.
static int random_erasing(const cg_transform *t, cg_sample *s, cg_rng *rng) {
    int box[4];
    if (tf_floats(s, "random_erasing")) return -1;
    if (!(cg_rng_uniform(rng) < t->p)) return 0;
    if (cg_random_erasing_params(rng, s->h, s->w, t->scale, t->ratio, box)) return -1;
    if (t->random_value) return cg_tf_erase_noise(s, box[0], box[1], box[2], box[3], rng);
    return cg_tf_erase(s, box[0], box[1], box[2], box[3], t->value);
}

static int apply_one(const cg_transform *t, cg_sample *s, cg_rng *rng) {
    switch (t->kind) {
    case CG_T_TO_TENSOR:
        return cg_tf_to_tensor(s);
    case CG_T_NORMALIZE:
        if (tf_floats(s, "normalize")) return -1;
        if (t->channels != s->c) {
            cg_error(CG_ERR_ARG, "normalize: %d mean/std values for a %d-channel image",
                     t->channels, s->c);
            return -1;
        }
        return cg_tf_normalize(s, t->mean, t->std);
    case CG_T_RESIZE:
        return resize(s, t->height, t->width, t->interp, t->antialias);
    case CG_T_CENTER_CROP:
        return cg_tf_center_crop(s, t->height, t->width);
    case CG_T_PAD:
        return cg_tf_pad(s, t->pad[0], t->pad[1], t->pad[2], t->pad[3], t->pad_mode, t->fill);
    case CG_T_GRAYSCALE:
        if (s->c == 1 && t->channels == 1) return tf_floats(s, "grayscale");
        return cg_tf_rgb_to_grayscale(s, t->channels);
    case CG_T_RANDOM_CROP:
        return random_crop(t, s, rng);
    case CG_T_RANDOM_HFLIP:
        return cg_rng_uniform(rng) < t->p ? cg_tf_hflip(s) : tf_floats(s, "hflip");
    case CG_T_RANDOM_RESIZED_CROP:
        return random_resized_crop(t, s, rng);
    case CG_T_RANDOM_ERASING:
        return random_erasing(t, s, rng);
    case CG_T_RANDOM_VFLIP:
        return cg_rng_uniform(rng) < t->p ? cg_tf_vflip(s) : tf_floats(s, "vflip");
    case CG_T_RANDOM_ROTATION:
        return tf_random_rotation(t, s, rng);
    case CG_T_RANDOM_AFFINE:
        return tf_random_affine(t, s, rng);
    case CG_T_COLOR_JITTER:
        return tf_color_jitter(t, s, rng);
    }
    cg_error(CG_ERR_ARG, "transform: unknown kind %d", (int)t->kind);
    return -1;
}

int cg_transform_apply(const cg_transform *steps, int n, cg_sample *s, cg_rng *rng) {
    if (n > 0 && !steps) {
        cg_error(CG_ERR_ARG, "transform_apply: steps is NULL for %d steps", n);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (apply_one(&steps[i], s, rng)) return -1;
    return tf_floats(s, "transform_apply"); // a pipeline always ends in floats
}
