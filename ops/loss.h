// nn/loss.h - loss functions as torch.nn.functional, differentiable in their input.
#ifndef CG_LOSS_H
#define CG_LOSS_H

#include "../tensor/tensor.h"

typedef enum cg_reduction {
    CG_REDUCTION_MEAN = 0,
    CG_REDUCTION_SUM,
    CG_REDUCTION_NONE
} cg_reduction;

// logits (N, C), target (N) of class indices stored as floats; stable log-softmax.
cg_tensor *cg_cross_entropy(cg_tensor *logits, const cg_tensor *target, cg_reduction reduction);
// log_probs (N, C), target (N).
cg_tensor *cg_nll_loss(cg_tensor *log_probs, const cg_tensor *target, cg_reduction reduction);
cg_tensor *cg_mse_loss(cg_tensor *input, cg_tensor *target, cg_reduction reduction);
cg_tensor *cg_binary_cross_entropy_with_logits(cg_tensor *logits, cg_tensor *target,
                                               cg_reduction reduction);

#endif
