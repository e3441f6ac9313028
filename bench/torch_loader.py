#!/usr/bin/python3
"""bench/torch_loader.py DIR [--workers 2] [--batches 300] [--warmup 20] - PyTorch's side of
bench/bench_loader.c: the same PNG folder through torchvision 0.14's ImageFolder (images
opened as grayscale, "L") and torch's DataLoader(batch_size=64, shuffle=True,
num_workers=N, drop_last=True) with RandomCrop(28, padding=2), RandomHorizontalFlip,
ToTensor and Normalize((0.2860,), (0.3530,)). `--warmup` batches (the workers' start
included), then `--batches` timed ones, restarting the iterator at an epoch's end; prints
one JSON line as bench_loader's first.
"""
import argparse
import json
import time

import torch
from PIL import Image
from torchvision import datasets, transforms


def gray(path):
    with open(path, "rb") as f:
        return Image.open(f).convert("L")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("data")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--batches", type=int, default=300)
    ap.add_argument("--warmup", type=int, default=20)
    a = ap.parse_args()
    torch.manual_seed(1)
    pipeline = transforms.Compose([transforms.RandomCrop(28, padding=2),
                                   transforms.RandomHorizontalFlip(), transforms.ToTensor(),
                                   transforms.Normalize((0.2860,), (0.3530,))])
    data = datasets.ImageFolder(a.data, transform=pipeline, loader=gray)
    dl = torch.utils.data.DataLoader(data, batch_size=64, shuffle=True, num_workers=a.workers,
                                     drop_last=True, persistent_workers=a.workers > 0)
    it = iter(dl)

    def take():
        nonlocal it
        try:
            return next(it)
        except StopIteration:
            it = iter(dl)
            return next(it)

    for _ in range(a.warmup):
        take()
    start = time.perf_counter()
    for _ in range(a.batches):
        take()
    rate = a.batches * 64 / (time.perf_counter() - start)
    print(json.dumps({"bench": "loader", "name": "torch", "workers": a.workers, "batch": 64,
                      "images_per_s": round(rate, 1)}))


if __name__ == "__main__":
    main()
