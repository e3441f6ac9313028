// io/transform_erase.c - RandomErasing (torchvision.transforms.RandomErasing with a constant
// value or value="random") and its functional form F.erase.
#include <math.h>

#include "transform_internal.h"

// The box check of F.erase, shared by the constant and the noise forms.
static int check_box(const cg_sample *s, const char *op, int top, int left, int height, int width) {
    if (top < 0 || left < 0 || height < 0 || width < 0 || top > s->h - height ||
        left > s->w - width) {
        cg_error(CG_ERR_ARG, "%s: box (%d, %d, %d, %d) is not inside the %dx%d image", op, top,
                 left, height, width, s->h, s->w);
        return -1;
    }
    return 0;
}

int cg_tf_erase(cg_sample *s, int top, int left, int height, int width, float value) {
    if (tf_floats(s, "erase") || check_box(s, "erase", top, left, height, width)) return -1;
    for (int c = 0; c < s->c; c++)
        for (int y = top; y < top + height; y++)
            for (int x = left; x < left + width; x++)
                s->data[((size_t)c * (size_t)s->h + (size_t)y) * (size_t)s->w + (size_t)x] = value;
    return 0;
}

int cg_tf_erase_noise(cg_sample *s, int top, int left, int height, int width, cg_rng *rng) {
    if (tf_floats(s, "erase_noise") || check_box(s, "erase_noise", top, left, height, width))
        return -1;
    for (int c = 0; c < s->c; c++) // the (C, h, w) noise tensor's order
        for (int y = top; y < top + height; y++)
            for (int x = left; x < left + width; x++)
                s->data[((size_t)c * (size_t)s->h + (size_t)y) * (size_t)s->w + (size_t)x] =
                    cg_rng_normal(rng);
    return 0;
}

int cg_random_erasing_params(cg_rng *rng, int h, int w, const float scale[2], const float ratio[2],
                             int box[4]) {
    if (!cg_check_ptr(scale, "random_erasing", "scale") ||
        !cg_check_ptr(ratio, "random_erasing", "ratio") ||
        !cg_check_ptr(box, "random_erasing", "box"))
        return -1;
    if (!(scale[0] <= scale[1]) || !(ratio[0] <= ratio[1]) || !(ratio[0] > 0) || h < 1 || w < 1) {
        cg_error(CG_ERR_ARG,
                 "random_erasing: scale (%g, %g) and ratio (%g, %g) must be ordered "
                 "ranges, ratio > 0",
                 scale[0], scale[1], ratio[0], ratio[1]);
        return -1;
    }
    double area = (double)h * w, lo = log(ratio[0]), hi = log(ratio[1]);
    for (int attempt = 0; attempt < 10; attempt++) {
        double target = area * (scale[0] + (scale[1] - scale[0]) * cg_rng_uniform(rng));
        double aspect = exp(lo + (hi - lo) * cg_rng_uniform(rng));
        int eh = (int)nearbyint(sqrt(target * aspect)), ew = (int)nearbyint(sqrt(target / aspect));
        if (!(eh < h && ew < w)) continue;
        box[0] = (int)tf_below(rng, (uint32_t)(h - eh + 1));
        box[1] = (int)tf_below(rng, (uint32_t)(w - ew + 1));
        box[2] = eh, box[3] = ew;
        return 0;
    }
    box[0] = box[1] = box[2] = box[3] = 0; // torchvision returns the image itself: no-op
    return 0;
}
