// io/image.h - pictures in and out: classify your own image, look at learned kernels.
//
//   cg_tensor *x = cg_image_load_mnist("shoe.jpg", NULL);      // (1,1,28,28), like MNIST
//   cg_tensor *probs = cg_softmax(cg_module_forward(model, x), 1);
//   ...
//   cg_image_save_grid("kernels.png", conv1_weight, 0, 8);    // (8,1,5,5) -> 8 tiles
//
// Decoding uses stb_image for PNG, JPEG and BMP only (the other formats stb knows are
// compiled out; see io/image.c for why), encoding stb_image_write.
#ifndef CG_IMAGE_H
#define CG_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

// Limits checked on the file and its header before anything is decoded, so a corrupt or
// hostile file fails with CG_ERR_FORMAT / CG_ERR_IO instead of allocating gigabytes:
#define CG_IMAGE_MAX_FILE_BYTES      (INT64_C(256) << 20) // 256 MiB
#define CG_IMAGE_MAX_SIDE            16384                // pixels, width and height
#define CG_IMAGE_MAX_PIXELS          (INT64_C(1) << 26)   // 64 Mi pixels (8192 x 8192)
#define CG_IMAGE_MAX_PIXELS_PER_BYTE 1024 // beyond 1 Mi pixels: at most 1024 per file byte

#include "../tensor/tensor.h"

typedef enum cg_image_invert {
    CG_INVERT_AUTO = 0, // invert if the border is mostly light (dark ink on white paper)
    CG_INVERT_NEVER,
    CG_INVERT_ALWAYS,
} cg_image_invert;

// Zero fields mean the defaults.
typedef struct cg_image_options {
    int size; // output side in pixels; 0: 28
    int box;  // content is scaled to fit a box x box square; 0: size (whole
              // frame, as Fashion-MNIST); 20 is the original MNIST digits' box
    cg_image_invert invert;
    bool no_crop;         // keep the whole picture instead of cropping to its content
    float crop_threshold; // content = pixels above this (after inversion); 0: 0.1
} cg_image_options;

// Load an image as grayscale (stb's luma) scaled to [0,1], shape (1,1,H,W), unchanged size.
// Returns an unscoped tensor the caller frees, or NULL: CG_ERR_IO if the file cannot be
// opened or read (a directory "is a directory"), CG_ERR_FORMAT with stb's reason ("unknown
// image type", "bad png sig", ...) if it cannot be decoded or its header exceeds the limits.
cg_tensor *cg_image_load_gray(const char *path);

// Load an image as 8-bit HWC pixels with `channels` 1, 3 or 4, converted like PIL's
// Image.convert("L" / "RGB" / "RGBA") whatever the file holds (gray, gray+alpha, RGB, RGBA,
// palette). Returns a cg_alloc'd buffer of height * width * channels bytes (cg_dealloc it)
// and sets *width, *height; NULL on error, as cg_image_load_gray. Safe to call from several
// threads at once (stb's failure reason is thread-local).
uint8_t *cg_image_load_pixels(const char *path, int channels, int *width, int *height);
// Read the file and check its header against the limits without decoding the pixels: 0 and
// the dims and the file's own channel count (any pointer may be NULL), or -1 as above.
int cg_image_probe(const char *path, int *width, int *height, int *channels);

// Load an image and prepare it the way MNIST pictures are made, as (1,1,size,size) in [0,1]
// with light strokes on a dark background:
//  1. grayscale in [0,1]; invert (x -> 1-x) per options->invert; AUTO inverts when the mean
//     of the outermost pixel ring is above 0.5;
//  2. crop to the bounding box of pixels > crop_threshold (nothing is cropped if none is);
//  3. resize (stb_image_resize, aspect ratio kept) so the longer side is `box` pixels, the
//     shorter one round(side * box / longer), at least 1;
//  4. paste centred into a zero size x size frame (offset (size - side) / 2, rounded down)
//     and clamp to [0,1].
// options NULL means all defaults. Errors as cg_image_load_gray, plus CG_ERR_ARG for
// box > size or size < 1. Returns an unscoped tensor the caller frees.
cg_tensor *cg_image_load_mnist(const char *path, const cg_image_options *options);

// The same preparation applied to a grayscale (H,W) or (1,1,H,W) tensor in [0,1].
// Returns an unscoped (1,1,size,size) tensor the caller frees.
cg_tensor *cg_image_prepare_mnist(const cg_tensor *gray, const cg_image_options *options);

// Save images as one PNG grid. `images` is (N,C,H,W): C == 3 gives N colour tiles, any other
// C gives N*C grayscale tiles (image n's channels in a row of the reading order: kernels of
// a Conv2d weight (O,I,kH,kW), or feature maps). A 2-d (H,W) tensor is one tile.
// Each tile is min-max normalised on its own (a constant tile becomes mid gray), magnified
// `scale` times with nearest-neighbour (0: 1) and separated from the next by a 1-pixel
// border (dark gray). `columns` tiles per row (0: ceil(sqrt(tiles))). The picture is
//   width  = columns * (W * scale + 1) + 1,  height = rows * (H * scale + 1) + 1
// with rows = ceil(tiles / columns). Written atomically (temporary file, fsync, rename):
// on failure (CG_ERR_IO) an existing file at path is unchanged. Returns 0 or -1.
int cg_image_save_grid(const char *path, const cg_tensor *images, int columns, int scale);

// The same with options: `scale` 0 magnifies small tiles to about 64 pixels (a 3x3 kernel
// to 63x63, a 28x28 map to 56x56); `labels` adds a strip under each tile with its index in
// white digits ("5", or "5.2" for image 5, channel 2), 7 * s pixels high (s = 2 for tiles
// at least 40 pixels wide, else 1): height = rows * (H * scale + strip + 1) + 1.
typedef struct cg_grid_options {
    int columns; // tiles per row (0: ceil(sqrt(tiles)))
    int scale;   // magnification (0: automatic, as above)
    bool labels;
} cg_grid_options;
int cg_image_save_grid_ex(const char *path, const cg_tensor *images,
                          const cg_grid_options *options);

#endif
