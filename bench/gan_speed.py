"""Milliseconds per DCGAN training step: each speed-up of our trainer measured on its own.

For a DCGAN at 64x64x3 and 32x32x1 (batch 64, ngf = ndf = 64, nz = 100) it times these
variants of one step (D on real and detached fakes, then G on the same fakes; BCE on
logits; Adam), each written out here so that exactly one thing changes between rows:

* ``reference``         the PyTorch DCGAN example: float32, NCHW; G's step also computes
                        D's weight gradients (and throws them away);
* ``+ skip D grads``    D's weights frozen (``requires_grad_(False)``) during G's step;
* ``+ channels_last``   ... and the channels_last memory layout for nets and batches;
* ``+ bf16 autocast``   ... and forward passes under ``torch.autocast(bfloat16)``
                        (only where the CPU supports it);
* ``+ fused Adam``      ... and ``torch.optim.Adam(fused=True)``: all four = our fast path;
* ``+ torch.compile``   (``--compile``) ... and G and D compiled by ``torch.compile``
                        (inductor); compilation happens in the untimed warm-up;
* ``bf16 only``, ``channels_last only``  each change alone on the reference;
* ``train_gan, no monitoring`` / ``train_gan``  our trainer itself (``fast=True``) without
                        and with the per-step diagnostics (gradient norm, D(x), D(G(z)),
                        diversity and near-duplicates every 10 steps): the monitoring cost,
                        timed over a multiple of 10 steps so that its share is the steady one.

Every variant is warmed up (two steps; our trainer ten) before it is timed, and the variants run in
interleaved rounds in a different order each round (this machine's timings drift); the
medians are printed with the speed-up over the reference and the factor of each change.

    python bench/gan_speed.py [--rounds 3] [--steps64 10] [--steps32 20] [--compile]
                               [--roofline] [--read-every N] [--monitoring-only]
                               [--device cpu|cuda]

``--roofline`` also counts each variant's floating-point operations per step and prints
the rate it reaches beside the best rate of a single convolution of D on this device (the
reference and the fast path run the same convolutions; the question it answers is how much
faster the fast path could get without faster convolution kernels).  ``--read-every N`` also
times our trainer reading its per-step figures every N steps (one wait for the device per
read; what a GPU run does by default, every 10).
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

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from gda_core.devices import amp_dtype
from gda_core.synthesizers.nets import DCGANDiscriminator, DCGANGenerator, weights_init
from gda_core.synthesizers.trainer import GANLoopConfig, train_gan

NZ, WIDTH, BATCH = 100, 64, 64
WARMUP = 2

VARIANTS: dict[str, dict[str, bool]] = {
    "reference": {"skip": False, "cl": False, "bf16": False},
    "+ skip D grads": {"skip": True, "cl": False, "bf16": False},
    "+ channels_last": {"skip": True, "cl": True, "bf16": False},
    "+ bf16 autocast": {"skip": True, "cl": True, "bf16": True},
    "+ fused Adam": {"skip": True, "cl": True, "bf16": True, "fused": True},
    "bf16 only": {"skip": False, "cl": False, "bf16": True},
    "channels_last only": {"skip": False, "cl": True, "bf16": False},
}


def nets(channels: int, size: int, cl: bool) -> tuple[torch.nn.Module, torch.nn.Module]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        G, D = DCGANGenerator(NZ, channels, size, width=WIDTH), DCGANDiscriminator(
            channels, size, width=WIDTH)
        G.apply(weights_init)
        D.apply(weights_init)
    if cl:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    return G, D


def make_step(X: torch.Tensor, *, skip: bool, cl: bool, bf16: bool,
              fused: bool = False, compiled: bool = False) -> Callable[[], None]:
    """One variant of the step (see the module docstring) on ``X``'s device, as a callable
    that runs one training step (and reads its losses, which waits for a GPU too)."""
    dev = X.device
    G, D = nets(X.shape[1], X.shape[2], cl)
    G, D = G.to(dev), D.to(dev)
    if compiled:  # the warm-up steps pay the compilation (not timed)
        G, D = torch.compile(G), torch.compile(D)
    fuse = True if fused else None
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999), fused=fuse)
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999), fused=fuse)
    gen = torch.Generator().manual_seed(0)
    ones, zeros = torch.ones(BATCH, device=dev), torch.zeros(BATCH, device=dev)
    fmt = torch.channels_last if cl else torch.contiguous_format
    cast = amp_dtype(dev.type, X[0].numel(), True) if bf16 else None

    def amp() -> contextlib.AbstractContextManager:
        return torch.autocast(dev.type, dtype=cast) if cast else contextlib.nullcontext()

    def step() -> None:
        idx = torch.randint(len(X), (BATCH,), generator=gen).to(dev)
        real = X[idx].contiguous(memory_format=fmt)
        z = torch.randn(BATCH, NZ, generator=gen).to(dev)
        with amp():
            fake = G(z)
            loss_d = (F.binary_cross_entropy_with_logits(D(real).float(), ones)
                      + F.binary_cross_entropy_with_logits(D(fake.detach()).float(), zeros))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        if skip:
            for p in D.parameters():
                p.requires_grad_(False)
        with amp():
            loss_g = F.binary_cross_entropy_with_logits(D(fake).float(), ones)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if skip:
            for p in D.parameters():
                p.requires_grad_(True)
        _ = float(loss_d.detach()) + float(loss_g.detach())  # read the losses, as loops do

    return step


def loop_seconds(X: torch.Tensor, steps: int, **variant: bool) -> float:
    """Seconds per step of one variant (:func:`make_step`), after :data:`WARMUP` steps."""
    step = make_step(X, **variant)
    for _ in range(WARMUP):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def step_flops(X: torch.Tensor, **variant: bool) -> int:
    """Floating-point operations of one step of a variant, as torch's ``FlopCounterMode``
    counts them (convolutions and matrix products, forward and backward; a multiply-add
    is 2)."""
    step = make_step(X, **variant)
    step()  # the first step allocates the optimisers' state; count a steady one
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def conv_peak(X: torch.Tensor, cl: bool, bf16: bool, repeats: int = 9) -> float:
    """FLOP/s of the fastest single convolution of D (forward only, median of ``repeats``):
    what this device reaches on the step's own shapes at best, in one layout and dtype."""
    dtype = amp_dtype(X.device.type, X[0].numel(), True) if bf16 else torch.float32
    fmt = torch.channels_last if cl else torch.contiguous_format
    best = 0.0
    c, side = WIDTH, X.shape[2] // 2  # D's second convolution onwards: c -> 2c, side halves
    while side >= 8:
        x = torch.randn(BATCH, c, side, side, device=X.device, dtype=dtype).contiguous(
            memory_format=fmt)
        w = torch.randn(2 * c, c, 4, 4, device=X.device, dtype=dtype).contiguous(
            memory_format=fmt)
        flops = 2 * BATCH * 2 * c * (side // 2) ** 2 * c * 16
        times = []
        for i in range(repeats + 2):
            t0 = time.perf_counter()
            F.conv2d(x, w, stride=2, padding=1).sum().item()
            if i >= 2:  # two warm-up calls
                times.append(time.perf_counter() - t0)
        best = max(best, flops / statistics.median(times))
        c, side = 2 * c, side // 2
    return best


def trainer_seconds(X: torch.Tensor, steps: int, *, monitor: bool, read_every: int = 0
                    ) -> float:
    """:func:`train_gan` with ``fast=True`` (``read_every``: steps between reads of its
    figures, 0 the trainer's choice); seconds per step from step 10 to step 10 + ``steps``.

    Timed by the wall clock in the step callback, which runs once the step's figures are
    read, so on a GPU after the device has done the step's work (the ``seconds`` of the
    history are taken when a step's work is queued).  Steps 10 and 10 + ``steps`` end a
    group of reads whatever ``read_every`` divides 10, and the timed steps hold the steady
    share of the diversity checks (every 10th step); one step more is trained because the
    last always measures diversity.
    """
    start = 10
    G, D = nets(X.shape[1], X.shape[2], True)
    G, D = G.to(X.device), D.to(X.device)
    config = GANLoopConfig(epochs=1, min_steps=start + steps + 1, batch_size=BATCH,
                           monitor=monitor, fast=True, device=X.device.type,
                           read_every=read_every)
    marks: dict[int, float] = {}

    def callback(event: dict) -> None:
        if event["step"] in (start, start + steps):
            marks[event["step"]] = time.perf_counter()

    train_gan(G, D, X, None, config, seed=0, history=[], callback=callback)
    return (marks[start + steps] - marks[start]) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps64", type=int, default=10)
    parser.add_argument("--steps32", type=int, default=20)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--monitoring-only", action="store_true",
                        help="time only train_gan with and without monitoring (use more "
                             "--steps and --rounds to see a few-percent difference)")
    parser.add_argument("--compile", action="store_true",
                        help="also time the fast path with G and D under torch.compile "
                             "(inductor; compiled in the untimed warm-up steps, each round)")
    parser.add_argument("--roofline", action="store_true",
                        help="also count each variant's floating-point operations per step "
                             "(torch's FlopCounterMode), print the rate each reaches, and "
                             "time D's fastest single convolution as the device's best rate "
                             "on these shapes")
    parser.add_argument("--read-every", type=int, default=0, choices=(0, 1, 2, 5, 10),
                        help="also time train_gan reading its per-step figures every N "
                             "steps (one wait for the device per read; the trainer's own "
                             "choice is 1 on the CPU and 10 on a GPU)")
    args = parser.parse_args()
    if args.steps64 % 10 or args.steps32 % 10:
        parser.error("--steps64 and --steps32 must be multiples of 10 (the diversity "
                     "check runs every 10th step; other counts misstate its share)")
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, "
          f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, device "
          f"{args.device}"
          + (f" ({torch.cuda.get_device_name()})" if args.device == "cuda" else ""))
    for channels, size, steps in ((3, 64, args.steps64), (1, 32, args.steps32)):
        X = (torch.rand(256, channels, size, size) * 2 - 1).to(args.device)
        runs: dict[str, Callable[[], float]] = {} if args.monitoring_only else {
            name: functools.partial(loop_seconds, X, steps, **v)
            for name, v in VARIANTS.items()}
        if args.compile and not args.monitoring_only:
            runs["+ torch.compile"] = functools.partial(
                loop_seconds, X, steps, **VARIANTS["+ fused Adam"], compiled=True)
        runs["train_gan, no monitoring"] = functools.partial(trainer_seconds, X, steps,
                                                             monitor=False)
        runs["train_gan"] = functools.partial(trainer_seconds, X, steps, monitor=True)
        if args.read_every:
            runs[f"train_gan, read every {args.read_every}"] = functools.partial(
                trainer_seconds, X, steps, monitor=True, read_every=args.read_every)
        times: dict[str, list[float]] = {name: [] for name in runs}
        order = list(runs)
        for r in range(args.rounds):
            random.Random(r).shuffle(order)
            for name in order:
                times[name].append(runs[name]())
        med = {name: statistics.median(t) for name, t in times.items()}
        cast = amp_dtype(args.device, channels * size * size, True)
        print(f"\nDCGAN {size}x{size}x{channels}, batch {BATCH}, {args.rounds} rounds x "
              f"{steps} steps (bf16 autocast {'on' if cast else 'not used here'})")
        print(f"  {'variant':<26} {'ms/step':>9}"
              + (f" {'vs reference':>13}" if "reference" in med else ""))
        flops: dict[str, int] = {}
        if args.roofline and not args.monitoring_only:
            flops = {name: step_flops(X, **v) for name, v in VARIANTS.items()}
            # train_gan runs the four changes' step (its monitoring adds no convolution)
            flops["train_gan, no monitoring"] = flops["train_gan"] = flops["+ fused Adam"]
        for name in runs:
            vs = f"{med['reference'] / med[name]:12.2f}x" if "reference" in med else ""
            rate = (f" {flops[name] / med[name] / 1e9:8.0f} GFLOP/s ({flops[name] / 1e9:.1f} "
                    "GFLOP a step)" if name in flops else "")
            print(f"  {name:<26} {med[name] * 1000:9.1f} {vs}{rate}")
        if flops:
            peak_bf16 = conv_peak(X, cl=True, bf16=cast is not None)
            peak_fp32 = conv_peak(X, cl=False, bf16=False)
            target = flops["+ fused Adam"] / (med["reference"] / 2.5)
            print(f"  D's fastest single convolution (forward): {peak_fp32 / 1e9:.0f} GFLOP/s "
                  f"fp32 NCHW, {peak_bf16 / 1e9:.0f} GFLOP/s "
                  f"{'bf16 ' if cast else 'fp32 '}channels_last")
            print(f"  2.5x the reference needs {target / 1e9:.0f} GFLOP/s over the whole fast "
                  f"step ({target / peak_bf16 * 100:.0f} % of that convolution's rate); "
                  f"at that rate everywhere the step would take "
                  f"{flops['+ fused Adam'] / peak_bf16 * 1000:.1f} ms")
        ratio = {} if args.monitoring_only else {
            "skip D grads (on the reference)": ("reference", "+ skip D grads"),
            "channels_last (after skip D grads)": ("+ skip D grads", "+ channels_last"),
            "bf16 autocast (after both)": ("+ channels_last", "+ bf16 autocast"),
            "fused Adam (after the three)": ("+ bf16 autocast", "+ fused Adam"),
            "channels_last alone": ("reference", "channels_last only"),
            "bf16 autocast alone": ("reference", "bf16 only"),
            "train_gan's loop vs the same four changes here": ("+ fused Adam",
                                                                "train_gan, no monitoring"),
        }
        if args.compile and not args.monitoring_only:
            ratio["torch.compile (after the four)"] = ("+ fused Adam", "+ torch.compile")
        if ratio:
            print("  each change: time before / time after")
        for label, (before, after) in ratio.items():
            print(f"    {label:<50} {med[before] / med[after]:5.2f}x")
        print(f"  monitoring overhead (train_gan vs no monitoring): "
              f"{(med['train_gan'] / med['train_gan, no monitoring'] - 1) * 100:+.1f} %")


if __name__ == "__main__":
    main()
