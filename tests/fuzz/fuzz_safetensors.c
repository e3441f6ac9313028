// tests/fuzz/fuzz_safetensors.c - safetensors files: header, layout, dtype conversion.
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    cg_safetensors st;
    if (cg_safetensors_load(fuzz_file(".safetensors", data, size), &st) == 0) {
        for (int i = 0; i < st.tensors.count; i++)
            cg_safetensors_find(&st, st.tensors.items[i].name);
        cg_safetensors_meta(&st, "format");
        cg_safetensors_free(&st);
    }
    return 0;
}
