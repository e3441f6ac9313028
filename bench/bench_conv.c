// bench/bench_conv.c - convolution speed on the performance issue's configs a-e.
//
//   bench_conv [--threads N] [--json] [--repeats R] [--only a..e] [--algo
//   auto|exact|winograd|implicit|direct]
//              [--clock wall|cpu] [--resnet]
//
// For each config: forward only (grad mode off) and forward + backward (input and weight
// gradients, as PyTorch's x.requires_grad and w.requires_grad), median of R runs after
// warm-up, in ms and GFLOP/s (2 * multiply-adds; backward counted as 2x forward).
// bench/torch_bench.py times the same configs; bench/compare runs both and prints ratios.
#define _POSIX_C_SOURCE 200809L
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct config {
    const char *name;
    bool transposed;
    int n, cin, cout, h, w, k, stride, padding, dilation, groups;
} config;

static const config configs[] = {
    {"a", false, 64, 1, 32, 28, 28, 5, 1, 2, 1, 1}, {"b", false, 64, 32, 64, 14, 14, 3, 1, 1, 1, 1},
    {"c", false, 8, 64, 64, 56, 56, 3, 1, 1, 1, 1}, {"d", false, 8, 64, 128, 56, 56, 3, 2, 2, 2, 4},
    {"e", true, 16, 64, 32, 14, 14, 4, 2, 1, 1, 1},
};

// --resnet: the convolutions of bench_models' ResNet (batch 64 of 28x28 images), one row per
// distinct layer (b1's two are alike): where its training step's convolution time goes.
static const config resnet_configs[] = {
    {"stem", false, 64, 1, 16, 28, 28, 3, 1, 1, 1, 1},
    {"b1", false, 64, 16, 16, 28, 28, 3, 1, 1, 1, 1},
    {"b2c1", false, 64, 16, 32, 28, 28, 3, 2, 1, 1, 1},
    {"b2c2", false, 64, 32, 32, 14, 14, 3, 1, 1, 1, 1},
    {"b2sc", false, 64, 16, 32, 28, 28, 1, 2, 0, 1, 1},
    {"b3c1", false, 64, 32, 64, 14, 14, 3, 2, 1, 1, 1},
    {"b3c2", false, 64, 64, 64, 7, 7, 3, 1, 1, 1, 1},
    {"b3sc", false, 64, 32, 64, 14, 14, 1, 2, 0, 1, 1},
};

// --clock cpu times the process's CPU time instead of the wall clock: on a machine shared
// with other jobs, descheduled time then does not count (at 1 thread this is the work).
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct run {
    const config *c;
    cg_tensor *x, *w, *gy;
    cg_conv_options opt;
} run;

static cg_tensor *apply(run *r) {
    return r->c->transposed ? cg_conv_transpose2d(r->x, r->w, NULL, &r->opt)
                            : cg_conv2d(r->x, r->w, NULL, &r->opt);
}

static void step(run *r, bool backward) {
    cg_scope_begin();
    bool prev = cg_set_grad_enabled(backward);
    cg_tensor *y = apply(r);
    if (backward) cg_backward_ex(y, r->gy, false);
    cg_set_grad_enabled(prev);
    cg_scope_end();
}

static double median_ms(run *r, bool backward, int repeats) {
    double t[256];
    for (int i = 0; i < 3; i++) step(r, backward);
    for (int i = 0; i < repeats; i++) {
        double t0 = now_ms();
        step(r, backward);
        t[i] = now_ms() - t0;
    }
    qsort(t, (size_t)repeats, sizeof t[0], cmp_double);
    return t[repeats / 2];
}

int main(int argc, char **argv) {
    int threads = 2, repeats = 15;
    bool json = false;
    const char *only = NULL;
    const config *set = configs;
    size_t n_set = sizeof configs / sizeof configs[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--json"))
            json = true;
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--resnet"))
            set = resnet_configs, n_set = sizeof resnet_configs / sizeof resnet_configs[0];
        else if (!strcmp(argv[i], "--clock") && i + 1 < argc)
            bench_clock = !strcmp(argv[++i], "cpu") ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC;
        else if (!strcmp(argv[i], "--algo") && i + 1 < argc) {
            const char *a = argv[++i];
            cg_conv_set_algorithm(!strcmp(a, "exact")      ? CG_CONV_ALGO_EXACT
                                  : !strcmp(a, "winograd") ? CG_CONV_ALGO_WINOGRAD
                                  : !strcmp(a, "implicit") ? CG_CONV_ALGO_IMPLICIT
                                  : !strcmp(a, "direct")   ? CG_CONV_ALGO_DIRECT
                                                           : CG_CONV_ALGO_AUTO);
        } else {
            fprintf(stderr, "usage: bench_conv [--threads N] [--repeats R] [--json] [--only a..e] "
                            "[--algo auto|exact|winograd|implicit|direct] [--clock wall|cpu] "
                            "[--resnet]\n");
            return 2;
        }
    }
    if (repeats < 1 || repeats > 256 || threads < 1) {
        fprintf(stderr, "bench_conv: --repeats must be 1..256 and --threads >= 1\n");
        return 2;
    }
    cg_set_num_threads(threads);
    cg_manual_seed(0);
    if (!json) printf("%-9s %10s %10s   (%d threads)\n", "config", "ms", "GFLOP/s", threads);
    for (size_t i = 0; i < n_set; i++) {
        const config *c = &set[i];
        if (only && !strchr(only, c->name[0])) continue;
        run r = {.c = c};
        r.opt = (cg_conv_options){.stride = c->stride,
                                  .padding = c->padding,
                                  .dilation = c->dilation,
                                  .groups = c->groups};
        r.x = cg_requires_grad(cg_randn(CG_SHAPE(c->n, c->cin, c->h, c->w), NULL), true);
        r.w = c->transposed ? cg_randn(CG_SHAPE(c->cin, c->cout / c->groups, c->k, c->k), NULL)
                            : cg_randn(CG_SHAPE(c->cout, c->cin / c->groups, c->k, c->k), NULL);
        cg_requires_grad(r.w, true);
        bool prev = cg_set_grad_enabled(false);
        cg_tensor *y = apply(&r);
        cg_set_grad_enabled(prev);
        if (!y) return 1;
        // multiply-adds of the forward pass x 2 (a transposed conv costs the conv it transposes)
        double flops = c->transposed
                           ? 2.0 * c->n * c->cin * c->h * c->w * (c->cout / c->groups) * c->k * c->k
                           : 2.0 * (double)y->numel * (c->cin / c->groups) * c->k * c->k;
        r.gy = cg_randn(y->ndim, y->shape, NULL);
        cg_free(y);
        for (int bw = 0; bw < 2; bw++) {
            double ms = median_ms(&r, bw, repeats);
            double gflops = (bw ? 3 : 1) * flops / ms / 1e6;
            if (json)
                printf(
                    "{\"bench\": \"conv\", \"name\": \"%s_%s\", \"ms\": %.4f, \"gflops\": %.3f}\n",
                    c->name, bw ? "fwdbwd" : "fwd", ms, gflops);
            else
                printf("%s %-7s %10.3f %10.1f\n", c->name, bw ? "fwd+bwd" : "fwd", ms, gflops);
            fflush(stdout);
        }
        cg_free(r.x);
        cg_free(r.w);
        cg_free(r.gy);
    }
    return 0;
}
