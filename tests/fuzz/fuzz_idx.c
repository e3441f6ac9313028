// tests/fuzz/fuzz_idx.c - IDX files as given (plain, or gzip when the input is gzip), then a
// data loader batch over what loaded: the loader must size its buffers by real rows only.
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cg_tensor *x = cg_idx_load(fuzz_file(".idx", data, size));
    if (x && x->ndim >= 1) {
        cg_dataloader *dl = cg_dataloader_new(x, NULL, 4, true, 1);
        cg_tensor *bx, *by;
        if (dl) cg_dataloader_next(dl, &bx, &by);
        cg_dataloader_free(dl);
    }
    cg_free(x);
    return 0;
}
