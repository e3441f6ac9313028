// tensor/options.c - the resolver every options struct uses (the rule is in options.h).
#include "options.h"

void cg_option_pair(const int pair[2], int dflt_h, int dflt_w, int out[2]) {
    out[0] = pair[0] ? pair[0] : dflt_h;
    out[1] = pair[1] ? pair[1] : pair[0] ? out[0] : dflt_w;
}
