// io/transforms.h - torchvision.transforms on one sample (io/dataset.h's cg_sample), each
// with a functional form taking explicit parameters (torchvision.transforms.functional).
//
//   cg_transform steps[] = {cg_t_resize(32, 32, CG_INTERP_BILINEAR), cg_t_random_crop(32, 4),
//                           cg_t_random_horizontal_flip(0.5f),
//                           cg_t_normalize(3, (float[]){0.5f, 0.5f, 0.5f},
//                                          (float[]){0.25f, 0.25f, 0.25f})};
//   cg_transform_apply(steps, 4, &sample, &rng); // a Compose is an array of steps
//
// cgrad follows torchvision's TENSOR-backed transforms (the functional ops on a float CHW
// tensor), not the PIL-backed ones: samples are floats once they reach a transform. A
// sample that is still HWC bytes is converted first as by ToTensor (bytes / 255, CHW), so a
// geometric step before ToTensor means "ToTensor, then the step on the float tensor".
// Differences from PIL: Resize interpolates the float values (no rounding to bytes) and,
// as torchvision 0.14 on tensors, without antialiasing unless asked (the field antialias,
// cg_tf_resize_antialias); Grayscale uses the tensor weights 0.2989 R + 0.587 G + 0.114 B.
//
// Random steps draw from the cg_rng they are given (the loader hands each batch its own
// stream): RandomHorizontalFlip/VerticalFlip flip when cg_rng_uniform(rng) < p, RandomCrop
// draws top then left, each uniform over the legal positions (torch.randint's range).
// RandomRotation draws its angle, RandomAffine its angle, translation, scale and shears in
// torchvision's get_params order (each only when its range is given).
// Every function returns 0, or -1 after cg_error naming the transform and the shapes.
#ifndef CG_TRANSFORMS_H
#define CG_TRANSFORMS_H

#include "../tensor/options.h"
#include "dataset.h"

typedef enum cg_interp {
    CG_INTERP_BILINEAR = 0, // torchvision's default (InterpolationMode.BILINEAR)
    CG_INTERP_NEAREST,      // PyTorch's "nearest": source index floor(dst * in / out)
} cg_interp;

typedef enum cg_border_mode {
    CG_BORDER_CONSTANT = 0, // the fill value
    CG_BORDER_EDGE,         // repeat the last value
    CG_BORDER_REFLECT,      // mirror without the edge (pad < side)
    CG_BORDER_SYMMETRIC,    // mirror with the edge (pad <= side)
} cg_border_mode;

typedef enum cg_transform_kind {
    CG_T_TO_TENSOR,
    CG_T_NORMALIZE,
    CG_T_RESIZE,
    CG_T_CENTER_CROP,
    CG_T_PAD,
    CG_T_GRAYSCALE,
    CG_T_RANDOM_CROP,
    CG_T_RANDOM_HFLIP,
    CG_T_RANDOM_VFLIP,
    CG_T_RANDOM_RESIZED_CROP,
    CG_T_RANDOM_ERASING,
    CG_T_RANDOM_ROTATION,
    CG_T_RANDOM_AFFINE,
    CG_T_COLOR_JITTER,
} cg_transform_kind;

// One step: a kind and its parameters (fields a kind does not use are ignored). Build them
// with the cg_t_* constructors below rather than by hand.
typedef struct cg_transform {
    cg_transform_kind kind;
    int height, width;        // RESIZE (width 0: the smaller edge becomes height, as an int
                              // size), CENTER_CROP, RANDOM_CROP
    int pad[4];               // PAD, RANDOM_CROP's padding: left, top, right, bottom
    cg_border_mode pad_mode;  // PAD, RANDOM_CROP
    float fill;               // PAD, RANDOM_CROP (constant mode); RANDOM_ROTATION/AFFINE:
                              // the value of pixels mapped from outside the image
    bool pad_if_needed;       // RANDOM_CROP
    cg_interp interp;         // RESIZE, RANDOM_ROTATION/AFFINE (their constructors: NEAREST)
    bool antialias;           // RESIZE, RANDOM_RESIZED_CROP: torchvision's antialias=True
                              // (bilinear only; false is 0.14's default on tensors)
    float p;                  // RANDOM_HFLIP, RANDOM_VFLIP
    int channels;             // NORMALIZE (1..4), GRAYSCALE (output channels: 1 or 3)
    float mean[4], std[4];    // NORMALIZE
    float scale[2], ratio[2]; // RANDOM_RESIZED_CROP, RANDOM_ERASING: area fraction and
                              // aspect ratio ranges; RANDOM_AFFINE: scale[] is the scale
                              // range ({0, 0}: None, scale 1, nothing drawn)
    float value;              // RANDOM_ERASING: the value erased boxes get (and p above)
    bool random_value;        // RANDOM_ERASING: value="random", N(0, 1) noise per erased
                              // pixel from the step's generator (value is then unused)
    float degrees[2];         // RANDOM_ROTATION/AFFINE: the angle range, in degrees
    float translate[2];       // RANDOM_AFFINE: the largest shift as fractions of the width
                              // and height, in [0, 1] ({0, 0}: None, nothing drawn)
    float shear[4];           // RANDOM_AFFINE: the x shear range, then the y one, in degrees
                              // (all 0: None; y range {0, 0}: x only, as a 2-value shear)
    cg_optional center[2];    // RANDOM_ROTATION/AFFINE: (x, y) in pixels, the origin at the
                              // top-left corner; unset: the image centre
    bool expand;              // RANDOM_ROTATION: the output grows to hold the whole image
    float jitter[4][2];       // COLOR_JITTER: the brightness, contrast, saturation and hue
                              // factor ranges; a range {1, 1} ({0, 0} for hue) is None
} cg_transform;

cg_transform cg_t_to_tensor(void);
// mean/std: `channels` values each (std > 0, checked when applied).
cg_transform cg_t_normalize(int channels, const float *mean, const float *std);
cg_transform cg_t_resize(int height, int width, cg_interp interp);
cg_transform cg_t_center_crop(int height, int width);
cg_transform cg_t_pad(int left, int top, int right, int bottom, cg_border_mode mode, float fill);
cg_transform cg_t_grayscale(int channels);
// RandomCrop((height, width), padding=pad on every side); the other options are fields.
cg_transform cg_t_random_crop(int height, int width, int pad);
cg_transform cg_t_random_horizontal_flip(float p);
cg_transform cg_t_random_vertical_flip(float p);
// RandomResizedCrop((height, width)) with torchvision's defaults: scale (0.08, 1), ratio
// (3/4, 4/3), bilinear; change the fields for others.
cg_transform cg_t_random_resized_crop(int height, int width);
// RandomErasing(p, scale=(0.02, 0.33), ratio=(0.3, 3.3), value) with a constant value; set
// the field `random_value` for value="random" (normal noise, drawn after the box).
cg_transform cg_t_random_erasing(float p, float value);
// RandomRotation(degrees): an angle uniform in (-degrees, degrees); nearest, fill 0, no
// expand, the image centre (set the fields `degrees`, `interp`, `fill`, `expand`, `center`).
cg_transform cg_t_random_rotation(float degrees);
// RandomAffine(degrees): angle uniform in (-degrees, degrees), no translation, scale or
// shear, nearest, fill 0; the fields `translate`, `scale`, `shear` add them.
cg_transform cg_t_random_affine(float degrees);
// ColorJitter(brightness, contrast, saturation, hue): ranges [max(0, 1 - b), 1 + b] (the
// same for contrast and saturation; 0 is None) and [-hue, hue] (hue <= 0.5); set the field
// `jitter` for explicit ranges. Each call draws an order of the four (a uniform
// permutation, as torch.randperm(4)) and then the factors of the ranges that are not None.
cg_transform cg_t_color_jitter(float brightness, float contrast, float saturation, float hue);

// Apply steps[0..n) in order (a Compose). rng may be NULL (the global generator).
int cg_transform_apply(const cg_transform *steps, int n, cg_sample *s, cg_rng *rng);

// ---- the functional forms (transforms.functional), in place on *s ----------------------------
int cg_tf_to_tensor(cg_sample *s); // HWC bytes -> CHW floats / 255 (no-op on floats)
int cg_tf_normalize(cg_sample *s, const float *mean, const float *std); // (x - m) / s per channel
int cg_tf_resize(cg_sample *s, int height, int width, cg_interp interp);
// F.resize(img, size, BILINEAR, antialias=True) on a tensor: F.interpolate's antialiased
// bilinear (a triangle filter widened by the scale when shrinking, as PIL), through
// ops/interpolate's weights. Sizes as cg_tf_resize (width 0: an int size).
int cg_tf_resize_antialias(cg_sample *s, int height, int width);
// The window rows top..top+height, columns left..left+width; parts outside the image are 0.
int cg_tf_crop(cg_sample *s, int top, int left, int height, int width);
// Zero-padded when larger than the image; offsets round((side - crop) / 2) half to even.
int cg_tf_center_crop(cg_sample *s, int height, int width);
int cg_tf_pad(cg_sample *s, int left, int top, int right, int bottom, cg_border_mode mode,
              float fill);
int cg_tf_hflip(cg_sample *s);
int cg_tf_vflip(cg_sample *s);
int cg_tf_rgb_to_grayscale(cg_sample *s, int channels); // 3 channels in, 1 or 3 out
// RandomResizedCrop.get_params: up to 10 tries of an area fraction uniform in scale and a
// log-uniform aspect ratio (sides rounded half to even), then a uniform position; else the
// central crop clamped to the ratio range. Fills top, left, height, width.
int cg_random_resized_crop_params(cg_rng *rng, int h, int w, const float scale[2],
                                  const float ratio[2], int box[4]);
// RandomErasing.get_params: up to 10 tries as above (height from area * ratio), boxes
// strictly smaller than the image; after 10 misses a zero box (nothing erased).
int cg_random_erasing_params(cg_rng *rng, int h, int w, const float scale[2], const float ratio[2],
                             int box[4]);
// F.erase with a constant: the box top..top+height, left..left+width set to value.
int cg_tf_erase(cg_sample *s, int top, int left, int height, int width, float value);
// F.erase with RandomErasing's value="random": each erased value an N(0, 1) draw of rng
// (channel by channel, rows top to bottom), as torchvision's normal_() tensor (C, h, w).
int cg_tf_erase_noise(cg_sample *s, int top, int left, int height, int width, cg_rng *rng);
// RandomCrop.get_params: top in [0, h - th], left in [0, w - tw]; -1 if the crop is larger.
int cg_random_crop_params(cg_rng *rng, int h, int w, int th, int tw, int *top, int *left);

// ---- rotation and affine warps (io/transform_affine.c) ----------------------------------------
// torchvision 0.14's TENSOR backend: the inverse matrix of _get_inverse_affine_matrix maps
// each output pixel centre to the input, which grid_sample (align_corners=False) reads with
// nearest (round half to even) or bilinear taps; pixels mapped (partly) from outside the
// image are blended with `fill` through a sampled mask, exactly as the transforms pass a
// fill (F.rotate's fill=None, no mask, is not offered: in bilinear mode it keeps the darker
// zero-blended edge). Angles are in degrees, counter-clockwise for rotate (F.rotate) and
// clockwise for affine (F.affine), as torchvision's. center: (x, y) in pixels from the
// top-left corner, or NULL for the image centre.

// F.rotate(img, angle, interpolation, expand, center, fill): expand grows the output to
// hold the whole rotated image (its size as torchvision computes it).
int cg_tf_rotate(cg_sample *s, float angle, cg_interp interp, bool expand, const float *center,
                 float fill);
// F.affine(img, angle, translate, scale, shear, interpolation, fill, center): rotate by
// angle, scale (> 0), shear by shear[0] (x) and shear[1] (y) degrees, then shift by
// translate (x, y) pixels, about center. The output has the input's size.
int cg_tf_affine(cg_sample *s, float angle, const float translate[2], float scale,
                 const float shear[2], cg_interp interp, float fill, const float *center);
// RandomRotation.get_params: one angle uniform in [degrees[0], degrees[1]].
int cg_random_rotation_params(cg_rng *rng, const float degrees[2], float *angle);
// RandomAffine.get_params for the step t on an h x w image, in its order: the angle; if
// t->translate is set, tx then ty, each round(uniform(-max, max)) half to even with max =
// translate[0] * w (translate[1] * h); if t->scale is set, the scale; if t->shear is set,
// the x shear and, with a y range, the y one.

// ---- colour (io/transform_color.c), torchvision 0.14's tensor functions -----------------------
// 1 or 3 channels (floats expected in [0, 1]; every result is clamped to [0, 1] as _blend
// does). Grayscale means use rgb_to_grayscale's weights 0.2989, 0.587, 0.114.
int cg_tf_adjust_brightness(cg_sample *s, float factor); // factor * x, factor >= 0
// factor * x + (1 - factor) * mean, the mean over the whole (grayscale) image; factor >= 0
int cg_tf_adjust_contrast(cg_sample *s, float factor);
// factor * x + (1 - factor) * gray(x) per pixel; factor >= 0; 1 channel: unchanged
int cg_tf_adjust_saturation(cg_sample *s, float factor);
// Hue shifted by factor turns in HSV (_rgb2hsv / _hsv2rgb); factor in [-0.5, 0.5]; 1
// channel: unchanged
int cg_tf_adjust_hue(cg_sample *s, float factor);
// ColorJitter.get_params for the step t: order[] a uniform permutation of 0..3 (0
// brightness, 1 contrast, 2 saturation, 3 hue; drawn first, as torch.randperm), then each
// factor uniform in its range, NAN for a None range (neither drawn nor applied).
int cg_color_jitter_params(cg_rng *rng, const cg_transform *t, int order[4], float factors[4]);

typedef struct cg_affine_params {
    float angle, translate[2], scale, shear[2];
} cg_affine_params;
int cg_random_affine_params(cg_rng *rng, const cg_transform *t, int h, int w,
                            cg_affine_params *out);

#endif
