// cgrad.h - the one header users include.
//
// cgrad is a small autograd and neural-network library in C11: float32 tensors with
// PyTorch's broadcasting and semantics (tensor/), define-by-run reverse-mode autodiff
// (autograd/), layers, convolution, losses and data (nn/), and optimizers (optim/).
// Each part documents its functions, shapes and error cases in its own header.
#ifndef CGRAD_H
#define CGRAD_H

#include "tensor/error.h"
#include "tensor/alloc.h"
#include "tensor/tensor.h"
#include "tensor/math.h"
#include "tensor/gemm.h"
#include "tensor/parallel.h"
#include "autograd/autograd.h"
#include "autograd/op.h"
#include "nn/module.h"
#include "nn/init.h"
#include "nn/conv.h"
#include "nn/layers.h"
#include "nn/loss.h"
#include "nn/data.h"
#include "nn/image.h"
#include "nn/checkpoint.h"
#include "optim/optim.h"

#endif
