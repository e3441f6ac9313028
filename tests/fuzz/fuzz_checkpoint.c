// tests/fuzz/fuzz_checkpoint.c - a checkpoint loaded into a model and its optimizer, then
// one training step: whatever a file that loads holds must leave them usable.
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_file(".ckpt", data, size);
    cg_manual_seed(1);
    cg_module *model = cg_Sequential(2, (cg_module *[]){cg_Linear(4, 3, NULL), cg_ReLU()});
    cg_optimizer *opt = cg_adam_for(model, &(cg_adam_options){.lr = CG_SET(0.01)});
    cg_checkpoint_meta meta;
    if (cg_checkpoint_load(path, model, opt, &meta) == 0) {
        cg_scope_begin();
        cg_tensor *x = cg_ones(CG_SHAPE(2, 4));
        cg_tensor *target = cg_from_data(CG_SHAPE(2), (float[]){0, 2});
        cg_tensor *loss = cg_cross_entropy(cg_module_forward(model, x), target, NULL);
        cg_optimizer_zero_grad(opt);
        if (loss && cg_backward(loss) == 0) cg_optimizer_step(opt);
        cg_scope_end();
    }
    cg_optimizer_free(opt);
    cg_module_free(model);
    return 0;
}
