// tests/support/dist_training.h - the tiny data-parallel training run of the test_dist_*
// programs: data every rank makes identically, a small CNN, one step, a comparison.
#ifndef CG_TEST_DIST_TRAINING_H
#define CG_TEST_DIST_TRAINING_H

#include "cgrad.h"

enum { CG_DT_N = 48, CG_DT_BATCH = 8, CG_DT_SIDE = 8, CG_DT_CLASSES = 3 };

// (48,1,8,8) inputs and labels in 0..2 (unscoped; the caller frees them).
void cg_dt_make_data(cg_tensor **x, cg_tensor **y);
// mnist_cnn's small CNN scaled down to 8x8 inputs: conv 4 -> ReLU -> pool -> conv 6 ->
// ReLU -> pool -> linear, 337 parameters in 6 tensors; weights from cg_manual_seed(seed).
cg_module *cg_dt_small_cnn(uint64_t seed);
// SGD lr 0.1 momentum 0.9 over the model's parameters.
cg_optimizer *cg_dt_optimizer(cg_module *model);
// One training step (zero_grad, forward, cross-entropy, backward, cg_ddp_finish if ddp,
// step); returns this rank's loss, NAN if anything failed.
float cg_dt_step(cg_module *model, cg_ddp *ddp, cg_optimizer *opt, cg_tensor *x, cg_tensor *y);
// max over parameter tensors of max|a - b| / max|b|.
double cg_dt_max_relative_difference(const cg_module *a, const cg_module *b);

#endif
