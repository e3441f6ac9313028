// examples/mnist_main.c - pytorch/examples' mnist/main.py, line for line: the same Net,
// Adadelta(lr=1.0) with StepLR(step_size=1, gamma=0.7), the same flags, defaults and
// printouts. It reads the MNIST files from --data (Debian's dataset-fashion-mnist by
// default; the digits work too) instead of downloading them.
//
//   build/release/examples/mnist_main --epochs 2
//   build/release/examples/mnist_main --dry-run --epochs 1
#include <cgrad.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// ---- class Net(nn.Module) -------------------------------------------------------------------
typedef struct net {
    cg_module *conv1, *conv2, *dropout1, *dropout2, *fc1, *fc2;
} net;

// x (N,1,28,28) -> conv1 (N,32,26,26) -> conv2 (N,64,24,24) -> pool (N,64,12,12)
// -> flatten (N,9216) -> fc1 (N,128) -> fc2 (N,10) -> log-probabilities.
static cg_tensor *net_forward(cg_module *m, cg_tensor *x) {
    net *n = m->impl;
    x = cg_module_forward(n->conv1, x);
    x = cg_relu(x);
    x = cg_module_forward(n->conv2, x);
    x = cg_relu(x);
    x = cg_max_pool2d(x, &(cg_pool_options){.kernel_size = 2});
    x = cg_module_forward(n->dropout1, x);
    x = cg_flatten(x, 1, -1);
    x = cg_module_forward(n->fc1, x);
    x = cg_relu(x);
    x = cg_module_forward(n->dropout2, x);
    x = cg_module_forward(n->fc2, x);
    return cg_log_softmax(x, 1); // a NULL anywhere above comes out as NULL
}

static const cg_module_class net_class = {.name = "Net", .forward = net_forward};

static cg_module *Net(void) {
    cg_module *m = cg_module_new(&net_class, &(net){0}, sizeof(net));
    if (!m) return NULL;
    net *n = m->impl;
    n->conv1 =
        cg_module_add_child(m, "conv1", cg_Conv2d(1, 32, 3, &(cg_conv_options){.stride = 1}));
    n->conv2 =
        cg_module_add_child(m, "conv2", cg_Conv2d(32, 64, 3, &(cg_conv_options){.stride = 1}));
    n->dropout1 =
        cg_module_add_child(m, "dropout1", cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.25)}));
    n->dropout2 =
        cg_module_add_child(m, "dropout2", cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.5)}));
    n->fc1 = cg_module_add_child(m, "fc1", cg_Linear(9216, 128, NULL));
    n->fc2 = cg_module_add_child(m, "fc2", cg_Linear(128, 10, NULL));
    if (!(n->conv1 && n->conv2 && n->dropout1 && n->dropout2 && n->fc1 && n->fc2)) {
        cg_module_free(m);
        return NULL;
    }
    return m;
}

// ---- the parser (argparse's flags and defaults) ---------------------------------------------
typedef struct args {
    int batch_size, test_batch_size, epochs;
    double lr, gamma;
    bool no_cuda, no_mps, dry_run, save_model;
    int seed, log_interval;
    const char *data;
} args;

static void usage(FILE *out) {
    fputs("usage: mnist_main [-h] [--batch-size N] [--test-batch-size N] [--epochs N] [--lr LR]\n"
          "                  [--gamma M] [--no-cuda] [--no-mps] [--dry-run] [--seed S]\n"
          "                  [--log-interval N] [--save-model] [--data DIR]\n"
          "PyTorch MNIST Example\n"
          "  --batch-size N       input batch size for training (default: 64)\n"
          "  --test-batch-size N  input batch size for testing (default: 1000)\n"
          "  --epochs N           number of epochs to train (default: 14)\n"
          "  --lr LR              learning rate (default: 1.0)\n"
          "  --gamma M            Learning rate step gamma (default: 0.7)\n"
          "  --no-cuda, --no-mps  accepted; cgrad runs on the CPU\n"
          "  --dry-run            quickly check a single pass\n"
          "  --seed S             random seed (default: 1)\n"
          "  --log-interval N     how many batches to wait before logging training status\n"
          "  --save-model         For Saving the current Model (mnist_cnn.safetensors)\n"
          "  --data DIR           the 4 MNIST files (/usr/share/datasets/fashion-mnist)\n",
          out);
}

// A number flag's value: an integer (is_int) or a float, at least lo.
static bool number(const char *flag, const char *v, bool is_int, double lo, double *out) {
    char *end;
    double x = v ? strtod(v, &end) : 0;
    if (!v || !*v || *end || !(x >= lo && x <= 2147483647) || (is_int && x != (int)x)) {
        fprintf(stderr, "mnist_main: argument %s: expected %s >= %g, got '%s'\n", flag,
                is_int ? "an integer" : "a number", lo, v ? v : "(nothing)");
        return false;
    }
    *out = x;
    return true;
}

// 0: run, 1: bad flags, 2: --help printed.
static int parse_args(int argc, char **argv, args *a) {
    struct {
        const char *name;
        int *i;
        double *f, lo;
    } numbers[] = {{"--batch-size", &a->batch_size, NULL, 1},
                   {"--test-batch-size", &a->test_batch_size, NULL, 1},
                   {"--epochs", &a->epochs, NULL, 0},
                   {"--lr", NULL, &a->lr, 0},
                   {"--gamma", NULL, &a->gamma, 0},
                   {"--seed", &a->seed, NULL, 0},
                   {"--log-interval", &a->log_interval, NULL, 1}};
    struct {
        const char *name;
        bool *on;
    } switches[] = {{"--no-cuda", &a->no_cuda},
                    {"--no-mps", &a->no_mps},
                    {"--dry-run", &a->dry_run},
                    {"--save-model", &a->save_model}};
    for (int k = 1; k < argc; k++) {
        const char *arg = argv[k];
        bool known = false;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) return usage(stdout), 2;
        if (!strcmp(arg, "--data") && k + 1 < argc) a->data = argv[++k], known = true;
        for (size_t s = 0; !known && s < sizeof switches / sizeof *switches; s++)
            if (!strcmp(arg, switches[s].name)) *switches[s].on = known = true;
        for (size_t n = 0; !known && n < sizeof numbers / sizeof *numbers; n++) {
            if (strcmp(arg, numbers[n].name)) continue;
            double x;
            const char *v = k + 1 < argc ? argv[++k] : NULL;
            if (!number(arg, v, !numbers[n].f, numbers[n].lo, &x)) return 1;
            if (numbers[n].f)
                *numbers[n].f = x;
            else
                *numbers[n].i = (int)x;
            known = true;
        }
        if (!known) {
            fprintf(stderr, "mnist_main: unrecognized arguments: %s (see --help)\n", arg);
            return 1;
        }
    }
    return 0;
}

// ---- train and test ----------------------------------------------------------------------
// One epoch; a step's activations live in a scope. -1 on an error.
static int train(const args *a, cg_module *model, cg_dataloader *train_loader,
                 cg_optimizer *optimizer, int epoch) {
    cg_module_train(model, true);
    int64_t n_batches = cg_dataloader_num_batches(train_loader);
    int64_t n_samples = cg_dataloader_num_samples(train_loader);
    cg_tensor *data, *target;
    for (int64_t batch_idx = 0; cg_dataloader_next(train_loader, &data, &target); batch_idx++) {
        cg_scope_begin();
        cg_optimizer_zero_grad(optimizer);
        cg_tensor *output = cg_module_forward(model, data);
        cg_tensor *loss = cg_nll_loss(output, target, NULL);
        int rc = cg_backward(loss) || cg_optimizer_step(optimizer) ? -1 : 0;
        float value = rc ? 0 : cg_item(loss);
        cg_scope_end();
        if (rc) return -1;
        if (batch_idx % a->log_interval == 0) {
            printf("Train Epoch: %d [%lld/%lld (%.0f%%)]\tLoss: %.6f\n", epoch,
                   (long long)(batch_idx * cg_size(data, 0)), (long long)n_samples,
                   100.0 * (double)batch_idx / (double)n_batches, value);
            fflush(stdout);
            if (a->dry_run) {
                cg_dataloader_reset(train_loader); // the next epoch starts at its first batch
                break;
            }
        }
    }
    return 0;
}

// The summed nll_loss and the correct answers over the test set, without gradients.
static int test(cg_module *model, cg_dataloader *test_loader) {
    cg_module_eval(model);
    double test_loss = 0;
    int64_t correct = 0, n = cg_dataloader_num_samples(test_loader);
    bool grad = cg_set_grad_enabled(false);
    cg_tensor *data, *target;
    int rc = 0;
    while (cg_dataloader_next(test_loader, &data, &target)) {
        cg_scope_begin();
        cg_tensor *output = cg_module_forward(model, data);
        cg_tensor *loss =
            cg_nll_loss(output, target, &(cg_loss_options){.reduction = CG_REDUCTION_SUM});
        cg_tensor *pred = cg_argmax(output, 1, false);
        cg_tensor *hits = cg_sum(cg_eq(pred, target), CG_ALL_DIMS, false);
        if (loss && hits)
            test_loss += cg_item(loss), correct += (int64_t)cg_item(hits);
        else
            rc = -1;
        cg_scope_end();
    }
    cg_set_grad_enabled(grad);
    if (rc) return -1;
    test_loss /= (double)n;
    printf("\nTest set: Average loss: %.4f, Accuracy: %lld/%lld (%.0f%%)\n\n", test_loss,
           (long long)correct, (long long)n, 100.0 * (double)correct / (double)n);
    fflush(stdout);
    return 0;
}

// ---- main() ---------------------------------------------------------------------------------
typedef struct session {
    cg_mnist dataset1, dataset2;
    cg_dataloader *train_loader, *test_loader;
    cg_module *model;
    cg_optimizer *optimizer;
    cg_scheduler *scheduler;
} session;

static int run(const args *a, session *s) {
    cg_manual_seed((uint64_t)a->seed);
    // transforms.Normalize((0.1307,), (0.3081,)) after ToTensor's / 255.
    if (cg_mnist_load_bytes(a->data, true, &s->dataset1) ||
        cg_mnist_load(a->data, false, &s->dataset2))
        return -1;
    int64_t sample[] = {1, s->dataset1.height, s->dataset1.width};
    s->train_loader =
        cg_dataloader_new_bytes(s->dataset1.pixels, s->dataset1.count, 3, sample, 1.0f / 255,
                                s->dataset1.labels, a->batch_size, true, (uint64_t)a->seed);
    s->test_loader =
        cg_dataloader_new(s->dataset2.images, s->dataset2.labels, a->test_batch_size, false, 0);
    if (cg_dataloader_set_normalize(s->train_loader, 0.1307f, 0.3081f) ||
        cg_dataloader_set_normalize(s->test_loader, 0.1307f, 0.3081f))
        return -1;

    s->model = Net();
    s->optimizer = cg_adadelta_for(s->model, &(cg_adadelta_options){.lr = CG_SET(a->lr)});
    s->scheduler = cg_step_lr(s->optimizer, 1, (float)a->gamma);
    if (!s->scheduler) return -1;
    for (int epoch = 1; epoch <= a->epochs; epoch++) {
        if (train(a, s->model, s->train_loader, s->optimizer, epoch) ||
            test(s->model, s->test_loader) || cg_scheduler_step(s->scheduler))
            return -1;
    }
    if (a->save_model && cg_module_save("mnist_cnn.safetensors", s->model)) return -1;
    return 0;
}

int main(int argc, char **argv) {
    args a = {.batch_size = 64,
              .test_batch_size = 1000,
              .epochs = 14,
              .lr = 1.0,
              .gamma = 0.7,
              .seed = 1,
              .log_interval = 10,
              .data = "/usr/share/datasets/fashion-mnist"};
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc == 2 ? 0 : 2;
    session s = {0};
    rc = run(&a, &s); // cgrad's default error handler has printed what went wrong
    cg_scheduler_free(s.scheduler);
    cg_optimizer_free(s.optimizer);
    cg_module_free(s.model);
    cg_dataloader_free(s.train_loader), cg_dataloader_free(s.test_loader);
    cg_mnist_free(&s.dataset1), cg_mnist_free(&s.dataset2);
    return rc ? 1 : 0;
}
