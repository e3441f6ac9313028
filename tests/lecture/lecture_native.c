// tests/lecture/lecture_native.c - the lecture page's computation (examples/lecture/
// lecture_api.c) in the native build, for the browser test to compare the page with.
//
// stdin: "nx nw nb", then LEC_N_PARAMS ints, then nx + nw + nb floats (x, weight, bias).
// stdout: "error <message>" when cgrad refused the parameters, else one line per result:
// "<name> <ndim> <dims...> <values...>" (values with 9 significant digits).
#include <stdio.h>
#include <stdlib.h>

#include "../../examples/lecture/lecture_api.h"

static int read_floats(float *v, int n) {
    for (int i = 0; i < n; i++)
        if (scanf("%f", &v[i]) != 1) return -1;
    return 0;
}

int main(void) {
    int nx, nw, nb, params[LEC_N_PARAMS];
    if (scanf("%d %d %d", &nx, &nw, &nb) != 3 || nx < 0 || nw < 0 || nb < 0) return 2;
    for (int i = 0; i < LEC_N_PARAMS; i++)
        if (scanf("%d", &params[i]) != 1) return 2;
    float *v = malloc(sizeof(float) * (size_t)(nx + nw + nb + 1));
    if (!v || read_floats(v, nx + nw + nb) < 0) return 2;
    if (lec_run(params, v, v + nx, v + nx + nw) < 0) {
        printf("error %s\n", lec_error());
    } else {
        for (int r = 0; r < lec_count(); r++) {
            printf("%s %d", lec_name(r), lec_ndim(r));
            for (int d = 0; d < lec_ndim(r); d++) printf(" %d", lec_dim(r, d));
            for (int i = 0; i < lec_size(r); i++) printf(" %.9g", lec_data(r)[i]);
            printf("\n");
        }
    }
    free(v);
    return 0;
}
