// tests/fuzz/fuzz_image_folder.c - the ImageFolder walk plus the decode and transform path:
// the input is a 10-byte header (options, transform parameters) and up to three files (the
// rest of the input cut in equal parts), placed in two class folders under extensions the
// header picks; the folder is scanned with either bad-file policy, every sample decoded and
// sent through Resize, Pad, RandomCrop, flips, RandomRotation (expand or not), RandomAffine,
// ColorJitter, RandomErasing (constant or noise), RandomResizedCrop, Grayscale and Normalize
// with fuzzed sizes and parameters.
#include <string.h>
#include <sys/stat.h>

#include "fuzz_common.h"

static const char *const exts[] = {".png", ".jpg", ".bmp", ".PNG", ".jpeg", ".webp", ".txt", ""};

static void path_of(char *out, size_t n, const char *root, int j, int ext) {
    snprintf(out, n, "%s/%c/f%d%s", root, j % 2 ? 'b' : 'a', j, exts[ext]);
}

static void transform_all(const cg_dataset *d, const uint8_t *h, int channels) {
    cg_transform steps[] = {
        cg_t_resize(1 + h[3] % 40, h[4] % 40, h[5] & 1 ? CG_INTERP_NEAREST : CG_INTERP_BILINEAR),
        cg_t_pad(h[6] % 5, h[6] / 5 % 5, h[7] % 5, h[7] / 5 % 5, (cg_border_mode)(h[8] % 4), 0.5f),
        cg_t_random_crop(1 + h[9] % 20, 1 + h[9] / 20 % 20, h[8] / 4 % 3),
        cg_t_random_horizontal_flip(0.5f),
        cg_t_random_vertical_flip(0.5f),
        cg_t_random_rotation((float)(h[6] % 181)),
        cg_t_random_affine((float)(h[7] % 90)),
        cg_t_color_jitter(0.5f, 0.5f, 0.5f, (float)(h[9] % 6) / 10),
        cg_t_random_erasing(0.5f, 0.0f),
        cg_t_random_resized_crop(1 + h[4] % 30, 1 + h[3] % 30),
        cg_t_grayscale(channels == 3 ? 3 : 1),
        cg_t_normalize(channels, (float[]){0.5f, 0.5f, 0.5f, 0.5f},
                       (float[]){0.25f, 0.25f, 0.25f, 0.25f}),
    };
    steps[2].pad_if_needed = h[5] & 2;
    steps[5].interp = h[5] & 4 ? CG_INTERP_BILINEAR : CG_INTERP_NEAREST;
    steps[5].expand = h[5] & 8; // grows the image: the crop and resizes after it cope
    steps[6].interp = h[5] & 16 ? CG_INTERP_BILINEAR : CG_INTERP_NEAREST;
    steps[6].translate[0] = (float)(h[8] % 5) / 4, steps[6].translate[1] = 0.25f;
    steps[6].scale[0] = 0.5f, steps[6].scale[1] = 1.0f + (float)(h[8] / 5 % 4);
    steps[6].shear[0] = -(float)(h[9] % 60), steps[6].shear[1] = (float)(h[9] % 60);
    steps[8].random_value = h[5] & 32;
    cg_rng rng;
    cg_rng_seed(&rng, h[0]);
    for (int64_t i = 0; i < cg_dataset_count(d); i++) {
        cg_sample s;
        if (cg_dataset_get(d, i, &s) == 0) cg_transform_apply(steps, 12, &s, &rng);
        cg_sample_clear(&s);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 10) return 0;
    const uint8_t *h = data;
    char root[256], p[300];
    snprintf(root, sizeof root, "%s", fuzz_file("_folder", NULL, 0));
    mkdir(root, 0755);
    snprintf(p, sizeof p, "%s/a", root), mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/b", root), mkdir(p, 0755);
    int files = 1 + h[1] % 3, channels = (int[]){1, 3, 4}[h[2] % 3];
    size_t part = (size - 10) / (size_t)files;
    for (int j = 0; j < files; j++) {
        path_of(p, sizeof p, root, j, (h[2] >> (2 + j)) % 8);
        FILE *f = fopen(p, "wb");
        if (!f) continue;
        fwrite(data + 10 + (size_t)j * part, 1, part, f);
        fclose(f);
    }
    cg_image_folder_options o = {.channels = channels,
                                 .bad = h[1] & 4 ? CG_BAD_FILE_SKIP : CG_BAD_FILE_FAIL,
                                 .cache = h[1] & 8};
    cg_dataset *d = cg_image_folder_new(root, &o);
    if (d) transform_all(d, h, channels);
    cg_dataset_free(d);
    for (int j = 0; j < files; j++) {
        path_of(p, sizeof p, root, j, (h[2] >> (2 + j)) % 8);
        unlink(p);
    }
    return 0;
}
