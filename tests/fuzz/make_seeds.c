// tests/fuzz/make_seeds.c - writes the seed corpus of every harness with cgrad's own writers
// (and stb_image_write for the JPEG and BMP seeds): make_seeds <dir> creates
// <dir>/<harness>/... for idx, idx_gzip, safetensors, json, checkpoint, image and pth.
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "cgrad.h"

#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb/stb_image_write.h>
#pragma GCC diagnostic pop

static char root[512];

static const char *seed(const char *harness, const char *name) {
    static char path[1200];
    snprintf(path, sizeof path, "%s/%s", root, harness);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/%s/%s", root, harness, name);
    return path;
}

static void write_file(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fprintf(stderr, "make_seeds: cannot write %s\n", path);
        exit(1);
    }
    fclose(f);
}

// An IDX file of `ndim` dims (big-endian) and bytes i * 37 mod 256.
static size_t make_idx(uint8_t *buf, int ndim, const int *dims) {
    size_t n = 0, numel = 1;
    buf[n++] = 0, buf[n++] = 0, buf[n++] = 0x08, buf[n++] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        for (int b = 3; b >= 0; b--) buf[n++] = (uint8_t)(dims[i] >> (8 * b));
        numel *= (size_t)dims[i];
    }
    for (size_t i = 0; i < numel; i++) buf[n++] = (uint8_t)(i * 37);
    return n;
}

static void idx_seeds(void) {
    uint8_t buf[512];
    size_t n = make_idx(buf, 3, (int[]){3, 4, 5});
    write_file(seed("idx", "images.idx"), buf, n);
    write_file(seed("idx_gzip", "images.idx"), buf, n);
    gzFile gz = gzopen(seed("idx", "images.idx.gz"), "wb");
    gzwrite(gz, buf, (unsigned)n);
    gzclose(gz);
    n = make_idx(buf, 1, (int[]){10});
    write_file(seed("idx", "labels.idx"), buf, n);
    write_file(seed("idx_gzip", "labels.idx"), buf, n);
}

static void safetensors_seeds(void) {
    cg_tensor *w = cg_arange(0, 6, 1), *b = cg_full(CG_SHAPE(2, 1), 0.5f);
    cg_tensor_list list = {2, (cg_named_tensor[]){{"weight", w}, {"bias", b}}};
    const char *keys[] = {"format"}, *values[] = {"pt"};
    const char *path = seed("safetensors", "two.safetensors");
    if (cg_safetensors_save(path, &list, 1, keys, values) != 0) exit(1);
    // The JSON harness gets the header text of that file.
    FILE *f = fopen(path, "rb");
    uint8_t len[8], header[4096];
    if (fread(len, 1, 8, f) != 8) exit(1);
    size_t n = fread(header, 1, len[0] | (size_t)len[1] << 8, f);
    fclose(f);
    write_file(seed("json", "header.json"), header, n);
    const char *nested = "{\"a\":[1,2,{\"b\":\"\\u00e9\\n\"}],\"c\":{}}";
    write_file(seed("json", "nested.json"), nested, strlen(nested));
    cg_free(w);
    cg_free(b);
}

// The same model and optimizer as fuzz_checkpoint.c, after one step.
static void checkpoint_seed(void) {
    cg_manual_seed(1);
    cg_module *model = cg_Sequential(2, (cg_module *[]){cg_Linear(4, 3, NULL), cg_ReLU()});
    cg_optimizer *opt = cg_adam_for(model, &(cg_adam_options){.lr = CG_SET(0.01)});
    cg_scope_begin();
    cg_tensor *loss = cg_sum(cg_module_forward(model, cg_ones(CG_SHAPE(2, 4))), 0, NULL, false);
    cg_backward(loss);
    cg_optimizer_step(opt);
    cg_scope_end();
    cg_checkpoint_meta meta = {.epoch = 1, .global_step = 1, .lr = 0.01};
    if (cg_checkpoint_save(seed("checkpoint", "step1.ckpt"), model, opt, &meta) != 0) exit(1);
    cg_optimizer_free(opt);
    cg_module_free(model);
}

// cgrad's own .pth writer, and the torch-written fixtures (views, every storage type,
// a checkpoint dict, big-endian; tests/fixtures/gen_pth.py).
static void pth_seeds(void) {
    cg_tensor *w = cg_arange(0, 6, 1), *b = cg_full(CG_SHAPE(2, 1), 0.5f);
    cg_tensor_list list = {2, (cg_named_tensor[]){{"weight", w}, {"num_batches_tracked", b}}};
    if (cg_pth_save(seed("pth", "cgrad.pth"), &list) != 0) exit(1);
    cg_free(w);
    cg_free(b);
    const char *files[] = {"model", "views", "dtypes", "checkpoint", "bigendian", "evil_reduce"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char from[1024], name[64];
        snprintf(from, sizeof from, "%s/pth/%s.pth", CG_FIXTURE_DIR, files[i]);
        snprintf(name, sizeof name, "%s.pth", files[i]);
        static uint8_t buf[65536];
        FILE *f = fopen(from, "rb");
        if (!f) exit(1);
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        write_file(seed("pth", name), buf, n);
    }
}

static void image_seeds(void) {
    uint8_t pixels[12 * 10];
    for (int i = 0; i < 120; i++) pixels[i] = (uint8_t)(i % 12 < 6 ? 20 : 230);
    stbi_write_png(seed("image", "stripes.png"), 12, 10, 1, pixels, 12);
    stbi_write_bmp(seed("image", "stripes.bmp"), 12, 10, 1, pixels);
    stbi_write_jpg(seed("image", "stripes.jpg"), 12, 10, 1, pixels, 90);
    // A top-down BMP (negative height), which stb's writer never makes: 2x2, 24-bit.
    uint8_t top_down[54 + 16] = {'B', 'M', 70, 0, 0, 0, 0, 0,    0,    0,    54,   0, 0, 0,  40,
                                 0,   0,   0,  2, 0, 0, 0, 0xFE, 0xFF, 0xFF, 0xFF, 1, 0, 24, 0};
    for (int i = 54; i < 70; i++) top_down[i] = (uint8_t)(i * 37);
    write_file(seed("image", "top_down.bmp"), top_down, sizeof top_down);
    cg_tensor *grid = cg_arange(0, 16, 1), *square = cg_reshape(grid, CG_SHAPE(4, 4));
    cg_image_save_grid(seed("image", "grid.png"), square, 0, 2);
    cg_free(square);
    cg_free(grid);
}

// fuzz_image_folder: a 10-byte header (see the harness) then one picture.
static void image_folder_seeds(void) {
    const char *kinds[] = {"stripes.png", "stripes.jpg", "stripes.bmp"};
    for (int k = 0; k < 3; k++) {
        // One file, failing on bad files; extension k (bits 2..4 of byte 2), 3 or 1 channels.
        uint8_t buf[8192] = {0, 0, (uint8_t)(k == 0 ? 1 : k == 1 ? 4 : 9), 28, 28, 0, 7, 7, 4, 25};
        FILE *f = fopen(seed("image", kinds[k]), "rb");
        if (!f) exit(1);
        size_t n = fread(buf + 10, 1, sizeof buf - 10, f);
        fclose(f);
        char name[32];
        snprintf(name, sizeof name, "seed%d.bin", k);
        write_file(seed("image_folder", name), buf, 10 + n);
    }
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_seeds <dir>\n");
        return 2;
    }
    snprintf(root, sizeof root, "%s", argv[1]);
    mkdir(root, 0755);
    idx_seeds();
    safetensors_seeds();
    checkpoint_seed();
    image_seeds();
    pth_seeds();
    image_folder_seeds();
    return 0;
}
