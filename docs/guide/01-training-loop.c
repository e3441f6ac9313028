// docs/guide/01-training-loop.c - one epoch of a small CNN on Fashion-MNIST with one scope
// per step, its test accuracy, then the three scope mistakes and what cgrad says about each.
#include <cgrad.h>
#include <stdio.h>

#define DATA "/usr/share/datasets/fashion-mnist"

static double train_one_epoch(cg_module *model, cg_optimizer *opt, cg_dataloader *dl) {
    cg_tensor *x, *y;
    double last_loss = 0;
    for (int step = 0; cg_dataloader_next(dl, &x, &y); step++) {
        cg_scope_begin(); // everything created from here to cg_scope_end() is freed there
        cg_tensor *loss = cg_cross_entropy(cg_module_forward(model, x), y, NULL);
        cg_optimizer_zero_grad(opt);
        cg_backward(loss);
        cg_optimizer_step(opt);
        last_loss = cg_item(loss); // read it now: cg_scope_end() frees `loss`
        if (step % 200 == 0) printf("step %4d  loss %.4f\n", step, last_loss);
        cg_scope_end();
    }
    return last_loss;
}

static double test_accuracy(cg_module *model, cg_dataloader *dl) {
    cg_module_eval(model);      // dropout off, BatchNorm on running statistics
    cg_set_grad_enabled(false); // torch.no_grad(): no graph is recorded
    cg_tensor *x, *y;
    double correct = 0, seen = 0;
    while (cg_dataloader_next(dl, &x, &y)) {
        cg_scope_begin();
        cg_tensor *hits = cg_eq(cg_argmax(cg_module_forward(model, x), 1, false), y);
        correct += cg_item(cg_sum(hits, CG_ALL_DIMS, false));
        seen += (double)y->numel;
        cg_scope_end();
    }
    cg_set_grad_enabled(true);
    cg_module_train(model, true);
    return correct / seen;
}

// The scope mistakes. Each prints what happens; returns 0 when cgrad said what it should.
static int scope_mistakes(void) {
    // 1. Using a tensor after its scope ended. `t` is freed by cg_scope_end(): reading it
    //    afterwards reads freed memory. A release build cannot tell; the sanitizer build
    //    (-DCG_SANITIZE=ON) stops with "AddressSanitizer: heap-use-after-free". Read what
    //    you need inside the scope (cg_item), or move the tensor out with cg_keep():
    cg_scope_begin();
    cg_tensor *t = cg_keep(cg_mul_scalar(cg_ones(CG_SHAPE(2)), 3.0f)); // out of the scope
    cg_scope_end();
    printf("1. a kept tensor after its scope: [%.1f, %.1f] (free it with cg_free)\n", t->data[0],
           t->data[1]);
    cg_free(t);

    // 2. A path through the loop that skips cg_scope_end() (a `continue` before it): each
    //    step opens one more nested scope and frees nothing, until the nesting limit.
    int steps = 0;
    while (steps < 1000 && cg_last_error() == CG_OK) {
        cg_scope_begin(); // ... if (skip) continue; ... cg_scope_end();
        steps++;
    }
    printf("2. after %d steps without cg_scope_end(): %s\n", steps, cg_last_error_message());
    bool nested = cg_last_error() == CG_ERR_STATE && cg_scope_depth() > 1;
    while (cg_scope_depth() > 0) cg_scope_end(); // close what the loop left open
    cg_clear_error();

    // 3. Ending a scope that is not open (cg_scope_end() twice, or once more after a
    //    `break` out of the loop that had already ended it).
    cg_scope_end();
    printf("3. cg_scope_end() with no scope open: %s\n", cg_last_error_message());
    bool unbalanced = cg_last_error() == CG_ERR_STATE;
    cg_clear_error();
    return nested && unbalanced ? 0 : 1;
}

int main(void) {
    cg_mnist train, test;
    if (cg_mnist_load(DATA, true, &train) || cg_mnist_load(DATA, false, &test))
        return 1;          // the error handler has printed why (and how to get the data)
    cg_set_num_threads(1); // the numbers below repeat exactly for a given thread count
    cg_manual_seed(42);
    const cg_conv_options pad1 = {.padding = 1};
    const cg_pool_options pool2 = {.kernel_size = 2};
    cg_module *model = cg_Sequential(
        8, (cg_module *[]){cg_Conv2d(1, 8, 3, &pad1), cg_ReLU(), cg_MaxPool2d(&pool2),
                           cg_Conv2d(8, 16, 3, &pad1), cg_ReLU(), cg_MaxPool2d(&pool2),
                           cg_Flatten(1, -1), cg_Linear(16 * 7 * 7, 10, NULL)});
    cg_module_summary(model, 4, (int64_t[]){1, 1, 28, 28}, stdout);
    cg_optimizer *opt =
        cg_sgd_for(model, &(cg_sgd_options){.lr = CG_SET(0.05), .momentum = CG_SET(0.9)});
    cg_dataloader *train_dl = cg_dataloader_new(train.images, train.labels, 64, true, 42);
    cg_dataloader *test_dl = cg_dataloader_new(test.images, test.labels, 500, false, 0);
    cg_dataloader_set_normalize(train_dl, 0.2860f, 0.3530f);
    cg_dataloader_set_normalize(test_dl, 0.2860f, 0.3530f);

    train_one_epoch(model, opt, train_dl);
    double accuracy = test_accuracy(model, test_dl);
    printf("test accuracy after one epoch: %.2f%%\n", 100 * accuracy);
    int mistakes = scope_mistakes();

    cg_dataloader_free(train_dl), cg_dataloader_free(test_dl);
    cg_optimizer_free(opt);
    cg_module_free(model);
    cg_mnist_free(&train), cg_mnist_free(&test);
    return accuracy > 0.8 && mistakes == 0 ? 0 : 1;
}
