"""Images per second of the classifier's training and prediction: ours vs a plain loop.

The comparison retrains the AM-study CNN (:class:`gda_core.classifiers.AMStudyCNN`,
width 16) for every method and seed, so its training loop dominates comparisons without
GANs.  For each image shape it times these variants of one training epoch (batch 64,
Adam, cross-entropy, shuffled, 1,024 images), each written out here so that exactly one
thing changes between rows:

* ``reference``          a plain PyTorch loop: float32, NCHW, images normalised once
                         before training;
* ``+ channels_last``    the channels_last memory layout for the network and batches;
* ``+ bf16 autocast``    ... and forward passes under ``torch.autocast(bfloat16)``
                         (only where the CPU supports it);
* ``bf16 only``          autocast alone on the reference;
* ``CNNClassifier fast=False`` / ``CNNClassifier``  our estimator itself (uint8 images
                         normalised batch by batch, no validation split), on its float32
                         reference path and on its default fast path.

Prediction is timed the same way: ``predict_proba`` of our estimator on both paths
against the reference network under ``torch.inference_mode`` in batches of 256 (uint8
images in, float64 probabilities out, as ``predict_proba``).  ``--device cuda`` runs
everything on a GPU.

Every variant is warmed up (one epoch, or one prediction pass) before it is timed, and
the variants run in interleaved rounds, in a different order each round (this machine's
timings drift); medians are printed with the speed-up over the reference.

    python bench/cnn_speed.py [--rounds 3] [--epochs 2] [--shapes 3x64,3x32,1x28,1x8]
                               [--compile] [--one-thread] [--device cpu|cuda]

``--compile`` adds the plain loop's fast variant under ``torch.compile`` and
``--one-thread`` our estimator with one torch thread: two ways around the per-operation
cost that dominates tiny images, measured rather than adopted.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gda_core._compat.threads import prefer_short_spinning

prefer_short_spinning()  # as app.py, the CLI and the workers run, before torch

import numpy as np
import torch
import torch.nn.functional as F

from gda_core.classifiers import AMStudyCNN, CNNClassifier
from gda_core.devices import amp_dtype

N, BATCH, CLASSES = 1024, 64, 3

VARIANTS: dict[str, dict[str, bool]] = {
    "reference": {"cl": False, "bf16": False},
    "+ channels_last": {"cl": True, "bf16": False},
    "+ bf16 autocast": {"cl": True, "bf16": True},
    "bf16 only": {"cl": False, "bf16": True},
}


def data(channels: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (N, channels, size, size), dtype=np.uint8)
    y = rng.integers(0, CLASSES, N).astype(np.int64)
    return X, y


def network(channels: int, size: int, cl: bool) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = AMStudyCNN(channels, CLASSES, size)
    return net.to(memory_format=torch.channels_last) if cl else net


def loop_seconds(X: np.ndarray, y: np.ndarray, epochs: int, *, cl: bool, bf16: bool,
                 device: str = "cpu", compiled: bool = False,
                 first: list[float] | None = None) -> float:
    """One variant of the plain loop (see the module docstring); seconds per epoch (each
    epoch reads its loss, which waits for a GPU too).  ``compiled``: the network under
    ``torch.compile``, compiled in the untimed first epoch, whose seconds are appended to
    ``first``."""
    net = network(X.shape[1], X.shape[2], cl).to(device)
    model = torch.compile(net) if compiled else net
    Xf = torch.from_numpy(X).to(device).float().div_(255.0)
    Xf = (Xf - Xf.mean(dim=(0, 2, 3), keepdim=True)) / Xf.std(dim=(0, 2, 3), keepdim=True)
    if cl:
        Xf = Xf.contiguous(memory_format=torch.channels_last)
    yt = torch.from_numpy(y).to(device)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(0)
    cast = amp_dtype(device, X[0].size, True) if bf16 else None

    def amp() -> contextlib.AbstractContextManager:
        return torch.autocast(device, dtype=cast) if cast else contextlib.nullcontext()

    def epoch() -> None:
        net.train()
        perm = torch.randperm(N, generator=gen).to(device)
        total = torch.zeros((), device=device)
        for start in range(0, N, BATCH):
            idx = perm[start:start + BATCH]
            with amp():
                logits = model(Xf[idx]).float()
            loss = F.cross_entropy(logits, yt[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.detach()
        _ = float(total)  # read the epoch's loss, as loops do

    t0 = time.perf_counter()
    epoch()
    if first is not None:
        first.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    for _ in range(epochs):
        epoch()
    return (time.perf_counter() - t0) / epochs


def estimator_seconds(X: np.ndarray, y: np.ndarray, epochs: int, *, fast: bool,
                      device: str = "cpu", threads: int | None = None) -> float:
    """:class:`CNNClassifier` without a validation split; seconds per epoch after one.
    ``threads``: torch's thread count for this run (a process-wide setting, restored)."""
    before = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        clf = CNNClassifier(epochs=1 + epochs, val_fraction=0.0, random_state=0,
                            device=device, fast=fast).fit(X, y)
    finally:
        torch.set_num_threads(before)
    return statistics.mean(h["seconds"] for h in clf.history_[1:])


def predict_reference_seconds(X: np.ndarray, repeats: int, device: str = "cpu") -> float:
    net = network(X.shape[1], X.shape[2], False).to(device).eval()

    def once() -> None:  # uint8 images in, probabilities out (as predict_proba)
        with torch.inference_mode():
            Xf = torch.from_numpy(X).to(device).float().div_(255.0)
            out = [net(Xf[i:i + 256]) for i in range(0, N, 256)]
        _ = torch.softmax(torch.cat(out).double(), dim=1).cpu().numpy()

    once()
    t0 = time.perf_counter()
    for _ in range(repeats):
        once()
    return (time.perf_counter() - t0) / repeats


def predict_estimator_seconds(X: np.ndarray, y: np.ndarray, repeats: int, *,
                              fast: bool, device: str = "cpu") -> float:
    clf = CNNClassifier(epochs=1, val_fraction=0.0, random_state=0, device=device,
                        fast=fast).fit(X[:128], y[:128])
    clf.predict_proba(X)
    t0 = time.perf_counter()
    for _ in range(repeats):
        clf.predict_proba(X)
    return (time.perf_counter() - t0) / repeats


def interleaved(runs: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Median seconds of every run over ``rounds`` rounds, in a new order each round."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    order = list(runs)
    for r in range(rounds):
        random.Random(r).shuffle(order)
        for name in order:
            times[name].append(runs[name]())
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2, help="timed epochs per variant")
    parser.add_argument("--shapes", default="3x64,3x32,1x28,1x8",
                        help="comma-separated CxS image shapes")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--compile", action="store_true",
                        help="also time the plain loop with channels_last (and bf16 where "
                             "used) under torch.compile (inductor), compiled in its untimed "
                             "first epoch, whose time is printed")
    parser.add_argument("--one-thread", action="store_true",
                        help="also time CNNClassifier with torch's thread count set to 1")
    args = parser.parse_args()
    dev = args.device
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}, device {dev}"
          + (f" ({torch.cuda.get_device_name()})" if dev == "cuda" else ""))
    for shape in args.shapes.split(","):
        channels, size = (int(v) for v in shape.split("x"))
        X, y = data(channels, size)
        runs: dict[str, Callable[[], float]] = {
            name: functools.partial(loop_seconds, X, y, args.epochs, **v, device=dev)
            for name, v in VARIANTS.items()}
        runs["CNNClassifier fast=False"] = functools.partial(
            estimator_seconds, X, y, args.epochs, fast=False, device=dev)
        runs["CNNClassifier"] = functools.partial(estimator_seconds, X, y, args.epochs,
                                                  fast=True, device=dev)
        cast = amp_dtype(dev, channels * size * size, True)
        compile_seconds: list[float] = []
        if args.compile:
            runs["+ torch.compile"] = functools.partial(
                loop_seconds, X, y, args.epochs, cl=True, bf16=cast is not None, device=dev,
                compiled=True, first=compile_seconds)
        if args.one_thread:
            runs["CNNClassifier, 1 thread"] = functools.partial(
                estimator_seconds, X, y, args.epochs, fast=True, device=dev, threads=1)
        med = interleaved(runs, args.rounds)
        print(f"\ntraining {size}x{size}x{channels}, batch {BATCH}, {N} images, "
              f"{args.rounds} rounds x {args.epochs} epochs (fast path's bf16 autocast: "
              f"{'on' if cast else 'not used at this size'})")
        print(f"  {'variant':<26} {'images/s':>9} {'vs reference':>13}")
        for name in runs:
            print(f"  {name:<26} {N / med[name]:9.0f} {med['reference'] / med[name]:12.2f}x")
        if compile_seconds:  # later rounds reuse the code compiled for the same class
            print("  torch.compile's untimed first epoch, by round (compilation included): "
                  + ", ".join(f"{sec:.2f} s" for sec in compile_seconds))
        pred = interleaved({
            "reference": functools.partial(predict_reference_seconds, X, 3, dev),
            "CNNClassifier fast=False": functools.partial(predict_estimator_seconds, X, y, 3,
                                                          fast=False, device=dev),
            "CNNClassifier": functools.partial(predict_estimator_seconds, X, y, 3,
                                               fast=True, device=dev),
        }, args.rounds)
        print(f"  prediction ({N} images)")
        for name, sec in pred.items():
            print(f"  {name:<26} {N / sec:9.0f} {pred['reference'] / sec:12.2f}x")


if __name__ == "__main__":
    main()
