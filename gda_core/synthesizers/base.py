"""The synthesizer facade: ``fit`` / ``sample`` / ``save`` / ``load`` (CTGAN-like), and an
oversampler (``fit_resample``) on top.

Unconditional models (GAN, DCGAN, MAD-GAN) train one model per class to synthesize
(by default every class smaller than the largest); conditional ones (cGAN) train a single
model on all classes.  Pixels are scaled from uint8 to [-1, 1] for the generators' Tanh
and back (rounded, clipped).
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, BinaryIO, ClassVar

import numpy as np
import torch
from torch import nn

from gda_core.devices import DEVICES, resolve_device
from gda_core.errors import ConfigError, GDAError
from gda_core.fastpath import time_paths
from gda_core.images import check_labelled_images
from gda_core.notices import Notice
from gda_core.oversampling.base import ImageOversampler
from gda_core.oversampling.params import ParamSpec, parse_params
from gda_core.seeds import derive_seed, resolve_seed
from gda_core.synthesizers.diagnostics import diagnose
from gda_core.synthesizers.diffaugment import POLICIES, resolve_policy
from gda_core.synthesizers.losses import GAN_LOSSES
from gda_core.synthesizers.nets import weights_init
from gda_core.synthesizers.parallel import run_in_processes
from gda_core.synthesizers.trainer import (
    GANLoopConfig,
    SamplesCallback,
    StepCallback,
    gan_fast_path,
    gan_probe,
    prepare_nets,
    to_uint8,
    to_unit,
    train_gan,
)

FILE_FORMAT = "gda-workbench/gan-synthesizer"
FILE_VERSION = 1
_SAMPLE_CHUNK = 256

FEW_IMAGES = 100
"""Below this many images of a class, :meth:`GANSynthesizer.advice` warns of a few-shot
case."""
TOO_FEW_IMAGES = 10
"""Below this many, it says that a GAN can learn little at all."""

AUGMENT_BELOW = 1000
"""``augment="auto"`` turns DiffAugment on for models trained on fewer images than this."""

PRETRAIN_CHOICES = ("off", "all", "majority")
"""``pretrain`` values: no pretraining, or one model pretrained on every training image /
on the largest class, which each class's model then starts from."""

# seed purposes (gda_core.seeds.derive_seed) of a fit; the three-player models use 20-24
_CLASS_MODEL, _SHARED_MODEL, _SAMPLE_STREAM, _RESAMPLE_STREAM, _PRETRAIN_MODEL = range(5)

FAST_PARAM = ParamSpec("fast", "bool", True,
                       help="channels_last + bfloat16 autocast where measured faster.")
"""The fast-path switch every synthesizer has (see :mod:`gda_core.synthesizers.trainer`)."""

DEVICE_PARAM = ParamSpec("device", "choice", "auto", choices=DEVICES,
                         help="'auto' uses a CUDA GPU when there is one.")
"""The device every synthesizer trains on (the rule is :mod:`gda_core.devices`')."""


def gan_params(*, epochs: int, min_steps: int = 2000, batch_size: int = 64,
               latent_dim: int = 64,
               width: ParamSpec, lr_d: float = 2e-4, lr_g: float = 2e-4,
               with_loss: bool = True, with_pretrain: bool = True,
               spectral_norm: bool = False, pretrain: str = "off",
               pretrain_steps: int = 1000) -> tuple[ParamSpec, ...]:
    """The parameters every GAN synthesizer shares (``width`` is model specific).

    ``with_pretrain`` adds ``pretrain`` / ``pretrain_steps`` and ``n_jobs`` (per-class
    models only; a conditional model learns every class at once anyway).
    """
    specs = [
        ParamSpec("epochs", "int", epochs, 1, 5000,
                  help="Passes over each class's images (one generator step per batch)."),
        ParamSpec("min_steps", "int", min_steps, 0, 100_000,
                  help="At least this many generator steps (small classes need them)."),
        ParamSpec("batch_size", "int", batch_size, 2, 1024,
                  help="Images per batch (smaller classes use all their images)."),
        ParamSpec("latent_dim", "int", latent_dim, 2, 512,
                  help="Length of the noise vector z the generator starts from."),
        width,
        ParamSpec("lr_d", "float", lr_d, 1e-6, 1.0, help="Adam learning rate of D."),
        ParamSpec("lr_g", "float", lr_g, 1e-6, 1.0, help="Adam learning rate of G."),
        ParamSpec("beta1", "float", 0.5, 0.0, 0.999,
                  help="Adam beta1 (0.5 as in DCGAN; 0 for WGAN-GP)."),
        ParamSpec("beta2", "float", 0.999, 0.0, 0.9999, help="Adam beta2."),
        ParamSpec("d_steps", "int", 1, 1, 10,
                  help="Discriminator updates per generator update (k)."),
    ]
    if with_loss:
        specs.append(ParamSpec("loss", "choice", GAN_LOSSES[0], choices=GAN_LOSSES,
                               help="GAN objective: non-saturating, minimax (saturating), "
                                    "least-squares (LSGAN) or wgan-gp."))
    specs += [
        ParamSpec("label_smoothing", "float", 0.0, 0.0, 0.5,
                  help="One-sided: D's target for real images is 1 - this."),
        ParamSpec("augment", "choice", "auto", choices=("auto", *POLICIES),
                  help="DiffAugment (Zhao et al. 2020): the same random colour / translation "
                       "/ cutout applied to real and generated images before D, so that D "
                       f"cannot memorise a few images. 'auto': on below {AUGMENT_BELOW} "
                       "images per model."),
        ParamSpec("spectral_norm", "bool", spectral_norm,
                  help="Spectral normalisation of D's layers (Miyato et al. 2018) instead of "
                       "batch norm: a smoother D, steadier training on few images."),
    ]
    if with_pretrain:
        specs += [
            ParamSpec("pretrain", "choice", pretrain, choices=PRETRAIN_CHOICES,
                      help="First train one model on every training image ('all') or on the "
                           "largest class ('majority'), then fine-tune a copy of it on each "
                           "class: the few images of a class start from a generator that "
                           "already draws photos of the same kind."),
            ParamSpec("pretrain_steps", "int", pretrain_steps, 1, 100_000,
                      help="Generator steps of the pretraining."),
            ParamSpec("n_jobs", "int", 1, 1, 64,
                      help="Train up to this many classes' models at once, each in its own "
                           "process with an equal share of the torch threads (on the CPU; "
                           "a GPU trains them in turn). Pays off for long trainings of "
                           "several classes (a process takes seconds to start, and about "
                           "0.4 GB); the numbers are those of fewer threads, so they "
                           "differ from 1's."),
        ]
    specs += [FAST_PARAM, DEVICE_PARAM]
    return tuple(specs)


MONITOR_OVERHEAD = 1.1
"""A training step with the loop's monitoring (gradient norm, diversity of the fixed
samples every 10 steps, sample grids) over the bare step :func:`fit_cost` times (with
DiffAugment): 1.10 measured by ``bench/time_to_answer.py`` (a DCGAN's 2,000 steps on 25
photos at 64x64, actual against predicted; 2-core AMD EPYC, 2026-12-08)."""


@dataclass(frozen=True)
class FitCost:
    """The predicted cost of a GAN synthesizer's fit (:meth:`GANSynthesizer.fit_cost`).

    ``steps``: generator steps per model (pretraining first, if any); ``step_ms``: the
    slowest model's step on its path ``path``, measured on this machine.
    """

    seconds: float
    models: int
    steps: list[int]
    step_ms: float
    path: str

    def text(self) -> str:
        """One line for people.

        Examples
        --------
        >>> FitCost(125.0, 2, [1000, 1000], 52.0, "float32").text()
        'about 2 min: 2 models × 1000 steps, 52 ms per step here (float32)'
        """
        from gda_core.runs.eta import format_duration

        steps = (f"{self.steps[0]} steps" if len(set(self.steps)) == 1
                 else f"{min(self.steps)}-{max(self.steps)} steps")
        return (f"about {format_duration(self.seconds)}: {self.models} model"
                f"{'s' if self.models != 1 else ''} × {steps}, {self.step_ms:.0f} ms per "
                f"step here ({self.path})")


class GANSynthesizer(ImageOversampler):
    """Base class of GAN synthesizers; subclasses set the class attributes and ``_build``.

    Parameters
    ----------
    sampling_strategy : str or dict
        As for every oversampler (``fit_resample`` only).
    random_state : int or None
        Seeds weights, batches, noise and sampling; the global random state is untouched.
    **params
        The :attr:`params` of the subclass (epochs, batch_size, latent_dim, lr_d, lr_g,
        beta1, beta2, d_steps, loss, label_smoothing, fast, device, ...), only stored.

    Attributes set by :meth:`fit`
    -----------------------------
    classes_ : list of int
        Classes the synthesizer can generate.
    image_shape_ : tuple of int
        (C, H, W).
    history_ : list of dict
        Per generator step (see :mod:`gda_core.synthesizers.trainer`); per-class models
        add a ``class`` key.  Kept when training diverges.
    stopped_early_ : bool
        A callback returned ``False``; classes not reached are not in ``classes_``.
    device_ : str
    seed_ : int
        The seed actually used (drawn when ``random_state`` is None).
    real_diversity_ : dict
        Diversity statistic of the real images per model (the unit of ``diversity``).
    workers_ : int
        Processes the per-class models trained in (``n_jobs``, at most one per model; 1:
        one after another in this process).  Set before the first class's model starts.
    fast_paths_ : dict
        The fast path each model trained on (:meth:`gda_core.fastpath.PathChoice.record`:
        its name, how it was chosen and the candidates' times per step), by class (None:
        the conditional model; ``"pretrain"``: the pretrained model).
    """

    conditional: ClassVar[bool] = False
    mode: ClassVar[str] = "plain"
    _sample_purpose: ClassVar[int] = _SAMPLE_STREAM  # seed purpose of sample()'s stream

    # ------------------------------------------------------------ to override
    def _build(self, values: dict[str, Any], channels: int, size: tuple[int, int],
               n_classes: int) -> tuple[nn.Module, nn.Module]:
        """New (generator, discriminator) for images ``channels x size``."""
        raise NotImplementedError

    def _config(self, values: dict[str, Any], device: str, n_classes: int,
                n_images: int) -> GANLoopConfig:
        """The loop's settings for one model trained on ``n_images`` (the smallest class's
        count for a conditional model: it decides ``augment="auto"``)."""
        return GANLoopConfig(
            epochs=values["epochs"], min_steps=values["min_steps"],
            batch_size=values["batch_size"], lr_d=values["lr_d"],
            lr_g=values["lr_g"], betas=(values["beta1"], values["beta2"]),
            d_steps=values["d_steps"], loss=values.get("loss", GAN_LOSSES[0]),
            label_smoothing=values["label_smoothing"], fast=values["fast"], device=device,
            mode=self.mode, n_classes=n_classes,
            n_generators=values.get("n_generators", 1),
            augment=resolve_policy(values.get("augment", "off"), n_images, AUGMENT_BELOW))

    # ---------------------------------------------------------------- fitting
    def fit(self, X: np.ndarray, y: np.ndarray, *, classes: Sequence[int] | None = None,
            callback: StepCallback | None = None, on_samples: SamplesCallback | None = None,
            sample_every: int = 50, diversity_every: int = 10) -> GANSynthesizer:
        """Train on uint8 images.

        Parameters
        ----------
        X : ndarray of uint8, shape (N, C, H, W)
        y : array-like of int, shape (N,)
        classes : sequence of int, optional
            Classes to learn.  Unconditional models train one model per class, by default
            every class with fewer images than the largest; conditional models train one
            model on the images of these classes, by default all.
        callback : callable, optional
            ``callback(event) -> bool | None`` after every generator step; ``event`` is the
            step's history entry plus ``total_steps``.  Returning ``False`` stops training
            (all remaining classes too; with ``n_jobs``, every model in progress) and sets
            ``stopped_early_``.
        on_samples : callable, optional
            ``on_samples(step, images)``: uint8 images from fixed noise after step 1
            (feedback at once), every ``sample_every`` steps and at the end of each model's
            training (for per-class models, of the class in the latest ``history_`` entry:
            it comes before the step's ``callback``).
        sample_every, diversity_every : int
            Periods, in generator steps, of ``on_samples`` and of the diversity measure.

        Returns
        -------
        self

        Raises
        ------
        ConfigError
            Bad parameters or classes.
        GDAError
            Training diverged (``history_`` is kept; the synthesizer is left unfitted).
        """
        X, y, values, chosen = self._begin_fit(X, y, classes, sample_every, diversity_every)
        device, seed = self.device_, self.seed_
        nets: dict[int | None, tuple[nn.Module, nn.Module]] = {}
        jobs: list[tuple[int | None, np.ndarray, np.ndarray | None]]
        if self.conditional:
            keep = np.isin(y, chosen)
            index = np.searchsorted(np.asarray(chosen), y[keep])
            jobs = [(None, X[keep], index)]
        else:
            jobs = [(c, X[y == c], None) for c in chosen]
        start = None
        if not self.conditional and values.get("pretrain", "off") != "off":
            start = self._pretrain(X, y, values, device, seed, callback, on_samples,
                                   sample_every, diversity_every)
            if start is None:  # stopped during pretraining: nothing usable was trained
                self._nets, self.classes_ = {}, []
                self.stopped_early_ = True
                self._finish_fit(X, y, values, seed)
                return self
        plans = [(key, images, labels,
                  *self._job_config(values, device, key, images, labels, len(chosen),
                                    sample_every, diversity_every))
                 for key, images, labels in jobs]
        self.augmented_ = any(bool(plan[3].augment) for plan in plans)
        workers = self.workers_ = self._workers(values, device, len(plans))
        if workers > 1:
            trained = self._fit_in_processes(plans, values, start, workers, nets, callback,
                                             on_samples)
        else:
            trained = self._fit_in_turn(plans, values, start, chosen, nets, callback,
                                        on_samples)
        self._nets = nets
        self.classes_ = [int(c) for c in trained]
        self._finish_fit(X, y, values, seed)
        return self

    def _job_config(self, values: dict[str, Any], device: str, key: int | None,
                    images: np.ndarray, labels: np.ndarray | None, n_chosen: int,
                    sample_every: int, diversity_every: int) -> tuple[GANLoopConfig, int]:
        """The loop's settings and the seed of the model of class ``key`` (None: the
        conditional model of every chosen class)."""
        smallest = int(np.bincount(labels).min()) if labels is not None else len(images)
        config = self._config(values, device, n_chosen if self.conditional else 0, smallest)
        config.sample_every, config.diversity_every = sample_every, diversity_every
        model_seed = derive_seed(self.seed_, _SHARED_MODEL if key is None else _CLASS_MODEL,
                                 0 if key is None else key)
        return config, model_seed

    def _fit_in_turn(self, plans: list[tuple[Any, ...]], values: dict[str, Any],
                     start: tuple[dict, dict] | None, chosen: list[int],
                     nets: dict[int | None, tuple[nn.Module, nn.Module]],
                     callback: StepCallback | None,
                     on_samples: SamplesCallback | None) -> list[int]:
        """Train the models one after another in this process; return the classes
        trained (a stop ends the model in progress and skips the rest)."""
        trained: list[int] = []
        device = self.device_
        for key, images, labels, config, model_seed in plans:
            # per-class models fine-tune a copy of the pretrained one, if any
            G, D = self._ready_nets(values, len(chosen) if self.conditional else 0,
                                    model_seed, start, device)
            X_t = to_unit(images).to(device)
            y_t = None if labels is None else torch.as_tensor(labels, dtype=torch.long,
                                                              device=device)
            try:
                outcome = train_gan(G, D, X_t, y_t, config, seed=model_seed,
                                    history=self.history_,
                                    extra={} if key is None else {"class": key},
                                    callback=callback, on_samples=on_samples)
            except BaseException:
                self._clear()  # a half-trained network must not be sampled
                raise
            G.eval()
            nets[key] = (G, D)
            self.real_diversity_[key] = outcome.real_diversity
            self.fast_paths_[key] = outcome.fast_path.record()
            trained.extend(chosen if key is None else [key])
            if outcome.stopped_early:
                self.stopped_early_ = True
                break
        return trained

    def _workers(self, values: dict[str, Any], device: str, n_models: int) -> int:
        """Processes to train the per-class models in: ``n_jobs`` at most, one per model;
        1 (this process) for a conditional model or on a GPU."""
        if self.conditional or device != "cpu":
            return 1
        return max(1, min(int(values.get("n_jobs", 1)), n_models))

    def _fit_in_processes(self, plans: list[tuple[Any, ...]], values: dict[str, Any],
                          start: tuple[dict, dict] | None, workers: int,
                          nets: dict[int | None, tuple[nn.Module, nn.Module]],
                          callback: StepCallback | None,
                          on_samples: SamplesCallback | None) -> list[int]:
        """Train the per-class models ``workers`` at a time in worker processes (see
        :mod:`gda_core.synthesizers.parallel`), each with an equal share of this process's
        torch threads; return the classes trained.

        The steps reach ``history_``, ``on_samples`` and ``callback`` as they arrive, in
        the order of :class:`~gda_core.synthesizers.trainer.StepLog` within each model;
        once all have ended their entries are put in class order (after pretraining's),
        as if trained in turn.  A
        stop ends every model in progress (each keeps what it learnt) and starts no
        other; a divergence stops them all and raises, with every model's history kept.
        """
        params = self.get_params()
        pretrained = None if start is None else state_bytes(*start)
        for key, images, _, config, model_seed in plans:
            # chosen here, alone on the machine: timings taken by workers side by side
            # would measure each other
            G, D = self._ready_nets(values, 0, model_seed, start, "cpu")
            batch = max(2, min(config.batch_size, len(images)))
            choice = gan_fast_path(G, D, config, tuple(self.image_shape_), batch)
            config.fast_path = choice.path.name
            self.fast_paths_[key] = choice.record()
        payloads = [{"cls": type(self), "params": params, "values": values,
                     "shape": self.image_shape_, "key": key, "images": images,
                     "config": config, "seed": model_seed, "start": pretrained,
                     "samples": on_samples is not None}
                    for key, images, _, config, model_seed in plans]

        def on_message(index: int, body: tuple[str, Any, Any]) -> bool | None:
            kind, event, images = body
            if kind == "diverged":
                return False  # stop the others; the error is raised once all have ended
            entry = {k: v for k, v in event.items() if k != "total_steps"}
            self.history_.append(entry)
            if images is not None and on_samples is not None:
                on_samples(entry["step"], images)
            return None if callback is None else callback(event)

        threads = max(1, torch.get_num_threads() // workers)
        before = len(self.history_)  # pretraining's entries stay first
        try:
            results = run_in_processes(
                train_class_task, payloads, workers=workers, threads=threads,
                on_message=on_message,
                describe=lambda i: f"{self.label}'s model of class {plans[i][0]}")
        except BaseException:
            self._clear()
            raise
        self.history_[before:] = [entry for result in results if result is not None
                                  for entry in result["history"]]
        errors = [result["error"] for result in results
                  if result is not None and result.get("error")]
        if errors:
            self._clear()
            raise GDAError(errors[0])
        trained: list[int] = []
        for (key, *_), result in zip(plans, results, strict=True):
            if result is None:  # never started: a stop came first
                self.stopped_early_ = True
                continue
            G, D = self._ready_nets(values, 0, 0, states_from_bytes(result["nets"]),
                                    self.device_)
            G.eval()
            nets[key] = (G, D)
            self.real_diversity_[key] = result["real_diversity"]
            self.stopped_early_ = self.stopped_early_ or result["stopped"]
            trained.append(key)
        return trained

    def _begin_fit(self, X: Any, y: Any, classes: Sequence[int] | None, sample_every: int,
                   diversity_every: int) -> tuple[np.ndarray, np.ndarray, dict[str, Any],
                                                  list[int]]:
        """What every ``fit`` does first: check the data, settings and periods, choose the
        classes, resolve the device and seed (``device_``, ``seed_``) and forget the last
        fit.  Returns ``(X, y, values, chosen)``: checked images and labels, the parsed
        parameters and the classes to learn."""
        X, y = check_labelled_images(X, y)
        values = self._values()
        check_periods(sample_every=sample_every, diversity_every=diversity_every)
        chosen = self._choose_classes(y, classes)
        device = resolve_device(values["device"])
        seed = resolve_seed(self.random_state)
        self._clear()
        self.history_: list[dict[str, Any]] = []
        self.stopped_early_ = False
        self.real_diversity_: dict[int | None, float] = {}
        self.fast_paths_: dict[int | str | None, dict[str, Any]] = {}
        self.workers_ = 1
        self.image_shape_ = tuple(int(s) for s in X.shape[1:])
        self.device_, self.seed_ = device, seed
        return X, y, values, chosen

    def _finish_fit(self, X: np.ndarray, y: np.ndarray, values: dict[str, Any],
                    seed: int) -> None:
        """What identifies this fit (settings and data) and the sampling stream."""
        self._fit_key = self._key(values)
        self._data_key = data_fingerprint(X, y)
        self._sample_gen = torch.Generator().manual_seed(derive_seed(seed,
                                                                     self._sample_purpose))

    def _pretrain(self, X: np.ndarray, y: np.ndarray, values: dict[str, Any], device: str,
                  seed: int, callback: StepCallback | None,
                  on_samples: SamplesCallback | None, sample_every: int,
                  diversity_every: int) -> tuple[dict, dict] | None:
        """Train one unconditional model on every image or on the largest class.

        Its history entries carry ``"phase": "pretrain"``.  Returns the (G, D) state
        dicts every class's model starts from, or None when a callback stopped it.
        """
        if values["pretrain"] == "majority":
            classes, counts = np.unique(y, return_counts=True)
            images = X[y == classes[int(np.argmax(counts))]]
        else:
            images = X
        config = self._config(values, device, 0, len(images))
        config.epochs, config.min_steps = 0, values["pretrain_steps"]  # exactly that many
        config.sample_every, config.diversity_every = sample_every, diversity_every
        model_seed = derive_seed(seed, _PRETRAIN_MODEL)
        G, D = self._ready_nets(values, 0, model_seed, None, device)
        try:
            outcome = train_gan(G, D, to_unit(images).to(device), None, config,
                                seed=model_seed, history=self.history_,
                                extra={"phase": "pretrain"}, callback=callback,
                                on_samples=on_samples)
        except BaseException:
            self._clear()
            raise
        self.fast_paths_["pretrain"] = outcome.fast_path.record()
        if outcome.stopped_early:
            return None
        return cpu_state_dict(G), cpu_state_dict(D)  # loaded (copied) into each class's networks

    # ------------------------------------------------------------------ cost
    def fit_cost(self, image_shape: Sequence[int], counts: Sequence[int] | dict[int, int],
                 classes: Sequence[int] | None = None) -> FitCost:
        """What :meth:`fit` would cost on this machine, before it runs.

        The steps of every model :meth:`fit` would train (as it chooses the classes and
        steps) times the time of one step of each on its fast path, measured here
        (:func:`gda_core.fastpath.choose_path`: read from the machine's cache, else timed
        for a few steps now), plus the loop's monitoring (:data:`MONITOR_OVERHEAD`).

        Parameters
        ----------
        image_shape : (C, H, W)
        counts : sequence or dict of int
            Training images per class (index or class -> count).
        classes : sequence of int, optional
            As :meth:`fit`'s ``classes``.

        Returns
        -------
        FitCost

        Examples
        --------
        >>> from gda_core.synthesizers import SYNTHESIZERS
        >>> cost = SYNTHESIZERS["dcgan"](width=8, min_steps=100).fit_cost((1, 8, 8), [50, 10])
        >>> cost.models, cost.steps
        (1, [100])
        """
        values = self._values()
        device = resolve_device(values["device"])
        count = dict(counts) if isinstance(counts, dict) else dict(enumerate(counts))
        count = {int(c): int(n) for c, n in count.items() if int(n) > 0}
        y = np.repeat(np.array(sorted(count), dtype=np.int64),
                      [count[c] for c in sorted(count)])
        chosen = self._choose_classes(y, classes)
        probe = type(self)(**self.get_params())
        probe.image_shape_ = tuple(int(s) for s in image_shape)
        shape = probe.image_shape_
        jobs: list[tuple[int, int]] = []  # (images, n_classes) per model
        if values.get("pretrain", "off") not in ("off", None) and not self.conditional:
            jobs.append((max(count.values()) if values["pretrain"] == "majority"
                         else len(y), -1))
        if self.conditional:
            jobs.append((sum(count[c] for c in chosen), len(chosen)))
        else:
            jobs += [(count[c], 0) for c in chosen]
        steps, seconds, step_ms, path = [], 0.0, 0.0, ""
        for n, n_classes in jobs:
            smallest = min(count[c] for c in chosen) if n_classes > 0 else n
            config = probe._config(values, device, max(n_classes, 0), smallest)
            b = max(2, min(config.batch_size, n))
            total = (values["pretrain_steps"] if n_classes < 0 else
                     max(config.epochs * -(-n // b), config.min_steps))
            G, D = probe._ready_nets(values, max(n_classes, 0), 0, None, device)
            choice = gan_fast_path(G, D, config, shape, b)
            ms = choice.times_ms.get(choice.path.name)
            if ms is None:  # pinned or reference: time the one path
                ms = time_paths(gan_probe(G, D, config, shape, b), (choice.path,),
                                device=torch.device(device).type, budget_s=0.5).get(
                    choice.path.name, math.nan)
            ms *= (1 + config.d_steps) / 2
            steps.append(int(total))
            seconds += total * ms / 1000 * MONITOR_OVERHEAD
            step_ms, path = max(step_ms, ms), choice.path.name
        return FitCost(seconds=seconds, models=len(jobs), steps=steps, step_ms=step_ms,
                       path=path)

    # --------------------------------------------------------------- sampling
    def sample(self, n: int, y: int | Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Draw ``n`` new images.

        Parameters
        ----------
        n : int
        y : None, int or array of int, optional
            ``None``: classes cycle through ``classes_`` (image i is of class
            ``classes_[i % len(classes_)]``); an int: all of that class; an array of
            length ``n``: the class of each image.

        Returns
        -------
        ndarray of uint8, shape (n, C, H, W)
            Successive calls continue one seeded random stream, so they differ from each
            other yet a synthesizer with the same ``random_state`` (or one saved and
            loaded) draws the same sequence.
        """
        self._check_fitted()
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 0:
            raise ConfigError(f"n must be a non-negative integer; got {n!r}")
        if y is None:
            labels = np.resize(np.asarray(self.classes_, dtype=np.int64), int(n))
        elif np.ndim(y) == 0:
            labels = np.full(int(n), int(y), dtype=np.int64)
        else:
            labels = np.asarray(y).astype(np.int64)
            if labels.shape != (n,):
                raise ConfigError(f"y must have one class per image ({n}); got {labels.shape}")
        return self._draw(labels, self._sample_gen)

    def _draw(self, labels: np.ndarray, gen: torch.Generator) -> np.ndarray:
        """Images of classes ``labels`` (each a trained class) drawn with ``gen``."""
        missing = sorted(set(labels.tolist()) - set(self.classes_))
        if missing:
            raise GDAError(f"{self.label} was not trained on class {missing[0]} (trained: "
                           f"{self.classes_}); fit it on that class first")
        out = np.empty((len(labels), *self.image_shape_), dtype=np.uint8)
        if len(labels):
            self._fill(out, labels, gen)
        return out

    def _fill(self, out: np.ndarray, labels: np.ndarray, gen: torch.Generator) -> None:
        """Write the images of classes ``labels`` into ``out`` (at least one)."""
        dev = torch.device(self.device_)
        if self.conditional:
            G = self._nets[None][0]
            index = torch.as_tensor(np.searchsorted(np.asarray(self.classes_), labels))
            z = torch.randn(len(labels), G.latent_dim, generator=gen)
            out[:] = generate_images(G, z, index, dev)
            return
        for c in sorted(set(labels.tolist())):
            rows = np.flatnonzero(labels == c)
            G = self._nets[c][0]
            z = torch.randn(len(rows), G.latent_dim, generator=gen)
            cond = None
            if self.mode == "madgan":
                cond = torch.randint(G.n_generators, (len(rows),), generator=gen)
            out[rows] = generate_images(G, z, cond, dev)

    # ----------------------------------------------------------- oversampling
    @classmethod
    def advice(cls, n_images: int, params: dict[str, Any] | None = None) -> str | None:
        """GANs learn a distribution from examples: below :data:`FEW_IMAGES` they need the
        few-shot options, below :data:`TOO_FEW_IMAGES` little can be learned at all."""
        values = {p.name: p.default for p in cls.params} | dict(params or {})
        if n_images < TOO_FEW_IMAGES:
            return (f"{cls.label} has only {n_images} real images of this class to learn "
                    "from: far too few for a GAN, whose images will be rough or copies. "
                    "Prefer augmentation or SMOTE, or add images.")
        if n_images < FEW_IMAGES:
            tips = []
            if values.get("augment") == "off":
                tips.append("turn augment (DiffAugment) back on")
            if values.get("pretrain", "off") == "off" and not cls.conditional:
                tips.append("set pretrain=all to start from a model of every training image")
            extra = f" ({'; '.join(tips)})" if tips else ""
            return (f"{cls.label} learns from only {n_images} real images of this class; "
                    f"expect rough images{extra} and check the quality gate and the "
                    "gallery before trusting its scores.")
        return None

    def set_step_callback(self, callback: StepCallback | None) -> GANSynthesizer:
        """Use ``callback(event)`` for the training that :meth:`fit_resample` starts (e.g. a
        progress bar; returning ``False`` stops training). Returns ``self``."""
        self._step_callback = callback
        return self

    def _generate(self, X: np.ndarray, y: np.ndarray, targets: dict[int, int],
                  params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        need = [c for c, t in sorted(targets.items()) if t > 0]
        if not self._fitted_for(X, y, need, params):
            self.fit(X, y, classes=None if self.conditional else need,
                     callback=getattr(self, "_step_callback", None))
        self.warnings_ += [Notice(w.code, w.message) for w in diagnose(
            self.history_, augmented=getattr(self, "augmented_", False))]
        if self.stopped_early_:
            self.warnings_.append(Notice("stopped-early", (
                f"{self.label}'s training was stopped before it finished; its images come "
                "from a partly trained model.")))
        labels = np.concatenate([np.full(targets[c], c, dtype=np.int64) for c in need])
        # a fresh stream per call: fit_resample is repeatable, as in imbalanced-learn
        gen = torch.Generator().manual_seed(derive_seed(self.seed_, _RESAMPLE_STREAM))
        return self._draw(labels, gen), labels

    def _fitted_for(self, X: np.ndarray, y: np.ndarray, need: list[int],
                    values: dict[str, Any]) -> bool:
        """Whether the last fit used these very images, labels and settings (then a second
        ``fit_resample`` draws from it instead of training again)."""
        return (getattr(self, "_nets", None) is not None
                and set(need) <= set(self.classes_)
                and self.image_shape_ == tuple(X.shape[1:])
                and self._fit_key == self._key(values)
                and getattr(self, "_data_key", None) == data_fingerprint(X, y))

    # -------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str] | BinaryIO) -> None:
        """Write the trained synthesizer with one ``torch.save`` (tensors and primitives).

        The file holds the parameters, classes, image shape, history, the sampling
        stream's state and every network's ``state_dict``; :meth:`load` reads it with
        ``weights_only=True``.
        """
        self._check_fitted()
        torch.save(self._payload(), path)

    def _payload(self) -> dict[str, Any]:
        """What :meth:`save` writes: the fitted attributes every synthesizer file holds
        (:meth:`_restore_meta` reads them back) and every network's ``state_dict``."""
        return {
            "format": FILE_FORMAT, "version": FILE_VERSION, "name": self.name,
            "params": self.get_params(), "classes": list(self.classes_),
            "image_shape": list(self.image_shape_), "seed": int(self.seed_),
            "stopped_early": bool(self.stopped_early_),
            "history": [dict(e) for e in self.history_],
            "real_diversity": [[k, v] for k, v in self.real_diversity_.items()],
            "fast_paths": [[k, v] for k, v in getattr(self, "fast_paths_", {}).items()],
            "sample_rng": self._sample_gen.get_state(),
            "data_key": getattr(self, "_data_key", None),
            "models": [{"class": key, "G": cpu_state_dict(G), "D": cpu_state_dict(D)}
                       for key, (G, D) in self._nets.items()],
        }

    @classmethod
    def load(cls, path: str | os.PathLike[str] | BinaryIO, *,
             device: str | None = None) -> GANSynthesizer:
        """Read a file written by :meth:`save` (any GAN synthesizer when called on the base).

        Parameters
        ----------
        path : path or binary file
        device : {"auto", "cpu", "cuda"}, optional
            Overrides the saved ``device`` parameter (e.g. to open a GPU-trained model
            on a machine without a GPU).

        Raises
        ------
        GDAError
            The file is not a saved synthesizer, or of another model than ``cls``.
        """
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise GDAError(f"could not read a saved synthesizer: {exc}") from None
        if not isinstance(payload, dict) or payload.get("format") != FILE_FORMAT:
            raise GDAError("this file is not a saved GDA Workbench synthesizer")
        if payload.get("version") != FILE_VERSION:
            raise GDAError(f"unsupported synthesizer file version {payload.get('version')}")
        # the registry lists every synthesizer; it imports their modules, which import this
        # one, hence the import here
        from gda_core.oversampling.registry import METHODS

        name = payload.get("name")
        klass = METHODS.get(name) if isinstance(name, str) else None
        if not (isinstance(klass, type) and issubclass(klass, GANSynthesizer)):
            raise GDAError(f"unknown synthesizer {name!r} in the file")
        if cls is not GANSynthesizer and klass is not cls:
            raise GDAError(f"the file holds a {klass.label}, not a {cls.label}")
        params = dict(payload["params"])
        if device is not None:
            params["device"] = device
        obj = klass(**params)
        obj._restore(payload)
        return obj

    def _restore_meta(self, payload: dict[str, Any]) -> str:
        """Restore the fitted attributes every synthesizer file holds; returns the device."""
        device = resolve_device(self._values()["device"])
        self.classes_ = [int(c) for c in payload["classes"]]
        self.image_shape_ = tuple(int(s) for s in payload["image_shape"])
        self.seed_ = int(payload["seed"])
        self.device_ = device
        self.stopped_early_ = bool(payload["stopped_early"])
        self.history_ = [dict(e) for e in payload["history"]]
        self.real_diversity_ = {k: float(v) for k, v in payload["real_diversity"]}
        self.fast_paths_ = {k: dict(v) for k, v in payload.get("fast_paths", [])}
        self._data_key = payload.get("data_key")  # files of older versions: unknown data
        return device

    def _restore(self, payload: dict[str, Any]) -> None:
        values = self._values()
        device = self._restore_meta(payload)
        n_classes = len(self.classes_) if self.conditional else 0
        nets = {}
        for model in payload["models"]:
            G, D = self._ready_nets(values, n_classes, 0, (model["G"], model["D"]), device)
            G.eval()
            nets[model["class"]] = (G, D)
        self._nets = nets
        self._fit_key = self._key(values)
        self._sample_gen = torch.Generator()
        self._sample_gen.set_state(payload["sample_rng"])

    # ---------------------------------------------------------------- helpers
    def _values(self) -> dict[str, Any]:
        return parse_params(self.params, {p.name: getattr(self, p.name) for p in self.params})

    def _key(self, values: dict[str, Any]) -> tuple[Any, ...]:
        return (*sorted(values.items()), ("random_state", self.random_state))

    def _new_nets(self, values: dict[str, Any], n_classes: int,
                  seed: int) -> tuple[nn.Module, nn.Module]:
        C, H, W = self.image_shape_
        with torch.random.fork_rng(devices=[]):
            torch.default_generator.manual_seed(seed)
            G, D = self._build(values, C, (H, W), n_classes)
            G.apply(weights_init)
            D.apply(weights_init)
        return G, D

    def _ready_nets(self, values: dict[str, Any], n_classes: int, seed: int,
                    states: tuple[dict, dict] | None,
                    device: str) -> tuple[nn.Module, nn.Module]:
        """New networks (seeded by ``seed``), given ``states`` (G's, D's) if any, on
        ``device`` in the fast path's layout: ready to train or to sample."""
        G, D = self._new_nets(values, n_classes, seed)
        if states is not None:
            G.load_state_dict(states[0])
            D.load_state_dict(states[1])
        prepare_nets([G, D], device, values["fast"])
        return G, D

    def _choose_classes(self, y: np.ndarray, classes: Sequence[int] | None) -> list[int]:
        present, counts = np.unique(y, return_counts=True)
        if classes is None:
            if self.conditional:
                return [int(c) for c in present]
            chosen = [int(c) for c, n in zip(present, counts, strict=True) if n < counts.max()]
            if not chosen:
                raise ConfigError("every class has as many images as the largest; pass "
                                  "classes=[...] to choose which to learn")
            return chosen
        chosen = sorted({int(c) for c in np.atleast_1d(np.asarray(classes))})
        absent = [c for c in chosen if c not in set(present.tolist())]
        if absent:
            raise ConfigError(f"class {absent[0]} has no images in the training set")
        if not chosen:
            raise ConfigError("classes is empty")
        return chosen

    def _check_fitted(self) -> None:
        if getattr(self, "_nets", None) is None:
            raise GDAError(f"{self.label or type(self).__name__} is not trained yet; "
                           "call fit first")

    def _clear(self) -> None:
        self._nets = None


# ---------------------------------------------------------------------- helpers
def train_class_task(payload: dict[str, Any], send: Callable[[Any], None],
                     should_stop: Callable[[], bool]) -> dict[str, Any]:
    """Train one class's model in a worker process (see
    :meth:`GANSynthesizer._fit_in_processes`), on the CPU.

    Sends ``("step", event, images or None)`` for every step that reaches the callback
    (``images``: that step's samples, which come before its callback, as in
    :class:`~gda_core.synthesizers.trainer.StepLog`) and ``("diverged", None, None)`` when
    training diverges.  Returns the history and either the trained state dicts, the
    real images' diversity and whether a stop ended it early, or the divergence's message
    under ``"error"``.
    """
    synth = payload["cls"](**payload["params"])
    synth.image_shape_ = payload["shape"]
    values, key = payload["values"], payload["key"]
    start = None if payload["start"] is None else states_from_bytes(payload["start"])
    G, D = synth._ready_nets(values, 0, payload["seed"], start, "cpu")
    shown: list[np.ndarray] = []

    def on_samples(step: int, images: np.ndarray) -> None:
        shown.append(images)

    def callback(event: dict[str, Any]) -> bool:
        send(("step", event, shown.pop() if shown else None))
        return not should_stop()

    history: list[dict[str, Any]] = []
    try:
        outcome = train_gan(G, D, to_unit(payload["images"]), None, payload["config"],
                            seed=payload["seed"], history=history, extra={"class": key},
                            callback=callback,
                            on_samples=on_samples if payload["samples"] else None)
    except GDAError as exc:
        send(("diverged", None, None))
        return {"history": history, "error": str(exc)}
    return {"history": history, "nets": state_bytes(cpu_state_dict(G), cpu_state_dict(D)),
            "stopped": outcome.stopped_early, "real_diversity": outcome.real_diversity}


def state_bytes(g_state: dict[str, torch.Tensor], d_state: dict[str, torch.Tensor]) -> bytes:
    """G's and D's state dicts as ``torch.save`` bytes: what passes between processes
    (tensors themselves would travel as shared-memory file handles, which vanish with the
    process that sent them)."""
    buf = io.BytesIO()
    torch.save({"G": g_state, "D": d_state}, buf)
    return buf.getvalue()


def states_from_bytes(data: bytes) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """G's and D's state dicts back from :func:`state_bytes` (``weights_only``)."""
    states = torch.load(io.BytesIO(data), weights_only=True)
    return states["G"], states["D"]


def check_periods(**periods: Any) -> None:
    """Each period (in generator steps) must be a positive integer.

    Examples
    --------
    >>> check_periods(sample_every=0)
    Traceback (most recent call last):
    ...
    gda_core.errors.ConfigError: sample_every must be a positive integer; got 0
    """
    for name, value in periods.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ConfigError(f"{name} must be a positive integer; got {value!r}")


def data_fingerprint(X: np.ndarray, y: np.ndarray) -> str:
    """Digest of images and labels (shape, dtype and bytes): equal only for the same data.

    Examples
    --------
    >>> a = np.zeros((2, 1, 4, 4), np.uint8)
    >>> data_fingerprint(a, np.array([0, 1])) == data_fingerprint(a.copy(), np.array([0, 1]))
    True
    >>> data_fingerprint(a, np.array([0, 1])) == data_fingerprint(a, np.array([1, 0]))
    False
    """
    h = hashlib.blake2b(digest_size=16)
    for arr in (np.ascontiguousarray(X), np.ascontiguousarray(y, dtype=np.int64)):
        h.update(f"{arr.dtype}{arr.shape}".encode())
        h.update(memoryview(arr).cast("B"))
    return h.hexdigest()


def cpu_state_dict(net: nn.Module) -> dict[str, torch.Tensor]:
    """``net``'s ``state_dict`` as contiguous CPU tensors (what synthesizer files hold)."""
    return {k: v.detach().to("cpu").contiguous() for k, v in net.state_dict().items()}


@torch.inference_mode()
def generate_images(G: nn.Module, z: torch.Tensor, cond: torch.Tensor | None,
                    dev: torch.device) -> np.ndarray:
    """uint8 images from noise ``z`` (CPU), batch by batch, in eval mode and float32."""
    G.eval()
    parts = []
    for i in range(0, len(z), _SAMPLE_CHUNK):
        zb = z[i:i + _SAMPLE_CHUNK].to(dev)
        out = G(zb) if cond is None else G(zb, cond[i:i + _SAMPLE_CHUNK].to(dev))
        parts.append(to_uint8(out))
    return np.concatenate(parts)
