"""The three-player training loop: generator G, discriminator D and classifier Q.

Each *step* draws one real batch and one batch of generated images, then updates D, Q
and G once each, in that order (G against the updated D and Q, on the same fakes).
Codes come from the class prior (:class:`~.autoencoder.ClassPrior`), so a generated
image has an intended class ``y``.

Modes
-----
``"adso"`` (adversarial data-space oversampling)
    Real batches come from a balanced set in which every class's images are repeated up
    to the largest class's count; the fakes take the labels of the real batch, and D
    compares them with that batch.  Q learns the real batch (cross-entropy) and pushes
    each fake away from its intended class (:func:`~.losses.complementary_cross_entropy`).
``"amo"`` (adversarial minority oversampling)
    Real batches are drawn from the imbalanced data; fakes belong to the minority classes
    (every class smaller than the largest), drawn in proportion to each class's shortfall
    so that real + fake is balanced on average.  D compares them with real images of the
    same classes (one drawn per fake), so that "minority-looking" does not mean "fake".
    Q learns the real batch and the fakes, with their intended labels (cross-entropy).

Q's term on the fakes is weighted by ``q_fake_weight``.  In both modes G minimises its
adversarial loss plus Q's cross-entropy of its images against their intended classes;
D's loss includes ``gamma / 2`` times the R1 penalty on its real batch.

An epoch is ``ceil(n_images / batch_size)`` steps, ``n_images`` counting every image
given to the synthesizer; training runs ``max(epochs * steps_per_epoch, min_steps)``
steps.  Randomness comes from a private ``torch.Generator`` on the CPU (batches, codes,
fake labels) and, for dropout, from torch's global generator, which the caller forks.

Diagnostics
-----------
One dict per step in ``history``, with the keys of the other GANs
(:mod:`gda_core.synthesizers.trainer`): ``step``, ``epoch``, ``d_loss`` (R1 penalty
included), ``g_loss`` (adversarial + classification), ``g_grad_norm``, ``d_real`` and
``d_fake`` (mean sigmoid of D's scores), ``seconds``, ``diversity`` (fixed codes, within
class, relative to the real images; every ``diversity_every`` steps, the first and the
last), plus ``q_loss`` and, on the steps with ``diversity`` when there is a validation
set, ``q_val_acc`` (Q's accuracy on it) and ``q_val_acsa`` (its mean per-class recall).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gda_core.devices import autocast
from gda_core.synthesizers.threeplayer import losses
from gda_core.synthesizers.threeplayer.autoencoder import ClassPrior
from gda_core.synthesizers.trainer import (
    N_FIXED_COLS,
    SamplesCallback,
    StepCallback,
    StepLog,
    grad_norm,
    index_batches,
    mean_pairwise_rms,
    read_interval,
    to_uint8,
)

MODES: tuple[str, ...] = ("adso", "amo")
_CHUNK = 512


@dataclass
class GameConfig:
    """Settings of one game (validated by the synthesizer facade).

    The fields mirror the parameters of :mod:`.model`; ``cast``, ``memory_format`` and
    ``fused`` are the fast path's autocast dtype (or None), layout and whether the Adam
    optimisers are fused (one kernel for all weights); ``read_every`` is as in
    :class:`~gda_core.synthesizers.trainer.GANLoopConfig`.
    """

    mode: str = "adso"
    gan_type: str = "non-saturating"
    epochs: int = 30
    min_steps: int = 0
    batch_size: int = 64
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    lr_q: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    gp_gamma: float = 1.0
    q_fake_weight: float = 1.0
    cast: torch.dtype | None = None
    memory_format: torch.memory_format = torch.contiguous_format
    fused: bool = False
    diversity_every: int = 10
    sample_every: int = 50
    n_fixed: int = 64
    read_every: int = 0


@dataclass
class GameOutcome:
    """What :func:`play` reports besides the history."""

    steps: int
    stopped_early: bool
    real_diversity: float


@dataclass
class Players:
    """The three networks (on the data's device) and the generator's prior."""

    G: nn.Module
    D: nn.Module
    Q: nn.Module
    prior: ClassPrior


def play(players: Players, X: torch.Tensor, y: torch.Tensor, X_val: torch.Tensor,
         y_val: torch.Tensor, config: GameConfig, *, seed: int, n_images: int,
         history: list[dict[str, Any]], callback: StepCallback | None = None,
         on_samples: SamplesCallback | None = None) -> GameOutcome:
    """Train G, D and Q against each other; append one diagnostics dict per step.

    Parameters
    ----------
    players : Players
    X : Tensor of float32, shape (N, C, H, W)
        Training images in [-1, 1], on the networks' device.
    y : Tensor of int64, shape (N,)
        Class indices ``0 .. K-1`` (K = number of prior classes), every class present.
    X_val, y_val : Tensor, shapes (M, C, H, W) and (M,)
        Held-out images for ``q_val_acc`` (M may be 0).
    config : GameConfig
    seed : int
        Seeds the private generator (batches, codes, fake labels, fixed codes).
    n_images : int
        Images an epoch counts (see the module docstring).
    history : list of dict
        Receives the entries (kept when training diverges).
    callback, on_samples
        As for :func:`gda_core.synthesizers.trainer.train_gan`; ``on_samples`` gets
        ``n_fixed`` images whose grid row ``r`` (of :data:`N_FIXED_COLS`) is class
        ``r % K``.

    Returns
    -------
    GameOutcome

    Raises
    ------
    GDAError
        A loss or G's gradient norm became NaN or infinite.
    """
    cfg = config
    if cfg.mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}; got {cfg.mode!r}")
    G, D, Q, prior = players.G, players.D, players.Q, players.prior
    dev = X.device
    gen = torch.Generator().manual_seed(int(seed))
    K = prior.means.shape[0]
    counts = torch.bincount(y.cpu(), minlength=K)                        # (K,)
    b = max(2, min(cfg.batch_size, len(X)))
    steps_per_epoch = max(1, math.ceil(n_images / b))
    total = max(cfg.epochs * steps_per_epoch, cfg.min_steps)
    draw = _Draws(y, counts, cfg.mode, b, gen)

    fused = True if cfg.fused else None
    opt_g = torch.optim.Adam(G.parameters(), lr=cfg.lr_g, betas=cfg.betas, fused=fused)
    opt_d = torch.optim.Adam(D.parameters(), lr=cfg.lr_d, betas=cfg.betas, fused=fused)
    opt_q = torch.optim.Adam(Q.parameters(), lr=cfg.lr_q, betas=cfg.betas, fused=fused)
    g_params = [p for p in G.parameters() if p.requires_grad]
    frozen = [p for net in (D, Q) for p in net.parameters() if p.requires_grad]

    n_fixed = N_FIXED_COLS * max(cfg.n_fixed // N_FIXED_COLS, min(K, 32))
    fixed_labels = (torch.arange(n_fixed) // N_FIXED_COLS) % K
    fixed_z = prior.sample(fixed_labels, gen).to(dev)
    real_div = _real_diversity(X, y, K, cfg.n_fixed, gen)
    fmt = cfg.memory_format

    def diverged(entry: dict[str, Any]) -> str | None:
        bad = next((k for k in _NAMES if not math.isfinite(entry[k])), None)
        return None if bad is None else (
            f"training diverged: the {_NAMES[bad]} became {entry[bad]} at step "
            f"{entry['step']}; lower the learning rates (lr_d, lr_g, lr_q)")

    log = StepLog(FIGURES, read_interval(dev.type, cfg.read_every), history, total=total,
                  check=diverged, callback=callback, on_samples=on_samples)
    G.train()
    D.train()
    Q.train()
    t0 = time.perf_counter()
    stopped = False
    step = 0
    for step in range(1, total + 1):
        q_idx, fake_labels, d_idx = draw.next()
        x_q, y_q = X[q_idx.to(dev)].contiguous(memory_format=fmt), y[q_idx.to(dev)]
        y_fake = fake_labels.to(dev)
        x_d = (x_q if d_idx is None else X[d_idx.to(dev)].contiguous(memory_format=fmt))
        x_d = x_d.detach().requires_grad_(cfg.gp_gamma > 0)
        z = prior.sample(fake_labels, gen).to(dev)

        # ---- D: adversarial loss + gamma/2 * R1 on its real batch
        with autocast(dev.type, cfg.cast):
            fake = G(z)
            out_real = D(x_d)
            out_fake = D(fake.detach())
        loss_d = losses.d_loss(cfg.gan_type, out_real, out_fake)
        if cfg.gp_gamma > 0:
            loss_d = loss_d + 0.5 * cfg.gp_gamma * losses.r1_penalty(out_real, x_d)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()

        # ---- Q: real cross-entropy, and the fakes pushed away (ADSO) or learnt (AMO)
        with autocast(dev.type, cfg.cast):
            logits_real = Q(x_q)
            logits_fake = Q(fake.detach())
        if cfg.mode == "adso":
            loss_q = (F.cross_entropy(logits_real.float(), y_q) + cfg.q_fake_weight
                      * losses.complementary_cross_entropy(logits_fake, y_fake))
        else:
            loss_q = (F.cross_entropy(logits_real.float(), y_q) + cfg.q_fake_weight
                      * F.cross_entropy(logits_fake.float(), y_fake))
        opt_q.zero_grad(set_to_none=True)
        loss_q.backward()
        opt_q.step()

        # ---- G: fool the updated D and be classified as its class by the updated Q
        for p in frozen:
            p.requires_grad_(False)
        with autocast(dev.type, cfg.cast):
            out_g = D(fake)
            logits_g = Q(fake)
        loss_g = (losses.g_loss(cfg.gan_type, out_g)
                  + F.cross_entropy(logits_g.float(), y_fake))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        for p in frozen:
            p.requires_grad_(True)
        figures = torch.stack([loss_d.detach().float(), loss_g.detach().float(),
                               grad_norm(g_params).to(dev),
                               torch.sigmoid(out_real.detach().float()).mean(),
                               torch.sigmoid(out_g.detach().float()).mean(),
                               loss_q.detach().float()])
        opt_g.step()

        entry: dict[str, Any] = {"step": step, "epoch": (step - 1) // steps_per_epoch + 1,
                                 **dict.fromkeys(FIGURES, math.nan)}
        final = step == total
        want_div = step == 1 or step % cfg.diversity_every == 0 or final
        want_img = on_samples is not None and (step == 1 or step % cfg.sample_every == 0
                                               or final)  # step 1: feedback at once
        images = None
        if want_div or want_img:
            images = _fixed_samples(G, fixed_z, cfg.cast)
            if want_div:
                div = mean_pairwise_rms(images, fixed_labels.to(dev))
                entry["diversity"] = div / real_div if real_div > 0 else div
        if want_div and len(X_val):
            entry["q_val_acc"], entry["q_val_acsa"] = _validate(Q, X_val, y_val, K, cfg)
        entry["seconds"] = time.perf_counter() - t0
        due = log.add(entry, figures, to_uint8(images) if want_img else None)
        if (due or final or want_div or want_img) and log.flush():
            stopped = True
            break
    G.eval()
    D.eval()
    Q.eval()
    return GameOutcome(steps=step, stopped_early=stopped, real_diversity=real_div)


_NAMES = {"d_loss": "discriminator loss", "g_loss": "generator loss",
          "g_grad_norm": "generator gradient norm", "q_loss": "classifier loss"}
FIGURES = ("d_loss", "g_loss", "g_grad_norm", "d_real", "d_fake", "q_loss")
"""The per-step figures of a game's history entries, in their order."""


class _Draws:
    """Index and label draws of one step: (Q's real batch, fake labels, D's real batch).

    D's real batch is ``None`` when it is Q's (ADSO).
    """

    def __init__(self, y: torch.Tensor, counts: torch.Tensor, mode: str, b: int,
                 gen: torch.Generator) -> None:
        self.mode, self.b, self.gen = mode, b, gen
        labels = y.cpu()
        self.order = torch.argsort(labels, stable=True)                   # (N,) by class
        self.counts = counts
        self.starts = torch.cumsum(counts, 0) - counts                    # (K,)
        top = int(counts.max())
        if mode == "adso":
            # every class's images repeated (in order) up to the largest count
            self.pool = torch.cat([self.order[s:s + n].repeat(math.ceil(top / n))[:top]
                                   for s, n in zip(self.starts.tolist(), counts.tolist(),
                                                   strict=True) if n > 0])
        else:
            self.pool = torch.arange(len(labels))
            shortfall = (top - counts).float()
            self.weights = shortfall if shortfall.sum() > 0 else counts.float()
        self.labels = labels
        self.batches: Iterator[torch.Tensor] = index_batches(len(self.pool), b, gen)

    def next(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        q_idx = self.pool[next(self.batches)]                             # (b,)
        if self.mode == "adso":
            return q_idx, self.labels[q_idx], None
        fake = torch.multinomial(self.weights, self.b, replacement=True, generator=self.gen)
        offset = (torch.rand(self.b, generator=self.gen) * self.counts[fake]).long()
        d_idx = self.order[self.starts[fake] + offset]                    # same classes
        return q_idx, fake, d_idx


@torch.no_grad()
def _fixed_samples(G: nn.Module, z: torch.Tensor, cast: torch.dtype | None) -> torch.Tensor:
    """G's images for the fixed codes, in eval mode, under the fast path's autocast
    ``cast``, returned as float32."""
    was = G.training
    G.eval()
    try:
        with autocast(z.device.type, cast):
            return G(z).float()
    finally:
        G.train(was)


def _real_diversity(X: torch.Tensor, y: torch.Tensor, K: int, n_fixed: int,
                    gen: torch.Generator) -> float:
    """Within-class :func:`mean_pairwise_rms` of up to ``n_fixed / K`` real images per class."""
    per = max(2, n_fixed // max(K, 1))
    labels = y.cpu()
    picks = []
    for c in range(K):
        rows = torch.nonzero(labels == c).flatten()
        picks.append(rows[torch.randperm(len(rows), generator=gen)[:per]])
    idx = torch.cat(picks).to(X.device)
    return mean_pairwise_rms(X[idx], y[idx])


@torch.no_grad()
def _validate(Q: nn.Module, X_val: torch.Tensor, y_val: torch.Tensor, K: int,
              cfg: GameConfig) -> tuple[float, float]:
    """(accuracy, mean per-class recall over the classes present) of Q on held-out data."""
    Q.eval()
    try:
        pred = torch.cat([predict_logits(Q, X_val[i:i + _CHUNK], cfg.cast, cfg.memory_format)
                          .argmax(1) for i in range(0, len(X_val), _CHUNK)])
    finally:
        Q.train()
    hit = (pred == y_val).float()
    per_class = torch.zeros(K, device=hit.device).index_add_(0, y_val, hit)
    support = torch.bincount(y_val, minlength=K).float()
    present = support > 0
    acsa = (per_class[present] / support[present]).mean()
    return float(hit.mean()), float(acsa)


def predict_logits(Q: nn.Module, X: torch.Tensor, cast: torch.dtype | None,
                   memory_format: torch.memory_format) -> torch.Tensor:
    """Q's float32 logits (N, K) for images ``X`` in [-1, 1] (Q's current mode)."""
    with autocast(X.device.type, cast):
        return Q(X.contiguous(memory_format=memory_format)).float()

