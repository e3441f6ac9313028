// bench/bench_train.c - end-to-end training speed of the small Fashion-MNIST CNN (mnist_cnn's
// default model): images/second and peak RSS, in the JSON-lines format of
// `bench/torch_bench.py --train STEPS` so the two can be paired.
//
//   build/release/bench/bench_train --threads 2 --steps 500
//   {"bench": "train", "name": "small_cnn", "ms": ..., "images_per_s": ..., "peak_rss_mb": ...,
//    "mflop_per_step": ..., "gflops": ...}
//
// Same set-up as the PyTorch side: the training images in memory (as bytes, each batch
// converted to float32 in [0,1], as torch_bench.py indexes its float copy), batch
// 64, SGD lr 0.05 momentum 0.9, 20 warm-up steps, then `--steps` timed steps.
#define _POSIX_C_SOURCE 200809L // clock_gettime
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "small_cnn.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Multiply-add FLOPs (x 2) of one step of small_model on a batch: each conv and the linear
// layer forward, their weight gradients, and their input gradients except the first conv's
// (its input, the images, needs none, in PyTorch too). Elementwise work is not counted, so
// "% of peak" says how much of the step is spent on useful multiply-adds.
static double step_flops(int batch) {
    double conv1 = 2.0 * batch * 8 * 28 * 28 * (1 * 3 * 3);
    double conv2 = 2.0 * batch * 16 * 14 * 14 * (8 * 3 * 3);
    double linear = 2.0 * batch * 784 * 10;
    return 2 * conv1 + 3 * conv2 + 3 * linear;
}

// One step on the loader's next batch (starting a new epoch when one ends).
static int step(cg_module *model, cg_optimizer *opt, cg_dataloader *dl) {
    cg_tensor *x, *y;
    if (!cg_dataloader_next(dl, &x, &y) && !cg_dataloader_next(dl, &x, &y)) return -1;
    cg_scope_begin();
    cg_optimizer_zero_grad(opt);
    int rc = cg_backward(cg_cross_entropy(cg_module_forward(model, x), y, NULL));
    if (rc == 0) rc = cg_optimizer_step(opt);
    cg_scope_end();
    return rc;
}

static int parse_positive(const char *flag, const char *v, int *out) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < 1 || x > 1000000) {
        fprintf(stderr, "bench_train: %s needs a positive integer\n", flag);
        return -1;
    }
    *out = (int)x;
    return 0;
}

int main(int argc, char **argv) {
    const char *data = "/usr/share/datasets/fashion-mnist";
    int threads = 2, steps = 300, batch = 64, warmup = 20;
    for (int i = 1; i < argc; i += 2) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (!strcmp(argv[i], "--threads"))
            rc = parse_positive(argv[i], v, &threads);
        else if (!strcmp(argv[i], "--steps"))
            rc = parse_positive(argv[i], v, &steps);
        else if (!strcmp(argv[i], "--data") && v)
            data = v;
        else {
            fprintf(stderr, "usage: bench_train [--threads N] [--steps N] [--data DIR]\n");
            return 2;
        }
        if (rc) return 2;
    }
    cg_set_num_threads(threads);
    cg_manual_seed(0);
    cg_mnist train;
    if (cg_mnist_load_bytes(data, true, &train)) return 1; // pixels stay bytes, as torchvision's
    cg_module *model = small_model();
    cg_optimizer *opt =
        cg_sgd_for(model, &(cg_sgd_options){.lr = CG_SET(0.05), .momentum = CG_SET(0.9)});
    int64_t sample[] = {1, train.height, train.width};
    cg_dataloader *dl = cg_dataloader_new_bytes(train.pixels, train.count, 3, sample, 1.0f / 255,
                                                train.labels, batch, true, 0);
    cg_dataloader_set_drop_last(dl, true); // every timed step has a full batch
    int rc = 0;
    for (int i = 0; i < warmup && rc == 0; i++) rc = step(model, opt, dl);
    double start = now();
    for (int i = 0; i < steps && rc == 0; i++) rc = step(model, opt, dl);
    double seconds = now() - start;
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    if (rc == 0)
        printf("{\"bench\": \"train\", \"name\": \"small_cnn\", \"ms\": %.4f, \"images_per_s\": "
               "%.1f, \"peak_rss_mb\": %.1f, \"mflop_per_step\": %.1f, \"gflops\": %.2f}\n",
               1e3 * seconds / steps, steps * batch / seconds, usage.ru_maxrss / 1024.0,
               step_flops(batch) * 1e-6, step_flops(batch) * steps / seconds * 1e-9);
    cg_dataloader_free(dl);
    cg_optimizer_free(opt);
    cg_module_free(model);
    cg_mnist_free(&train);
    return rc ? 1 : 0;
}
