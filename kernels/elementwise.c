// kernels/elementwise.c - see elementwise.h.
#include "elementwise.h"

#include "../tensor/parallel.h"
#include "simd_clones.h"

#include <stddef.h>

// Work is split in cache-line multiples so two threads never write the same line.
#define CHUNK 4096

CG_SIMD_CLONES static void relu_grad_range(const float *x, const float *g, float *dx, int64_t n) {
    for (int64_t i = 0; i < n; i++) dx[i] = x[i] <= 0.0f ? 0.0f : g[i];
}

CG_SIMD_CLONES static void relu_range(const float *x, const float *unused, float *y, int64_t n) {
    (void)unused;
    for (int64_t i = 0; i < n; i++) y[i] = x[i] < 0.0f ? 0.0f : x[i];
}

CG_SIMD_CLONES static void add_range(const float *a, const float *b, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

CG_SIMD_CLONES static void add_relu_range(const float *a, const float *b, float *out, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float v = a[i] + b[i];
        out[i] = v < 0.0f ? 0.0f : v;
    }
}

// out[0:n] = range(a, b), in one range per thread cut at CHUNK multiples (no cache line is
// written by two threads), or in one call when small.
typedef void (*range_fn)(const float *a, const float *b, float *out, int64_t n);
typedef struct chunked_job {
    range_fn range;
    const float *a, *b;
    float *out;
    int64_t n;
} chunked_job;

static void chunk_range(void *ctx, int64_t c0, int64_t c1) {
    const chunked_job *j = ctx;
    int64_t begin = c0 * CHUNK, end = c1 * CHUNK < j->n ? c1 * CHUNK : j->n;
    j->range(j->a + begin, j->b ? j->b + begin : NULL, j->out + begin, end - begin);
}

static void run_chunked(range_fn range, const float *a, const float *b, float *out, int64_t n) {
    chunked_job j = {range, a, b, out, n};
    cg_parallel_for((n + CHUNK - 1) / CHUNK, CG_PARALLEL_MIN / CHUNK, chunk_range, &j);
}

void cg_relu_grad(const float *x, const float *g, float *dx, int64_t n) {
    run_chunked(relu_grad_range, x, g, dx, n);
}

void cg_relu_floats(const float *x, float *y, int64_t n) {
    run_chunked(relu_range, x, NULL, y, n);
}

void cg_add_floats(const float *a, const float *b, float *out, int64_t n) {
    run_chunked(add_range, a, b, out, n);
}

void cg_add_relu_floats(const float *a, const float *b, float *out, int64_t n) {
    run_chunked(add_relu_range, a, b, out, n);
}

// 32 lanes are 2 AVX-512 or 4 AVX2 vectors: independent add chains hide the add latency,
// which made a single running sum cost ~4 cycles per element.
#define LANES 32

CG_SIMD_CLONES double cg_sum_floats(const float *x, int64_t n) {
    float lanes[LANES] = {0};
    int64_t i = 0;
    for (; i + LANES <= n; i += LANES)
        for (int j = 0; j < LANES; j++) lanes[j] += x[i + j];
    double sum = 0.0;
    for (int j = 0; j < LANES; j++) sum += lanes[j];
    for (; i < n; i++) sum += x[i];
    return sum;
}
