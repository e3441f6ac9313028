// tests/sanitizer/tensor_double_free.c - cg_free(t) twice (two later tensors used to share
// one block) must be an ASan report: the second call reads the freed header.
#include "cgrad.h"

int main(void) {
    cg_tensor *t = cg_ones(CG_SHAPE(100));
    cg_free(t);
    cg_free(t);
    return 0;
}
