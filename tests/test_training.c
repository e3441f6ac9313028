// tests/test_training.c - the training stack end to end: modules, loss, momentum SGD and the
// dataloader learn a small synthetic image task (the loss falls clearly, accuracy ends
// high); and resume equivalence: k steps, cg_checkpoint_save (model with BatchNorm buffers,
// optimizer momentum, dataloader position, global RNG for dropout), m more steps, against a
// fresh model/optimizer/loader loaded from the checkpoint running the same m steps, which
// must end with bit-identical parameters and buffers.
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cgrad.h"
#include "testing.h"

#define N_IMAGES  256
#define SIDE      8
#define N_CLASSES 4
#define BATCH     16

// Four classes of noisy 8x8 pictures: a horizontal bar, a vertical bar, a diagonal, a
// centred square, each at a random position, plus Gaussian noise (own generator, so the
// data never depends on the global one).
static void make_data(cg_tensor **images, cg_tensor **labels) {
    cg_rng rng;
    cg_rng_seed(&rng, 7);
    *images = cg_zeros(CG_SHAPE(N_IMAGES, 1, SIDE, SIDE));
    *labels = cg_zeros(CG_SHAPE(N_IMAGES));
    for (int n = 0; n < N_IMAGES; n++) {
        int cls = n % N_CLASSES, at = 1 + (int)(cg_rng_next(&rng) % (SIDE - 3));
        float *img = (*images)->data + n * SIDE * SIDE;
        for (int i = 0; i < SIDE; i++)
            for (int j = 0; j < SIDE; j++) {
                bool on = cls == 0   ? i == at
                          : cls == 1 ? j == at
                          : cls == 2 ? i == j
                                     : (i >= 2 && i < 6 && j >= 2 && j < 6);
                img[i * SIDE + j] = (on ? 1.0f : 0.0f) + 0.5f * cg_rng_normal(&rng);
            }
        (*labels)->data[n] = (float)cls;
    }
}

// Conv-BN-ReLU-pool, dropout, linear: parameters, buffers and RNG use all matter.
static cg_module *make_model(void) {
    cg_module *layers[] = {cg_Conv2d(1, 6, 3, &(cg_conv_options){.padding = 1}),
                           cg_BatchNorm2d(6, NULL),
                           cg_ReLU(),
                           cg_MaxPool2d(&(cg_pool_options){.kernel_size = 2}),
                           cg_Flatten(1, -1),
                           cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.3)}),
                           cg_Linear(6 * 4 * 4, N_CLASSES, NULL)};
    return cg_Sequential(7, layers);
}

typedef struct run {
    cg_module *model;
    cg_optimizer *opt;
    cg_dataloader *loader;
} run;

static run make_run(cg_tensor *images, cg_tensor *labels, uint64_t seed) {
    cg_manual_seed(seed);
    run r = {.model = make_model()};
    r.opt = cg_sgd_for(r.model, &(cg_sgd_options){.lr = CG_SET(0.05), .momentum = CG_SET(0.9)});
    r.loader = cg_dataloader_new(images, labels, BATCH, true, seed);
    assert_non_null(r.opt);
    assert_non_null(r.loader);
    return r;
}

static void free_run(run *r) {
    cg_dataloader_free(r->loader);
    cg_optimizer_free(r->opt);
    cg_module_free(r->model);
}

// One training step on the next batch (a new epoch starts when one ends); returns the loss.
static float step(run *r) {
    cg_tensor *x, *y;
    if (!cg_dataloader_next(r->loader, &x, &y)) assert_true(cg_dataloader_next(r->loader, &x, &y));
    cg_scope_begin();
    cg_tensor *loss = cg_cross_entropy(cg_module_forward(r->model, x), y, NULL);
    assert_non_null(loss);
    cg_optimizer_zero_grad(r->opt);
    assert_int_equal(cg_backward(loss), 0);
    assert_int_equal(cg_optimizer_step(r->opt), 0);
    float value = cg_item(loss);
    cg_scope_end();
    return value;
}

static double accuracy(run *r, cg_tensor *images, cg_tensor *labels) {
    cg_module_eval(r->model);
    bool grad = cg_set_grad_enabled(false);
    cg_scope_begin();
    cg_tensor *pred = cg_argmax(cg_module_forward(r->model, images), 1, false);
    double acc = cg_item(cg_mean(cg_eq(pred, labels), CG_ALL_DIMS, false));
    cg_scope_end();
    cg_set_grad_enabled(grad);
    cg_module_train(r->model, true);
    return acc;
}

static void test_loss_falls(void **state) {
    (void)state;
    cg_tensor *images, *labels;
    make_data(&images, &labels);
    run r = make_run(images, labels, 1);
    int per_epoch = N_IMAGES / BATCH, epochs = 6;
    double start = 0, last = 0;
    for (int e = 0; e < epochs; e++)
        for (int b = 0; b < per_epoch; b++) {
            float loss = step(&r);
            assert_true(isfinite(loss));
            if (e == 0 && b < 2) start += loss / 2;
            if (e == epochs - 1) last += loss / per_epoch;
        }
    double acc = accuracy(&r, images, labels);
    print_message("loss: first 2 steps %.4f, epoch %d mean %.4f; accuracy %.3f\n", start, epochs,
                  last, acc);
    assert_true(start > 1.1); // starts near ln 4 = 1.39 (chance)
    assert_true(last < 0.3);  // and falls clearly
    assert_true(last < 0.2 * start);
    assert_true(acc > 0.95); // the pictures are easy for a conv net despite the noise
    assert_int_equal(cg_scope_depth(), 0);
    free_run(&r);
    cg_free(images), cg_free(labels);
}

// Parameters and buffers of a model flattened in state_dict order, as one copy.
static float *snapshot(const cg_module *m, int64_t *count) {
    cg_tensor_list sd = cg_module_state_dict(m);
    int64_t n = 0;
    for (int i = 0; i < sd.count; i++) n += sd.items[i].tensor->numel;
    float *out = test_malloc((size_t)n * sizeof *out), *p = out;
    for (int i = 0; i < sd.count; i++) {
        memcpy(p, sd.items[i].tensor->data, (size_t)sd.items[i].tensor->numel * sizeof *p);
        p += sd.items[i].tensor->numel;
    }
    cg_tensor_list_free(&sd);
    *count = n;
    return out;
}

// Train k steps, checkpoint, train m more. A fresh run (other seeds, so its initial weights,
// data order and RNG all differ) loads the checkpoint and trains m steps: everything must
// match bit for bit. k ends mid-epoch, and the m steps cross an epoch boundary.
static void test_resume_is_exact(void **state) {
    (void)state;
    const char *path = CG_TEST_TMP_DIR "/test_training.ckpt";
    const int k = 21, m = 19;
    cg_tensor *images, *labels;
    make_data(&images, &labels);

    run a = make_run(images, labels, 3);
    for (int i = 0; i < k; i++) step(&a);
    cg_checkpoint_meta saved = {.epoch = 1,
                                .global_step = k,
                                .lr = cg_optimizer_lr(a.opt),
                                .has_loader = true,
                                .loader = cg_dataloader_get_state(a.loader)};
    assert_int_equal(cg_checkpoint_save(path, a.model, a.opt, &saved), 0);
    float last_a = 0;
    for (int i = 0; i < m; i++) last_a = step(&a);
    int64_t n_a, n_b;
    float *want = snapshot(a.model, &n_a);

    run b = make_run(images, labels, 99);
    cg_checkpoint_meta meta;
    assert_int_equal(cg_checkpoint_load(path, b.model, b.opt, &meta), 0);
    assert_int_equal(meta.epoch, 1);
    assert_int_equal(meta.global_step, k);
    assert_true(meta.has_loader);
    assert_int_equal(meta.loader.epoch, 1);
    assert_int_equal(meta.loader.batch, k - N_IMAGES / BATCH);
    assert_int_equal(cg_dataloader_set_state(b.loader, &meta.loader), 0);
    float last_b = 0;
    for (int i = 0; i < m; i++) last_b = step(&b);
    float *got = snapshot(b.model, &n_b);
    assert_int_equal(n_a, n_b);
    assert_memory_equal(got, want, (size_t)n_a * sizeof *got);
    assert_memory_equal(&last_b, &last_a, sizeof last_a);

    // Control: the same resume with a different global RNG (other dropout masks) diverges,
    // so the equality above really depends on the restored generator.
    run c = make_run(images, labels, 99);
    assert_int_equal(cg_checkpoint_load(path, c.model, c.opt, &meta), 0);
    assert_int_equal(cg_dataloader_set_state(c.loader, &meta.loader), 0);
    cg_manual_seed(12345);
    for (int i = 0; i < m; i++) step(&c);
    float *other = snapshot(c.model, &n_b);
    assert_true(memcmp(other, want, (size_t)n_a * sizeof *other) != 0);

    test_free(want), test_free(got), test_free(other);
    free_run(&a), free_run(&b), free_run(&c);
    cg_free(images), cg_free(labels);
    remove(path);
}

// A checkpoint of another architecture is refused by name and leaves the model untouched.
static void test_resume_other_model_fails(void **state) {
    (void)state;
    const char *path = CG_TEST_TMP_DIR "/test_training_other.ckpt";
    cg_tensor *images, *labels;
    make_data(&images, &labels);
    run a = make_run(images, labels, 5);
    assert_int_equal(cg_checkpoint_save(path, a.model, a.opt, &(cg_checkpoint_meta){0}), 0);
    cg_module *other = cg_Sequential(
        2, (cg_module *[]){cg_Flatten(1, -1), cg_Linear(SIDE * SIDE, N_CLASSES, NULL)});
    cg_optimizer *opt =
        cg_sgd_for(other, &(cg_sgd_options){.lr = CG_SET(0.1), .momentum = CG_SET(0.9)});
    int64_t n;
    float *before = snapshot(other, &n);
    cg_test_capture_errors();
    assert_int_equal(cg_checkpoint_load(path, other, opt, NULL), -1);
    cg_test_expect_error(CG_ERR_SHAPE, "1.weight");
    float *after = snapshot(other, &n);
    assert_memory_equal(after, before, (size_t)n * sizeof *after);
    test_free(before), test_free(after);
    cg_optimizer_free(opt);
    cg_module_free(other);
    free_run(&a);
    cg_free(images), cg_free(labels);
    remove(path);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_loss_falls, cg_test_teardown),
        cmocka_unit_test_teardown(test_resume_is_exact, cg_test_teardown),
        cmocka_unit_test_teardown(test_resume_other_model_fails, cg_test_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
