// tests/sanitizer/use_after_scope.c - reading a loss after cg_scope_end() freed it must be
// a heap-use-after-free report, not a stale value from a cached block.
#include <stdio.h>

#include "cgrad.h"

int main(void) {
    cg_tensor *x = cg_ones(CG_SHAPE(4, 4));
    cg_scope_begin();
    cg_tensor *loss = cg_sum(cg_mul(x, x), 0, NULL, false);
    cg_scope_end();
    printf("loss %g\n", loss->data[0]); // freed with the scope
    cg_free(x);
    return 0;
}
