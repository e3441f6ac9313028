// docs/guide/04-saving.c - saving, resuming and exporting. A run interrupted by a checkpoint
// and resumed in a fresh model, optimizer and loader ends bit for bit where the run without
// the interruption ends; the trained weights go out as safetensors, which PyTorch reads.
#include <cgrad.h>
#include <stdio.h>
#include <string.h>

// The model, built the same way by every run: dropout makes it use the global generator,
// momentum gives the optimizer state. Its initial weights depend on `seed`.
static cg_module *make_model(uint64_t seed) {
    cg_manual_seed(seed);
    return cg_Sequential(4, (cg_module *[]){cg_Linear(8, 32, NULL), cg_ReLU(),
                                            cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.2)}),
                                            cg_Linear(32, 1, NULL)});
}

static cg_optimizer *make_optimizer(cg_module *model) {
    return cg_sgd_for(model, &(cg_sgd_options){.lr = CG_SET(0.05), .momentum = CG_SET(0.9)});
}

// Train until the loader reaches `until_epoch` or `max_steps` steps are done; counts steps.
static void train(cg_module *model, cg_optimizer *opt, cg_dataloader *dl, int64_t until_epoch,
                  int64_t max_steps, int64_t *step) {
    cg_tensor *x, *y;
    for (int64_t n = 0; n < max_steps && cg_dataloader_epoch(dl) < until_epoch; n++) {
        if (!cg_dataloader_next(dl, &x, &y)) continue; // an epoch ended: the loop checks again
        cg_scope_begin();
        cg_optimizer_zero_grad(opt);
        cg_backward(cg_mse_loss(cg_module_forward(model, x), y, NULL));
        cg_optimizer_step(opt);
        cg_scope_end();
        (*step)++;
    }
}

// Whether two models hold the same bits in every parameter and buffer.
static bool identical(const cg_module *a, const cg_module *b) {
    cg_tensor_list la = cg_module_state_dict(a), lb = cg_module_state_dict(b);
    bool same = la.count == lb.count;
    for (int i = 0; same && i < la.count; i++)
        same = la.items[i].tensor->numel == lb.items[i].tensor->numel &&
               memcmp(la.items[i].tensor->data, lb.items[i].tensor->data,
                      (size_t)la.items[i].tensor->numel * sizeof(float)) == 0;
    cg_tensor_list_free(&la), cg_tensor_list_free(&lb);
    return same;
}

int main(void) {
    // Data: y = sum of x's first four columns minus the rest, plus noise. Outside any scope.
    cg_manual_seed(0);
    cg_tensor *x = cg_randn(CG_SHAPE(640, 8), NULL), *y = cg_zeros(CG_SHAPE(640, 1));
    for (int i = 0; i < 640; i++)
        for (int j = 0; j < 8; j++) y->data[i] += (j < 4 ? 1.0f : -1.0f) * x->data[8 * i + j];

    // Run 1: two epochs straight through, with a checkpoint after 15 steps (mid-epoch).
    cg_module *model = make_model(1);
    cg_optimizer *opt = make_optimizer(model);
    cg_dataloader *dl = cg_dataloader_new(x, y, 32, true, 7);
    int64_t step = 0;
    train(model, opt, dl, 2, 15, &step);
    cg_checkpoint_meta meta = {.epoch = cg_dataloader_epoch(dl),
                               .global_step = step,
                               .lr = cg_optimizer_lr(opt),
                               .has_loader = true,
                               .loader = cg_dataloader_get_state(dl)};
    if (cg_checkpoint_save("guide_run.ckpt", model, opt, &meta)) return 1; // atomic
    train(model, opt, dl, 2, INT64_MAX, &step);
    printf("run 1: %lld steps, checkpoint after 15\n", (long long)step);

    // Run 2: a fresh process would start here. Build the same model, optimizer and loader
    // (the initial weights do not matter: the checkpoint replaces them), load, continue.
    cg_module *resumed = make_model(99);
    cg_optimizer *resumed_opt = make_optimizer(resumed);
    cg_dataloader *resumed_dl = cg_dataloader_new(x, y, 32, true, 7);
    cg_checkpoint_meta loaded;
    if (cg_checkpoint_load("guide_run.ckpt", resumed, resumed_opt, &loaded) || // + the RNG
        cg_dataloader_set_state(resumed_dl, &loaded.loader))
        return 1;
    int64_t resumed_step = loaded.global_step;
    train(resumed, resumed_opt, resumed_dl, 2, INT64_MAX, &resumed_step);
    bool same_run = resumed_step == step && identical(model, resumed);
    printf("run 2: resumed at step %lld, ended at %lld, weights %s run 1's\n",
           (long long)loaded.global_step, (long long)resumed_step,
           same_run ? "bit for bit" : "DIFFERENT from");

    // Export: the state_dict as safetensors, under PyTorch's names (0.weight, 0.bias, ...).
    if (cg_module_save("guide_model.safetensors", model)) return 1;
    cg_module *copy = make_model(5);
    if (cg_module_load("guide_model.safetensors", copy)) return 1;
    bool exported = identical(model, copy);
    printf("guide_model.safetensors loads back %s\n", exported ? "unchanged" : "CHANGED");

    cg_module_free(copy), cg_module_free(resumed), cg_module_free(model);
    cg_optimizer_free(resumed_opt), cg_optimizer_free(opt);
    cg_dataloader_free(resumed_dl), cg_dataloader_free(dl);
    cg_free(x), cg_free(y);
    return same_run && exported ? 0 : 1;
}
