// make_picture - draw one test image of an MNIST-format dataset as a photo-like picture:
// dark on white, scaled up, off-centre on a larger page. mnist_cnn --predict has to invert,
// crop, resize and centre it back, as it would a real photo (README, "Measured").
//
//   make_picture [--data DIR] [--index N] OUT.png
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        fprintf(stderr, "usage: make_picture [--data DIR] [--index N] OUT.png\n");
        return 1;
    }
    int rc = 1;
    if (index >= 0 && index < test.count) {
        // A white 37x43 page with the inverted image 4 rows down and 7 columns in; saved with
        // every pixel drawn 7x7, the picture is 259x301 with a 196x196 garment.
        const int64_t H = test.height, W = test.width, ph = H + 9, pw = W + 15;
        cg_tensor *page = cg_full(CG_SHAPE(1, 1, ph, pw), 1.0f);
        for (int64_t y = 0; y < H; y++)
            for (int64_t x = 0; x < W; x++) {
                float v = cg_get(test.images, CG_SHAPE(index, 0, y, x));
                cg_set(page, CG_SHAPE(0, 0, y + 4, x + 7), 1.0f - v);
            }
        rc = cg_image_save_grid(out, page, 1, 7) == 0 ? 0 : 1;
        if (rc == 0)
            printf("wrote %s: test image %ld (label %d) dark on white\n", out, index,
                   (int)cg_get(test.labels, CG_SHAPE(index)));
        cg_free(page);
    } else {
        fprintf(stderr, "make_picture: --index %ld is outside 0..%lld\n", index,
                (long long)test.count - 1);
    }
    cg_mnist_free(&test);
    return rc;
}
