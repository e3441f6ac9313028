// io/evaluate.c - mean cross-entropy and argmax accuracy of a classifier over a data loader.
#include "../autograd/autograd.h"
#include "../ops/functional.h"
#include "../ops/loss.h"
#include "../ops/math.h"
#include "../tensor/scope.h"
#include "training.h"

// Correct predictions in one batch: argmax over classes equals the label.
static int64_t count_correct(const cg_tensor *logits, const cg_tensor *labels) {
    int64_t hits = 0, C = logits->shape[1];
    for (int64_t i = 0; i < logits->shape[0]; i++) {
        const float *row = logits->data + i * C;
        int64_t best = 0;
        for (int64_t c = 1; c < C; c++) best = row[c] > row[best] ? c : best; // first maximum
        hits += (float)best == labels->data[i];
    }
    return hits;
}

// The loss summed and the hits of one batch; false with an error.
static bool evaluate_batch(cg_module *model, cg_tensor *x, cg_tensor *y, double *loss,
                           int64_t *correct) {
    cg_tensor *logits = cg_module_forward(model, x);
    if (!logits) return false;
    if (logits->ndim != 2 || logits->shape[0] != cg_size(y, 0)) {
        cg_error(CG_ERR_SHAPE,
                 "evaluate: the model gives %s for %lld labels; expected (N, C) "
                 "logits",
                 cg_tensor_shape_str(logits), (long long)cg_size(y, 0));
        return false;
    }
    cg_tensor *l = cg_cross_entropy(logits, y, &(cg_loss_options){.reduction = CG_REDUCTION_SUM});
    if (!l) return false;
    *loss += cg_item(l);
    *correct += count_correct(logits, y);
    return true;
}

int cg_evaluate(cg_module *model, cg_dataloader *loader, cg_eval_result *out) {
    if (!model || !loader || !out) {
        cg_error(CG_ERR_ARG, "evaluate: model, loader or result is NULL");
        return -1;
    }
    *out = (cg_eval_result){0, 0, 0};
    bool training = model->training, grad = cg_set_grad_enabled(false);
    cg_module_eval(model);
    double loss = 0;
    int64_t correct = 0, count = 0;
    bool ok = true;
    cg_tensor *x, *y;
    while (ok && cg_dataloader_next(loader, &x, &y)) {
        if (!y) {
            cg_error(CG_ERR_ARG,
                     "evaluate: the loader has no labels (made with y NULL); evaluate needs "
                     "(x, y) batches of inputs and class indices");
            ok = false;
            break;
        }
        cg_scope_begin();
        ok = evaluate_batch(model, x, y, &loss, &correct);
        count += cg_size(x, 0);
        cg_scope_end();
    }
    if (!ok) cg_dataloader_reset(loader); // a retry sees this epoch from its first batch
    cg_module_train(model, training);
    cg_set_grad_enabled(grad);
    if (!ok) return -1;
    *out = (cg_eval_result){loss / (double)count, (double)correct / (double)count, count};
    return 0;
}

double cg_evaluate_accuracy(cg_module *model, cg_dataloader *loader) {
    cg_eval_result r;
    return cg_evaluate(model, loader, &r) == 0 ? r.accuracy : -1;
}
