// kernels/elementwise.c - see elementwise.h.
#include "elementwise.h"

#include "../tensor/parallel.h"

#include <omp.h>
#include <stddef.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define CG_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define CG_CLONES
#endif

// Work is split in cache-line multiples so two threads never write the same line.
#define CHUNK 4096

CG_CLONES static void relu_grad_range(const float *x, const float *g, float *dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] <= 0.0f ? 0.0f : g[i];
}

CG_CLONES static void relu_range(const float *x, const float *unused, float *y, int64_t n) {
    (void)unused;
    for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

// out[0:n] = range(a, b) run in CHUNK pieces over the threads, or in one call when small.
typedef void (*range_fn)(const float *a, const float *b, float *out, int64_t n);
static void run_chunked(range_fn range, const float *a, const float *b, float *out, int64_t n) {
    if (n <= CG_PARALLEL_MIN || cg_num_threads() == 1 || omp_in_parallel()) {
        range(a, b, out, n);
        return;
    }
    int64_t chunks = (n + CHUNK - 1) / CHUNK;
#pragma omp parallel for num_threads(cg_num_threads()) schedule(static)
    for (int64_t c = 0; c < chunks; c++) {
        int64_t begin = c * CHUNK, len = n - begin < CHUNK ? n - begin : CHUNK;
        range(a + begin, b ? b + begin : NULL, out + begin, len);
    }
}

void cg_relu_grad(const float *x, const float *g, float *dx, int64_t n) {
    run_chunked(relu_grad_range, x, g, dx, n);
}

void cg_relu_floats(const float *x, float *y, int64_t n) {
    run_chunked(relu_range, x, NULL, y, n);
}

// 32 lanes are 2 AVX-512 or 4 AVX2 vectors: independent add chains hide the add latency,
// which made a single running sum cost ~4 cycles per element.
#define LANES 32

CG_CLONES double cg_sum_floats(const float *x, int64_t n) {
    float lanes[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] += x[i + j];
    double sum = 0.0;
    for (int j = 0; j < LANES; j++) sum += lanes[j];
    for (; i < n; i++) sum += x[i];
    return sum;
}
