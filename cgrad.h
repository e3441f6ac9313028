// cgrad.h - the one header users include.
//
// cgrad is a small autograd and neural-network library in C11. Its folders are layers, each
// using only those above it in this list (cmake/layers.txt):
//   tensor/    float32 tensors, storage, allocator, errors, scopes, threads, random numbers
//   kernels/   raw-float compute: GEMM, im2col/col2im, convolution drivers
//   autograd/  graph nodes, the backward engine, gradcheck, DOT export
//   ops/       every differentiable op: forward, backward and descriptor in one file
//   nn/        modules (torch.nn): layers, convolution modules, init, Sequential
//   optim/     optimizers and learning-rate schedules
//   io/        safetensors, checkpoints, MNIST/IDX, the data loader, images, metrics
//   dist/      data-parallel training over MPI (a single process without it)
// Each header documents its functions, shapes and error cases where they are declared.
#ifndef CGRAD_H
#define CGRAD_H

#include "tensor/error.h"
#include "tensor/options.h"
#include "tensor/alloc.h"
#include "tensor/tensor.h"
#include "tensor/scope.h"
#include "tensor/parallel.h"
#include "kernels/gemm.h"
#include "autograd/autograd.h"
#include "autograd/op.h"
#include "ops/registry.h"
#include "ops/math.h"
#include "ops/activations.h"
#include "ops/view.h"
#include "ops/functional.h"
#include "ops/norm.h"
#include "ops/interpolate.h"
#include "ops/pool1d.h"
#include "ops/conv.h"
#include "ops/loss.h"
#include "nn/module.h"
#include "nn/init.h"
#include "nn/layers.h"
#include "nn/norm.h"
#include "nn/activations.h"
#include "nn/containers.h"
#include "nn/resize.h"
#include "nn/conv_module.h"
#include "optim/optim.h"
#include "io/data.h"
#include "io/dataset.h"
#include "io/transforms.h"
#include "io/loader.h"
#include "io/image.h"
#include "io/safetensors.h"
#include "io/checkpoint.h"
#include "io/pth.h"
#include "io/onnx.h"
#include "io/training.h"
#include "io/metrics.h"
#include "io/module_dot.h"
#include "dist/dist.h"
#include "dist/ddp.h"

#endif
