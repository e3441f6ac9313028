#!/usr/bin/python3
"""PyTorch side of bench/bench_models.c: the same models, losses, optimizers, batch size,
random data and timing rule, one (model, mode) per process, the same JSON lines.

Run through bench/models (both sides row by row, with ratios), or:
    /usr/bin/python3 bench/torch_models.py --model resnet --mode train --threads 2
    /usr/bin/python3 bench/torch_models.py --shapes    every model's state_dict names/shapes
Modes: train (forward, loss, backward, clipping, optimizer and schedule step), eval (eval
mode, no_grad, forward), eval1000 (eval mode, no_grad, one forward of 1000 images). Steps
run for --warmup seconds, then are timed for --seconds (at least 3 each; 1 for eval1000).
peak_rss_mb is the run's peak RSS, base_rss_mb the peak before the first step.

bench/model_shapes.txt (the bench_models_shapes test's expected output) is this script's
--shapes output: regenerate it with
    /usr/bin/python3 bench/torch_models.py --shapes > bench/model_shapes.txt
"""
import argparse
import json
import os
import resource
import time

BATCH = 64
POOL = 1000  # random images made at the start; eval1000 runs them all at once
MIN_STEPS = 3
ONE_CYCLE = 100000  # OneCycleLR's total_steps: longer than any timed run


def parse():
    p = argparse.ArgumentParser()
    p.add_argument("--model")
    p.add_argument("--mode", choices=["train", "eval", "eval1000"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--warmup", type=float, default=0.3)
    p.add_argument("--shapes", action="store_true")
    return p.parse_args()


args = parse()
os.environ["OMP_NUM_THREADS"] = str(args.threads)
import torch  # noqa: E402  (after OMP_NUM_THREADS)
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.manual_seed(0)


# ---- the models (bench_models.c builds each the same way) -----------------------------------
def small_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(784, 10))


def lenet5():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
        nn.Linear(84, 10))


def mnist_net():
    """pytorch/examples mnist/main.py's Net, as a Sequential (the same state_dict shapes)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, 1), nn.ReLU(), nn.Conv2d(32, 64, 3, 1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Dropout(0.25), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(128, 10), nn.LogSoftmax(dim=1))


class BasicBlock(nn.Module):
    """relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)); a 1x1 conv + BN projection
    shortcut when the shape changes."""

    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + self.shortcut(x))


def resnet():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10))


def autoencoder():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, 2, 1), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1), nn.ReLU(),
        nn.ConvTranspose2d(32, 16, 3, 2, 1, output_padding=1), nn.ReLU(),
        nn.ConvTranspose2d(16, 1, 3, 2, 1, output_padding=1), nn.Sigmoid())


def conv1d_net():
    return nn.Sequential(
        nn.Conv1d(1, 16, 7, padding=3), nn.ReLU(), nn.MaxPool1d(4),
        nn.Conv1d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool1d(4),
        nn.Conv1d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
        nn.Linear(64, 10))


# ---- the table: how each model is trained (bench_models.c's `models`) ------------------------
def sgd(lr, momentum=0.0):
    return lambda params: torch.optim.SGD(params, lr=lr, momentum=momentum)


def adam(lr):
    return lambda params: torch.optim.Adam(params, lr=lr)


def adamw(lr):
    return lambda params: torch.optim.AdamW(params, lr=lr)


def cross_entropy(smoothing=0.0):
    return lambda out, x, y: F.cross_entropy(out, y, label_smoothing=smoothing)


def nll(out, x, y):
    return F.nll_loss(out, y)


def mse_input(out, x, y):
    return F.mse_loss(out, x)


IMAGE = (1, 28, 28)
MODELS = {  # name: (build, sample shape, loss, optimizer, OneCycleLR max_lr, clip max_norm)
    "small_cnn": (small_cnn, IMAGE, cross_entropy(), sgd(0.05, 0.9), 0, 0),
    "lenet5": (lenet5, IMAGE, cross_entropy(), sgd(0.05), 0, 0),
    # The example's Adadelta(lr=1.0) goes here once cgrad has Adadelta (see bench_models.c).
    "mnist_net": (mnist_net, IMAGE, nll, adam(1e-3), 0, 0),
    "resnet": (resnet, IMAGE, cross_entropy(0.1), adamw(1e-3), 0.01, 1.0),
    "autoencoder": (autoencoder, IMAGE, mse_input, adam(2e-3), 0, 0),
    "conv1d": (conv1d_net, (1, 784), cross_entropy(), adam(1e-3), 0, 0),
}


def print_shapes():
    """The lines bench_models --shapes prints: "model name [shape]", then the count."""
    for name, (build, *_) in MODELS.items():
        model = build()
        for key, t in model.state_dict().items():
            print(f"{name} {key} {list(t.shape)}")
        print(f"{name} parameters {sum(p.numel() for p in model.parameters())}")


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_for(step, start_index, min_steps, seconds):
    """Steps from start_index on until min_steps ran and `seconds` passed: (steps, time)."""
    t0, count, elapsed = time.perf_counter(), 0, 0.0
    while count < min_steps or elapsed < seconds:
        step(start_index + count)
        count += 1
        elapsed = time.perf_counter() - t0
    return count, elapsed


def run(name, mode):
    build, sample, loss_fn, make_opt, max_lr, clip = MODELS[name]
    model = build()
    images = torch.rand(POOL, *sample)
    labels = torch.randint(0, 10, (POOL,))
    train = mode == "train"
    batch = POOL if mode == "eval1000" else BATCH
    min_steps = 1 if mode == "eval1000" else MIN_STEPS
    opt = make_opt(model.parameters()) if train else None
    schedule = (torch.optim.lr_scheduler.OneCycleLR(opt, max_lr, total_steps=ONE_CYCLE)
                if train and max_lr else None)

    def batch_of(i):
        at = i * batch % (POOL - batch + 1)
        return images[at:at + batch], labels[at:at + batch]

    def train_step(i):
        x, y = batch_of(i)
        opt.zero_grad()
        loss_fn(model(x), x, y).backward()
        if clip:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        if schedule:
            schedule.step()

    def eval_step(i):
        model(batch_of(i)[0])

    model.train(train)
    base_rss_mb = peak_rss_mb()  # torch, the model, the optimizer and the data
    with torch.set_grad_enabled(train):
        step = train_step if train else eval_step
        done, _ = run_for(step, 0, min_steps, args.warmup)
        steps, elapsed = run_for(step, done, min_steps, args.seconds)
    print(json.dumps(dict(
        bench="model", name=f"{name}/{mode}", model=name, mode=mode, threads=args.threads,
        steps=steps, ms=1e3 * elapsed / steps, images_per_s=steps * batch / elapsed,
        peak_rss_mb=peak_rss_mb(), base_rss_mb=base_rss_mb,
        params=sum(p.numel() for p in model.parameters()))), flush=True)


if args.shapes:
    print_shapes()
elif args.model in MODELS and args.mode:
    run(args.model, args.mode)
else:
    raise SystemExit(f"need --shapes, or --model ({', '.join(MODELS)}) and --mode")
