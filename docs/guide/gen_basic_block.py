#!/usr/bin/python3
"""PyTorch's side of docs/guide/02-module-class.c: torchvision's ResNet BasicBlock with a
projection shortcut, its state_dict and what it computes, as basic_block.safetensors.

Run with Debian's torch 1.13 / torchvision 0.14:  /usr/bin/python3 docs/guide/gen_basic_block.py

The file holds the block's state_dict (its own names: conv1.weight, bn1.running_mean,
downsample.0.weight, ...) taken before any forward, and
  input          x, (4, 16, 8, 8)
  grad_output    g, a random gradient for the output
  output_train   block(x) in train mode (batch statistics; updates the running ones)
  input_grad     the gradient of sum(block(x) * g) with respect to x
  output_eval    block(x) in eval mode afterwards (the updated running statistics)
"""
import os
import sys
import zlib

import torch
import torch.nn as nn
from torchvision.models.resnet import BasicBlock, conv1x1

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "fixtures"))
from gen_safetensors import save  # noqa: E402  (the writer cgrad's own tests use)


def main():
    torch.manual_seed(zlib.crc32(b"guide/basic_block"))
    block = BasicBlock(16, 32, stride=2, downsample=nn.Sequential(conv1x1(16, 32, 2),
                                                                  nn.BatchNorm2d(32)))
    with torch.no_grad():  # BatchNorm's affine parameters and statistics made non-trivial
        for bn in (block.bn1, block.bn2, block.downsample[1]):
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.5, 0.5)
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    tensors = {k: v.clone() for k, v in block.state_dict().items()}
    x = torch.randn(4, 16, 8, 8, requires_grad=True)
    out = block(x)
    g = torch.randn_like(out)
    out.backward(g)
    block.eval()
    with torch.no_grad():
        out_eval = block(x)
    tensors.update(input=x.detach(), grad_output=g, output_train=out.detach(),
                   input_grad=x.grad, output_eval=out_eval)
    save(os.path.join(HERE, "basic_block.safetensors"), tensors)


if __name__ == "__main__":
    main()
