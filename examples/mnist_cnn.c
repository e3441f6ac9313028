// examples/mnist_cnn.c - train a convolutional network on Fashion-MNIST (or the MNIST digits).
//
// The whole training story in one file: flags, data, a model built from modules, momentum
// SGD with one scope per step, evaluation, resumable checkpoints, pictures of the learned
// kernels, and classifying your own picture.
//
//   build/release/examples/mnist_cnn                                    # small model, ~90%
//   build/release/examples/mnist_cnn --model big --epochs 10 --save big.ckpt
//   build/release/examples/mnist_cnn --model big --resume big.ckpt --predict shoe.png
//   build/release/examples/mnist_cnn --model big --resume big.ckpt --epochs 10 --onnx big.onnx
//   mpirun -np 2 build/release/examples/mnist_cnn    # data-parallel, --batch is the global batch
#define _POSIX_C_SOURCE 200809L // clock_gettime
#include <cgrad.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct options {
    const char *data, *model, *save, *resume, *predict, *kernels, *log, *onnx;
    int epochs, batch, threads;
    float lr, momentum;
    int seed;
} options;

// Everything main() owns; free_session() releases it whatever happened.
typedef struct session {
    cg_module *model;
    cg_optimizer *opt;
    cg_scheduler *schedule;
    cg_mnist train, test;
    cg_dataloader *train_loader, *test_loader;
    cg_tensor *picture;
    cg_checkpoint_meta resumed;
    int64_t step;
    cg_ddp *ddp; // data parallelism over the ranks of an MPI job (one rank: plain training)
    // --log: curves (CSV, PNG, TensorBoard), written by rank 0
    cg_metrics *metrics;
} session;

// Dataset statistics for normalising inputs to zero mean and unit variance.
static float data_mean(cg_mnist_kind k) {
    return k == CG_MNIST_FASHION ? 0.2860f : 0.1307f;
}
static float data_std(cg_mnist_kind k) {
    return k == CG_MNIST_FASHION ? 0.3530f : 0.3081f;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// cgrad reports errors through a handler; this program prints cg_last_error_message() itself,
// once, with what it was doing.
static void quiet(cg_status status, const char *message, void *userdata) {
    (void)status, (void)message, (void)userdata;
}
static int fail(const char *doing, const char *hint) {
    fprintf(stderr, "mnist_cnn: %s: %s%s%s\n", doing, cg_last_error_message(), hint ? "\n  " : "",
            hint ? hint : "");
    return 1;
}

// ---- flags ------------------------------------------------------------------------------
static void usage(FILE *out) {
    fputs(
        "usage: mnist_cnn [flags]\n"
        "  --data DIR        the 4 MNIST files, plain or .gz (/usr/share/datasets/fashion-mnist)\n"
        "  --model small|big small: 2 convs + linear (default); big: conv-BN-ReLU x4, dropout\n"
        "  --epochs N        training epochs (5)      --batch N      batch size (64)\n"
        "  --lr X            SGD learning rate (0.02), cosine-annealed to 0 over the epochs\n"
        "  --momentum X      SGD momentum (0.9)       --seed N       random seed (42)\n"
        "  --threads N       threads (all cores)\n"
        "  --save PATH       checkpoint (model, optimizer, data order, RNG) after each epoch\n"
        "  --resume PATH     continue training from a checkpoint of the same --model\n"
        "  --predict IMAGE   top-3 classes of a PNG/JPEG/BMP picture, with the model from\n"
        "                    --resume (or an existing --save file), else trained first\n"
        "  --kernels PNG     first-layer kernels picture (kernels.png; features.png beside)\n"
        "  --log DIR         training curves: DIR/metrics.csv, DIR/curves.png and a\n"
        "                    TensorBoard event file (tensorboard --logdir DIR)\n"
        "  --onnx PATH       the model, once trained (or --resume'd), as ONNX: input\n"
        "                    (N,1,28,28) normalised as the training data, output the logits\n",
        out);
}

// Each flag sets one field: a string, or a number that must lie in [lo, hi].
typedef struct flag {
    const char *name;
    char kind; // 's' string, 'i' integer, 'f' float
    void *field;
    double lo, hi;
} flag;

static bool set_flag(const flag *f, const char *v) {
    if (f->kind == 's') return *(const char **)f->field = v, true;
    char *end;
    double x = strtod(v, &end);
    if (!*v || *end || !(x >= f->lo && x <= f->hi) || (f->kind == 'i' && x != floor(x))) {
        fprintf(stderr, "mnist_cnn: %s must be %s in [%g, %g], got '%s'\n", f->name,
                f->kind == 'i' ? "an integer" : "a number", f->lo, f->hi, v);
        return false;
    }
    if (f->kind == 'i')
        *(int *)f->field = (int)x;
    else
        *(float *)f->field = (float)x;
    return true;
}

// 0: run, 1: bad flags, 2: --help printed.
static int parse_flags(int argc, char **argv, options *o) {
    // two columns, one line per pair of flags
    // clang-format off
    const flag flags[] = {
        {"--data", 's', &o->data, 0, 0},          {"--model", 's', &o->model, 0, 0},
        {"--save", 's', &o->save, 0, 0},          {"--resume", 's', &o->resume, 0, 0},
        {"--predict", 's', &o->predict, 0, 0},    {"--kernels", 's', &o->kernels, 0, 0},
        {"--epochs", 'i', &o->epochs, 1, 1000},   {"--batch", 'i', &o->batch, 1, 60000},
        {"--threads", 'i', &o->threads, 1, 1024}, {"--seed", 'i', &o->seed, 0, 2147483647},
        {"--lr", 'f', &o->lr, 1e-6, 10},          {"--momentum", 'f', &o->momentum, 0, 0.999},
        {"--log", 's', &o->log, 0, 0},            {"--onnx", 's', &o->onnx, 0, 0}};
    // clang-format on
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) return usage(stdout), 2;
        const flag *f = NULL;
        for (size_t k = 0; k < sizeof flags / sizeof *flags; k++)
            if (!strcmp(argv[i], flags[k].name)) f = &flags[k];
        if (!f || i + 1 == argc) {
            fprintf(stderr, "mnist_cnn: %s: %s (see --help)\n", argv[i],
                    f ? "needs a value" : "unknown flag");
            return 1;
        }
        if (!set_flag(f, argv[++i])) return 1;
    }
    if (strcmp(o->model, "small") && strcmp(o->model, "big")) {
        fprintf(stderr, "mnist_cnn: --model must be small or big, got '%s'\n", o->model);
        return 1;
    }
    return 0;
}

// ---- the models -------------------------------------------------------------------------
static cg_module *conv3x3(int in, int out, bool bias) {
    return cg_Conv2d(in, out, 3, &(cg_conv_options){.padding = 1, .no_bias = !bias});
}
static cg_module *max_pool2(void) {
    return cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2});
}

// (N,1,28,28) -> conv 8 -> pool -> conv 16 -> pool -> (N,16*7*7) -> (N,10): 9,098 parameters.
static cg_module *small_model(void) {
    cg_module *layers[] = {
        conv3x3(1, 8, true), cg_ReLU(),   max_pool2(),       conv3x3(8, 16, true),
        cg_ReLU(),           max_pool2(), cg_Flatten(1, -1), cg_Linear(16 * 7 * 7, 10, NULL)};
    return cg_Sequential(8, layers);
}

// Two conv-BN-ReLU blocks per stage (the convs need no bias: BN adds one), dropout, MLP head.
#define BIG_WIDTH 16
static void conv_bn_relu(cg_module **at, int in, int out) {
    at[0] = conv3x3(in, out, false), at[1] = cg_BatchNorm2d(out, NULL), at[2] = cg_ReLU();
}
static cg_module *big_model(void) {
    const int w = BIG_WIDTH;
    cg_module *layers[20];
    conv_bn_relu(layers + 0, 1, w), conv_bn_relu(layers + 3, w, w), layers[6] = max_pool2();
    conv_bn_relu(layers + 7, w, 2 * w), conv_bn_relu(layers + 10, 2 * w, 2 * w);
    layers[13] = max_pool2(), layers[14] = cg_Flatten(1, -1),
    layers[15] = cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.25)});
    layers[16] = cg_Linear(2 * w * 7 * 7, 128, NULL), layers[17] = cg_ReLU();
    layers[18] = cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.25)}),
    layers[19] = cg_Linear(128, 10, NULL);
    return cg_Sequential(20, layers);
}

// ---- data parallelism (dist/): the same program under mpirun -np R ---------------------------
// Every rank trains a replica on its shard of each batch (--batch / R samples); cg_ddp
// averages the gradients. Rank 0 alone prints and writes files.
static bool main_rank(void) {
    return cg_dist_rank() == 0;
}

// Join the MPI job if mpirun started us; ranks other than 0 print nothing to stdout.
static int dist_join(int *argc, char ***argv) {
    if (cg_dist_init(argc, argv)) return fail("cannot join the MPI job", NULL);
    return !main_rank() && !freopen("/dev/null", "w", stdout);
}

// After the model exists (and a checkpoint, if any, is loaded): rank 0's weights everywhere.
static int dist_start(const options *o, session *s) {
    int world = cg_dist_world_size();
    if (o->batch % world) {
        fprintf(stderr, "mnist_cnn: --batch %d is not a multiple of the %d ranks\n", o->batch,
                world);
        return 1;
    }
    s->ddp = cg_ddp_new(s->model, NULL);
    if (!s->ddp) return fail("cannot start data-parallel training", NULL);
    if (world > 1)
        printf("data parallel: %d ranks, %d images per rank and step\n", world, o->batch / world);
    return 0;
}

// The training loader reads this rank's shard of every epoch (the same order on all ranks).
static int dist_shard(cg_dataloader *dl) {
    return cg_dataloader_set_shard(dl, cg_dist_rank(), cg_dist_world_size(), false);
}

// The job's totals of the per-rank loss sum, correct answers and images seen.
static void dist_totals(double *loss_sum, int64_t *correct, int64_t *seen) {
    float t[3] = {(float)*loss_sum, (float)*correct, (float)*seen};
    if (cg_dist_allreduce_sum(t, 3)) return;
    *loss_sum = t[0], *correct = (int64_t)t[1], *seen = (int64_t)t[2];
}

// ---- training and evaluation --------------------------------------------------------------
static int64_t count_correct(cg_tensor *logits, cg_tensor *labels) {
    cg_tensor *hits = cg_sum(cg_eq(cg_argmax(logits, 1, false), labels), CG_ALL_DIMS, false);
    return hits ? (int64_t)cg_item(hits) : 0;
}

// One SGD step. The scope frees the step's activations and intermediate gradients; the
// parameters, their .grad and the optimizer's momentum live on.
static float train_step(session *s, cg_tensor *x, cg_tensor *y, int64_t *correct) {
    cg_scope_begin();
    cg_tensor *logits = cg_ddp_forward(s->ddp, x);
    cg_tensor *loss = cg_cross_entropy(logits, y, NULL);
    cg_optimizer_zero_grad(s->opt);
    float value = NAN;
    if (cg_backward(loss) == 0 && cg_ddp_finish(s->ddp) == 0 && cg_optimizer_step(s->opt) == 0) {
        value = cg_item(loss);
        bool grad = cg_set_grad_enabled(false);
        *correct += count_correct(logits, y);
        cg_set_grad_enabled(grad);
    }
    cg_scope_end();
    return value;
}

// One pass over the training set; -1 if the loss is not a number any more. The progress
// line is redrawn on a terminal and printed once per epoch into a log (io/training.h).
static int train_epoch(session *s, int epoch, int epochs) {
    enum { LOG_EVERY = 50 }; // steps per train/loss point: the mean over them, less noisy
    int64_t seen = 0, correct = 0, window = 0;
    double loss_sum = 0, window_sum = 0;
    char metrics[96] = "";
    cg_progress bar;
    cg_progress_begin(&bar, stdout, cg_dataloader_num_batches(s->train_loader), "epoch %d/%d",
                      epoch, epochs);
    cg_tensor *x, *y;
    while (cg_dataloader_next(s->train_loader, &x, &y)) {
        float loss = train_step(s, x, y, &correct);
        if (cg_last_error() != CG_OK) return fail("\ntraining failed", NULL);
        if (!isfinite(loss)) {
            fprintf(stderr, "\nmnist_cnn: the loss diverged at step %lld; try a smaller --lr\n",
                    (long long)s->step);
            return -1;
        }
        s->step++, seen += cg_size(x, 0), loss_sum += loss * cg_size(x, 0);
        window_sum += loss, window++;
        if (window == LOG_EVERY) {
            if (s->metrics &&
                cg_metrics_log(s->metrics, "train/loss", s->step, window_sum / window))
                return fail("cannot log", NULL);
            window_sum = 0, window = 0;
        }
        double all_loss = loss_sum; // the whole job's totals, which rank 0 prints
        int64_t all_correct = correct, all_seen = seen;
        dist_totals(&all_loss, &all_correct, &all_seen);
        snprintf(metrics, sizeof metrics, "loss %.4f  acc %5.2f%%  %6.0f img/s",
                 all_loss / all_seen, 100.0 * all_correct / all_seen,
                 all_seen / cg_progress_elapsed(&bar));
        cg_progress_step(&bar, 1, metrics);
    }
    cg_progress_end(&bar, metrics);
    double all_loss = loss_sum;
    int64_t all_correct = correct, all_seen = seen;
    dist_totals(&all_loss, &all_correct, &all_seen);
    if (s->metrics && cg_metrics_log(s->metrics, "train/accuracy", s->step,
                                     (double)all_correct / (double)all_seen))
        return fail("cannot log", NULL);
    return 0;
}

static int save_checkpoint(session *s, const char *path, int epochs_done) {
    cg_checkpoint_meta meta = {.epoch = epochs_done,
                               .global_step = s->step,
                               .lr = cg_optimizer_lr(s->opt),
                               .has_loader = true,
                               .loader = cg_dataloader_get_state(s->train_loader)};
    return cg_dist_checkpoint_save(path, s->model, s->opt, &meta);
}

static int train(const options *o, session *s) {
    int first = (int)s->resumed.epoch;
    if (first >= o->epochs) printf("the checkpoint has %d epochs already\n", first);
    // Saving the starting point first finds an unwritable --save path before an epoch is spent.
    if (o->save && save_checkpoint(s, o->save, first)) return fail("cannot save", NULL);
    if (o->log && main_rank() && !(s->metrics = cg_metrics_open(o->log, NULL)))
        return fail("cannot log", NULL);
    double start = now(), best = 0, loss, accuracy;
    for (int epoch = first; epoch < o->epochs; epoch++) {
        int64_t epoch_start = s->step;
        double lr = cg_optimizer_lr(s->opt);
        if (train_epoch(s, epoch + 1, o->epochs)) return 1;
        cg_scheduler_step(s->schedule);
        cg_eval_result r;
        if (cg_evaluate(s->model, s->test_loader, &r)) return fail("evaluation failed", NULL);
        loss = r.loss, accuracy = r.accuracy;
        best = accuracy > best ? accuracy : best;
        printf("epoch %d/%d  test loss %.4f  test accuracy %.2f%%  (%.1f s so far)\n", epoch + 1,
               o->epochs, loss, 100 * accuracy, now() - start);
        fflush(stdout);
        if (s->metrics && (cg_metrics_log(s->metrics, "lr", epoch_start, lr) ||
                           cg_metrics_log(s->metrics, "test/loss", s->step, loss) ||
                           cg_metrics_log(s->metrics, "test/accuracy", s->step, accuracy) ||
                           cg_metrics_flush(s->metrics))) // curves.png after every epoch
            return fail("cannot log", NULL);
        if (o->save && save_checkpoint(s, o->save, epoch + 1)) return fail("cannot save", NULL);
    }
    if (first >= o->epochs) best = cg_evaluate_accuracy(s->model, s->test_loader);
    printf("done: %d epochs in %.1f s, best test accuracy %.2f%%, %lld parameters%s%s\n",
           o->epochs - first, now() - start, 100 * best,
           (long long)cg_module_num_parameters(s->model), o->save ? ", saved to " : "",
           o->save ? o->save : "");
    if (s->metrics) printf("curves in %s/curves.png, values in %s/metrics.csv\n", o->log, o->log);
    return 0;
}

// ---- pictures -------------------------------------------------------------------------------
// (x - mean) / std, as the dataloader does for the training images.
static cg_tensor *normalize(cg_tensor *x, cg_mnist_kind kind) {
    return cg_div_scalar(cg_sub_scalar(x, data_mean(kind)), data_std(kind));
}

// The first conv's kernels as a grid, and the first block's feature maps of one test image
// (everything up to the first ReLU) in features.png next to it.
static int save_pictures(session *s, const char *kernels_path) {
    cg_module *conv = cg_module_get(s->model, "0");
    // 3x3 kernels magnified to 63x63 and numbered (output channel, input channel).
    cg_grid_options grid = {.columns = 8, .labels = true};
    if (cg_image_save_grid_ex(kernels_path, cg_module_param(conv, "weight"), &grid)) return -1;
    char path[4096];
    const char *slash = strrchr(kernels_path, '/');
    snprintf(path, sizeof path, "%.*sfeatures.png", slash ? (int)(slash - kernels_path + 1) : 0,
             kernels_path);
    cg_module_eval(s->model);
    bool grad = cg_set_grad_enabled(false);
    cg_scope_begin();
    cg_tensor *x = normalize(cg_slice(s->test.images, 0, 1), s->test.kind);
    for (int i = 0; x && i < s->model->n_children; i++) {
        x = cg_module_forward(s->model->children[i], x);
        if (!strcmp(s->model->children[i]->cls->name, "ReLU")) break;
    }
    int rc = x ? cg_image_save_grid(path, x, 8, 4) : -1;
    cg_scope_end();
    cg_set_grad_enabled(grad);
    cg_module_train(s->model, true);
    if (rc == 0) printf("wrote %s and %s\n", kernels_path, path);
    return rc;
}

// Prepare the picture like the dataset's images and print the three likeliest classes.
static int predict(session *s, const char *path) {
    cg_mnist_kind kind = s->test.kind;
    cg_image_options prep = {.box = kind == CG_MNIST_DIGITS ? 20 : 0}; // digits sit in 20x20
    cg_module_eval(s->model);
    bool grad = cg_set_grad_enabled(false);
    cg_scope_begin();
    cg_tensor *x = cg_image_prepare_mnist(s->picture, &prep);
    cg_tensor *probs = cg_softmax(cg_module_forward(s->model, normalize(x, kind)), 1);
    int rc = probs ? 0 : fail("cannot classify the picture", NULL);
    if (probs) {
        printf("%s:\n", path);
        for (int rank = 0; rank < 3; rank++) {
            int best = 0;
            for (int c = 1; c < 10; c++) best = probs->data[c] > probs->data[best] ? c : best;
            printf("  %d. %-12s %6.2f%%\n", rank + 1, cg_mnist_class_name(kind, best),
                   100 * probs->data[best]);
            probs->data[best] = -1; // taken
        }
    }
    cg_scope_end();
    cg_free(x);
    cg_set_grad_enabled(grad);
    return rc;
}

// The model in eval mode traced on one image (io/onnx.h); the batch dim stays free.
static int export_onnx(cg_module *model, const char *path) {
    cg_module_eval(model);
    cg_tensor *example = cg_zeros(CG_SHAPE(2, 1, 28, 28)); // two samples: see io/onnx.h
    int rc = cg_onnx_export(model, example, path, NULL);
    cg_free(example);
    if (rc) return fail("cannot export the model to ONNX", NULL);
    printf("wrote %s (ONNX: input (N,1,28,28) normalised as the training data, output the "
           "10 logits)\n",
           path);
    return 0;
}

// ---- putting it together ---------------------------------------------------------------
static int load_data(const options *o, session *s, bool with_train) {
    if (cg_mnist_load(o->data, false, &s->test)) return fail("cannot load the test set", NULL);
    s->test_loader = cg_dataloader_new(s->test.images, s->test.labels, 250, false, 0);
    cg_dataloader_set_normalize(s->test_loader, data_mean(s->test.kind), data_std(s->test.kind));
    if (!with_train) return 0;
    // The 60,000 training images stay bytes (47 MB, not 188 MB as floats); the loader turns
    // each batch into floats in [0,1].
    if (cg_mnist_load_bytes(o->data, true, &s->train))
        return fail("cannot load the training set", NULL);
    int64_t sample[] = {1, s->train.height, s->train.width};
    s->train_loader = cg_dataloader_new_bytes(
        s->train.pixels, s->train.count, 3, sample, 1.0f / 255, s->train.labels,
        o->batch / cg_dist_world_size(), true, (uint64_t)o->seed);
    cg_dataloader_set_normalize(s->train_loader, data_mean(s->test.kind), data_std(s->test.kind));
    if (dist_shard(s->train_loader)) return fail("cannot shard the training set", NULL);
    if (s->resumed.has_loader && cg_dataloader_set_state(s->train_loader, &s->resumed.loader))
        return fail("cannot restore the data order (was --batch changed?)", NULL);
    printf("%s: %lld training and %lld test images of %s\n", o->data, (long long)s->train.count,
           (long long)s->test.count, s->test.kind == CG_MNIST_FASHION ? "clothes" : "digits");
    return 0;
}

static bool file_exists(const char *path) {
    FILE *f = fopen(path, "rb");
    return f ? fclose(f), true : false;
}

static int run(const options *o, session *s) {
    s->model = strcmp(o->model, "big") ? small_model() : big_model();
    s->opt = cg_sgd_for(s->model,
                        &(cg_sgd_options){.lr = CG_SET(o->lr), .momentum = CG_SET(o->momentum)});
    s->schedule = cg_cosine_annealing_lr(s->opt, o->epochs, 0.0f);
    if (!s->schedule) return fail("cannot build the model", NULL);
    // A model to predict with comes from --resume, an existing --save file, or training.
    const char *checkpoint = o->resume                                       ? o->resume
                             : o->predict && o->save && file_exists(o->save) ? o->save
                                                                             : NULL;
    bool predict_only = o->predict && checkpoint;
    if (checkpoint) {
        if (cg_dist_checkpoint_load(checkpoint, s->model, s->opt, &s->resumed))
            return fail("cannot load the checkpoint",
                        cg_last_error() == CG_ERR_SHAPE ? "saved with another --model?" : NULL);
        cg_scheduler_set_epoch(s->schedule, (int)s->resumed.epoch);
        s->step = s->resumed.global_step;
        printf("loaded %s (%lld epochs, %lld steps)\n", checkpoint, (long long)s->resumed.epoch,
               (long long)s->resumed.global_step);
    }
    if (dist_start(o, s)) return 1;
    if (o->predict && !(s->picture = cg_image_load_gray(o->predict)))
        return fail("cannot read the picture", NULL);
    if (load_data(o, s, !predict_only)) return 1;
    if (!predict_only) {
        cg_module_summary(s->model, 4, (int64_t[]){1, 1, 28, 28}, stdout);
        fflush(stdout); // before anything goes to stderr, also when stdout is a file
        if (train(o, s)) return 1;
        if (main_rank() && save_pictures(s, o->kernels))
            return fail("cannot write the pictures", NULL);
    }
    int rc = o->predict && main_rank() ? predict(s, o->predict) : 0;
    return rc == 0 && o->onnx && main_rank() ? export_onnx(s->model, o->onnx) : rc;
}

static void free_session(session *s) {
    cg_free(s->picture);
    cg_dataloader_free(s->train_loader), cg_dataloader_free(s->test_loader);
    cg_mnist_free(&s->train), cg_mnist_free(&s->test);
    cg_scheduler_free(s->schedule), cg_optimizer_free(s->opt);
    cg_ddp_free(s->ddp);
    cg_metrics_close(s->metrics);
    cg_module_free(s->model);
}

int main(int argc, char **argv) {
    options o = {.data = "/usr/share/datasets/fashion-mnist",
                 .model = "small",
                 .kernels = "kernels.png",
                 .epochs = 5,
                 .batch = 64,
                 .lr = 0.02f,
                 .momentum = 0.9f,
                 .seed = 42};
    int rc = parse_flags(argc, argv, &o);
    if (rc) return rc == 2 ? 0 : 2;
    if (dist_join(&argc, &argv)) return 1;
    cg_set_error_handler(quiet, NULL);
    if (o.threads) cg_set_num_threads(o.threads);
    cg_manual_seed((uint64_t)o.seed); // the initial weights and dropout masks
    session s = {0};
    rc = run(&o, &s);
    free_session(&s);
    cg_dist_finalize();
    return rc;
}
