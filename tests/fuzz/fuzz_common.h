// tests/fuzz/fuzz_common.h - what every libFuzzer harness of cgrad shares.
//
// Each harness defines LLVMFuzzerTestOneInput, feeds the input to one loader through a
// temporary file (the loaders take paths), and must never crash, leak or allocate without
// bound: errors are expected and silenced.
#ifndef CG_FUZZ_COMMON_H
#define CG_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "cgrad.h"

static inline void fuzz_silent(cg_status status, const char *message, void *userdata) {
    (void)status, (void)message, (void)userdata;
}

// Path of this process's scratch file with the given suffix, holding `size` bytes of data
// (data NULL: just the path).
static inline const char *fuzz_file(const char *suffix, const uint8_t *data, size_t size) {
    static char path[256];
    cg_set_error_handler(fuzz_silent, NULL);
    cg_clear_error();
    snprintf(path, sizeof path, "/tmp/cg_fuzz_%ld%s", (long)getpid(), suffix);
    if (data) {
        FILE *f = fopen(path, "wb");
        if (!f) return NULL;
        if (size) fwrite(data, 1, size, f);
        fclose(f);
    }
    return path;
}

#endif
