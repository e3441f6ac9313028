// kernels/conv_bias.c - the bias of every convolution-family op: added along the channel
// dim in the forward pass, summed over batch and positions for its gradient.
#include "../tensor/parallel.h"
#include "conv_kernels.h"
#include "elementwise.h"

void cg_conv_add_bias(float *x, const float *bias, int64_t n, int64_t c, int64_t p) {
    for (int64_t i = 0; i < n * c; i++) {
        float b = bias[i % c];
        float *row = x + i * p;
        for (int64_t j = 0; j < p; j++) row[j] += b;
    }
}

void cg_conv_bias_grad(const float *g, float *dbias, int64_t n, int64_t c, int64_t p) {
    // One channel per iteration: each sum is taken in the same order whatever the threads.
    // cg_sum_floats (32 float lanes per row, rows added in double) runs at load speed; a
    // running double sum cost ~4 cycles per element (8.6% of a training step, now 1.5%).
#pragma omp parallel for num_threads(cg_num_threads()) if (n * c * p > CG_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        double s = 0;
        for (int64_t i = 0; i < n; i++) s += cg_sum_floats(g + (i * c + ch) * p, p);
        dbias[ch] += (float)s;
    }
}
