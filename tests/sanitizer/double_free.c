// tests/sanitizer/double_free.c - must be stopped by AddressSanitizer ("attempting
// double-free"): in the sanitizer build the allocator hands ASan every block instead of
// caching it (CTest expects the report; built only with CG_SANITIZE).
#include "cgrad.h"
#include "tensor/alloc.h"

int main(void) {
    void *p = cg_alloc(100);
    cg_dealloc(p);
    cg_dealloc(p); // a cache would have absorbed this and handed p out twice
    return 0;
}
