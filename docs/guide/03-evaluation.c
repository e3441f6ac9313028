// docs/guide/03-evaluation.c - evaluating a model: eval mode (dropout off, BatchNorm on its
// running statistics) and no gradients (no graph recorded), by hand and with cg_evaluate.
#include <cgrad.h>
#include <stdio.h>

// Three clusters of 2-D points, 600 per class: x (1800, 2), y (1800) class indices. Created
// outside any scope, so the caller frees them.
static void make_data(cg_tensor **x, cg_tensor **y) {
    const float centre[3][2] = {{-2, 0}, {2, 0}, {0, 2.5f}};
    *x = cg_randn(CG_SHAPE(1800, 2), NULL);
    *y = cg_zeros(CG_SHAPE(1800));
    for (int i = 0; i < 1800; i++) {
        int c = i % 3;
        (*x)->data[2 * i] += centre[c][0], (*x)->data[2 * i + 1] += centre[c][1];
        (*y)->data[i] = (float)c;
    }
}

int main(void) {
    cg_manual_seed(3);
    cg_tensor *x, *y;
    make_data(&x, &y);
    cg_module *model = cg_Sequential(
        5, (cg_module *[]){cg_Linear(2, 32, NULL), cg_BatchNorm1d(32, NULL), cg_ReLU(),
                           cg_Dropout(&(cg_dropout_options){.p = CG_SET(0.3)}),
                           cg_Linear(32, 3, NULL)});
    cg_optimizer *opt = cg_adam_for(model, &(cg_adam_options){.lr = CG_SET(0.01)});
    cg_dataloader *train = cg_dataloader_new(x, y, 60, true, 1);
    cg_tensor *xb, *yb;
    for (int epoch = 0; epoch < 3; epoch++) {
        while (cg_dataloader_next(train, &xb, &yb)) {
            cg_scope_begin();
            cg_optimizer_zero_grad(opt);
            cg_backward(cg_cross_entropy(cg_module_forward(model, xb), yb, NULL));
            cg_optimizer_step(opt);
            cg_scope_end();
        }
    }

    // By hand: eval mode and grad mode off for the whole pass, one scope per batch.
    cg_dataloader *all = cg_dataloader_new(x, y, 600, false, 0);
    cg_module_eval(model);
    bool was_enabled = cg_set_grad_enabled(false); // returns the previous mode
    double correct = 0;
    bool repeatable = true, no_graph = true;
    while (cg_dataloader_next(all, &xb, &yb)) {
        cg_scope_begin();
        cg_tensor *logits = cg_module_forward(model, xb);
        // Eval mode is deterministic (no dropout mask), and no graph was recorded.
        repeatable &=
            cg_item(cg_max_all(cg_abs(cg_sub(logits, cg_module_forward(model, xb))))) == 0;
        no_graph &= !logits->requires_grad;
        correct += cg_item(cg_sum(cg_eq(cg_argmax(logits, 1, false), yb), CG_ALL_DIMS, false));
        cg_scope_end();
    }
    // Asking for a gradient of something computed with grad mode off is an error that says so.
    cg_scope_begin();
    cg_tensor *loss = cg_cross_entropy(cg_module_forward(model, x), y, NULL);
    bool refused = cg_backward(loss) != 0;
    printf("backward without a graph: %s\n", cg_last_error_message());
    cg_clear_error();
    cg_scope_end();
    cg_set_grad_enabled(was_enabled);
    cg_module_train(model, true);
    double by_hand = correct / 1800;

    // The same with the helper: one pass in eval mode without a graph; modes restored.
    cg_eval_result r;
    if (cg_evaluate(model, all, &r)) return 1;
    printf("accuracy by hand %.4f, cg_evaluate %.4f (loss %.4f over %lld samples)\n", by_hand,
           r.accuracy, r.loss, (long long)r.count);
    printf("eval forward repeatable: %s, no graph: %s, train mode restored: %s\n",
           repeatable ? "yes" : "no", no_graph ? "yes" : "no", model->training ? "yes" : "no");

    bool ok = repeatable && no_graph && refused && model->training && r.accuracy == by_hand &&
              r.count == 1800 && by_hand > 0.9;
    cg_dataloader_free(train), cg_dataloader_free(all);
    cg_optimizer_free(opt);
    cg_module_free(model);
    cg_free(x), cg_free(y);
    return ok ? 0 : 1;
}
