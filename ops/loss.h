// ops/loss.h - loss functions as torch.nn.functional, differentiable in their input (and in
// the target where PyTorch is: mse, l1, smooth_l1, huber, bce, bce_with_logits, kl_div).
//
// Every loss takes one cg_loss_options (tensor/options.h: NULL or {0} is PyTorch's
// defaults, reduction mean). A field a loss does not have is an error, not ignored:
//   cg_cross_entropy(logits, y, NULL)
//   cg_cross_entropy(logits, y, &(cg_loss_options){.weight = w, .label_smoothing = 0.1,
//                                                   .ignore_index = CG_SET(0)})
//   cg_kl_div(log_p, q, &(cg_loss_options){.reduction = CG_REDUCTION_BATCHMEAN})
#ifndef CG_LOSS_H
#define CG_LOSS_H

#include "../tensor/options.h"
#include "../tensor/tensor.h"

typedef enum cg_reduction {
    CG_REDUCTION_MEAN = 0,
    CG_REDUCTION_SUM,
    CG_REDUCTION_NONE,
    CG_REDUCTION_BATCHMEAN // kl_div only: sum / input.shape[0]
} cg_reduction;

typedef struct cg_loss_options {
    cg_reduction reduction;
    // cross_entropy, nll_loss: class weights (C). binary_cross_entropy(_with_logits): a
    // weight broadcast to the input's shape. Not differentiated (as PyTorch).
    const cg_tensor *weight;
    const cg_tensor *pos_weight; // bce_with_logits: broadcast to the input (usually (C))
    // cross_entropy, nll_loss with class indices: targets equal to it add nothing and do not
    // count in the mean. Unset: PyTorch's -100.
    cg_optional ignore_index;
    double label_smoothing; // cross_entropy: in [0, 1]
    cg_optional beta;       // smooth_l1_loss: default 1 (0 is l1_loss)
    double delta;           // huber_loss: default 1 (> 0)
    bool log_target;        // kl_div: target holds log-probabilities
} cg_loss_options;

// Class losses. input (N, C), (C) or (N, C, d1, ..., dk); target of class indices stored as
// floats, shaped (N), () or (N, d1, ..., dk). cross_entropy also takes probability ("soft")
// targets of the input's own shape: -sum_c w_c t_c log_softmax(x)_c per sample, the mean
// over samples (label_smoothing mixes t with the uniform distribution first); probability
// targets get a gradient too, as in PyTorch (class indices do not). Mean with weights
// divides by the summed weights of the counted targets.
cg_tensor *cg_cross_entropy(cg_tensor *logits, cg_tensor *target, const cg_loss_options *options);
cg_tensor *cg_nll_loss(cg_tensor *log_probs, const cg_tensor *target,
                       const cg_loss_options *options);

// Elementwise losses. mse, l1, smooth_l1, huber and kl_div broadcast input and target as
// PyTorch does (PyTorch also warns "Using a target size that is different to the input
// size" for the first four; cgrad cannot warn: an (N, 1) input against an (N) target
// silently gives an (N, N) loss in both, so compare shapes when they come from different
// places). The two BCE losses require equal shapes, as PyTorch.
cg_tensor *cg_mse_loss(cg_tensor *input, cg_tensor *target, const cg_loss_options *options);
cg_tensor *cg_l1_loss(cg_tensor *input, cg_tensor *target, const cg_loss_options *options);
// |d| < beta ? 0.5 d^2 / beta : |d| - 0.5 beta, for d = input - target.
cg_tensor *cg_smooth_l1_loss(cg_tensor *input, cg_tensor *target, const cg_loss_options *options);
// |d| <= delta ? 0.5 d^2 : delta (|d| - 0.5 delta).
cg_tensor *cg_huber_loss(cg_tensor *input, cg_tensor *target, const cg_loss_options *options);
// Probabilities in [0, 1] (an error otherwise, as PyTorch); logs clamped at -100 as PyTorch.
cg_tensor *cg_binary_cross_entropy(cg_tensor *probs, cg_tensor *target,
                                   const cg_loss_options *options);
// Stable for any logit; pos_weight p: (1 - t) x + (1 + (p - 1) t) softplus(-x).
cg_tensor *cg_binary_cross_entropy_with_logits(cg_tensor *logits, cg_tensor *target,
                                               const cg_loss_options *options);
// input holds log-probabilities; t (log_target: exp(t)) * (log t - input), 0 where t = 0.
// PyTorch's KLDivLoss(reduction='batchmean') is CG_REDUCTION_BATCHMEAN; 'mean' averages
// over every element, as PyTorch.
cg_tensor *cg_kl_div(cg_tensor *input, cg_tensor *target, const cg_loss_options *options);

#endif
