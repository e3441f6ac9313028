// bench/bench_gemm.c - cg_gemm speed on square and conv-shaped problems, optionally next to
// OpenBLAS.
//
//   bench_gemm [--threads N] [--json] [--no-openblas] [--quick]
//
// Without --threads it runs every shape with 1 and then 2 threads. If libopenblas.so.0 can be
// loaded at run time, each row also times OpenBLAS's cblas_sgemm on the same data; nothing
// links against it. OpenBLAS picks its kernel from OPENBLAS_CORETYPE, so compare with
//   env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE ./bench_gemm
#define _POSIX_C_SOURCE 200809L
#include "cgrad.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct shape {
    const char *name;
    bool trans_a, trans_b;
    int64_t m, n, k;
} shape;

// Small and square sizes, then the three GEMMs of a 3x3 conv layer via im2col (forward, weight
// grad, input grad) at a few ResNet/CIFAR-like sizes, and a linear layer.
static const shape shapes[] = {
    {"small", false, false, 32, 32, 32},
    {"small", false, false, 64, 64, 64},
    {"small", false, true, 64, 64, 64},
    {"small", true, false, 64, 64, 64},
    {"small", false, false, 96, 96, 96},
    {"small", false, false, 128, 128, 128},
    {"square", false, false, 256, 256, 256},
    {"square", false, false, 512, 512, 512},
    {"square", false, false, 1024, 1024, 1024},
    {"square", false, false, 1536, 1536, 1536},
    {"square", false, false, 2048, 2048, 2048},
    {"conv1 fwd 3->32 32x32 b16", false, false, 32, 16384, 27},
    {"conv fwd 64->64 32x32 b8", false, false, 64, 8192, 576},
    {"conv wgrad 64->64 32x32 b8", false, true, 64, 576, 8192},
    {"conv igrad 64->64 32x32 b8", true, false, 576, 8192, 64},
    {"conv fwd 128->128 16x16 b8", false, false, 128, 2048, 1152},
    {"linear 512x1024 b256 (x W^T)", false, true, 256, 1024, 512},
};

typedef void (*sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                         const float *a, int lda, const float *b, int ldb, float beta, float *c,
                         int ldc);
typedef void (*set_threads_fn)(int n);

typedef struct openblas {
    sgemm_fn sgemm;
    set_threads_fn set_threads;
} openblas;

// CBLAS enum values, so no cblas.h is needed.
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

static openblas load_openblas(void) {
    openblas lib = {0};
    void *handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!handle) return lib;
    // POSIX allows converting dlsym's void * to a function pointer; ISO C does not.
    *(void **)&lib.sgemm = dlsym(handle, "cblas_sgemm");
    *(void **)&lib.set_threads = dlsym(handle, "openblas_set_num_threads");
    return lib;
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int compare_doubles(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

typedef struct problem {
    const shape *s;
    float *a, *b, *c;
    const openblas *blas; // NULL: time cg_gemm
} problem;

static void run_once(const problem *p) {
    const shape *s = p->s;
    int64_t lda = s->trans_a ? s->m : s->k, ldb = s->trans_b ? s->k : s->n;
    if (!p->blas)
        cg_gemm(s->trans_a, s->trans_b, s->m, s->n, s->k, 1.0f, p->a, lda, p->b, ldb, 0.0f, p->c,
                s->n);
    else
        p->blas->sgemm(ROW_MAJOR, s->trans_a ? TRANS : NO_TRANS, s->trans_b ? TRANS : NO_TRANS,
                       (int)s->m, (int)s->n, (int)s->k, 1.0f, p->a, (int)lda, p->b, (int)ldb, 0.0f,
                       p->c, (int)s->n);
}

static double seconds_per_call(const problem *p) {
    double t0 = now_seconds();
    run_once(p);
    return now_seconds() - t0;
}

static double median(double *times, int count) {
    qsort(times, (size_t)count, sizeof(double), compare_doubles);
    return times[count / 2];
}

// Median seconds per call of each problem (theirs may be NULL) after a warm-up, over enough
// repeats to fill ~budget seconds (at least 5). Each library is timed in its own block: with
// 2 threads on 2 cores, alternating calls make the two thread pools (OpenMP's and OpenBLAS's,
// both spinning between calls) fight over the cores and slow each other down.
static double time_median(const problem *p, double budget) {
    double once = 0.0;
    for (int w = 0; w < 2; w++) once = seconds_per_call(p);
    int repeats = (int)(budget / 2 / (once > 1e-7 ? once : 1e-7));
    repeats = repeats < 5 ? 5 : repeats > 501 ? 501 : repeats;
    double *times = malloc((size_t)repeats * sizeof(double));
    for (int r = 0; r < repeats; r++) times[r] = seconds_per_call(p);
    double m = median(times, repeats);
    free(times);
    return m;
}

// Both pools' threads spin for a while after their last call (OpenBLAS's for about 2^28
// cycles): a block that starts while the other library's threads still spin shares a core
// with one of them, and with 2 threads every call then waits a scheduler slice for its
// second thread (seen as 0.1-0.2 GFLOP/s rows for cgrad right after an OpenBLAS block).
// So each block starts after a pause long enough for the other pool to go to sleep.
static void pause_for_other_pool(void) {
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
}

static void time_medians(const problem *ours, const problem *theirs, double budget,
                         double result[2]) {
    if (theirs) pause_for_other_pool();
    result[0] = time_median(ours, budget);
    if (theirs) pause_for_other_pool();
    result[1] = theirs ? time_median(theirs, budget) : 0.0;
}

static float *random_matrix(int64_t count) {
    float *x = malloc((size_t)count * sizeof(float));
    for (int64_t i = 0; i < count; i++) x[i] = (float)rand() / (float)RAND_MAX - 0.5f;
    return x;
}

typedef struct options {
    int threads; // 0: both 1 and 2
    bool json, use_openblas;
    double budget;
} options;

static void bench_shape(const shape *s, int threads, const openblas *blas, const options *opt,
                        bool *first_json_row) {
    problem p = {s, random_matrix(s->m * s->k), random_matrix(s->k * s->n),
                 random_matrix(s->m * s->n), NULL};
    double flops = 2.0 * (double)s->m * (double)s->n * (double)s->k;
    cg_set_num_threads(threads);
    problem with_blas = p;
    with_blas.blas = blas;
    if (blas) blas->set_threads(threads);
    double seconds[2];
    time_medians(&p, blas ? &with_blas : NULL, opt->budget, seconds);
    double ours = seconds[0], theirs = seconds[1];
    double ours_gflops = flops / ours * 1e-9, theirs_gflops = blas ? flops / theirs * 1e-9 : 0.0;
    char dims[64];
    snprintf(dims, sizeof dims, "%s%s %lldx%lldx%lld", s->trans_a ? "T" : "N",
             s->trans_b ? "T" : "N", (long long)s->m, (long long)s->n, (long long)s->k);
    if (opt->json) {
        printf("%s  {\"shape\": \"%s\", \"dims\": \"%s\", \"threads\": %d, \"ms\": %.4f, "
               "\"gflops\": %.2f, \"openblas_ms\": %.4f, \"openblas_gflops\": %.2f}",
               *first_json_row ? "" : ",\n", s->name, dims, threads, ours * 1e3, ours_gflops,
               theirs * 1e3, theirs_gflops);
        *first_json_row = false;
    } else if (blas) {
        printf("%-30s %-20s %2d %9.3f %8.1f %9.3f %8.1f %6.2f\n", s->name, dims, threads,
               ours * 1e3, ours_gflops, theirs * 1e3, theirs_gflops, ours_gflops / theirs_gflops);
    } else {
        printf("%-30s %-20s %2d %9.3f %8.1f\n", s->name, dims, threads, ours * 1e3, ours_gflops);
    }
    fflush(stdout);
    free(p.a);
    free(p.b);
    free(p.c);
}

static int parse_options(int argc, char **argv, options *opt) {
    *opt = (options){.threads = 0, .json = false, .use_openblas = true, .budget = 0.3};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            opt->threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            opt->json = true;
        else if (!strcmp(argv[i], "--no-openblas"))
            opt->use_openblas = false;
        else if (!strcmp(argv[i], "--quick"))
            opt->budget = 0.05;
        else {
            fprintf(stderr, "usage: %s [--threads N] [--json] [--no-openblas] [--quick]\n",
                    argv[0]);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    options opt;
    if (parse_options(argc, argv, &opt)) return 2;
    openblas lib = opt.use_openblas ? load_openblas() : (openblas){0};
    const openblas *blas = lib.sgemm && lib.set_threads ? &lib : NULL;
    if (opt.json)
        printf("{\"kernel\": \"%s\", \"rows\": [\n", cg_gemm_kernel_name());
    else {
        printf("kernel %s%s\n", cg_gemm_kernel_name(), blas ? ", vs OpenBLAS" : "");
        printf("%-30s %-20s %2s %9s %8s%s\n", "shape", "op m x n x k", "th", "ms", "GFLOP/s",
               blas ? "   blas ms blas GF/s  ratio" : "");
    }
    int thread_counts[2] = {1, 2}, runs = 2;
    if (opt.threads > 0) thread_counts[0] = opt.threads, runs = 1;
    bool first_json_row = true;
    for (int t = 0; t < runs; t++)
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
            bench_shape(&shapes[i], thread_counts[t], blas, &opt, &first_json_row);
    if (opt.json) printf("\n]}\n");
    return 0;
}
