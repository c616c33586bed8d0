"""Train a GAN synthesizer as a run: the job executed by the run store's worker.

The dashboard's Train page and ``python -m gda_core train`` both create a run with a
:class:`TrainJobConfig` and start :func:`train_job` in a worker process, so training goes on
when the browser tab closes and several runs can go at once.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gda_core.datasets import ImbalanceSpec, load_source, make_imbalanced
from gda_core.errors import ConfigError, GDAError
from gda_core.experiments.config import CompareConfig, DataConfig
from gda_core.runs import RunContext
from gda_core.runs.eta import TimeLeft
from gda_core.viz import image_grid, png_bytes

JOB = "gda_core.experiments.train:train_job"
RUN_KIND = "train"


@dataclass(frozen=True)
class TrainJobConfig:
    """What to train: data and imbalance (as on the Data page), synthesizer and settings.

    ``classes`` are class indices of the imbalanced data (default: its minority
    classes).  ``seed`` seeds the synthesizer; ``split_seed`` the imbalanced split.
    Conditional synthesizers (cGAN, and ADSO / AMO, whose classifier must tell the
    classes apart) always learn every class, as they do in a comparison.

    Examples
    --------
    >>> cfg = TrainJobConfig(synthesizer="dcgan", params={"epochs": 5})
    >>> TrainJobConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    data: DataConfig = field(default_factory=DataConfig)
    imbalance: ImbalanceSpec = field(default_factory=lambda: CompareConfig().imbalance)
    split_seed: int = 0
    synthesizer: str = "dcgan"
    params: dict[str, Any] = field(default_factory=dict)
    classes: tuple[int, ...] | None = None
    seed: int = 0
    sample_every: int = 25
    samples_shown: int = 32
    quality_every: int = 0

    def validate(self) -> None:
        """Check the synthesizer name and its parameters (:class:`ConfigError` if bad)."""
        from gda_core.oversampling.params import parse_params
        from gda_core.oversampling.registry import SYNTHESIZERS

        if self.synthesizer not in SYNTHESIZERS:
            raise ConfigError(f"unknown synthesizer {self.synthesizer!r}; choose from "
                              f"{', '.join(SYNTHESIZERS)}")
        parse_params(SYNTHESIZERS[self.synthesizer].params, dict(self.params))
        if self.sample_every < 1:
            raise ConfigError("sample_every must be at least 1")
        if self.quality_every < 0:
            raise ConfigError("quality_every must be 0 (off) or a number of steps")

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": asdict(self.data),
            "imbalance": self.imbalance.to_dict(),
            "split_seed": self.split_seed,
            "synthesizer": self.synthesizer,
            "params": dict(self.params),
            "classes": None if self.classes is None else list(self.classes),
            "seed": self.seed,
            "sample_every": self.sample_every,
            "samples_shown": self.samples_shown,
            "quality_every": self.quality_every,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrainJobConfig:
        return cls(
            data=DataConfig(**d.get("data", {})),
            imbalance=ImbalanceSpec.from_dict(d["imbalance"]),
            split_seed=int(d.get("split_seed", 0)),
            synthesizer=str(d.get("synthesizer", "dcgan")),
            params=dict(d.get("params", {})),
            classes=None if d.get("classes") is None else tuple(int(c) for c in d["classes"]),
            seed=int(d.get("seed", 0)),
            sample_every=int(d.get("sample_every", 25)),
            samples_shown=int(d.get("samples_shown", 32)),
            quality_every=int(d.get("quality_every", 0)),
        )


class TrainProgress:
    """The progress reports of a training run, with the time left (``eta_s``) at the pace
    of its recent steps.

    Start-up (loading the data, training the FID feature extractor) takes a while but
    makes no progress; counting it in the pace, as an average since the start does,
    promised several times the real time left at first.  So the pace is measured over the
    last ``window`` seconds of training steps only, afresh for each model of a per-class
    run (a class may take more or fewer steps than the one before), and no estimate is
    given before ``min_span`` seconds and ``min_steps`` steps of the current model, but
    the time the training was predicted to take (``predicted_s`` in the summary, from a
    step timed before it started) less its time so far, if any; else ``eta_s`` None
    ("estimating…").

    Parameters
    ----------
    ctx : RunContext
        Where the reports go (:meth:`RunContext.progress`, which throttles writes).
    window, min_span : float
        Seconds of steps the pace is measured over, and before the first estimate.
    min_steps : int
        Steps of the current model before the first estimate.
    clock : callable
        Monotonic clock (tests pass a fake one).

    Examples
    --------
    >>> class Ctx:
    ...     def progress(self, fraction, summary):
    ...         print(round(fraction, 2), summary["eta_s"])
    >>> now = [0.0]
    >>> report = TrainProgress(Ctx(), min_span=1.0, min_steps=2, clock=lambda: now[0])
    >>> report.setup({"phase": "loading data"})             # 100 s of start-up: ignored
    0.0 None
    >>> now[0] = 100.0
    >>> report.step(0.1, {"phase": "training"}, model=None)
    0.1 None
    >>> now[0] = 102.0
    >>> report.step(0.2, {"phase": "training"}, model=None)  # 10% per 2 s; 80% left
    0.2 16.0
    """

    def __init__(self, ctx: RunContext, *, window: float = 30.0, min_span: float = 3.0,
                 min_steps: int = 5, clock: Callable[[], float] = time.monotonic) -> None:
        self.ctx = ctx
        self.clock = clock
        self.started: float | None = None  # the first training step
        self.eta = TimeLeft(window=window, min_span=min_span, clock=clock,
                            min_points=min_steps)

    def setup(self, summary: dict[str, Any]) -> None:
        """Report a start-up phase (no progress, no estimate)."""
        self.ctx.progress(0.0, {**summary, "eta_s": None})

    def step(self, fraction: float, summary: dict[str, Any], model: Any) -> None:
        """Report a training step: ``fraction`` of the run done, in ``model`` (its class,
        ``"pretraining"``, or None for a model of every class)."""
        if self.started is None:
            self.started = self.clock()
        left = self.eta.update(fraction, unit=model)
        predicted = summary.get("predicted_s")
        if left is None and predicted is not None and fraction < 1:
            # no pace yet: what the training was predicted to take, less its time so far
            spent = self.clock() - self.started
            left = float(predicted) - spent if spent < float(predicted) else None
        self.ctx.progress(fraction, {**summary, "eta_s": None if left is None
                                     else round(left, 1)})


def training_cost(cfg: TrainJobConfig, data: Any = None) -> Any:
    """What the training ``cfg`` describes would take on this machine, before it runs:
    :meth:`gda_core.synthesizers.base.GANSynthesizer.fit_cost` on the classes it would
    learn (``data``: the imbalanced data, loaded here when not given).

    Raises
    ------
    GDAError
        The synthesizer's cost is not predictable (the three-player models), or the data
        cannot be loaded.
    """
    from gda_core.oversampling.registry import SYNTHESIZERS

    if data is None:
        splits = load_source(cfg.data.source, **cfg.data.load_kwargs())
        data = make_imbalanced(splits, cfg.imbalance, random_state=cfg.split_seed)
    synth = SYNTHESIZERS[cfg.synthesizer](random_state=cfg.seed, **cfg.params)
    classes = list(cfg.classes) if cfg.classes is not None else list(data.minority_classes)
    counts = np.bincount(data.train.labels, minlength=len(data.class_names)).tolist()
    if synth.conditional:
        classes = list(range(len(data.class_names)))
    return synth.fit_cost(tuple(data.train.images.shape[1:]), counts, classes)


def train_job(ctx: RunContext) -> None:
    """Worker job: load the data, train, stream diagnostics and grids, save the model.

    Every generator step is logged as an event; after step 1 and every ``sample_every``
    steps a grid of
    samples from fixed noise is saved (numbered by the run's overall step count, since
    per-class models restart their own step); the trained synthesizer is saved as the
    ``checkpoint`` artifact and the training warnings go into the run's summary.  A
    stop request ends training after the current step and keeps what was trained.
    """
    from gda_core.oversampling.registry import SYNTHESIZERS
    from gda_core.synthesizers.diagnostics import diagnose

    cfg = TrainJobConfig.from_dict(ctx.config)
    cfg.validate()
    report = TrainProgress(ctx)
    report.setup({"phase": "loading data"})
    splits = load_source(cfg.data.source, **cfg.data.load_kwargs())
    data = make_imbalanced(splits, cfg.imbalance, random_state=cfg.split_seed)
    classes = list(cfg.classes) if cfg.classes is not None else list(data.minority_classes)
    bad = [c for c in classes if not 0 <= c < len(data.class_names)]
    if bad or not classes:
        raise ConfigError(f"choose classes among 0..{len(data.class_names) - 1}")
    synth = SYNTHESIZERS[cfg.synthesizer](random_state=cfg.seed, **cfg.params)
    if synth.conditional:
        # one model of every class, as a comparison trains it (ADSO / AMO: their
        # classifier must tell them all apart; cGAN: the majority teaches the minority)
        classes = list(range(len(data.class_names)))
    pretrain = not synth.conditional and getattr(synth, "pretrain", "off") != "off"
    n_models = (1 if synth.conditional else len(classes)) + int(pretrain)
    base = {"classes": classes, "class_names": list(data.class_names),
            "synthesizer": cfg.synthesizer}
    try:
        base["predicted_s"] = round(float(training_cost(cfg, data).seconds), 1)
    except GDAError:  # not predictable (three-player): the pace alone tells
        pass

    probe = None
    if cfg.quality_every:
        from gda_core.experiments.train_quality import QualityProbe

        report.setup({**base, "phase": "training the FID feature extractor"})
        probe = QualityProbe(splits, data, classes, conditional=synth.conditional,
                             every=cfg.quality_every,
                             cache_dir=ctx.store.root / "feature-cache")
    pending: dict[str, Any] = {}
    reached: dict[Any, float] = {}  # each model's share done (models may train at once)
    global_step = [0]  # per-class models restart ``step``; grids need a unique one
    last_grid = [0]

    def done() -> float:
        return min(sum(reached.values()) / n_models, 0.999)

    def on_step(event: dict[str, Any]) -> bool:
        global_step[0] += 1
        ctx.log({**event, **pending})  # a quality score joins the step it was measured at
        pending.clear()
        pre = event.get("phase") == "pretrain"
        model = "pretraining" if pre else event.get("class")
        reached[model] = event["step"] / max(1, event.get("total_steps", 1))
        fraction = done()
        summary = {**base, "phase": "pretraining" if pre else "training",
                   "class": event.get("class")}
        if getattr(synth, "workers_", 1) > 1 and not pre:  # models trained at once
            summary["learning"] = sorted(c for c, r in reached.items()
                                         if r < 1 and c != "pretraining")
            model = "classes"  # they share one pace (one after another, each has its own)
        report.step(fraction, summary, model=model)
        return not ctx.should_stop()

    def on_samples(step: int, images: Any) -> None:
        # conditional models: one row of 8 per learned class (rows cycle through them)
        shown = 8 * min(len(classes), 16) if synth.conditional else cfg.samples_shown
        grid = image_grid(images[:shown], ncols=8, pad=1)
        # numbered as the event of its step, logged next (unique even after a stop)
        last_grid[0] = max(last_grid[0] + 1, global_step[0] + 1)
        ctx.save_grid(last_grid[0], png_bytes(grid))
        if probe is not None:  # the step's entry is already in the history
            key = None if synth.conditional else synth.history_[-1].get("class")
            scores = probe(step, images, key)
            if scores:
                pending.update(scores)

    synth.fit(data.train.images, data.train.labels, classes=classes, callback=on_step,
              on_samples=on_samples, sample_every=cfg.sample_every)
    buf = io.BytesIO()
    synth.save(buf)
    ctx.save_artifact("checkpoint", buf.getvalue(), suffix=".pt")
    warnings = [asdict(w) for w in diagnose(synth.history_,
                                            augmented=getattr(synth, "augmented_", False))]
    stopped = synth.stopped_early_
    if synth.classes_:
        from gda_core.experiments.train_checks import sample_findings

        ctx.progress(done(), {**base, "phase": "checking the images against real ones"})
        warnings += sample_findings(synth, data, classes, step=global_step[0],
                                    extractor=None if probe is None else probe.extractor,
                                    random_state=cfg.seed)
    ctx.progress(done() if stopped else 1.0,
                 {**base, "phase": "stopped" if stopped else "finished",
                  "trained_classes": list(synth.classes_), "warnings": warnings,
                  "fast_paths": {str(k): v for k, v in
                                 getattr(synth, "fast_paths_", {}).items()}})
