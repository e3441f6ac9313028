// bench/bench_dist.c - data-parallel training speed: images/s of mnist_cnn's models over R ranks
// and the time each step waits for the gradient all-reduce, with and without overlap.
//
//   build/release/bench/bench_dist --model small --threads 2           # one process
//   mpirun -np 2 build/release/bench/bench_dist --model small --threads 1
//   {"bench": "dist", "model": "small", "ranks": 2, "threads": 1, "batch": 128, ...}
//
// bench/dist runs the whole comparison. The global batch (--batch, 128) is split over the
// ranks (strong scaling, as DDP's equal-to-one-process configuration); the data are random
// 28x28 byte images in memory, so only compute and communication are timed. Besides wall
// time it reports the CPU time of all ranks per image, which a busy machine does not skew.
#define _POSIX_C_SOURCE 200809L // clock_gettime
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double clock_seconds(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
static double now(void) {
    return clock_seconds(CLOCK_MONOTONIC);
}

// mnist_cnn's two models: conv widths and whether each block has BatchNorm.
static cg_module *conv_block(int in, int out, bool bn, cg_module **at) {
    cg_conv_options pad1 = {.padding = 1, .no_bias = bn};
    at[0] = cg_Conv2d(in, out, 3, &pad1);
    at[1] = bn ? cg_BatchNorm2d(out, NULL) : cg_ReLU();
    return bn ? (at[2] = cg_ReLU()) : at[1];
}
static cg_module *model_named(const char *name) {
    cg_module *l[24];
    int n = 0;
    cg_pool_options pool2 = {.kernel_size = 2};
    if (!strcmp(name, "small")) { // 9,098 parameters
        conv_block(1, 8, false, l + n), n += 2, l[n++] = cg_MaxPool2d(&pool2);
        conv_block(8, 16, false, l + n), n += 2, l[n++] = cg_MaxPool2d(&pool2);
        l[n++] = cg_Flatten(1, -1), l[n++] = cg_Linear(16 * 7 * 7, 10, NULL);
    } else { // big: conv-BN-ReLU x 4, dropout, MLP head
        const int w = 16, widths[5] = {1, w, w, 2 * w, 2 * w};
        for (int b = 0; b < 4; b++) {
            conv_block(widths[b], widths[b + 1], true, l + n), n += 3;
            if (b % 2) l[n++] = cg_MaxPool2d(&pool2);
        }
        l[n++] = cg_Flatten(1, -1), l[n++] = cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.25)});
        l[n++] = cg_Linear(2 * w * 7 * 7, 128, NULL), l[n++] = cg_ReLU();
        l[n++] = cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.25)}),
        l[n++] = cg_Linear(128, 10, NULL);
    }
    return cg_Sequential(n, l);
}

static int step(cg_module *model, cg_ddp *ddp, cg_optimizer *opt, cg_dataloader *dl) {
    cg_tensor *x, *y;
    if (!cg_dataloader_next(dl, &x, &y) && !cg_dataloader_next(dl, &x, &y)) return -1;
    cg_scope_begin();
    cg_optimizer_zero_grad(opt);
    int rc = cg_backward(cg_cross_entropy(cg_ddp_forward(ddp, x), y, NULL));
    if (rc == 0) rc = cg_ddp_finish(ddp);
    if (rc == 0) rc = cg_optimizer_step(opt);
    cg_scope_end();
    (void)model;
    return rc;
}

// Milliseconds of one blocking all-reduce of n floats (the gradient), median-free mean of reps.
static double allreduce_ms(int64_t n, int reps) {
    float *g = calloc((size_t)n, sizeof *g);
    if (!g || cg_dist_barrier()) return free(g), -1;
    double start = now();
    for (int i = 0; i < reps; i++) cg_dist_allreduce_sum(g, n);
    double ms = 1e3 * (now() - start) / reps;
    free(g);
    return ms;
}

typedef struct config {
    const char *model;
    int threads, steps, batch, warmup, bucket_kb;
    bool no_overlap;
} config;

static int parse(int argc, char **argv, config *c) {
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : "";
        int *field = !strcmp(argv[i], "--threads")     ? &c->threads
                     : !strcmp(argv[i], "--steps")     ? &c->steps
                     : !strcmp(argv[i], "--batch")     ? &c->batch
                     : !strcmp(argv[i], "--bucket-kb") ? &c->bucket_kb
                                                       : NULL;
        if (field && atoi(v) > 0)
            *field = atoi(v), i++;
        else if (!strcmp(argv[i], "--model") && (!strcmp(v, "small") || !strcmp(v, "big")))
            c->model = v, i++;
        else if (!strcmp(argv[i], "--no-overlap"))
            c->no_overlap = true;
        else {
            fprintf(stderr, "usage: bench_dist [--model small|big] [--threads N] [--steps N] "
                            "[--batch GLOBAL] [--bucket-kb K] [--no-overlap]\n");
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv) {
    config c = {"small", 1, 40, 128, 5, 0, false};
    if (cg_dist_init(&argc, &argv) || parse(argc, argv, &c)) return 2;
    int rank = cg_dist_rank(), world = cg_dist_world_size();
    if (c.batch % world) return fprintf(stderr, "bench_dist: --batch %% ranks != 0\n"), 2;
    cg_set_num_threads(c.threads);
    cg_manual_seed(1 + (uint64_t)rank);
    enum { N = 2048 };
    uint8_t *pixels = malloc(N * 28 * 28);
    cg_tensor *labels = cg_zeros(1, (int64_t[]){N});
    cg_unscope(labels);
    for (int64_t i = 0; i < N * 28 * 28; i++) pixels[i] = (uint8_t)(cg_rng_next(NULL) >> 24);
    for (int i = 0; i < N; i++) labels->data[i] = (float)(cg_rng_next(NULL) % 10);
    cg_dataloader *dl = cg_dataloader_new_bytes(pixels, N, 3, (int64_t[]){1, 28, 28}, 1.0f / 255,
                                                labels, c.batch / world, true, 7);
    cg_dataloader_set_shard(dl, rank, world, true);
    cg_dataloader_set_drop_last(dl, true);
    cg_module *model = model_named(c.model);
    cg_ddp_options o = {.bucket_bytes = (int64_t)c.bucket_kb << 10, .no_overlap = c.no_overlap};
    cg_ddp *ddp = cg_ddp_new(model, &o);
    cg_optimizer *opt =
        cg_sgd_for(model, &(cg_sgd_options){.lr = CG_SET(0.01), .momentum = CG_SET(0.9)});
    int rc = ddp && opt ? 0 : 1;
    for (int i = 0; i < c.warmup && rc == 0; i++) rc = step(model, ddp, opt, dl);
    cg_ddp_stats before = cg_ddp_get_stats(ddp);
    if (rc == 0) rc = cg_dist_barrier();
    double start = now(), cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
    for (int i = 0; i < c.steps && rc == 0; i++) rc = step(model, ddp, opt, dl);
    // CPU seconds of all ranks: on a shared machine wall time measures the neighbours too.
    float cpu = (float)(clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start);
    if (rc == 0) rc = cg_dist_barrier();
    double seconds = now() - start;
    if (rc == 0) rc = cg_dist_allreduce_sum(&cpu, 1);
    cg_ddp_stats after = cg_ddp_get_stats(ddp);
    int64_t params = cg_module_num_parameters(model);
    double raw = rc == 0 ? allreduce_ms(params, 50) : -1;
    if (rc == 0 && rank == 0)
        printf("{\"bench\": \"dist\", \"model\": \"%s\", \"ranks\": %d, \"threads\": %d, "
               "\"batch\": %d, \"overlap\": %s, \"buckets\": %d, \"steps\": %d, "
               "\"ms_per_step\": %.3f, \"images_per_s\": %.1f, \"allreduce_wait_ms\": %.4f, "
               "\"grad_bytes\": %lld, \"allreduce_ms\": %.4f, \"cpu_ms_per_image\": %.4f}\n",
               c.model, world, c.threads, c.batch, c.no_overlap ? "false" : "true", after.buckets,
               c.steps, 1e3 * seconds / c.steps, c.steps * c.batch / seconds,
               1e3 * (after.wait_seconds - before.wait_seconds) / c.steps, (long long)(params * 4),
               raw, 1e3 * cpu / ((double)c.steps * c.batch));
    if (rc) fprintf(stderr, "bench_dist: rank %d: %s\n", rank, cg_last_error_message());
    cg_ddp_free(ddp), cg_optimizer_free(opt), cg_module_free(model);
    cg_dataloader_free(dl), cg_free(labels), free(pixels);
    cg_dist_finalize();
    return rc ? 1 : 0;
}
