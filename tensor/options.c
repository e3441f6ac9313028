// tensor/options.c - the resolver every options struct uses (the rule is in options.h).
#include "options.h"

#include "tensor.h"

void cg_option_hw(int scalar, const int hw[2], int dflt_h, int dflt_w, int out[2]) {
    if (!cg_check_ptr(out, "option_hw", "out")) return;
    if (hw && (hw[0] != 0 || hw[1] != 0)) {
        out[0] = hw[0];
        out[1] = hw[1];
    } else {
        out[0] = scalar ? scalar : dflt_h;
        out[1] = scalar ? scalar : dflt_w;
    }
}
