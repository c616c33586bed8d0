"""Milliseconds for a DCGAN layer's forward and backward pass in three equivalent forms.

The DCGAN step spends most of its time in convolutions (``bench/gan_speed.py --roofline``);
this script asks whether writing the same layers another way would be faster than
oneDNN's kernels on this CPU.  For every stride-2, 4x4 layer of a DCGAN at 64x64
(ndf = ngf = 64, batch 64), in bfloat16 channels_last where the CPU supports it:

* D's convolutions: ``F.conv2d`` (oneDNN) against ``unfold`` (im2col) plus one matrix
  product;
* G's transposed convolutions: ``F.conv_transpose2d`` (oneDNN) against the sub-pixel form,
  four 2x2 convolutions (one per output phase) interleaved by a pixel shuffle.

Each alternative is checked against oneDNN's output before it is timed (they compute the
same function: the largest difference must stay within bfloat16 rounding of the outputs'
scale).  Forward plus backward (input and weight gradients), medians of ``--repeats``
after three warm-up calls, forms interleaved.

    python bench/conv_forms.py [--repeats 9] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import functools
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

from gda_core.devices import amp_dtype

BATCH = 64


def median_ms(fn: Callable[[], None], repeats: int) -> float:
    """Median milliseconds of ``fn()`` after three warm-up calls."""
    for _ in range(3):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def conv_im2col(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``F.conv2d(x, w, stride=2, padding=1)`` for a 4x4 kernel as im2col + one product."""
    n, cin, side, _ = x.shape
    cout, out = w.shape[0], side // 2
    cols = F.pad(x, (1, 1, 1, 1)).permute(0, 2, 3, 1).unfold(1, 4, 2).unfold(2, 4, 2)
    cols = cols.permute(0, 1, 2, 4, 5, 3).reshape(n * out * out, 16 * cin)  # (N o o, kh kw C)
    y = cols @ w.permute(0, 2, 3, 1).reshape(cout, 16 * cin).t()
    return y.view(n, out, out, cout).permute(0, 3, 1, 2)


def conv_transpose_subpixel(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """``F.conv_transpose2d(x, w, stride=2, padding=1)`` for a 4x4 kernel as four 2x2
    convolutions, one per output phase, interleaved.

    Output row ``2i + p`` takes input rows ``i + d`` through kernel rows ``k`` with
    ``2 d = p + 1 - k``: two taps per phase and axis.
    """
    n, _, side, _ = x.shape
    cout = w.shape[1]
    xp = F.pad(x, (1, 1, 1, 1))
    phases = []
    for py in (0, 1):
        for px in (0, 1):
            # kernel taps by ascending input offset d = (p + 1 - k) / 2
            ky = sorted((k for k in range(4) if (py + 1 - k) % 2 == 0), reverse=True)
            kx = sorted((k for k in range(4) if (px + 1 - k) % 2 == 0), reverse=True)
            wk = w[:, :, ky][:, :, :, kx].transpose(0, 1).contiguous(
                memory_format=torch.channels_last)
            y0, x0 = (py + 1 - ky[0]) // 2 + 1, (px + 1 - kx[0]) // 2 + 1
            phases.append(F.conv2d(xp[:, :, y0:y0 + side + 1, x0:x0 + side + 1], wk))
    y = torch.stack(phases, 1).view(n, 2, 2, cout, side, side)
    return y.permute(0, 3, 4, 1, 5, 2).reshape(n, cout, 2 * side, 2 * side)


def forward_backward(fn: Callable[[], torch.Tensor], grad: torch.Tensor) -> None:
    """``fn()`` forward, then backward with ``grad`` (waiting for a GPU)."""
    fn().backward(grad)
    if grad.is_cuda:
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    args = parser.parse_args()
    dev = torch.device(args.device)
    dtype = amp_dtype(dev.type, 3 * 64 * 64, True) or torch.float32
    cl = torch.channels_last
    gen = torch.Generator().manual_seed(0)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}, {dtype}, "
          f"channels_last, device {args.device}, batch {BATCH}")
    print(f"  {'layer':<34} {'oneDNN ms':>10} {'other ms':>9} {'other / oneDNN speed':>21}")

    def tensor(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=gen).to(dev, dtype).contiguous(
            memory_format=cl).requires_grad_(True)

    cases = [("D conv", cin, side, "im2col + matmul") for cin, side in
             ((64, 32), (128, 16), (256, 8))]
    cases += [("G conv_transpose", cin, side, "sub-pixel") for cin, side in
              ((512, 4), (256, 8), (128, 16))]
    for kind, cin, side, other in cases:
        x = tensor(BATCH, cin, side, side)
        if kind == "D conv":
            w = tensor(2 * cin, cin, 4, 4)
            base = functools.partial(F.conv2d, x, w, stride=2, padding=1)
            alt = functools.partial(conv_im2col, x, w)
            label = f"{kind} {cin}->{2 * cin}, {side}x{side}"
        else:
            w = tensor(cin, cin // 2, 4, 4)
            base = functools.partial(F.conv_transpose2d, x, w, stride=2, padding=1)
            alt = functools.partial(conv_transpose_subpixel, x, w)
            label = f"{kind} {cin}->{cin // 2}, {side}x{side}"
        ref, got = base().detach().float(), alt().detach().float()
        tol = 4 * ref.abs().max().item() * 2.0 ** -8  # a few bfloat16 steps of the scale
        if got.shape != ref.shape or (got - ref).abs().max().item() > tol:
            raise SystemExit(f"{label}: the {other} form differs from oneDNN's")
        grad = torch.randn(ref.shape, generator=gen).to(dev, dtype).contiguous(memory_format=cl)
        times: dict[str, list[float]] = {"base": [], "alt": []}
        for _ in range(3):  # interleaved
            for name, fn in (("base", base), ("alt", alt)):
                times[name].append(median_ms(
                    functools.partial(forward_backward, fn, grad), args.repeats))
        b, a = statistics.median(times["base"]), statistics.median(times["alt"])
        print(f"  {label:<34} {b:10.2f} {a:9.2f} {b / a:20.2f}x  ({other})")


if __name__ == "__main__":
    main()
