// tests/support/dist_training.c - see dist_training.h.
#include "dist_training.h"

#include <math.h>

void cg_dt_make_data(cg_tensor **x, cg_tensor **y) {
    cg_rng rng;
    cg_rng_seed(&rng, 2024);
    *x = cg_randn(CG_SHAPE(CG_DT_N, 1, CG_DT_SIDE, CG_DT_SIDE), &rng);
    *y = cg_zeros(CG_SHAPE(CG_DT_N));
    for (int i = 0; i < CG_DT_N; i++) (*y)->data[i] = (float)(cg_rng_next(&rng) % CG_DT_CLASSES);
    cg_unscope(*x), cg_unscope(*y);
}

cg_module *cg_dt_small_cnn(uint64_t seed) {
    cg_manual_seed(seed);
    cg_conv_options same = {.padding = 1};
    cg_pool_options pool = {.kernel_size = 2};
    cg_module *layers[] = {cg_Conv2d(1, 4, 3, &same),
                           cg_ReLU(),
                           cg_MaxPool2d(&pool),
                           cg_Conv2d(4, 6, 3, &same),
                           cg_ReLU(),
                           cg_MaxPool2d(&pool),
                           cg_Flatten(1, -1),
                           cg_Linear(6 * 2 * 2, CG_DT_CLASSES, NULL)};
    return cg_Sequential(8, layers);
}

cg_optimizer *cg_dt_optimizer(cg_module *model) {
    return cg_sgd_for(model, &(cg_sgd_options){.lr = CG_SET(0.1), .momentum = CG_SET(0.9)});
}

float cg_dt_step(cg_module *model, cg_ddp *ddp, cg_optimizer *opt, cg_tensor *x, cg_tensor *y) {
    cg_scope_begin();
    cg_optimizer_zero_grad(opt);
    cg_tensor *logits = ddp ? cg_ddp_forward(ddp, x) : cg_module_forward(model, x);
    cg_tensor *loss = cg_cross_entropy(logits, y, NULL);
    float value = NAN;
    if (cg_backward(loss) == 0 && (!ddp || cg_ddp_finish(ddp) == 0) && cg_optimizer_step(opt) == 0)
        value = cg_item(loss);
    cg_scope_end();
    return value;
}

double cg_dt_max_relative_difference(const cg_module *a, const cg_module *b) {
    cg_tensor_list pa = cg_module_named_parameters(a), pb = cg_module_named_parameters(b);
    double worst = pa.count == pb.count ? 0 : INFINITY;
    for (int i = 0; i < pa.count && i < pb.count; i++) {
        double diff = 0, scale = 1e-12;
        const cg_tensor *s = pa.items[i].tensor, *t = pb.items[i].tensor;
        for (int64_t k = 0; k < t->numel; k++) {
            diff = fmax(diff, fabs((double)s->data[k] - t->data[k]));
            scale = fmax(scale, fabs((double)t->data[k]));
        }
        worst = fmax(worst, diff / scale);
    }
    cg_tensor_list_free(&pa), cg_tensor_list_free(&pb);
    return worst;
}
