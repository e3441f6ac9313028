// tests/sanitizer/double_free.c - must be stopped by AddressSanitizer ("attempting
// double-free"): in the sanitizer build the allocator hands ASan every block (CTest
// expects the report; built only with CG_SANITIZE).
#include "cgrad.h"

int main(void) {
    cg_tensor *t = cg_ones(CG_SHAPE(100));
    cg_free(t);
    cg_free(t); // the tensor header is freed twice
    return 0;
}
