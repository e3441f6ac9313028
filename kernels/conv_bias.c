// kernels/conv_bias.c - the bias of every convolution-family op: added along the channel
// dim in the forward pass, summed over batch and positions for its gradient.
#include "../tensor/parallel.h"
#include "conv_kernels.h"

// Below this much work per call, threads cost more than they save.
#define CONV_PARALLEL_MIN ((int64_t)1 << 15)

void cg_conv_add_bias(float *x, const float *bias, int64_t n, int64_t c, int64_t p) {
    for (int64_t i = 0; i < n * c; i++) {
        float b = bias[i % c];
        float *row = x + i * p;
        for (int64_t j = 0; j < p; j++) row[j] += b;
    }
}

void cg_conv_bias_grad(const float *g, float *dbias, int64_t n, int64_t c, int64_t p) {
    // One channel per iteration: each sum is taken in the same order whatever the threads.
#pragma omp parallel for num_threads(cg_num_threads()) if (n * c * p > CONV_PARALLEL_MIN)
    for (int64_t ch = 0; ch < c; ch++) {
        double s = 0; // sums of many positions: double keeps them order-independent enough
        for (int64_t i = 0; i < n; i++) {
            const float *row = g + (i * c + ch) * p;
            for (int64_t j = 0; j < p; j++) s += row[j];
        }
        dbias[ch] += (float)s;
    }
}
