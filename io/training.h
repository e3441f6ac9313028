// io/training.h - helpers that keep a training loop short: evaluation over a data loader
// and a progress line with an ETA.
//
//   cg_progress p;
//   cg_progress_begin(&p, stdout, cg_dataloader_num_batches(dl), "epoch %d/%d", e, epochs);
//   while (cg_dataloader_next(dl, &x, &y)) {
//       ... one step ...
//       snprintf(metrics, sizeof metrics, "loss %.4f", loss);
//       cg_progress_step(&p, 1, metrics);
//   }
//   cg_progress_end(&p, metrics);
//   cg_eval_result r;
//   cg_evaluate(model, test_loader, &r);   // r.loss, r.accuracy
#ifndef CG_TRAINING_H
#define CG_TRAINING_H

#include <stdio.h>

#include "../nn/module.h"
#include "data.h"

// ---- evaluation -------------------------------------------------------------------------------
typedef struct cg_eval_result {
    double loss;     // mean cross_entropy of the logits against the labels
    double accuracy; // fraction of samples whose argmax over dim 1 is the label
    int64_t count;   // samples seen
} cg_eval_result;
// One pass over `loader` (its remaining batches; a fresh epoch if none remain) in eval mode
// and without recording a graph; the model's train/eval mode and the grad mode are restored
// afterwards. The model must map a batch to (N, C) logits and the loader's labels must be
// class indices. 0, or -1 with the error of the failing op.
int cg_evaluate(cg_module *model, cg_dataloader *loader, cg_eval_result *out);
// cg_evaluate's accuracy, or -1 on error.
double cg_evaluate_accuracy(cg_module *model, cg_dataloader *loader);

// ---- progress ---------------------------------------------------------------------------------
typedef enum cg_progress_mode {
    CG_PROGRESS_AUTO = 0, // live if `out` is a terminal, else lines
    CG_PROGRESS_LIVE,     // one line redrawn in place with '\r' (at most 10 times a second)
    CG_PROGRESS_LINES     // nothing until cg_progress_end, which prints one line: for logs
} cg_progress_mode;

typedef struct cg_progress {
    FILE *out;
    cg_progress_mode mode; // resolved: LIVE or LINES
    char label[96];
    int64_t total, done;
    double start, last_draw;
    int drawn; // length of the last live line, to blank what a shorter one leaves
} cg_progress;

// Start counting `total` units (batches) under a printf-style label. Flushes stdout first
// so that everything printed before (a model summary) comes before the progress in a log.
void cg_progress_begin(cg_progress *p, FILE *out, int64_t total, const char *label_fmt, ...)
    __attribute__((format(printf, 4, 5)));
// cg_progress_begin with an explicit mode.
void cg_progress_begin_mode(cg_progress *p, FILE *out, cg_progress_mode mode, int64_t total,
                            const char *label);
// `n` more units done; `metrics` (may be NULL) is shown after the bar: "loss 0.41  acc 85%".
void cg_progress_step(cg_progress *p, int64_t n, const char *metrics);
// The final line: label, bar, 100%, metrics and the elapsed time, then '\n' and a flush.
void cg_progress_end(cg_progress *p, const char *metrics);
// Elapsed seconds since cg_progress_begin (-1 with an error if p is NULL or was not begun;
// step and end report the same). out NULL is stderr, label and metrics NULL are none.
double cg_progress_elapsed(const cg_progress *p);

#endif
