// examples/make_picture.c - draw one test image of an MNIST-format dataset as a photo-like picture:
// dark on white, scaled up, off-centre on a larger page. mnist_cnn --predict has to invert,
// crop, resize and centre it back, as it would a real photo (docs/examples.md, "Measured").
//
//   make_picture [--data DIR] [--index N] OUT.bmp
//
// The picture is a plain 24-bit BMP written here (no image library needed): 300x260 pixels,
// white, with the 28x28 image drawn 7x7 per pixel (196x196) 30 pixels down, 60 across.
#include <cgrad.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { PAGE_W = 300, PAGE_H = 260, SCALE = 7, TOP = 30, LEFT = 60 };

static void put32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

// gray(x, y) in [0, 1] for every pixel of the page; rows bottom-up as BMP stores them.
static int write_bmp(const char *path, const cg_tensor *image, int64_t index) {
    const int row = (PAGE_W * 3 + 3) / 4 * 4;
    uint8_t header[54] = {'B', 'M'};
    put32(header + 2, (uint32_t)(54 + row * PAGE_H));
    put32(header + 10, 54), put32(header + 14, 40);
    put32(header + 18, PAGE_W), put32(header + 22, PAGE_H);
    header[26] = 1, header[28] = 24;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    fwrite(header, 1, sizeof header, f);
    uint8_t line[PAGE_W * 3 + 3] = {0};
    for (int y = PAGE_H - 1; y >= 0; y--) {
        for (int x = 0; x < PAGE_W; x++) {
            int iy = (y - TOP) / SCALE, ix = (x - LEFT) / SCALE;
            float v = 0; // white page: the object is drawn dark on it
            if (y >= TOP && x >= LEFT && iy < image->shape[2] && ix < image->shape[3])
                v = cg_get(image, CG_SHAPE(index, 0, iy, ix));
            uint8_t g = (uint8_t)(255.0f * (1.0f - v) + 0.5f);
            line[3 * x] = line[3 * x + 1] = line[3 * x + 2] = g;
        }
        fwrite(line, 1, (size_t)row, f);
    }
    return fclose(f) == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
    const char *dir = "/usr/share/datasets/fashion-mnist", *out = NULL;
    long index = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--data") && i + 1 < argc)
            dir = argv[++i];
        else if (!strcmp(argv[i], "--index") && i + 1 < argc)
            index = strtol(argv[++i], NULL, 10);
        else
            out = argv[i];
    }
    cg_mnist test;
    if (!out || cg_mnist_load(dir, false, &test)) {
        fprintf(stderr, "usage: make_picture [--data DIR] [--index N] OUT.bmp\n");
        return 1;
    }
    int rc = 1;
    if (index >= 0 && index < test.count) {
        rc = write_bmp(out, test.images, index) == 0 ? 0 : 1;
        if (rc == 0)
            printf("wrote %s: test image %ld (label %d) dark on white\n", out, index,
                   (int)cg_get(test.labels, CG_SHAPE(index)));
        else
            fprintf(stderr, "make_picture: cannot write %s\n", out);
    } else {
        fprintf(stderr, "make_picture: --index %ld is outside 0..%lld\n", index,
                (long long)test.count - 1);
    }
    cg_mnist_free(&test);
    return rc;
}
