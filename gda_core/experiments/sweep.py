"""Real:synthetic ratio sweep: how a metric changes with the amount of synthesized data.

For a ratio ``r`` every minority class gets ``round(r * n)`` synthesized images on top of
its ``n`` real ones (majority classes get none); ``r = 0`` is the baseline.  Each ratio
runs every seed of the configuration, with the same split, classifier initialisation and
oversampler seed as :func:`~gda_core.experiments.run_comparison` would use, so the
``r = 0`` point of a seed equals that seed's baseline.  A synthesizer is fitted once per
seed and every ratio of that seed draws from it (a GAN trains once, not once per ratio).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gda_core.datasets import DatasetSplits, load_source
from gda_core.errors import ConfigError
from gda_core.experiments.compare import Progress, run_method, split_for_seed
from gda_core.experiments.config import BASELINE, CompareConfig
from gda_core.experiments.result import SCALAR_METRICS, MethodRun, dump_json, json_ready, load_json
from gda_core.metrics.stats import mean_ci
from gda_core.oversampling import OVERSAMPLERS, make_oversampler
from gda_core.runs.executors import ExecutorConfig, UnitFailure, run_units

DEFAULT_RATIOS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0, 5.0)
"""Ratios of synthesized to real minority images swept by default."""

RUN_COLUMNS: tuple[str, ...] = ("ratio", "seed", "n_train", "n_generated", "error",
                                *SCALAR_METRICS)
"""Columns of :attr:`RatioSweep.runs`."""

SUMMARY_COLUMNS: tuple[str, ...] = ("ratio", "n", "mean", "ci_low", "ci_high",
                                    "n_generated")
"""Columns of :meth:`RatioSweep.summary`."""


@dataclass
class RatioSweep:
    """Result of :func:`run_ratio_sweep`.

    Attributes
    ----------
    config : dict
        The comparison configuration (``CompareConfig.to_dict()``).
    method : str
        The oversampler that synthesized the images.
    metric : str
        The metric the sweep is about (all of :data:`SCALAR_METRICS` are kept).
    ratios : list of float
        In the order they were run.
    runs : DataFrame
        Tidy: one row per ratio and seed, columns :data:`RUN_COLUMNS` (``n_generated``
        is the total over classes; ``error`` is None or why that point failed).
    seconds : float
    """

    config: dict[str, Any]
    method: str
    metric: str
    ratios: list[float]
    runs: pd.DataFrame
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def summary(self, metric: str | None = None, confidence: float = 0.95) -> pd.DataFrame:
        """One row per ratio: mean and t interval over seeds of ``metric``.

        Returns
        -------
        DataFrame
            Columns :data:`SUMMARY_COLUMNS`; ``n`` is the number of seeds with a value,
            ``n_generated`` the mean number of synthesized images.
        """
        metric = metric or self.metric
        _check_metric(metric)
        rows = []
        for r in self.ratios:
            part = self.runs[self.runs["ratio"] == r]
            values = part[metric].to_numpy(dtype=float)
            mean, low, high = mean_ci(values, confidence)
            rows.append({"ratio": r, "n": int((~pd.isna(values)).sum()), "mean": mean,
                         "ci_low": low, "ci_high": high,
                         "n_generated": float(part["n_generated"].mean())})
        return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None)."""
        return json_ready({"format": "gda-workbench/ratio-sweep@1", "config": self.config,
                       "method": self.method, "metric": self.metric,
                       "ratios": list(self.ratios), "runs": self.runs.to_dict(orient="records"),
                       "seconds": self.seconds, "warnings": list(self.warnings)})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RatioSweep:
        runs = pd.DataFrame(d["runs"], columns=list(RUN_COLUMNS))
        runs = runs.astype({k: "float64" for k in ("ratio", *SCALAR_METRICS)})
        return cls(config=d["config"], method=d["method"], metric=d["metric"],
                   ratios=[float(r) for r in d["ratios"]], runs=runs,
                   seconds=float(d.get("seconds", 0.0)), warnings=list(d.get("warnings", [])))

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON text; also write it to ``path`` if given."""
        return dump_json(self.to_dict(), path)

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> RatioSweep:
        """Inverse of :meth:`to_json` (JSON text or a file path)."""
        return cls.from_dict(load_json(text_or_path))


def run_ratio_sweep(config: CompareConfig, method: str,
                    ratios: Sequence[float] = DEFAULT_RATIOS, metric: str = "f1_macro", *,
                    splits: DatasetSplits | None = None,
                    progress: Progress | None = None,
                    executor: ExecutorConfig | None = None,
                    should_stop: Callable[[], bool] | None = None,
                    on_seed: Callable[[RatioSweep], None] | None = None) -> RatioSweep:
    """Train the classifier of ``config`` with ``ratio x`` real minority images synthesized.

    Parameters
    ----------
    config : CompareConfig
        Data, imbalance, seeds, classifier and ``method_params``; its ``methods`` are not
        used.
    method : str
        An oversampler of :data:`~gda_core.oversampling.OVERSAMPLERS`.
    ratios : sequence of float
        Distinct values >= 0; 0 is the baseline.
    metric : str
        One of :data:`SCALAR_METRICS`, the one :meth:`RatioSweep.summary` reports.
    splits : DatasetSplits, optional
        Already-loaded data (else loaded from ``config.data``).
    progress : callable, optional
        ``progress(fraction, message)``.
    executor : ExecutorConfig, optional
        Where the seeds run (one unit each; default: here, one after another).
    should_stop : callable, optional
        Polled between seeds and at every progress report; the sweep then returns the
        seeds that finished, with a warning saying so.
    on_seed : callable, optional
        ``on_seed(partial_sweep)`` after each seed finishes (to save partial results).

    Returns
    -------
    RatioSweep
        ``sweep.summary()`` has one row per ratio.

    Examples
    --------
    >>> sweep = run_ratio_sweep(CompareConfig(seeds=(0, 1)), "smote")   # doctest: +SKIP
    >>> sweep.summary()[["ratio", "mean"]]                              # doctest: +SKIP
    """
    config.validate()
    ratios = check_sweep_settings(method, ratios, metric)
    report = progress or (lambda fraction, message: None)
    t0 = time.perf_counter()
    if splits is None:
        report(0.0, f"loading {config.data.source}")
        splits = load_source(config.data.source, **config.data.load_kwargs())
    if not split_for_seed(config, splits, config.seeds[0]).data.minority_classes:
        raise ConfigError("the ratio sweep needs minority classes; choose an imbalance "
                          "with some")
    by_seed: dict[int, tuple[list[dict[str, Any]], list[str]]] = {}

    def assemble(complete: bool) -> RatioSweep:
        rows = [row for seed in config.seeds if seed in by_seed for row in by_seed[seed][0]]
        warnings = [w for seed in config.seeds if seed in by_seed for w in by_seed[seed][1]]
        if not complete:
            warnings.append(f"not finished: {len(by_seed)} of {len(config.seeds)} seeds ran")
        return RatioSweep(config=config.to_dict(), method=method, metric=metric,
                          ratios=ratios, runs=pd.DataFrame(rows, columns=list(RUN_COLUMNS)),
                          seconds=time.perf_counter() - t0, warnings=warnings)

    def finished(seed: int, value: Any) -> None:
        if isinstance(value, UnitFailure):
            value = ([_failed_row(r, seed, value.message) for r in ratios], [])
        by_seed[seed] = value
        if on_seed is not None:
            on_seed(assemble(len(by_seed) == len(config.seeds)))

    complete = run_units(sweep_unit, list(config.seeds),
                         shared=SweepUnits(config, splits, method, tuple(ratios)),
                         on_result=finished, executor=executor, progress=report,
                         should_stop=should_stop)
    report(1.0, "done" if complete else "stopped")
    return assemble(complete)


@dataclass(frozen=True)
class SweepUnits:
    """What every seed of a sweep shares: settings, loaded data, method and ratios."""

    config: CompareConfig
    splits: DatasetSplits
    method: str
    ratios: tuple[float, ...]


def sweep_unit(shared: SweepUnits, seed: int, report: Progress
               ) -> tuple[list[dict[str, Any]], list[str]]:
    """Every ratio of one seed (a unit of :func:`run_ratio_sweep`): one row per ratio and
    the warnings.  The synthesizer is fitted once, at the first ratio that needs images,
    and every other ratio draws from it."""
    config, ratios, method = shared.config, shared.ratios, shared.method
    split = split_for_seed(config, shared.splits, seed)
    data = split.data
    if not data.minority_classes:
        raise ConfigError("the ratio sweep needs minority classes; choose an imbalance "
                          "with some")
    counts = split.fit.counts()
    sampler = make_oversampler(method, random_state=seed,
                               **config.method_params.get(method, {}))
    rows, warnings = [], []
    for ri, r in enumerate(ratios):
        def sub(f: float, msg: str, ri: int = ri, r: float = r) -> None:
            report((ri + f) / len(ratios), f"ratio {r:g} · {msg}")

        strategy = {c: counts[c] + round(r * counts[c]) for c in data.minority_classes}
        run = run_method(config, split, BASELINE if r == 0 else method, seed, sub,
                         sampling_strategy=strategy, sampler=sampler)
        rows.append(_row(r, run))
        warnings += [f"ratio {r:g}, seed {seed}: {w['message']}" for w in run.warnings]
    return rows, warnings


def _failed_row(ratio: float, seed: int, error: str) -> dict[str, Any]:
    return {"ratio": ratio, "seed": seed, "n_train": 0, "n_generated": 0, "error": error,
            **dict.fromkeys(SCALAR_METRICS, math.nan)}


def check_sweep_settings(method: str, ratios: Sequence[float], metric: str) -> list[float]:
    """The ratios as floats, or a :class:`ConfigError` saying what cannot be swept."""
    values = _check_ratios(ratios)
    _check_metric(metric)
    if method not in OVERSAMPLERS:
        raise ConfigError(f"the sweep needs an oversampler; choose from {', '.join(OVERSAMPLERS)}")
    if getattr(OVERSAMPLERS[method], "uses_own_classifier", False):
        base = method.split("+")[0]
        raise ConfigError(f"{method} evaluates its own classifier Q, so its synthesized share "
                          f"cannot be swept; sweep {base!r} (its generator) instead")
    return values


def _row(ratio: float, run: MethodRun) -> dict[str, Any]:
    return {"ratio": ratio, "seed": run.seed, "n_train": run.n_train,
            "n_generated": int(sum(run.n_generated.values())), "error": run.error,
            **{k: run.metrics.get(k, math.nan) for k in SCALAR_METRICS}}


def _check_ratios(ratios: Sequence[float]) -> list[float]:
    try:
        values = [float(r) for r in ratios]
    except (TypeError, ValueError):
        raise ConfigError(f"ratios must be numbers like 0, 0.5, 1, 2, 5; got {ratios!r}") from None
    if not values:
        raise ConfigError("give at least one ratio")
    if any(not math.isfinite(r) or r < 0 for r in values):
        raise ConfigError("ratios must be finite numbers of at least 0")
    if len(set(values)) != len(values):
        raise ConfigError("each ratio may be listed once")
    return values


def _check_metric(metric: str) -> None:
    if metric not in SCALAR_METRICS:
        raise ConfigError(f"unknown metric {metric!r}; choose from {', '.join(SCALAR_METRICS)}")
