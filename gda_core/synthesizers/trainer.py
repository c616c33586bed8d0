"""The one GAN training loop shared by every synthesizer.

Each *step* runs ``d_steps`` discriminator updates (the "k" of Goodfellow et al.'s
Algorithm 1), each on a fresh real batch, then one generator update.  An *epoch* is
``ceil(n_images / batch_size)`` steps (as in CTGAN), so with ``d_steps=k`` the
discriminator sees about k passes over the data per epoch.  Training runs
``max(epochs * steps_per_epoch, min_steps)`` steps: a class of 18 images makes one step
per epoch, far too few for a GAN, so ``min_steps`` sets a floor.

Randomness comes only from a private ``torch.Generator`` (batches, noise, WGAN-GP
interpolation weights, augmentations), drawn on the CPU so results do not depend on the
device; nothing touches the global random state.

With ``augment`` set, every image the discriminator sees, real or generated, in its own
update and in the generator's, first goes through DiffAugment
(:mod:`gda_core.synthesizers.diffaugment`).  A conditional model draws each batch's classes
uniformly (real images of those classes, and fakes with those labels), so a minority class
is trained as often as a majority one.

Diagnostics
-----------
After every generator update one dict is appended to ``history``:

``step``, ``epoch``
    1-based generator step and epoch.
``d_loss``, ``g_loss``
    Discriminator loss (mean over the step's ``d_steps`` updates, WGAN-GP penalty
    included) and generator loss.
``g_grad_norm``
    Total L2 norm of the generator's gradients in its update.
``d_real``, ``d_fake``
    Mean ``sigmoid(D(x))`` on the last real batch and mean ``sigmoid(D(G(z)))`` on the
    batch the generator was just trained on (MAD-GAN: the softmax probability of "real").
    For the WGAN-GP critic the sigmoid of an unbounded score is only a rough indication.
``seconds``
    Time since this model's training started.
``diversity`` (only every ``diversity_every`` steps, on the first and on the last step)
    Mean pairwise distance between the generator's images for a fixed noise batch,
    divided by the same statistic of real training images: about 1 means "as varied as
    the data", near 0 means every noise vector gives the same image (mode collapse).
    Distances are per-pixel RMS differences in [-1, 1] units.  Conditional models are
    measured within each class and averaged (mixing classes would hide a collapse).
    When the real images are all identical (e.g. a single image) the raw RMS distance is
    logged instead.
``dup_share`` (with ``diversity``)
    Share of the fixed-noise images whose nearest other image (of their class) is closer
    than :data:`DUP_FRACTION` of the real images' typical nearest-neighbour gap: the
    generator draws the same few images (NaN when the real images are all identical).

The figures of a step are computed on the training device and read in groups
(:class:`StepLog`): every step on the CPU, every :data:`READ_EVERY_GPU` steps on a GPU, and
always on the steps that measure diversity or draw samples, so that the loop waits for a GPU
once per group instead of once per step.  Each entry still reaches ``history``, ``callback``
and ``on_samples`` in step order; a divergence is reported at its own step, and a stop asked
by the callback takes effect at the end of its group.

Fast path
---------
With ``fast=True`` the loop runs on the path :func:`gda_core.fastpath.choose_path` measured
fastest for these networks, image shape and batch on this machine (float32 NCHW unless
channels_last and / or bfloat16 autocast beat it by 5 %; kept per machine, so measured
once), with fused Adam optimisers; losses and optimiser states stay float32.  Which path
was taken, and the candidates' times, are in :attr:`TrainOutcome.fast_path`.
``GANLoopConfig.fast_path`` names a path instead (the synthesizers' worker processes get
the one their parent chose).  On a 2-core Xeon without native bfloat16, bfloat16 autocast
made a 64x64x3 DCGAN step 1.47x slower than float32; on CPUs with AVX512-BF16 it is
faster (``bench/time_to_answer.py`` prints what each model picked and why).
"""

from __future__ import annotations

import contextlib
import copy
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from gda_core.devices import autocast
from gda_core.errors import GDAError
from gda_core.fastpath import PATHS, REFERENCE, Path, PathChoice, Probe, choose_path
from gda_core.synthesizers import losses
from gda_core.synthesizers.diffaugment import diff_augment

StepCallback = Callable[[dict[str, Any]], "bool | None"]
SamplesCallback = Callable[[int, np.ndarray], None]

N_FIXED_COLS = 8
"""Images per row of the fixed-noise sample grid."""


@dataclass
class GANLoopConfig:
    """Settings of one run of the GAN training loop, :func:`train_gan` (validated by the
    synthesizer facade, which builds one per model it trains).

    The fields without a description mirror the synthesizers' parameters (see
    :func:`gda_core.synthesizers.base.gan_params`); ``betas`` is (beta1, beta2).

    Parameters
    ----------
    mode : {"plain", "conditional", "madgan"}
        ``"plain"``: ``G(z)``, ``D(x)``; ``"conditional"``: ``G(z, y)``, ``D(x, y)``;
        ``"madgan"``: ``G(z, i)`` for generator ``i`` and a (k+1)-way ``D(x)``.
    monitor : bool
        Compute ``g_grad_norm``, ``d_real``, ``d_fake`` and ``diversity`` (``False`` only
        to measure their cost; the entries then hold NaN and no diversity).
    augment : tuple of str
        DiffAugment operations (:mod:`gda_core.synthesizers.diffaugment`) applied to every
        image the discriminator sees, real or fake, in both players' updates; empty: none.
    read_every : int
        Steps whose figures are gathered on the device before they are read (one wait for
        the device per read; see :class:`StepLog`); 0: :func:`read_interval`'s choice.
    fast_path : str
        With ``fast``: a path of :data:`gda_core.fastpath.PATHS` to use; empty: the loop
        chooses one (:func:`gan_fast_path`).
    """

    epochs: int = 50
    min_steps: int = 0
    batch_size: int = 64
    lr_d: float = 2e-4
    lr_g: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    d_steps: int = 1
    loss: str = "non-saturating"
    label_smoothing: float = 0.0
    fast: bool = True
    device: str = "cpu"
    mode: str = "plain"
    n_classes: int = 0
    n_generators: int = 1
    diversity_every: int = 10
    sample_every: int = 50
    n_fixed: int = 64
    monitor: bool = True
    augment: tuple[str, ...] = ()
    read_every: int = 0
    fast_path: str = ""


@dataclass
class TrainOutcome:
    """What :func:`train_gan` reports besides the history."""

    steps: int
    stopped_early: bool  # the callback returned False (possibly on the last step)
    real_diversity: float
    fast_path: PathChoice = field(default_factory=lambda: PathChoice(REFERENCE, "reference"))


# ------------------------------------------------------------------------ devices
def prepare_nets(nets: list[nn.Module], device: str, fast: bool) -> None:
    """Move networks to ``device``; channels_last on the fast path (in place)."""
    for net in nets:
        if fast:
            net.to(device=device, memory_format=torch.channels_last)
        else:
            net.to(device=device)


# ------------------------------------------------------------------------ scaling
def to_unit(images: np.ndarray | torch.Tensor) -> torch.Tensor:
    """uint8 images -> float32 in [-1, 1] (Tanh range)."""
    x = torch.as_tensor(images)
    return x.float().div_(127.5).sub_(1.0)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """[-1, 1] images -> uint8 (rounded and clipped), NCHW numpy array."""
    out = ((x.detach().float() + 1.0) * 127.5).round_().clamp_(0, 255)
    return out.to(torch.uint8).contiguous().cpu().numpy()


def mean_pairwise_rms(x: torch.Tensor, groups: torch.Tensor | None = None) -> float:
    """Mean pairwise per-pixel RMS distance of images, averaged over ``groups``.

    Groups with fewer than two images are skipped; returns 0.0 when none is left.
    """
    flat = x.detach().float().reshape(len(x), -1)
    if groups is None:
        groups = torch.zeros(len(x), dtype=torch.long, device=x.device)
    values = []
    for g in torch.unique(groups):
        part = flat[groups == g]
        m = len(part)
        if m < 2:
            continue
        dist = torch.cdist(part, part)                       # (m, m), zero diagonal
        values.append(float(dist.sum()) / (m * (m - 1)) / math.sqrt(flat.shape[1]))
    return float(np.mean(values)) if values else 0.0


DUP_FRACTION = 0.1
"""An image whose nearest other image is closer than this fraction of the real images'
typical nearest-neighbour gap counts as a near-duplicate (as in the quality gate)."""


def _rms_distances(part: torch.Tensor) -> torch.Tensor:
    """Pairwise per-pixel RMS distances of flattened images, the diagonal set to inf."""
    dist = torch.cdist(part, part) / math.sqrt(part.shape[1])
    dist.fill_diagonal_(math.inf)
    return dist


def nearest_gap(x: torch.Tensor, groups: torch.Tensor | None = None) -> float:
    """Median distance (per-pixel RMS) from each image to its nearest other image of its
    group: the real images' typical gap, the unit of :func:`near_duplicate_share`."""
    flat = x.detach().float().reshape(len(x), -1)
    if groups is None:
        groups = torch.zeros(len(x), dtype=torch.long, device=x.device)
    gaps = [_rms_distances(flat[groups == g]).min(dim=1).values
            for g in torch.unique(groups) if int((groups == g).sum()) >= 2]
    return float(torch.cat(gaps).median()) if gaps else 0.0


def near_duplicate_share(x: torch.Tensor, gap: float,
                         groups: torch.Tensor | None = None) -> float:
    """Share of images whose nearest other image of their group is closer than
    :data:`DUP_FRACTION` ``* gap``: near-identical outputs (a collapsed generator draws the
    same few images whatever the noise; pixel diversity alone can miss it when those few
    images differ a lot from one another).  NaN when ``gap`` is not positive."""
    if not gap > 0:
        return math.nan
    flat = x.detach().float().reshape(len(x), -1)
    if groups is None:
        groups = torch.zeros(len(x), dtype=torch.long, device=x.device)
    hits, total = 0, 0
    for g in torch.unique(groups):
        part = flat[groups == g]
        if len(part) < 2:
            continue
        nearest = _rms_distances(part).min(dim=1).values
        hits += int((nearest < DUP_FRACTION * gap).sum())
        total += len(part)
    return hits / total if total else math.nan


# ----------------------------------------------------------------- the history
FIGURES = ("d_loss", "g_loss", "g_grad_norm", "d_real", "d_fake")
"""The per-step figures of a history entry, in their order (the last three are measured
only with ``monitor``)."""

READ_EVERY_GPU = 10
"""Steps whose figures a run on a GPU gathers before reading them (as often as the
diversity is measured by default, which waits for the device anyway)."""


def read_interval(device_type: str, requested: int = 0) -> int:
    """Steps between reads of a training loop's per-step figures.

    ``requested`` when positive; else 1 on the CPU, where reading a figure costs nothing,
    and :data:`READ_EVERY_GPU` on other devices, where each read waits for the device to
    finish the queued work (which then idles until the next step's work arrives).

    Examples
    --------
    >>> read_interval("cpu"), read_interval("cuda"), read_interval("cuda", 1)
    (1, 10, 1)
    """
    if requested > 0:
        return int(requested)
    return 1 if device_type == "cpu" else READ_EVERY_GPU


class StepLog:
    """A training loop's per-step history, its figures read from the device in groups.

    The loop builds each step's entry (with NaN placeholders where the figures go, so that
    keys keep their order) and hands it to :meth:`add` with the step's figures stacked in
    one tensor on the training device.  :meth:`flush` reads every pending step's figures at
    once, then for each entry in step order: fills in the figures; if ``check(entry)``
    returns a message, appends the entry and raises :class:`GDAError` with it (the history
    keeps everything up to the bad step); else appends it, passes its images, if any, to
    ``on_samples`` and the entry to ``callback``.  After a callback returns ``False`` the
    group's later entries are still appended (those steps ran) but not passed on.

    Parameters
    ----------
    keys : tuple of str
        Names of the figures, in the order of the stacked tensor.
    every : int
        Pending steps that make :meth:`add` ask for a flush (see :func:`read_interval`).
    history : list of dict
        Receives the entries.
    total : int
        The run's number of steps (``total_steps`` in what ``callback`` gets).
    check : callable
        ``check(entry)`` -> an error message for a diverged step, or None.
    callback, on_samples : callable, optional
        As for :func:`train_gan`.

    Examples
    --------
    >>> history = []
    >>> log = StepLog(("loss",), 2, history, total=3, check=lambda e: None)
    >>> log.add({"step": 1, "loss": math.nan}, torch.tensor([0.5]))
    False
    >>> log.add({"step": 2, "loss": math.nan}, torch.tensor([0.25]))
    True
    >>> log.flush(), history
    (False, [{'step': 1, 'loss': 0.5}, {'step': 2, 'loss': 0.25}])
    """

    def __init__(self, keys: tuple[str, ...], every: int, history: list[dict[str, Any]], *,
                 total: int, check: Callable[[dict[str, Any]], str | None],
                 callback: StepCallback | None = None,
                 on_samples: SamplesCallback | None = None) -> None:
        self.keys, self.every, self.history, self.total = keys, max(1, int(every)), history, total
        self.check, self.callback, self.on_samples = check, callback, on_samples
        self.pending: list[tuple[dict[str, Any], torch.Tensor, np.ndarray | None]] = []

    def add(self, entry: dict[str, Any], figures: torch.Tensor,
            images: np.ndarray | None = None) -> bool:
        """Keep one step's entry, figures (1-D, in :attr:`keys` order) and uint8 sample
        images; True when ``every`` steps are pending (time to :meth:`flush`)."""
        self.pending.append((entry, figures.detach(), images))
        return len(self.pending) >= self.every

    def flush(self) -> bool:
        """Read and record the pending steps (see the class docstring); True when a
        callback asked to stop."""
        if not self.pending:
            return False
        pending, self.pending = self.pending, []
        rows = torch.stack([figures for _, figures, _ in pending]).tolist()  # one wait
        stop = False
        for (entry, _, images), row in zip(pending, rows, strict=True):
            entry.update(zip(self.keys, row, strict=True))
            problem = self.check(entry)
            self.history.append(entry)
            if problem is not None:
                raise GDAError(problem)
            if images is not None and self.on_samples is not None:
                self.on_samples(entry["step"], images)
            if not stop and self.callback is not None:
                stop = self.callback({**entry, "total_steps": self.total}) is False
        return stop


# --------------------------------------------------------------------- the loop
def index_batches(n: int, size: int, gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless stream of index batches of ``size`` over shuffled passes (crossing passes)."""
    buf = torch.empty(0, dtype=torch.long)
    while True:
        while len(buf) < size:
            buf = torch.cat([buf, torch.randperm(n, generator=gen)])
        yield buf[:size]
        buf = buf[size:]


def balanced_batches(labels: torch.Tensor, n_classes: int, size: int,
                     gen: torch.Generator) -> Iterator[torch.Tensor]:
    """Endless stream of index batches whose classes are drawn uniformly.

    Every slot of a batch takes a class uniformly at random, then the next image of that
    class from its own stream of shuffled passes; so a class of 25 images is seen (and,
    for a conditional generator, drawn) as often as one of 2,500.
    """
    cpu = labels.cpu()
    members = [torch.nonzero(cpu == c).flatten() for c in range(n_classes)]
    present = [c for c in range(n_classes) if len(members[c])]
    streams = {c: index_batches(len(members[c]), 1, gen) for c in present}
    table = torch.as_tensor(present, dtype=torch.long)
    while True:
        picks = table[torch.randint(len(present), (size,), generator=gen)].tolist()
        yield torch.stack([members[c][next(streams[c])[0]] for c in picks])


def grad_norm(params: list[torch.Tensor]) -> torch.Tensor:
    """Total L2 norm of the gradients of ``params`` (0 when none has a gradient).

    One multi-tensor norm (``torch.nn.utils.get_total_norm``) rather than a norm per
    tensor: between training steps each small operation can pay a thread wake-up.

    Examples
    --------
    >>> w = torch.zeros(2, requires_grad=True)
    >>> w.grad = torch.tensor([3.0, 4.0])
    >>> float(grad_norm([w]))
    5.0
    """
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.zeros(())
    return torch.nn.utils.get_total_norm(grads, norm_type=2.0).float()


def train_gan(G: nn.Module, D: nn.Module, X: torch.Tensor, labels: torch.Tensor | None,
              config: GANLoopConfig, *, seed: int, history: list[dict[str, Any]],
              extra: dict[str, Any] | None = None, callback: StepCallback | None = None,
              on_samples: SamplesCallback | None = None) -> TrainOutcome:
    """Train ``G`` against ``D`` on images ``X`` in [-1, 1]; append diagnostics to ``history``.

    Parameters
    ----------
    G, D : nn.Module
        Networks already on ``config.device`` (see :func:`prepare_nets`).
    X : Tensor of float32, shape (N, C, H, W)
        Training images in [-1, 1], on ``config.device``.
    labels : Tensor of int64, shape (N,), or None
        Class indices ``0..n_classes-1`` (conditional mode only).
    config : GANLoopConfig
    seed : int
        Seeds the private generator of batches and noise (and the fixed noise).
    history : list of dict
        Receives one entry per generator step (see the module docstring); entries are
        kept when training diverges.
    extra : dict, optional
        Keys added to every entry (e.g. ``{"class": 3}``).
    callback : callable, optional
        ``callback(event)`` after every step with a copy of the entry plus
        ``total_steps``; returning ``False`` stops training after that step (on a GPU, after
        the last step of its group of reads: see :class:`StepLog`).
    on_samples : callable, optional
        ``on_samples(step, images)`` on step 1, every ``sample_every`` steps and on the last step,
        with uint8 images (n_fixed, C, H, W) from fixed noise (conditional models: the
        label of row r, of :data:`N_FIXED_COLS` images, is class ``r % n_classes``;
        MAD-GAN: row r is generator ``r % k``).

    Returns
    -------
    TrainOutcome

    Raises
    ------
    GDAError
        When a loss or the gradient norm becomes NaN or infinite.
    """
    cfg = config
    dev = torch.device(cfg.device)
    extra = dict(extra or {})
    gen = torch.Generator().manual_seed(int(seed))
    n = len(X)
    b = max(2, min(cfg.batch_size, n))  # BatchNorm needs 2 images; tiny classes repeat
    steps_per_epoch = max(1, math.ceil(n / b))
    total = max(cfg.epochs * steps_per_epoch, cfg.min_steps)
    choice = gan_fast_path(G, D, cfg, tuple(X.shape[1:]), b)
    cast, fmt = choice.path.dtype, choice.path.memory_format
    for net in (G, D):
        net.to(memory_format=fmt)
    latent = _latent_dim(G)
    k = cfg.n_generators

    fused = True if cfg.fast else None  # one kernel for all weights (fast path)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas, fused=fused)
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas, fused=fused)
    g_params = [p for p in G.parameters() if p.requires_grad]
    d_params = [p for p in D.parameters() if p.requires_grad]
    if cfg.mode == "conditional" and labels is not None:
        batches = balanced_batches(labels, cfg.n_classes, b, gen)
    else:
        batches = index_batches(n, b, gen)

    def d_forward(x: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        if cfg.augment:
            x = diff_augment(x, cfg.augment, gen).contiguous(memory_format=fmt)
        return D(x) if cfg.mode != "conditional" else D(x, cond)

    # Fixed noise (and fixed label / generator per grid row) for comparable diagnostics.
    n_fixed = cfg.n_fixed
    if cfg.mode == "conditional":
        n_fixed = N_FIXED_COLS * max(n_fixed // N_FIXED_COLS, min(cfg.n_classes, 32))
    fixed_z = torch.randn(n_fixed, latent, generator=gen).to(dev)
    rows = torch.arange(n_fixed) // N_FIXED_COLS
    fixed_cond = None
    if cfg.mode == "conditional":
        fixed_cond = (rows % cfg.n_classes).to(dev)
    elif cfg.mode == "madgan":
        fixed_cond = (rows % k).to(dev)
    real_div, real_gap = (_real_diversity(X, labels, cfg, gen) if cfg.monitor
                          else (math.nan, math.nan))

    def g_forward(z: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        return G(z) if cond is None else G(z, cond)

    where = f" for class {extra['class']}" if "class" in extra else ""

    def diverged(entry: dict[str, Any]) -> str | None:
        bad = _non_finite(entry, keys)
        return None if bad is None else (
            f"training diverged: the {_NAMES[bad]} became {entry[bad]} at step "
            f"{entry['step']}{where}; lower the learning rates (lr_d, lr_g)")

    keys = FIGURES if cfg.monitor else FIGURES[:2]
    log = StepLog(keys, read_interval(dev.type, cfg.read_every), history, total=total,
                  check=diverged, callback=callback, on_samples=on_samples)
    G.train()
    D.train()
    t0 = time.perf_counter()
    stopped = False
    step = 0
    for step in range(1, total + 1):
        # ---- discriminator: d_steps updates, each on a fresh real batch
        d_losses = []
        fake = g_cond = d_cond = None
        for j in range(cfg.d_steps):
            idx = next(batches).to(dev)
            real = X[idx].contiguous(memory_format=fmt)
            z = torch.randn(b, latent, generator=gen).to(dev)
            g_cond, d_cond = _conditions(cfg, labels, idx, b, dev)
            last = j == cfg.d_steps - 1
            with autocast(dev.type, cast):
                # the last fake batch keeps its graph: the generator step reuses it
                with contextlib.nullcontext() if last else torch.no_grad():
                    fake = g_forward(z, g_cond)
                out_real = d_forward(real, d_cond)
                out_fake = d_forward(fake.detach(), d_cond)
                loss_d = _d_objective(cfg, out_real, out_fake, k, g_cond)
                if cfg.loss == "wgan-gp" and cfg.mode != "madgan":
                    loss_d = loss_d + losses.GP_WEIGHT * losses.gradient_penalty(
                        lambda x, c=d_cond: d_forward(x, c), real, fake, generator=gen)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            d_losses.append(loss_d.detach())

        # ---- generator: one update on the last fake batch against the updated D
        for p in d_params:
            p.requires_grad_(False)
        with autocast(dev.type, cast):
            out_g = d_forward(fake, d_cond)
            loss_g = _g_objective(cfg, out_g, k, g_cond)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        for p in d_params:
            p.requires_grad_(True)
        figures = [torch.stack(d_losses).mean(), loss_g.detach().float()]
        if cfg.monitor:
            figures += [grad_norm(g_params).to(dev),
                        *_probabilities(cfg, out_real.detach(), out_g.detach(), k)]
        opt_g.step()

        entry: dict[str, Any] = {
            **extra, "step": step, "epoch": (step - 1) // steps_per_epoch + 1,
            **dict.fromkeys(FIGURES, math.nan),
        }
        final = step == total
        want_div = cfg.monitor and (step == 1 or step % cfg.diversity_every == 0 or final)
        want_img = on_samples is not None and (step == 1 or step % cfg.sample_every == 0
                                               or final)  # step 1: feedback at once
        images = None
        if want_div or want_img:
            images = _fixed_samples(G, fixed_z, fixed_cond, cast)
            if want_div:
                groups = fixed_cond if cfg.mode == "conditional" else None
                div = mean_pairwise_rms(images, groups)
                entry["diversity"] = div / real_div if real_div > 0 else div
                entry["dup_share"] = near_duplicate_share(images, real_gap, groups)
        entry["seconds"] = time.perf_counter() - t0
        due = log.add(entry, torch.stack(figures), to_uint8(images) if want_img else None)
        if (due or final or want_div or want_img) and log.flush():
            stopped = True
            break
    return TrainOutcome(steps=step, stopped_early=stopped, real_diversity=real_div,
                        fast_path=choice)


def gan_fast_path(G: nn.Module, D: nn.Module, cfg: GANLoopConfig,
                  image_shape: tuple[int, ...], batch: int) -> PathChoice:
    """The path :func:`train_gan` runs ``G`` and ``D`` on (see the module docstring):
    ``cfg.fast_path`` when set, else :func:`gda_core.fastpath.choose_path` with a probe
    that times one discriminator and one generator update on copies of the networks.

    Raises
    ------
    GDAError
        ``cfg.fast_path`` names no path.
    """
    if cfg.fast and cfg.fast_path:
        if cfg.fast_path not in PATHS:
            raise GDAError(f"unknown fast path {cfg.fast_path!r}; one of {', '.join(PATHS)}")
        return PathChoice(PATHS[cfg.fast_path], "given")
    dev = torch.device(cfg.device)
    key = (f"gan:{cfg.mode}:{type(G).__name__}:{_size(G)}/{type(D).__name__}:{_size(D)}"
           f":x{'x'.join(map(str, image_shape))}:b{batch}"
           + (f":aug-{'-'.join(cfg.augment)}" if cfg.augment else ""))
    return choose_path(key, gan_probe(G, D, cfg, image_shape, batch), device=dev.type,
                       fast=cfg.fast)


def _size(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


def gan_probe(G: nn.Module, D: nn.Module, cfg: GANLoopConfig, image_shape: tuple[int, ...],
              batch: int) -> Probe:
    """A :data:`gda_core.fastpath.Probe`: one D update (a real and a fake batch) and one G
    update through D, on copies of ``G`` and ``D`` laid out for the path, with fused Adam
    and the loop's DiffAugment (its step without the monitoring)."""
    dev = torch.device(cfg.device)

    def probe(path: Path) -> Callable[[], None]:
        g, d = copy.deepcopy(G).train(), copy.deepcopy(D).train()
        for net in (g, d):
            net.to(memory_format=path.memory_format)
        opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=cfg.betas, fused=True)
        opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=cfg.betas, fused=True)
        gen = torch.Generator().manual_seed(0)
        z = torch.randn(batch, _latent_dim(g), generator=gen).to(dev)
        real = (torch.rand(batch, *image_shape, generator=gen) * 2 - 1).to(dev)
        real = real.contiguous(memory_format=path.memory_format)
        cond = None
        if cfg.mode == "conditional":
            cond = torch.randint(0, max(cfg.n_classes, 1), (batch,), generator=gen).to(dev)
        elif cfg.mode == "madgan":
            cond = torch.arange(batch, device=dev) % cfg.n_generators
        d_cond = cond if cfg.mode == "conditional" else None

        def d_mean(x: torch.Tensor) -> torch.Tensor:
            if cfg.augment:  # DiffAugment, as the loop applies it to every image D sees
                x = diff_augment(x, cfg.augment, gen).contiguous(
                    memory_format=path.memory_format)
            return (d(x) if d_cond is None else d(x, d_cond)).float().mean()

        def step() -> None:
            with autocast(dev.type, path.dtype):
                fake = g(z) if cond is None else g(z, cond)
                loss_d = d_mean(fake.detach()) - d_mean(real)
            opt_d.zero_grad(set_to_none=True)
            loss_d.backward()
            opt_d.step()
            with autocast(dev.type, path.dtype):
                loss_g = -d_mean(fake)
            opt_g.zero_grad(set_to_none=True)
            loss_g.backward()
            opt_g.step()

        return step

    return probe


# ------------------------------------------------------------------------ pieces
def _latent_dim(G: nn.Module) -> int:
    return int(G.latent_dim)


def _conditions(cfg: GANLoopConfig, labels: torch.Tensor | None, idx: torch.Tensor, b: int,
                dev: torch.device) -> tuple[torch.Tensor | None, torch.Tensor | None]:
    """(generator condition, discriminator condition) for one batch.

    Conditional: fakes take the labels of the real batch (so both halves of D's batch
    follow the data's class mix) and D sees those labels.  MAD-GAN: generator ``j % k``
    makes image j, so each generator gets about ``b / k`` images per batch.
    """
    if cfg.mode == "conditional":
        assert labels is not None
        y = labels[idx]
        return y, y
    if cfg.mode == "madgan":
        return torch.arange(b, device=dev) % cfg.n_generators, None
    return None, None


def _d_objective(cfg: GANLoopConfig, out_real: torch.Tensor, out_fake: torch.Tensor, k: int,
                 index: torch.Tensor | None) -> torch.Tensor:
    if cfg.mode == "madgan":
        assert index is not None
        return losses.madgan_d_loss(out_real, [out_fake[index == i] for i in range(k)],
                                    label_smoothing=cfg.label_smoothing)
    return losses.d_loss(cfg.loss, out_real, out_fake, label_smoothing=cfg.label_smoothing)


def _g_objective(cfg: GANLoopConfig, out_fake: torch.Tensor, k: int,
                 index: torch.Tensor | None) -> torch.Tensor:
    if cfg.mode == "madgan":
        assert index is not None
        # each generator wants D to say "real" (class k); the shared trunk gets the sum
        return sum((losses.madgan_g_loss(out_fake[index == i], k) for i in range(k)),
                   torch.zeros((), device=out_fake.device))
    return losses.g_loss(cfg.loss, out_fake)


def _probabilities(cfg: GANLoopConfig, out_real: torch.Tensor, out_fake: torch.Tensor,
                   k: int) -> tuple[torch.Tensor, torch.Tensor]:
    if cfg.mode == "madgan":
        return (torch.softmax(out_real.float(), 1)[:, k].mean(),
                torch.softmax(out_fake.float(), 1)[:, k].mean())
    return torch.sigmoid(out_real.float()).mean(), torch.sigmoid(out_fake.float()).mean()


_NAMES = {"d_loss": "discriminator loss", "g_loss": "generator loss",
          "g_grad_norm": "generator gradient norm"}


def _non_finite(entry: dict[str, Any], measured: tuple[str, ...]) -> str | None:
    """The first of the checked figures that was ``measured`` and is NaN or infinite."""
    return next((key for key in _NAMES if key in measured and not math.isfinite(entry[key])),
                None)


@torch.no_grad()
def _fixed_samples(G: nn.Module, z: torch.Tensor, cond: torch.Tensor | None,
                   cast: torch.dtype | None) -> torch.Tensor:
    """G's images for the fixed noise, in eval mode (as :meth:`sample` draws them),
    returned as float32; computed under the fast path's autocast ``cast`` (the monitoring
    then costs what a training forward pass costs, not 2-3x more in float32)."""
    was = G.training
    G.eval()
    try:
        with autocast(z.device.type, cast):
            return (G(z) if cond is None else G(z, cond)).float()
    finally:
        G.train(was)


def _real_diversity(X: torch.Tensor, labels: torch.Tensor | None, cfg: GANLoopConfig,
                    gen: torch.Generator) -> tuple[float, float]:
    """:func:`mean_pairwise_rms` and :func:`nearest_gap` of up to ``n_fixed`` real images
    (per class if conditional)."""
    if cfg.mode == "conditional" and labels is not None:
        per = max(2, cfg.n_fixed // max(cfg.n_classes, 1))
        picks = []
        cpu_labels = labels.cpu()
        for c in range(cfg.n_classes):
            rows = torch.nonzero(cpu_labels == c).flatten()
            picks.append(rows[torch.randperm(len(rows), generator=gen)[:per]])
        idx = torch.cat(picks).to(X.device)
        return (mean_pairwise_rms(X[idx], labels[idx]), nearest_gap(X[idx], labels[idx]))
    idx = torch.randperm(len(X), generator=gen)[:cfg.n_fixed].to(X.device)
    return mean_pairwise_rms(X[idx]), nearest_gap(X[idx])
