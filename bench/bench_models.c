// bench/bench_models.c - speed and peak memory of the models people train with cgrad: full training
// steps and no-grad evaluation, one (model, mode) per process so the peak RSS is that
// model's. bench/torch_models.py builds the same models in PyTorch and prints the same JSON
// lines; bench/models runs both, row by row, and prints the ratios.
//
//   build/release/bench/bench_models --model resnet --mode train --threads 2
//   {"bench": "model", "name": "resnet/train", "model": "resnet", "mode": "train",
//    "threads": 2, "steps": 40, "ms": 25.1, "images_per_s": 2550.0, "peak_rss_mb": 118.6,
//    "base_rss_mb": 9.5, "params": 77754}
//   build/release/bench/bench_models --shapes     every model's state_dict names and shapes
//
// Modes: train (forward, loss, backward, gradient clipping where the model has it, optimizer
// step, lr-schedule step), eval (eval mode, no grad, forward only), eval1000 (eval mode, no
// grad, one forward of 1000 images). Each runs steps for --warmup seconds, then times steps
// for --seconds (at least 3 steps each). Batch 64. The data are 1000 random "images" in
// [0, 1) with random labels, made once: no I/O, and the same sizes as Fashion-MNIST.
// peak_rss_mb is the whole run's peak RSS, base_rss_mb the peak before the first step (the
// model, the optimizer and the data).
#define _POSIX_C_SOURCE 200809L // clock_gettime
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define BATCH     64
#define POOL      1000   // images made at the start; eval1000 runs them all at once
#define MIN_STEPS 3      // per phase (warm-up, timed), however slow the model
#define ONE_CYCLE 100000 // OneCycleLR's total_steps: longer than any timed run

// cg_Sequential over a list of modules, counting them: SEQUENTIAL(cg_ReLU(), cg_Tanh()).
// sizeof does not evaluate its operand, so each constructor runs once.
#define SEQUENTIAL(...)                                                                            \
    cg_Sequential((int)(sizeof((cg_module *[]){__VA_ARGS__}) / sizeof(cg_module *)),               \
                  (cg_module *[]){__VA_ARGS__})

static const cg_pool_options pool2 = {.kernel_size = 2};

// ---- the models (bench/torch_models.py builds each the same way) -----------------------------

// bench_train's small CNN (mnist_cnn's default): 9,098 parameters.
static cg_module *small_cnn(void) {
    const cg_conv_options pad1 = {.padding = 1};
    return SEQUENTIAL(cg_Conv2d(1, 8, 3, &pad1), cg_ReLU(), cg_MaxPool2d(&pool2),
                      cg_Conv2d(8, 16, 3, &pad1), cg_ReLU(), cg_MaxPool2d(&pool2),
                      cg_Flatten(1, -1), cg_Linear(784, 10, NULL));
}

// LeNet-5 for 28x28 inputs as it is usually written in PyTorch (ReLU and max pooling rather
// than the 1998 paper's tanh and subsampling): the first conv pads 2, so 28x28 acts as the
// paper's 32x32 and the second conv ends at 16x5x5 = 400.
static cg_module *lenet5(void) {
    return SEQUENTIAL(cg_Conv2d(1, 6, 5, &(cg_conv_options){.padding = 2}), cg_ReLU(),
                      cg_MaxPool2d(&pool2), cg_Conv2d(6, 16, 5, NULL), cg_ReLU(),
                      cg_MaxPool2d(&pool2), cg_Flatten(1, -1), cg_Linear(400, 120, NULL), cg_ReLU(),
                      cg_Linear(120, 84, NULL), cg_ReLU(), cg_Linear(84, 10, NULL));
}

// pytorch/examples mnist/main.py's Net (1,199,882 parameters); log_softmax + nll_loss.
static cg_module *mnist_net(void) {
    return SEQUENTIAL(cg_Conv2d(1, 32, 3, NULL), cg_ReLU(), cg_Conv2d(32, 64, 3, NULL), cg_ReLU(),
                      cg_MaxPool2d(&pool2), cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.25)}),
                      cg_Flatten(1, -1), cg_Linear(9216, 128, NULL), cg_ReLU(), cg_Dropout(NULL),
                      cg_Linear(128, 10, NULL), cg_LogSoftmax(1));
}

// ---- ResNet's BasicBlock: a module class written outside the library ----------------------
// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), where the shortcut is the identity
// when the shape is kept and a projection (1x1 conv with the block's stride, then BN) when
// it changes. The children carry the names PyTorch's class gives its attributes, so the
// state_dict is the Python model's: conv1, bn1, conv2, bn2, shortcut.0, shortcut.1.
// relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)), as torchvision's BasicBlock: bn1 and
// relu in one pass, the residual add and its ReLU in one op, and each intermediate handed
// to cg_free_consumed once the next op has read it (freed at once in evaluation).
static cg_tensor *basic_block_forward(cg_module *m, cg_tensor *x) {
    cg_tensor *h = cg_module_forward(cg_module_get(m, "conv1"), x);
    cg_tensor *y = cg_module_forward_pair(cg_module_get(m, "bn1"), cg_module_get(m, "relu"), h);
    cg_free_consumed(h, x, y);
    h = cg_module_forward(cg_module_get(m, "conv2"), y);
    cg_free_consumed(y, x, h);
    y = cg_module_forward(cg_module_get(m, "bn2"), h);
    cg_free_consumed(h, x, y);
    const bool *projects = m->impl; // a projection shortcut (torchvision: downsample)
    cg_tensor *s = *projects ? cg_module_forward(cg_module_get(m, "shortcut"), x) : x;
    cg_tensor *out = cg_add_relu(y, s);
    cg_free_consumed(y, x, out);
    if (s != x) cg_free_consumed(s, x, out);
    return out;
}
static const cg_module_class basic_block_class = {.name = "BasicBlock",
                                                  .forward = basic_block_forward};

// m gets child under name, or child is freed (a NULL child - a failed constructor - too).
static bool add_child(cg_module *m, const char *name, cg_module *child) {
    if (m && cg_module_add_child(m, name, child)) return true;
    cg_module_free(child);
    return false;
}

// (N, in, H, W) -> (N, out, H/stride, W/stride). The convs have no bias: BN adds one.
static cg_module *basic_block(int in, int out, int stride) {
    const cg_conv_options first = {.stride = stride, .padding = 1, .no_bias = true};
    const cg_conv_options second = {.padding = 1, .no_bias = true};
    const cg_conv_options project = {.stride = stride, .no_bias = true};
    bool projects = stride != 1 || in != out;
    cg_module *m = cg_module_new(&basic_block_class, &projects, sizeof projects);
    bool ok = add_child(m, "conv1", cg_Conv2d(in, out, 3, &first)) &&
              add_child(m, "bn1", cg_BatchNorm2d(out, NULL)) && add_child(m, "relu", cg_ReLU()) &&
              add_child(m, "conv2", cg_Conv2d(out, out, 3, &second)) &&
              add_child(m, "bn2", cg_BatchNorm2d(out, NULL));
    if (ok && projects)
        ok = add_child(m, "shortcut",
                       SEQUENTIAL(cg_Conv2d(in, out, 1, &project), cg_BatchNorm2d(out, NULL)));
    if (ok) return m;
    cg_module_free(m);
    return NULL;
}

// A small ResNet for 28x28 images: stem conv-BN-ReLU, blocks 16->16->32->64 (28x28, 14x14,
// 7x7), global average pooling, Linear.
static cg_module *resnet(void) {
    return SEQUENTIAL(cg_Conv2d(1, 16, 3, &(cg_conv_options){.padding = 1, .no_bias = true}),
                      cg_BatchNorm2d(16, NULL), cg_ReLU(), basic_block(16, 16, 1),
                      basic_block(16, 32, 2), basic_block(32, 64, 2), cg_AdaptiveAvgPool2d(1, 1),
                      cg_Flatten(1, -1), cg_Linear(64, 10, NULL));
}

// examples/conv_autoencoder.c's model: (N,1,28,28) -> (N,32,7,7) -> (N,1,28,28) in [0,1].
static cg_module *autoencoder(void) {
    const cg_conv_options down = {.stride = 2, .padding = 1};
    const cg_conv_options up = {.stride = 2, .padding = 1, .output_padding = 1};
    return SEQUENTIAL(cg_Conv2d(1, 16, 3, &down), cg_ReLU(), cg_Conv2d(16, 32, 3, &down), cg_ReLU(),
                      cg_ConvTranspose2d(32, 16, 3, &up), cg_ReLU(),
                      cg_ConvTranspose2d(16, 1, 3, &up), cg_Sigmoid());
}

// A 1-D CNN over an image read as one signal of 784 samples (N, 1, 784) - the shape of the
// audio/sensor models Conv1d is used for (one channel, long sequences) - rather than 28
// channels of 28 rows, which would leave the convolutions almost nothing to do:
// 784 -> pool 196 -> pool 49 -> global average -> Linear.
static cg_module *conv1d_net(void) {
    const cg_pool_options pool4 = {.kernel_size = 4};
    return SEQUENTIAL(cg_Conv1d(1, 16, 7, &(cg_conv_options){.padding = 3}), cg_ReLU(),
                      cg_MaxPool1d(&pool4), cg_Conv1d(16, 32, 5, &(cg_conv_options){.padding = 2}),
                      cg_ReLU(), cg_MaxPool1d(&pool4),
                      cg_Conv1d(32, 64, 3, &(cg_conv_options){.padding = 1}), cg_ReLU(),
                      cg_AdaptiveAvgPool1d(1), cg_Flatten(1, -1), cg_Linear(64, 10, NULL));
}

// ---- the table: how each model is trained --------------------------------------------------
typedef enum loss_kind {
    LOSS_CROSS_ENTROPY, // logits and class labels (with the spec's label smoothing)
    LOSS_NLL,           // the model ends in LogSoftmax
    LOSS_MSE_INPUT      // an autoencoder: the input is the target
} loss_kind;
typedef enum optim_kind { OPTIM_SGD, OPTIM_ADAM, OPTIM_ADAMW, OPTIM_ADADELTA } optim_kind;

typedef struct model_spec {
    const char *name;
    cg_module *(*build)(void);
    int ndim;                // of one sample
    int64_t sample_shape[3]; // (1, 28, 28) or (1, 784)
    loss_kind loss;
    double label_smoothing; // cross entropy only
    optim_kind optim;
    double lr, momentum;     // momentum: SGD only; a OneCycleLR sets its own lr
    double one_cycle_max_lr; // > 0: OneCycleLR stepped after every optimizer step
    double clip_norm;        // > 0: clip_grad_norm_ before every optimizer step
} model_spec;

static const model_spec models[] = {
    {.name = "small_cnn",
     .build = small_cnn,
     .ndim = 3,
     .sample_shape = {1, 28, 28},
     .loss = LOSS_CROSS_ENTROPY,
     .optim = OPTIM_SGD,
     .lr = 0.05,
     .momentum = 0.9},
    {.name = "lenet5",
     .build = lenet5,
     .ndim = 3,
     .sample_shape = {1, 28, 28},
     .loss = LOSS_CROSS_ENTROPY,
     .optim = OPTIM_SGD,
     .lr = 0.05},
    // As the PyTorch example trains it: Adadelta(lr=1.0).
    {.name = "mnist_net",
     .build = mnist_net,
     .ndim = 3,
     .sample_shape = {1, 28, 28},
     .loss = LOSS_NLL,
     .optim = OPTIM_ADADELTA,
     .lr = 1.0},
    {.name = "resnet",
     .build = resnet,
     .ndim = 3,
     .sample_shape = {1, 28, 28},
     .loss = LOSS_CROSS_ENTROPY,
     .label_smoothing = 0.1,
     .optim = OPTIM_ADAMW,
     .lr = 1e-3,
     .one_cycle_max_lr = 0.01,
     .clip_norm = 1.0},
    {.name = "autoencoder",
     .build = autoencoder,
     .ndim = 3,
     .sample_shape = {1, 28, 28},
     .loss = LOSS_MSE_INPUT,
     .optim = OPTIM_ADAM,
     .lr = 2e-3},
    {.name = "conv1d",
     .build = conv1d_net,
     .ndim = 2,
     .sample_shape = {1, 784},
     .loss = LOSS_CROSS_ENTROPY,
     .optim = OPTIM_ADAM,
     .lr = 1e-3},
};
#define N_MODELS ((int)(sizeof models / sizeof *models))

static cg_tensor *loss_of(const model_spec *s, cg_tensor *out, cg_tensor *x, cg_tensor *y) {
    switch (s->loss) {
    case LOSS_CROSS_ENTROPY:
        return cg_cross_entropy(out, y, &(cg_loss_options){.label_smoothing = s->label_smoothing});
    case LOSS_NLL:
        return cg_nll_loss(out, y, NULL);
    case LOSS_MSE_INPUT:
        return cg_mse_loss(out, x, NULL);
    }
    return NULL;
}

static cg_optimizer *optimizer_of(const model_spec *s, cg_module *model) {
    switch (s->optim) {
    case OPTIM_SGD:
        return cg_sgd_for(model,
                          &(cg_sgd_options){.lr = CG_SET(s->lr), .momentum = CG_SET(s->momentum)});
    case OPTIM_ADAM:
        return cg_adam_for(model, &(cg_adam_options){.lr = CG_SET(s->lr)});
    case OPTIM_ADAMW:
        return cg_adamw_for(model, &(cg_adam_options){.lr = CG_SET(s->lr)});
    case OPTIM_ADADELTA:
        return cg_adadelta_for(model, &(cg_adadelta_options){.lr = CG_SET(s->lr)});
    }
    return NULL;
}

// ---- running -----------------------------------------------------------------------------
typedef struct bench {
    const model_spec *spec;
    cg_module *model;
    cg_optimizer *opt;
    cg_scheduler *schedule;     // NULL unless the model has one
    cg_tensor *images, *labels; // (POOL, sample...) and (POOL)
    int batch;
} bench;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

// Batch i: `batch` consecutive images of the pool, walking through it.
static int64_t batch_start(const bench *b, int i) {
    return (int64_t)i * b->batch % (POOL - b->batch + 1);
}

static int train_step(bench *b, int i) {
    const model_spec *s = b->spec;
    int64_t at = batch_start(b, i);
    cg_scope_begin();
    cg_tensor *x = cg_slice(b->images, at, at + b->batch),
              *y = cg_slice(b->labels, at, at + b->batch);
    cg_optimizer_zero_grad(b->opt);
    int rc = cg_backward(loss_of(s, cg_module_forward(b->model, x), x, y));
    if (rc == 0 && s->clip_norm > 0 && cg_optimizer_clip_grad_norm(b->opt, s->clip_norm, NULL) < 0)
        rc = -1;
    if (rc == 0) rc = cg_optimizer_step(b->opt);
    if (rc == 0 && b->schedule) rc = cg_scheduler_step(b->schedule);
    cg_scope_end();
    return rc;
}

// No grad is recorded (main turns it off for the eval modes).
static int eval_step(bench *b, int i) {
    int64_t at = batch_start(b, i);
    cg_scope_begin();
    int rc = cg_module_forward(b->model, cg_slice(b->images, at, at + b->batch)) ? 0 : -1;
    cg_scope_end();
    return rc;
}

// Steps from *next on until at least min_steps ran and `seconds` passed; the time taken, or
// -1 on error. *count gets the number of steps.
static double run_for(bench *b, int (*step)(bench *, int), int *next, int min_steps, double seconds,
                      int *count) {
    double start = now(), elapsed = 0;
    for (*count = 0; *count < min_steps || elapsed < seconds; ++*count) {
        if (step(b, (*next)++)) return -1;
        elapsed = now() - start;
    }
    return elapsed;
}

// The process's peak resident set so far, in MB.
static double peak_rss_mb(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;
}

static int setup(bench *b, const model_spec *s, bool train) {
    *b = (bench){.spec = s, .model = s->build(), .batch = BATCH};
    int64_t shape[4] = {POOL};
    memcpy(shape + 1, s->sample_shape, (size_t)s->ndim * sizeof *shape);
    b->images = cg_rand(s->ndim + 1, shape, NULL);
    b->labels = cg_randint(0, 10, 1, shape, NULL);
    if (!b->model || !b->images || !b->labels) return -1;
    if (!train) return 0;
    b->opt = optimizer_of(s, b->model);
    if (b->opt && s->one_cycle_max_lr > 0)
        b->schedule =
            cg_one_cycle_lr(b->opt, &(cg_one_cycle_lr_options){.max_lr = s->one_cycle_max_lr,
                                                               .total_steps = ONE_CYCLE});
    return b->opt && (b->schedule || !(s->one_cycle_max_lr > 0)) ? 0 : -1;
}

static void teardown(bench *b) {
    cg_scheduler_free(b->schedule);
    cg_optimizer_free(b->opt);
    cg_module_free(b->model);
    cg_free(b->images), cg_free(b->labels);
}

static int run(const model_spec *s, const char *mode, int threads, double warmup, double seconds) {
    bool train = !strcmp(mode, "train");
    bench b;
    if (setup(&b, s, train)) {
        teardown(&b);
        return 1;
    }
    // eval1000 is one evaluation of a test set: a single call is already a measurement.
    bool whole = !strcmp(mode, "eval1000");
    if (whole) b.batch = POOL;
    int min_steps = whole ? 1 : MIN_STEPS;
    cg_module_train(b.model, train);
    bool grad = cg_set_grad_enabled(train);
    int (*step)(bench *, int) = train ? train_step : eval_step;
    int next = 0, steps;
    double base_rss_mb = peak_rss_mb(); // the model, optimizer and data, before any step
    double elapsed = run_for(&b, step, &next, min_steps, warmup, &steps);
    if (elapsed >= 0) elapsed = run_for(&b, step, &next, min_steps, seconds, &steps);
    cg_set_grad_enabled(grad);
    if (elapsed >= 0)
        printf("{\"bench\": \"model\", \"name\": \"%s/%s\", \"model\": \"%s\", \"mode\": \"%s\", "
               "\"threads\": %d, \"steps\": %d, \"ms\": %.4f, \"images_per_s\": %.1f, "
               "\"peak_rss_mb\": %.1f, \"base_rss_mb\": %.1f, \"params\": %lld}\n",
               s->name, mode, s->name, mode, threads, steps, 1e3 * elapsed / steps,
               (double)steps * b.batch / elapsed, peak_rss_mb(), base_rss_mb,
               (long long)cg_module_num_parameters(b.model));
    teardown(&b);
    return elapsed >= 0 ? 0 : 1;
}

// Every model's state_dict, one "model name [shape]" line per entry, then its parameter
// count: bench/models compares these lines with torch_models.py --shapes.
static int print_shapes(void) {
    for (int k = 0; k < N_MODELS; k++) {
        cg_module *m = models[k].build();
        if (!m) return 1;
        cg_tensor_list sd = cg_module_state_dict(m);
        for (int i = 0; i < sd.count; i++) {
            const cg_tensor *t = sd.items[i].tensor;
            printf("%s %s [", models[k].name, sd.items[i].name);
            for (int d = 0; d < t->ndim; d++) printf(d ? ", %lld" : "%lld", (long long)t->shape[d]);
            printf("]\n");
        }
        printf("%s parameters %lld\n", models[k].name, (long long)cg_module_num_parameters(m));
        cg_tensor_list_free(&sd);
        cg_module_free(m);
    }
    return 0;
}

static int usage(void) {
    fprintf(stderr, "usage: bench_models --model NAME --mode train|eval|eval1000 [--threads N (2)] "
                    "[--seconds S (1)] [--warmup S (0.3)]\n       bench_models --shapes\nmodels:");
    for (int k = 0; k < N_MODELS; k++) fprintf(stderr, " %s", models[k].name);
    fprintf(stderr, "\n");
    return 2;
}

// A number in [lo, hi] from v (a whole one if `whole`), or a message and false.
static bool parse_number(const char *flag, const char *v, double lo, double hi, bool whole,
                         double *out) {
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (v && *v && !*end && x >= lo && x <= hi && (!whole || x == (int)x)) {
        *out = x;
        return true;
    }
    fprintf(stderr, "bench_models: %s needs %s in [%g, %g]\n", flag,
            whole ? "an integer" : "a number", lo, hi);
    return false;
}

int main(int argc, char **argv) {
    const char *name = NULL, *mode = NULL;
    double threads = 2, seconds = 1, warmup = 0.3;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true;
        if (!strcmp(argv[i], "--shapes") && argc == 2) return print_shapes();
        if (!strcmp(argv[i], "--model") && v)
            name = v;
        else if (!strcmp(argv[i], "--mode") && v)
            mode = v;
        else if (!strcmp(argv[i], "--threads"))
            ok = parse_number(argv[i], v, 1, 1024, true, &threads);
        else if (!strcmp(argv[i], "--seconds"))
            ok = parse_number(argv[i], v, 0, 3600, false, &seconds);
        else if (!strcmp(argv[i], "--warmup"))
            ok = parse_number(argv[i], v, 0, 3600, false, &warmup);
        else
            return usage();
        if (!ok) return 2;
        i++;
    }
    const model_spec *spec = NULL;
    for (int k = 0; name && k < N_MODELS; k++)
        if (!strcmp(name, models[k].name)) spec = &models[k];
    if (!spec || !mode ||
        (strcmp(mode, "train") && strcmp(mode, "eval") && strcmp(mode, "eval1000")))
        return usage();
    cg_set_num_threads((int)threads);
    cg_manual_seed(0);
    return run(spec, mode, (int)threads, warmup, seconds);
}
