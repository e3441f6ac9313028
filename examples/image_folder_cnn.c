// examples/image_folder_cnn.c - train a small CNN on your own pictures: a folder per class
// (torchvision's ImageFolder layout), decoded and augmented on loader threads.
//
//   scripts/idx_to_image_folder.py /usr/share/datasets/fashion-mnist /tmp/fashion-png
//   build/release/examples/image_folder_cnn --train /tmp/fashion-png/train
//       --test /tmp/fashion-png/test --epochs 5 --size 28 --channels 1 --log runs/fashion
//
// Training pictures go through Resize(size, size), RandomCrop(size, padding 2) and
// RandomHorizontalFlip (unless --no-augment), ToTensor and a Normalize by the per-channel
// mean and std of (up to) 2000 training pictures; test pictures through Resize, ToTensor,
// Normalize. The last line is "test accuracy: XX.XX%".
//
// --log DIR writes, after every epoch, the training curves through io/metrics.h: the tags
// train/loss (the epoch's mean), test/accuracy (a fraction, as examples/mnist_cnn logs it)
// and lr (the rate the epoch trained with), at the step count (optimizer steps so far), to
// DIR/metrics.csv, DIR/curves.png and a TensorBoard event file (tensorboard --logdir DIR).
#include <cgrad.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct options {
    const char *train, *test, *log;
    int epochs, size, channels, threads, seed, workers, batch;
    bool augment;
    float lr;
} options;

static void usage(FILE *out) {
    fprintf(out, "usage: image_folder_cnn --train DIR --test DIR [options]\n"
                 "  DIR holds one sub-directory per class of PNG / JPEG / BMP pictures\n"
                 "  --epochs N     passes over the training set (5)\n"
                 "  --size H       pictures are resized to H x H (28)\n"
                 "  --channels C   1 (grayscale) or 3 (RGB) (1)\n"
                 "  --threads N    compute threads (all cores)\n"
                 "  --workers N    loader threads decoding and augmenting ahead (2)\n"
                 "  --batch N      mini-batch size (64)      --lr X   SGD learning rate (0.02)\n"
                 "  --seed S       random seed (42)          --no-augment   no crop / flip\n"
                 "  --log DIR      per-epoch curves: DIR/metrics.csv, DIR/curves.png and a\n"
                 "                 TensorBoard event file (tensorboard --logdir DIR)\n");
}

// An integer flag value in [low, high], or -1 (after a message).
static int int_flag(const char *name, const char *v, int low, int high) {
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < low || x > high) {
        fprintf(stderr, "image_folder_cnn: %s must be an integer in [%d, %d], got %s\n", name, low,
                high, v ? v : "nothing");
        return -1;
    }
    return (int)x;
}

static int parse(int argc, char **argv, options *o) {
    struct {
        const char *name;
        int *at, low, high;
    } ints[] = {{"--epochs", &o->epochs, 0, 1000},   {"--size", &o->size, 4, 1024},
                {"--channels", &o->channels, 1, 3},  {"--threads", &o->threads, 1, 1024},
                {"--seed", &o->seed, 0, 2147483647}, {"--workers", &o->workers, 0, 64},
                {"--batch", &o->batch, 1, 65536}};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool known = false;
        for (size_t k = 0; k < sizeof ints / sizeof *ints; k++)
            if (strcmp(a, ints[k].name) == 0) {
                if ((*ints[k].at = int_flag(a, v, ints[k].low, ints[k].high)) < 0) return 2;
                known = true, i++;
            }
        if (known) continue;
        if (strcmp(a, "--help") == 0) return usage(stdout), 1;
        if (strcmp(a, "--no-augment") == 0) {
            o->augment = false;
            continue;
        }
        if (!v) return fprintf(stderr, "image_folder_cnn: %s needs a value\n", a), 2;
        if (strcmp(a, "--train") == 0)
            o->train = v;
        else if (strcmp(a, "--test") == 0)
            o->test = v;
        else if (strcmp(a, "--log") == 0)
            o->log = v;
        else if (strcmp(a, "--lr") == 0 && (o->lr = strtof(v, NULL)) > 0) {
        } else
            return fprintf(stderr, "image_folder_cnn: unknown flag or bad value: %s\n", a), 2;
        i++;
    }
    if (o->channels == 2) return fprintf(stderr, "image_folder_cnn: --channels is 1 or 3\n"), 2;
    if (!o->train || !o->test) return usage(stderr), 2;
    return 0;
}

static cg_module *small_model(int channels, int size, int classes) {
    int side = size / 2 / 2;
    cg_conv_options pad1 = {.padding = 1};
    cg_pool_options pool = {.kernel_size = 2};
    cg_module *layers[] = {cg_Conv2d(channels, 8, 3, &pad1),
                           cg_ReLU(),
                           cg_MaxPool2d(&pool),
                           cg_Conv2d(8, 16, 3, &pad1),
                           cg_ReLU(),
                           cg_MaxPool2d(&pool),
                           cg_Flatten(1, -1),
                           cg_Linear(16 * side * side, classes, NULL)};
    return cg_Sequential(8, layers);
}

// Per-channel mean and std of (up to) 2000 training pictures after Resize and ToTensor, as
// one computes torchvision's Normalize constants.
static int statistics(const cg_dataset *d, const cg_transform *resize, int c, float *mean,
                      float *std) {
    double sum[3] = {0}, sq[3] = {0}, count = 0;
    int64_t n = cg_dataset_count(d), step = n > 2000 ? n / 2000 : 1;
    for (int64_t i = 0; i < n; i += step) {
        cg_sample s;
        if (cg_dataset_get(d, i, &s) || cg_transform_apply(resize, 1, &s, NULL)) return -1;
        int64_t plane = (int64_t)s.h * s.w;
        for (int ch = 0; ch < c; ch++)
            for (int64_t k = 0; k < plane; k++) {
                double v = s.data[ch * plane + k];
                sum[ch] += v, sq[ch] += v * v;
            }
        count += (double)plane;
        cg_sample_clear(&s);
    }
    for (int ch = 0; ch < c; ch++) {
        mean[ch] = (float)(sum[ch] / count);
        std[ch] = (float)sqrt(fmax(sq[ch] / count - mean[ch] * (double)mean[ch], 1e-12));
    }
    return 0;
}

static int64_t count_correct(cg_tensor *logits, cg_tensor *labels) {
    cg_tensor *hits = cg_sum(cg_eq(cg_argmax(logits, 1, false), labels), CG_ALL_DIMS, false);
    return hits ? (int64_t)cg_item(hits) : 0;
}

// One pass of SGD, counting the optimizer steps in *step; the mean loss, or NAN after an error.
static double train_epoch(cg_module *model, cg_optimizer *opt, cg_loader *dl, int64_t *step) {
    cg_module_train(model, true);
    double loss_sum = 0;
    int64_t seen = 0;
    cg_tensor *x, *y;
    int rc;
    while ((rc = cg_loader_next(dl, &x, &y)) == 1) {
        cg_scope_begin();
        cg_tensor *loss = cg_cross_entropy(cg_module_forward(model, x), y, NULL);
        cg_optimizer_zero_grad(opt);
        bool ok = cg_backward(loss) == 0 && cg_optimizer_step(opt) == 0;
        if (ok) loss_sum += cg_item(loss) * (double)cg_size(x, 0), seen += cg_size(x, 0), ++*step;
        cg_scope_end();
        if (!ok) return NAN;
    }
    return rc == 0 && seen ? loss_sum / (double)seen : NAN;
}

static double accuracy(cg_module *model, cg_loader *dl) {
    cg_module_eval(model);
    bool grad = cg_set_grad_enabled(false);
    int64_t correct = 0, seen = 0;
    cg_tensor *x, *y;
    int rc;
    while ((rc = cg_loader_next(dl, &x, &y)) == 1) {
        cg_scope_begin();
        correct += count_correct(cg_module_forward(model, x), y), seen += cg_size(x, 0);
        cg_scope_end();
    }
    cg_set_grad_enabled(grad);
    return rc == 0 && seen ? 100.0 * (double)correct / (double)seen : NAN;
}

// One epoch's points on the curves (--log), the PNG redrawn; 0 or -1 with cg_error set.
static int log_epoch(cg_metrics *m, int64_t step, double loss, double accuracy, double lr) {
    if (!m) return 0;
    return cg_metrics_log(m, "train/loss", step, loss) ||
                   cg_metrics_log(m, "test/accuracy", step, accuracy / 100) ||
                   cg_metrics_log(m, "lr", step, lr) || cg_metrics_flush(m)
               ? -1
               : 0;
}

static int run(const options *o) {
    cg_image_folder_options fo = {.channels = o->channels};
    cg_dataset *train = cg_image_folder_new(o->train, &fo), *test = NULL;
    cg_loader *train_dl = NULL, *test_dl = NULL;
    cg_module *model = NULL;
    cg_optimizer *opt = NULL;
    cg_scheduler *schedule = NULL;
    cg_metrics *metrics = NULL;
    int rc = 1;
    if (o->log && !(metrics = cg_metrics_open(o->log, NULL))) goto done;
    if (!train || !(test = cg_image_folder_new(o->test, &fo))) goto done;
    int classes = cg_image_folder_num_classes(train);
    if (cg_image_folder_num_classes(test) != classes) {
        fprintf(stderr, "image_folder_cnn: %s has %d classes but %s has %d\n", o->train, classes,
                o->test, cg_image_folder_num_classes(test));
        goto done;
    }
    float mean[3], std[3];
    cg_transform resize = cg_t_resize(o->size, o->size, CG_INTERP_BILINEAR);
    if (statistics(train, &resize, o->channels, mean, std)) goto done;
    cg_transform train_steps[] = {resize, cg_t_random_crop(o->size, o->size, 2),
                                  cg_t_random_horizontal_flip(0.5f),
                                  cg_t_normalize(o->channels, mean, std)};
    cg_transform test_steps[] = {resize, cg_t_normalize(o->channels, mean, std)};
    if (!o->augment) train_steps[1] = train_steps[2] = cg_t_to_tensor();
    cg_loader_options lo = {
        .batch = o->batch, .shuffle = true, .seed = (uint64_t)o->seed, .workers = o->workers};
    train_dl = cg_loader_new(train, train_steps, 4, &lo);
    lo.shuffle = false;
    test_dl = cg_loader_new(test, test_steps, 2, &lo);
    model = small_model(o->channels, o->size, classes);
    if (!train_dl || !test_dl || !model) goto done;
    opt = cg_sgd_for(model, &(cg_sgd_options){.lr = CG_SET(o->lr), .momentum = CG_SET(0.9)});
    schedule = cg_cosine_annealing_lr(opt, o->epochs > 0 ? o->epochs : 1, 0.0f);
    printf("%lld training and %lld test pictures, %d classes, %dx%dx%d\n",
           (long long)cg_dataset_count(train), (long long)cg_dataset_count(test), classes,
           o->channels, o->size, o->size);
    double acc = NAN;
    int64_t step = 0;
    for (int epoch = 0; epoch < o->epochs; epoch++) {
        double lr = cg_optimizer_lr(opt), loss = train_epoch(model, opt, train_dl, &step);
        cg_scheduler_step(schedule);
        acc = accuracy(model, test_dl);
        if (isnan(loss) || isnan(acc) || log_epoch(metrics, step, loss, acc, lr)) goto done;
        printf("epoch %d/%d: loss %.4f, test accuracy %.2f%%\n", epoch + 1, o->epochs, loss, acc);
        fflush(stdout);
    }
    if (o->epochs == 0 && isnan(acc = accuracy(model, test_dl))) goto done;
    if (metrics) printf("curves in %s/curves.png, values in %s/metrics.csv\n", o->log, o->log);
    printf("test accuracy: %.2f%%\n", acc);
    rc = 0;
done:
    if (cg_metrics_close(metrics)) rc = 1;
    if (rc) fprintf(stderr, "image_folder_cnn: %s\n", cg_last_error_message());
    cg_scheduler_free(schedule), cg_optimizer_free(opt), cg_module_free(model);
    cg_loader_free(train_dl), cg_loader_free(test_dl);
    cg_dataset_free(train), cg_dataset_free(test);
    return rc;
}

static void quiet(cg_status status, const char *message, void *userdata) {
    (void)status, (void)message, (void)userdata;
}

int main(int argc, char **argv) {
    options o = {.epochs = 5,
                 .size = 28,
                 .channels = 1,
                 .seed = 42,
                 .workers = 2,
                 .batch = 64,
                 .augment = true,
                 .lr = 0.02f};
    int rc = parse(argc, argv, &o);
    if (rc) return rc == 1 ? 0 : 2;
    cg_set_error_handler(quiet, NULL);
    if (o.threads) cg_set_num_threads(o.threads);
    cg_manual_seed((uint64_t)o.seed);
    return run(&o);
}
