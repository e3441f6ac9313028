// tests/sanitizer/overflow_into_slack.c - writing one element past a tensor must be a
// heap-buffer-overflow report even where a size class would have rounded the block up.
#include "cgrad.h"

int main(void) {
    cg_tensor *t = cg_zeros(CG_SHAPE(100)); // 400 bytes: size class 448
    t->data[100] = 1.0f;
    cg_free(t);
    return 0;
}
