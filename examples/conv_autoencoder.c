// examples/conv_autoencoder.c - a convolutional autoencoder on Fashion-MNIST (or MNIST): strided
// convolutions squeeze a 28x28 picture into 32 maps of 7x7, transposed convolutions learn to
// upsample it back. Trained with MSE and Adam; writes input/reconstruction pairs as a PNG.
//
//   build/release/examples/conv_autoencoder --epochs 3 --out reconstructions.png
//   build/release/examples/conv_autoencoder --onnx autoencoder.onnx   # then run it in ONNX Runtime
#define _POSIX_C_SOURCE 200809L // clock_gettime
#include <cgrad.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct options {
    const char *data, *out, *onnx;
    int epochs, batch, threads, seed;
    float lr;
} options;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Every flag takes a value; numbers must lie in [lo, hi] (integers for 'i').
static int parse_flags(int argc, char **argv, options *o) {
    struct {
        const char *name;
        char kind;
        void *field;
        double lo, hi;
    } flags[] = {{"--data", 's', &o->data, 0, 0},       {"--out", 's', &o->out, 0, 0},
                 {"--onnx", 's', &o->onnx, 0, 0},       {"--epochs", 'i', &o->epochs, 1, 1000},
                 {"--batch", 'i', &o->batch, 1, 60000}, {"--threads", 'i', &o->threads, 1, 1024},
                 {"--seed", 'i', &o->seed, 0, 1e9},     {"--lr", 'f', &o->lr, 1e-7, 1}};
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help")) {
            printf("usage: conv_autoencoder [--data DIR] [--epochs N (3)] [--batch N (64)] "
                   "[--lr X (0.002)]\n       [--threads N] [--seed N] [--out PNG "
                   "(reconstructions.png)]\n       [--onnx PATH (the trained model as ONNX)]\n");
            return 2;
        }
        int k = 0, n = (int)(sizeof flags / sizeof *flags);
        while (k < n && strcmp(argv[i], flags[k].name)) k++;
        if (k == n || i + 1 == argc) {
            fprintf(stderr, "conv_autoencoder: %s: %s (see --help)\n", argv[i],
                    k == n ? "unknown flag" : "needs a value");
            return 1;
        }
        const char *v = argv[++i];
        char *end;
        double x = strtod(v, &end);
        if (flags[k].kind == 's') {
            *(const char **)flags[k].field = v;
        } else if (!*v || *end || !(x >= flags[k].lo && x <= flags[k].hi) ||
                   (flags[k].kind == 'i' && x != floor(x))) {
            fprintf(stderr, "conv_autoencoder: %s must be a number in [%g, %g]%s, got '%s'\n",
                    flags[k].name, flags[k].lo, flags[k].hi,
                    flags[k].kind == 'i' ? " (an integer)" : "", v);
            return 1;
        } else if (flags[k].kind == 'i') {
            *(int *)flags[k].field = (int)x;
        } else {
            *(float *)flags[k].field = (float)x;
        }
    }
    return 0;
}

// (N,1,28,28) -> (N,16,14,14) -> (N,32,7,7) -> (N,16,14,14) -> (N,1,28,28) in [0,1].
// A stride-2 transposed conv with kernel 3 and padding 1 gives 2H-1 rows; output_padding 1
// adds the missing one, so each decoder layer exactly undoes an encoder layer's shape.
static cg_module *autoencoder(void) {
    const cg_conv_options down = {.stride = 2, .padding = 1};
    const cg_conv_options up = {.stride = 2, .padding = 1, .output_padding = 1};
    cg_module *layers[] = {cg_Conv2d(1, 16, 3, &down),         cg_ReLU(),
                           cg_Conv2d(16, 32, 3, &down),        cg_ReLU(),
                           cg_ConvTranspose2d(32, 16, 3, &up), cg_ReLU(),
                           cg_ConvTranspose2d(16, 1, 3, &up),  cg_Sigmoid()};
    return cg_Sequential(8, layers);
}

// One pass over a loader: trains (with opt) or only measures (opt NULL, eval, no graph).
// Returns the mean per-pixel squared error, or NAN on error.
static double run_epoch(cg_module *model, cg_optimizer *opt, cg_dataloader *dl) {
    cg_module_train(model, opt != NULL);
    bool grad = cg_set_grad_enabled(opt != NULL);
    double sum = 0;
    int64_t count = 0;
    cg_tensor *x;
    while (cg_dataloader_next(dl, &x, NULL)) {
        cg_scope_begin();
        cg_tensor *loss = cg_mse_loss(cg_module_forward(model, x), x, NULL);
        if (opt) {
            cg_optimizer_zero_grad(opt);
            if (cg_backward(loss) || cg_optimizer_step(opt)) loss = NULL;
        }
        sum += loss ? cg_item(loss) * (double)cg_size(x, 0) : NAN;
        count += cg_size(x, 0);
        cg_scope_end();
    }
    cg_set_grad_enabled(grad);
    return sum / (double)count;
}

// 16 test images and their reconstructions: a row of 8 inputs above a row of their outputs.
static int save_reconstructions(cg_module *model, cg_tensor *images, const char *path) {
    cg_module_eval(model);
    bool grad = cg_set_grad_enabled(false);
    cg_scope_begin();
    cg_tensor *rows[4];
    for (int r = 0; r < 2; r++) {
        rows[2 * r] = cg_slice(images, 8 * r, 8 * r + 8);
        rows[2 * r + 1] = cg_module_forward(model, rows[2 * r]);
    }
    int rc = cg_image_save_grid(path, cg_cat(4, rows, 0), 8, 3);
    cg_scope_end();
    cg_set_grad_enabled(grad);
    return rc;
}

int main(int argc, char **argv) {
    options o = {.data = "/usr/share/datasets/fashion-mnist",
                 .out = "reconstructions.png",
                 .epochs = 3,
                 .batch = 64,
                 .lr = 0.002f,
                 .seed = 42};
    int rc = parse_flags(argc, argv, &o);
    if (rc) return rc == 2 ? 0 : 2;
    if (o.threads) cg_set_num_threads(o.threads);
    cg_manual_seed((uint64_t)o.seed);

    cg_mnist train = {0}, test = {0}; // the default error handler prints what went wrong
    if (cg_mnist_load(o.data, true, &train) || cg_mnist_load(o.data, false, &test)) {
        cg_mnist_free(&train);
        return 1;
    }
    // No labels: the input is its own target.
    cg_dataloader *train_dl =
        cg_dataloader_new(train.images, NULL, o.batch, true, (uint64_t)o.seed);
    cg_dataloader *test_dl = cg_dataloader_new(test.images, NULL, 1000, false, 0);
    cg_module *model = autoencoder();
    cg_optimizer *opt = cg_adam_for(model, &(cg_adam_options){.lr = CG_SET(o.lr)});
    rc = opt ? 0 : 1;
    if (opt) cg_module_summary(model, 4, (int64_t[]){1, 1, 28, 28}, stdout);

    double start = now();
    for (int epoch = 1; epoch <= o.epochs && rc == 0; epoch++) {
        double train_mse = run_epoch(model, opt, train_dl);
        double test_mse = run_epoch(model, NULL, test_dl);
        printf("epoch %d/%d  train mse %.5f  test mse %.5f  (%.1f s)\n", epoch, o.epochs, train_mse,
               test_mse, now() - start);
        fflush(stdout);
        if (!isfinite(train_mse) || !isfinite(test_mse)) rc = 1;
    }
    if (rc == 0 && save_reconstructions(model, test.images, o.out) == 0)
        printf("wrote %s (inputs above their reconstructions)\n", o.out);
    else
        rc = 1;
    if (rc == 0 && o.onnx) { // the trained model as ONNX (io/onnx.h): (N,1,28,28) in and out
        cg_module_eval(model);
        cg_tensor *example = cg_zeros(CG_SHAPE(2, 1, 28, 28)); // two samples: see io/onnx.h
        rc = cg_onnx_export(model, example, o.onnx, NULL) ? 1 : 0;
        cg_free(example);
        if (rc == 0) printf("wrote %s (ONNX)\n", o.onnx);
    }

    cg_optimizer_free(opt);
    cg_module_free(model);
    cg_dataloader_free(train_dl), cg_dataloader_free(test_dl);
    cg_mnist_free(&train), cg_mnist_free(&test);
    return rc;
}
