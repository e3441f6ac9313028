#!/usr/bin/python3
"""PyTorch side of cgrad's benchmarks: the same GEMM sizes, conv configs a-e and the small
Fashion-MNIST CNN as bench/bench_conv.c and bench/bench_train.c, same thread count.

Run through bench/compare (which runs both sides in one session and prints ratios), or:
    /usr/bin/python3 bench/torch_bench.py --threads 2 [--gemm] [--conv [--resnet]] [--train STEPS]
Prints one JSON object per line: {"bench": ..., "name": ..., "ms": ..., "gflops": ...}.
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import sys
import time


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--gemm", action="store_true")
    p.add_argument("--conv", action="store_true")
    p.add_argument("--resnet", action="store_true", help="--conv on the ResNet's layers")
    p.add_argument("--train", type=int, default=0, help="training steps to time (0: skip)")
    p.add_argument("--repeats", type=int, default=15)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    return p.parse_args()


args = parse()
os.environ["OMP_NUM_THREADS"] = str(args.threads)
import torch  # noqa: E402  (after OMP_NUM_THREADS)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)


def emit(**kw):
    print(json.dumps(kw), flush=True)


def median_ms(fn, repeats):
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


# The conv configs of the performance issue: (name, transposed, N, Cin, Cout, H, W, k, stride,
# padding, dilation, groups).
CONVS = [
    ("a", False, 64, 1, 32, 28, 28, 5, 1, 2, 1, 1),
    ("b", False, 64, 32, 64, 14, 14, 3, 1, 1, 1, 1),
    ("c", False, 8, 64, 64, 56, 56, 3, 1, 1, 1, 1),
    ("d", False, 8, 64, 128, 56, 56, 3, 2, 2, 2, 4),
    ("e", True, 16, 64, 32, 14, 14, 4, 2, 1, 1, 1),
]


# bench/bench_conv.c --resnet: the convolutions of bench/torch_models.py's ResNet.
RESNET_CONVS = [
    ("stem", False, 64, 1, 16, 28, 28, 3, 1, 1, 1, 1),
    ("b1", False, 64, 16, 16, 28, 28, 3, 1, 1, 1, 1),
    ("b2c1", False, 64, 16, 32, 28, 28, 3, 2, 1, 1, 1),
    ("b2c2", False, 64, 32, 32, 14, 14, 3, 1, 1, 1, 1),
    ("b2sc", False, 64, 16, 32, 28, 28, 1, 2, 0, 1, 1),
    ("b3c1", False, 64, 32, 64, 14, 14, 3, 2, 1, 1, 1),
    ("b3c2", False, 64, 64, 64, 7, 7, 3, 1, 1, 1, 1),
    ("b3sc", False, 64, 32, 64, 14, 14, 1, 2, 0, 1, 1),
]


def conv_flops(transposed, n, cin, cout, oh, ow, ih, iw, k, groups):
    # multiply-adds of the forward pass x 2; a transposed conv does the work of the conv
    # from its output back to its input.
    if transposed:
        return 2.0 * n * cin * ih * iw * (cout // groups) * k * k
    return 2.0 * n * cout * oh * ow * (cin // groups) * k * k


def bench_conv():
    for name, tr, n, cin, cout, h, w, k, s, p, d, g in RESNET_CONVS if args.resnet else CONVS:
        x = torch.randn(n, cin, h, w, requires_grad=True)
        if tr:
            wt = torch.randn(cin, cout // g, k, k, requires_grad=True)
            f = lambda: F.conv_transpose2d(x, wt, None, s, p, 0, g, d)  # noqa: E731
        else:
            wt = torch.randn(cout, cin // g, k, k, requires_grad=True)
            f = lambda: F.conv2d(x, wt, None, s, p, d, g)  # noqa: E731
        y = f()
        flops = conv_flops(tr, n, cin, cout, y.shape[2], y.shape[3], h, w, k, g)
        gy = torch.randn_like(y)

        def fwd():
            with torch.no_grad():
                f()

        def fwd_bwd():
            x.grad = None
            wt.grad = None
            f().backward(gy)

        ms = median_ms(fwd, args.repeats)
        emit(bench="conv", name=f"{name}_fwd", ms=ms, gflops=flops / ms / 1e6)
        ms = median_ms(fwd_bwd, args.repeats)
        emit(bench="conv", name=f"{name}_fwdbwd", ms=ms, gflops=3 * flops / ms / 1e6)


def bench_gemm():
    for n in (256, 512, 1024, 1536, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        ms = median_ms(lambda: torch.mm(a, b), max(3, args.repeats // 2))
        emit(bench="gemm", name=f"gemm_{n}", ms=ms, gflops=2.0 * n**3 / ms / 1e6)


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    t = torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8)
    return t.reshape(dims)


def bench_train(steps):
    images = read_idx(os.path.join(args.data, "train-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(args.data, "train-labels-idx1-ubyte.gz")).long()
    x_all = images.float().div_(255).unsqueeze(1)
    model = nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(784, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    batch = 64
    perm = torch.randperm(x_all.shape[0])

    def step(i):
        idx = perm[(i * batch) % (x_all.shape[0] - batch):][:batch]
        opt.zero_grad()
        loss = F.cross_entropy(model(x_all[idx]), labels[idx])
        loss.backward()
        opt.step()
        return loss

    for i in range(20):
        step(i)
    t0 = time.perf_counter()
    for i in range(steps):
        step(i)
    dt = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    emit(bench="train", name="small_cnn", ms=dt * 1e3 / steps, images_per_s=steps * batch / dt,
         peak_rss_mb=rss_mb)


if args.gemm:
    bench_gemm()
if args.conv:
    bench_conv()
if args.train:
    bench_train(args.train)
if not (args.gemm or args.conv or args.train):
    sys.exit("nothing to do: pass --gemm, --conv and/or --train STEPS")
