"""Seconds per GAN training step: our trainer (default fast path) vs a plain fp32 loop.

For a DCGAN at 64x64x3 and 32x32x1 (batch 64, ngf = ndf = 64, nz = 100) it times

* ``reference``  the PyTorch DCGAN example's step on the same networks: float32, NCHW,
  D on real and on detached fakes, then G on the same fakes (BCE on logits);
* ``ours``       :func:`gda_core.synthesizers.trainer.train_gan` with the defaults
  (``fast=True``: channels_last + bfloat16 autocast where the CPU supports it) and all
  per-step diagnostics (gradient norm, D(x), D(G(z)), diversity every 10 steps);
* ``ours, no monitoring``  the same with ``monitor=False``;
* ``ours, fast=False``  our loop in plain float32 NCHW (isolates the fast path's share);

in interleaved rounds (this machine's timings drift) and prints the medians, the speed-up
and the monitoring overhead.  About a minute and a half on 2 CPU cores.

    python bench/gan_speed.py [--rounds 3] [--steps64 8] [--steps32 30]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch
import torch.nn.functional as F

from gda_core.synthesizers.nets import (
    DCGANDiscriminator,
    DCGANGenerator,
    weights_init,
)
from gda_core.synthesizers.trainer import TrainConfig, amp_dtype, train_gan

NZ, WIDTH, BATCH = 100, 64, 64


def nets(channels: int, size: int) -> tuple[torch.nn.Module, torch.nn.Module]:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        G, D = DCGANGenerator(NZ, channels, size, width=WIDTH), DCGANDiscriminator(
            channels, size, width=WIDTH)
        G.apply(weights_init)
        D.apply(weights_init)
    return G, D


def reference_seconds(X: torch.Tensor, steps: int) -> float:
    """Plain float32 NCHW loop of the PyTorch DCGAN example; seconds per step."""
    G, D = nets(X.shape[1], X.shape[2])
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    gen = torch.Generator().manual_seed(0)
    ones, zeros = torch.ones(BATCH), torch.zeros(BATCH)

    def step() -> None:
        real = X[torch.randint(len(X), (BATCH,), generator=gen)]
        fake = G(torch.randn(BATCH, NZ, generator=gen))
        loss_d = (F.binary_cross_entropy_with_logits(D(real), ones)
                  + F.binary_cross_entropy_with_logits(D(fake.detach()), zeros))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(D(fake), ones)
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()
        _ = float(loss_d.detach()) + float(loss_g.detach())  # read the losses, as loops do

    step()  # warm-up (kernel selection)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps


def ours_seconds(X: torch.Tensor, steps: int, *, monitor: bool, fast: bool = True) -> float:
    """:func:`train_gan` (default: fast path); seconds per step (warm-up excluded)."""
    G, D = nets(X.shape[1], X.shape[2])
    if fast:
        G.to(memory_format=torch.channels_last)
        D.to(memory_format=torch.channels_last)
    config = TrainConfig(epochs=1, min_steps=steps + 1, batch_size=BATCH, monitor=monitor,
                         fast=fast)
    history: list[dict] = []
    train_gan(G, D, X, None, config, seed=0, history=history)
    # history[i]["seconds"] is the time since the start: drop the first (warm-up) step
    return (history[-1]["seconds"] - history[0]["seconds"]) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps64", type=int, default=8)
    parser.add_argument("--steps32", type=int, default=30)
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
    for channels, size, steps in ((3, 64, args.steps64), (1, 32, args.steps32)):
        X = torch.rand(256, channels, size, size) * 2 - 1
        cast = amp_dtype("cpu", channels * size * size, True)
        times: dict[str, list[float]] = {"reference": [], "ours": [], "ours_nomon": [],
                                         "ours_fp32": []}
        for _ in range(args.rounds):
            times["reference"].append(reference_seconds(X, steps))
            times["ours"].append(ours_seconds(X, steps, monitor=True))
            times["ours_nomon"].append(ours_seconds(X, steps, monitor=False))
            times["ours_fp32"].append(ours_seconds(X, steps, monitor=True, fast=False))
        ref, ours, bare, fp32 = (statistics.median(times[k]) for k in (
            "reference", "ours", "ours_nomon", "ours_fp32"))
        print(f"\nDCGAN {size}x{size}x{channels}, batch {BATCH} (fast path: channels_last"
              f"{' + ' + str(cast).replace('torch.', '') + ' autocast' if cast else ''})")
        print(f"  reference fp32 loop     {ref * 1000:8.1f} ms/step")
        print(f"  ours (default)          {ours * 1000:8.1f} ms/step   speed-up "
              f"{ref / ours:4.2f}x")
        print(f"  ours, no monitoring     {bare * 1000:8.1f} ms/step   monitoring overhead "
              f"{(ours / bare - 1) * 100:+5.1f} %")
        print(f"  ours, fast=False        {fp32 * 1000:8.1f} ms/step   fast path speed-up "
              f"{fp32 / ours:4.2f}x")


if __name__ == "__main__":
    main()
