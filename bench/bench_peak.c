// bench/bench_peak.c - this machine's single-precision FMA peak, measured, so the other
// benchmarks can say how close to the limit they run ("% of peak").
//
//   bench_peak [--threads N] [--json]
//
// Every thread runs a loop of independent FMAs on register accumulators (no loads, no
// stores): the widest vector unit the CPU has (AVX-512, else AVX2+FMA, else scalar C),
// chosen at run time. FMA latency is 4 cycles and up to 2 issue per cycle, so 16
// independent accumulators keep every pipe busy with room to spare. The best of many
// short trials is reported, because the peak is a maximum and a shared VM only ever
// takes cycles away. GFLOP/s count 2 per lane of each FMA.
//   {"bench": "peak", "name": "peak", "threads": 2, "isa": "avx512", "gflops": 210.3}
#define _POSIX_C_SOURCE 200809L // clock_gettime
#include <cgrad.h>

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ACCUMULATORS 16
#define ITERATIONS   (500 * 1000) // ~2.5 ms per trial on one core with AVX-512
#define TRIALS       40

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Result sink, so the compiler cannot drop the loops.
static volatile float sink;

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

// One loop per ISA, with the same shape: acc[j] = acc[j] * x + y, j < ACCUMULATORS.
#define FMA_LOOP(vec, set1, fmadd, add, first)                                                     \
    vec acc[ACCUMULATORS];                                                                         \
    vec x = set1(0.999999f), y = set1(1e-7f);                                                      \
    for (int j = 0; j < ACCUMULATORS; j++) acc[j] = set1((float)j);                                \
    for (long i = 0; i < iterations; i++) {                                                        \
        _Pragma("GCC unroll 16") for (int j = 0; j < ACCUMULATORS; j++) acc[j] =                   \
            fmadd(acc[j], x, y);                                                                   \
    }                                                                                              \
    for (int j = 1; j < ACCUMULATORS; j++) acc[0] = add(acc[0], acc[j]);                           \
    sink = first(acc[0])

__attribute__((target("avx512f"))) static void fma_avx512(long iterations) {
    FMA_LOOP(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, _mm512_cvtss_f32);
}

__attribute__((target("avx2,fma"))) static void fma_avx2(long iterations) {
    FMA_LOOP(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, _mm256_cvtss_f32);
}
#endif

static void fma_portable(long iterations) {
    float acc[ACCUMULATORS];
    for (int j = 0; j < ACCUMULATORS; j++) acc[j] = (float)j;
    for (long i = 0; i < iterations; i++)
        for (int j = 0; j < ACCUMULATORS; j++) acc[j] = acc[j] * 0.999999f + 1e-7f;
    for (int j = 1; j < ACCUMULATORS; j++) acc[0] += acc[j];
    sink = acc[0];
}

typedef struct isa {
    const char *name;
    void (*run)(long iterations);
    int lanes;
} isa;

static isa pick_isa(void) {
#if defined(__x86_64__) || defined(__i386__)
    if (__builtin_cpu_supports("avx512f")) return (isa){"avx512", fma_avx512, 16};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (isa){"avx2", fma_avx2, 8};
#endif
    return (isa){"portable", fma_portable, 1};
}

// GFLOP/s of `threads` threads all running the loop at once: each thread times its own
// loops and keeps its best of TRIALS, and the bests are summed. On a shared VM the two
// threads are rarely both undisturbed in the same trial, and a single wall-clock time for
// the team would then report the slower one's preemption instead of the machine's limit.
static double peak_gflops(const isa *s, int threads) {
    long iterations = s->lanes == 1 ? ITERATIONS / 4 : ITERATIONS;
    double flops = 2.0 * s->lanes * ACCUMULATORS * (double)iterations, total = 0.0;
#pragma omp parallel num_threads(threads) reduction(+ : total)
    {
        double best = 0.0;
        for (int t = 0; t < TRIALS; t++) {
#pragma omp barrier
            double start = now();
            s->run(iterations);
            double rate = flops / (now() - start);
            if (rate > best) best = rate;
        }
        total += best;
    }
    return total * 1e-9;
}

int main(int argc, char **argv) {
    int threads = 0; // 0: 1 and 2
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else {
            fprintf(stderr, "usage: bench_peak [--threads N] [--json]\n");
            return 2;
        }
    }
    isa s = pick_isa();
    for (int t = threads > 0 ? threads : 1; t <= (threads > 0 ? threads : 2); t++) {
        double gflops = peak_gflops(&s, t);
        if (json)
            printf("{\"bench\": \"peak\", \"name\": \"peak\", \"threads\": %d, \"isa\": \"%s\", "
                   "\"gflops\": %.1f}\n",
                   t, s.name, gflops);
        else
            printf("FMA peak, %s, %d thread(s): %.1f GFLOP/s\n", s.name, t, gflops);
    }
    return 0;
}
