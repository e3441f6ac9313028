// ops/loss_internal.h - what every loss shares: its options checked against the fields it
// has, and the reduction of per-value losses (forward) and its gradient (backward).
#ifndef CG_LOSS_INTERNAL_H
#define CG_LOSS_INTERNAL_H

#include "../autograd/op.h"
#include "loss.h"

// The fields of cg_loss_options a loss accepts (reduction always; BATCHMEAN only with
// LOSS_BATCHMEAN).
enum {
    LOSS_WEIGHT = 1 << 0,
    LOSS_POS_WEIGHT = 1 << 1,
    LOSS_IGNORE_INDEX = 1 << 2,
    LOSS_LABEL_SMOOTHING = 1 << 3,
    LOSS_BETA = 1 << 4,
    LOSS_DELTA = 1 << 5,
    LOSS_LOG_TARGET = 1 << 6,
    LOSS_BATCHMEAN = 1 << 7,
};

// *out = *options (or {0}); false with "<op>: option <field> does not apply" (or an unknown
// reduction) otherwise.
bool cg_loss_options_check(const char *op, const cg_loss_options *options, unsigned accepted,
                           cg_loss_options *out);

// How the per-value losses become the output: none keeps them; sum adds them; mean and
// batchmean divide the sum by `divisor` (the count, summed weights or N; 0/0 is NaN as
// PyTorch).
typedef struct cg_loss_reduction {
    cg_reduction reduction;
    double divisor;
} cg_loss_reduction;

// Reduce `values` as asked: itself (none) or a new 0-d tensor (values is freed).
cg_tensor *cg_loss_reduce(cg_tensor *values, cg_loss_reduction r);
// d loss / d value_i given the upstream gradient of the (possibly reduced) output.
float cg_loss_grad_at(const cg_tensor *grad, int64_t i, cg_loss_reduction r);

#endif
