// tests/fuzz/fuzz_idx_gzip.c - the input is an IDX file which the harness gzips before
// loading, so the mutations reach the IDX structure through the zlib path.
#include <zlib.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(".idx.gz", NULL, 0);
    gzFile gz = gzopen(path, "wb1");
    if (!gz) return 0;
    if (size) gzwrite(gz, data, (unsigned)size);
    gzclose(gz);
    cg_tensor *x = cg_idx_load(path);
    cg_free(x);
    return 0;
}
