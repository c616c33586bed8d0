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
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from gda_core.datasets import DatasetSplits, load_source
from gda_core.errors import ConfigError
from gda_core.experiments.compare import Progress, run_method, split_for_seed
from gda_core.experiments.config import BASELINE, CompareConfig
from gda_core.experiments.result import SCALAR_METRICS, MethodRun, _clean, dump_json, load_json
from gda_core.metrics.stats import mean_ci
from gda_core.oversampling import OVERSAMPLERS, make_oversampler

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
        return _clean({"format": "gda-workbench/ratio-sweep@1", "config": self.config,
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
                    progress: Progress | None = None) -> RatioSweep:
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
    ratios = _check_ratios(ratios)
    _check_metric(metric)
    if method not in OVERSAMPLERS:
        raise ConfigError(f"the sweep needs an oversampler; choose from {', '.join(OVERSAMPLERS)}")
    if getattr(OVERSAMPLERS[method], "uses_own_classifier", False):
        base = method.split("+")[0]
        raise ConfigError(f"{method} evaluates its own classifier Q, so its synthesized share "
                          f"cannot be swept; sweep {base!r} (its generator) instead")
    report = progress or (lambda fraction, message: None)
    t0 = time.perf_counter()
    if splits is None:
        report(0.0, f"loading {config.data.source}")
        splits = load_source(config.data.source, **config.data.load_kwargs())
    rows, warnings = [], []
    total = len(config.seeds) * len(ratios)
    for si, seed in enumerate(config.seeds):
        split = split_for_seed(config, splits, seed)
        data = split.data
        if not data.minority_classes:
            raise ConfigError("the ratio sweep needs minority classes; choose an imbalance "
                              "with some")
        counts = split.fit.counts()
        # one oversampler per seed: fitted at its first ratio, drawn from at the others
        sampler = make_oversampler(method, random_state=seed,
                                   **config.method_params.get(method, {}))
        for ri, r in enumerate(ratios):
            step = si * len(ratios) + ri

            def sub(f: float, msg: str, step: int = step, r: float = r) -> None:
                report((step + f) / total, f"ratio {r:g} · {msg}")

            strategy = {c: counts[c] + round(r * counts[c]) for c in data.minority_classes}
            run = run_method(config, split, BASELINE if r == 0 else method, seed, sub,
                             sampling_strategy=strategy, sampler=sampler)
            rows.append(_row(r, run))
            warnings += [f"ratio {r:g}, seed {seed}: {w['message']}" for w in run.warnings]
    report(1.0, "done")
    runs = pd.DataFrame(rows, columns=list(RUN_COLUMNS))
    return RatioSweep(config=config.to_dict(), method=method, metric=metric, ratios=ratios,
                      runs=runs, seconds=time.perf_counter() - t0, warnings=warnings)


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
