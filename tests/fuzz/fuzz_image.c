// tests/fuzz/fuzz_image.c - images (PNG, JPEG, BMP and anything else) through
// cg_image_load_mnist: header limits, the JPEG table guard, decoding, preparation.
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cg_tensor *t = cg_image_load_mnist(fuzz_file(".img", data, size), NULL);
    cg_free(t);
    return 0;
}
