// bench/small_cnn.h - the small Fashion-MNIST CNN the training benchmarks time (mnist_cnn's
// default model): Conv(1,8,3,p1)-ReLU-MaxPool2-Conv(8,16,3,p1)-ReLU-MaxPool2-Linear(784,10),
// shared by bench_train.c and bench_loader.c so both time the same network.
#ifndef CG_BENCH_SMALL_CNN_H
#define CG_BENCH_SMALL_CNN_H

#include <cgrad.h>

static inline cg_module *small_model(void) {
    const cg_conv_options pad1 = {.padding = 1};
    const cg_pool_options pool2 = {.kernel_size = 2};
    cg_module *layers[] = {cg_Conv2d(1, 8, 3, &pad1),
                           cg_ReLU(),
                           cg_MaxPool2d(&pool2),
                           cg_Conv2d(8, 16, 3, &pad1),
                           cg_ReLU(),
                           cg_MaxPool2d(&pool2),
                           cg_Flatten(1, -1),
                           cg_Linear(784, 10, NULL)};
    return cg_Sequential(8, layers);
}

#endif
