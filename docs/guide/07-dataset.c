// docs/guide/07-dataset.c - your own dataset: images made by a get(i) callback (bars,
// horizontal for class 0 and vertical for class 1, in noise), batched by cg_loader on worker
// threads through transforms, a small CNN trained on them and checked on a held-out split;
// then what an error inside get(i) looks like. The program checks its own results.
#include <cgrad.h>
#include <stdio.h>
#include <string.h>

#define SIDE 12 // images are 1 x SIDE x SIDE

// The dataset's state. get(i) is called from several worker threads at once: it only reads
// this, and draws from a generator of its own seeded by (seed, i), so sample i is the same
// whichever thread makes it and however often.
typedef struct bars {
    int64_t n;
    uint64_t seed;   // a different seed, a different split
    int64_t fail_at; // a sample get() refuses (-1: none), to show the error path
} bars;

static int64_t bars_count(void *self) {
    return ((bars *)self)->n;
}

static int bars_get(void *self, int64_t i, cg_sample *out) {
    const bars *d = self;
    if (i == d->fail_at)
        return cg_error(CG_ERR_FORMAT, "bars: cannot draw sample %lld", (long long)i), -1;
    cg_rng rng;
    cg_rng_seed(&rng, d->seed * 1000003u + (uint64_t)i);
    int label = (int)(cg_rng_next(&rng) % 2), width = 1 + (int)(cg_rng_next(&rng) % 2);
    int at = (int)(cg_rng_next(&rng) % (SIDE - width)); // where the bar starts
    float *px = cg_alloc((size_t)SIDE * SIDE * sizeof(float));
    if (!px) return -1; // cg_alloc has reported it
    for (int r = 0; r < SIDE; r++)
        for (int c = 0; c < SIDE; c++) {
            int along = label == 0 ? r : c; // a horizontal bar covers rows, a vertical columns
            float bar = along >= at && along < at + width ? 0.8f : 0.1f;
            px[r * SIDE + c] = bar + 0.25f * cg_rng_normal(&rng);
        }
    *out = (cg_sample){.data = px, .c = 1, .h = SIDE, .w = SIDE, .label = label};
    return 0;
}

static const cg_dataset_vtable BARS = {.count = bars_count, .get = bars_get};

// Accuracy of model over every batch of dl, in eval mode without a graph.
static double accuracy(cg_module *model, cg_loader *dl) {
    cg_module_eval(model);
    bool was = cg_set_grad_enabled(false);
    double correct = 0, seen = 0;
    cg_tensor *x, *y;
    while (cg_loader_next(dl, &x, &y) == 1) {
        cg_scope_begin();
        cg_tensor *hit = cg_eq(cg_argmax(cg_module_forward(model, x), 1, false), y);
        correct += cg_item(cg_sum(hit, CG_ALL_DIMS, false));
        seen += (double)y->numel;
        cg_scope_end();
    }
    cg_set_grad_enabled(was);
    cg_module_train(model, true);
    return seen > 0 ? correct / seen : 0;
}

int main(void) {
    bars train_bars = {.n = 2048, .seed = 1, .fail_at = -1};
    bars test_bars = {.n = 512, .seed = 2, .fail_at = -1};
    cg_dataset *train = cg_dataset_new(&BARS, &train_bars);
    cg_dataset *test = cg_dataset_new(&BARS, &test_bars);

    // Transforms: a horizontal flip keeps the class (it moves a vertical bar, and leaves a
    // horizontal one a horizontal one); Normalize centres the pixels. Evaluation only
    // normalizes. Two worker threads make the batches ahead of the training loop.
    cg_transform augment[] = {cg_t_random_horizontal_flip(0.5f),
                              cg_t_normalize(1, (float[]){0.2f}, (float[]){0.3f})};
    cg_transform plain[] = {augment[1]};
    cg_loader *train_dl =
        cg_loader_new(train, augment, 2,
                      &(cg_loader_options){.batch = 32, .shuffle = true, .workers = 2, .seed = 7});
    cg_loader *test_dl = cg_loader_new(test, plain, 1, &(cg_loader_options){.batch = 128});
    if (!train_dl || !test_dl) return 1;

    cg_manual_seed(0);
    cg_module *model = cg_Sequential(
        5, (cg_module *[]){cg_Conv2d(1, 8, 3, NULL), cg_ReLU(),                // 12x12 -> 10x10
                           cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}), // -> 5x5
                           cg_Flatten(1, -1), cg_Linear(8 * 5 * 5, 2, NULL)});
    cg_optimizer *opt = cg_adam_for(model, &(cg_adam_options){.lr = CG_SET(0.01)});
    double before = accuracy(model, test_dl);

    // Three epochs of 64 batches: 192 steps. cg_loader_next returns 0 at an epoch's end.
    cg_tensor *x, *y;
    int steps = 0;
    for (int epoch = 0; epoch < 3; epoch++) {
        int got;
        while ((got = cg_loader_next(train_dl, &x, &y)) == 1) {
            cg_scope_begin();
            cg_optimizer_zero_grad(opt);
            cg_backward(cg_cross_entropy(cg_module_forward(model, x), y, NULL));
            cg_optimizer_step(opt);
            cg_scope_end();
            steps++;
        }
        if (got < 0) return 1; // the loader has reported which sample failed
    }
    double after = accuracy(model, test_dl);
    printf("%d steps; held-out accuracy %.3f before, %.3f after\n", steps, before, after);

    // An error in get(i): the worker thread records it, and cg_loader_next raises it again
    // on this thread, with get's status and message, and returns -1 (so get's message should
    // name the sample, as this one does). The epoch is abandoned; the next call to
    // cg_loader_next starts the next one.
    test_bars.fail_at = 300;
    cg_clear_error();
    int got;
    while ((got = cg_loader_next(test_dl, &x, &y)) == 1) continue;
    printf("get(300) failing: cg_loader_next returned %d: %s\n", got, cg_last_error_message());
    bool reported = got == -1 && cg_last_error() == CG_ERR_FORMAT &&
                    strstr(cg_last_error_message(), "sample 300") != NULL;
    cg_clear_error();

    cg_optimizer_free(opt);
    cg_module_free(model);
    cg_loader_free(train_dl), cg_loader_free(test_dl);
    cg_dataset_free(train), cg_dataset_free(test);
    return steps == 192 && after > 0.9 && reported ? 0 : 1;
}
