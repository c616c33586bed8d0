"""How long a comparison will take, from what its units cost on this machine before.

Every finished unit of a comparison records its seconds (``MethodRun.seconds``: the
oversampler's fit, the classifier's training, the quality gate) and how many images the
classifier trained on.  :func:`unit_costs` reads them back from the run store's recent
comparisons; :func:`estimate_seconds` predicts a new comparison from them, per method:
the median oversampling time of earlier units on images of the same shape (a GAN's cost
follows its steps, not the number of images), plus the classifier's time scaled by the
number of training images.  A method never run here on images of that shape is predicted
by a short probe instead (:func:`probe_costs`: its steps times one step timed here), or,
where no probe can, named as unknown rather than guessed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gda_core.experiments.result import ComparisonResult


@dataclass
class UnitCost:
    """What one earlier unit cost: seconds per part and the images it trained on."""

    method: str
    shape: tuple[int, ...]
    seconds: dict[str, float]
    n_train: int
    peak_mb: float = math.nan  # the comparison's peak memory (its process, by its end)


@dataclass
class Estimate:
    """A comparison's predicted wall time on this machine.

    Attributes
    ----------
    seconds : float
        Sum over the units of the methods that have a measured cost (NaN when none has).
    per_method : dict
        Method -> predicted seconds per unit.
    unknown : list of str
        Methods with no measured unit on images of this shape.
    n_measured : int
        Earlier units the estimate rests on.
    probed : list of str
        Methods predicted by a short probe (:func:`probe_costs`).
    peak_mb : float
        The most memory an earlier comparison of these methods on images of this shape
        took here (MiB), NaN when none says.
    """

    seconds: float
    per_method: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    n_measured: int = 0
    probed: list[str] = field(default_factory=list)
    peak_mb: float = math.nan

    def text(self, units_per_method: int) -> str:
        """One line for people, e.g. "about 12 min (from 23 earlier units on this
        machine); not measured here yet: DCGAN".

        Examples
        --------
        >>> Estimate(600.0, {"dcgan": 60.0}, [], 0, ["dcgan"]).text(10)
        'about 10 min (dcgan: from a training step timed on this machine)'
        """
        if math.isnan(self.seconds):
            return ("no estimate yet: none of these methods has run here on images of this "
                    "size")
        minutes = self.seconds / 60
        when = f"about {minutes:.0f} min" if minutes >= 1.5 else f"about {self.seconds:.0f} s"
        sources = []
        if self.n_measured:
            sources.append(f"from {self.n_measured} earlier units on this machine")
        if self.probed:
            sources.append(f"{', '.join(self.probed)}: from a training step timed on this "
                           "machine")
        text = f"{when} ({'; '.join(sources)})"
        if math.isfinite(self.peak_mb):
            text += f"; memory: up to {self.peak_mb / 1024:.1f} GiB in earlier runs here"
        if self.unknown:
            text += "; not measured here yet, so not counted: " + ", ".join(self.unknown)
        return text


def unit_costs(results: Iterable[ComparisonResult]) -> list[UnitCost]:
    """The finished units of earlier comparisons (failed ones left out)."""
    out = []
    for result in results:
        shape = tuple(int(s) for s in _shape(result))
        for run in result.runs:
            if run.ok and run.seconds:
                out.append(UnitCost(run.method, shape, dict(run.seconds), int(run.n_train),
                                    float(result.peak_memory_mb)))
    return out


def _shape(result: ComparisonResult) -> tuple[int, ...]:
    for samples in result.real_samples.values():
        return tuple(np.asarray(samples).shape[1:])
    return ()


def estimate_seconds(methods: Iterable[str], units_per_method: int, n_real: int,
                     n_balanced: int, shape: tuple[int, ...],
                     costs: list[UnitCost], probed: dict[str, float] | None = None) -> Estimate:
    """Predict a comparison's wall time (units run one after another).

    Parameters
    ----------
    methods : iterable of str
    units_per_method : int
        Seeds (held-out), or folds × repeats (cross-validation).
    n_real, n_balanced : int
        Images the classifier trains on in one unit: the baseline's real images, and an
        oversampler's balanced set.
    shape : tuple of int
        ``(C, H, W)`` of the images.
    costs : list of UnitCost
    probed : dict, optional
        Method -> seconds per unit from :func:`probe_costs`, used for the methods no
        earlier unit of this shape tells about.

    Examples
    --------
    >>> costs = [UnitCost("smote", (1, 8, 8), {"resample": 0.1, "train": 4.0}, 200)]
    >>> e = estimate_seconds(["smote", "dcgan"], 10, 100, 400, (1, 8, 8), costs)
    >>> round(e.seconds, 1), e.unknown
    (81.0, ['dcgan'])
    """
    per_method: dict[str, float] = {}
    unknown: list[str] = []
    from_probe: list[str] = []
    used = 0
    for method in methods:
        mine = [c for c in costs if c.method == method and c.shape == tuple(shape)]
        if not mine:
            if probed and method in probed and math.isfinite(probed[method]):
                per_method[method] = float(probed[method])
                from_probe.append(method)
            else:
                unknown.append(method)
            continue
        used += len(mine)
        fixed = float(np.median([sum(v for k, v in c.seconds.items() if k != "train")
                                 for c in mine]))
        rate = float(np.median([c.seconds.get("train", 0.0) / max(c.n_train, 1)
                                for c in mine]))
        per_method[method] = fixed + rate * (n_real if method == "baseline" else n_balanced)
    total = sum(per_method.values()) * units_per_method if per_method else math.nan
    peaks = [c.peak_mb for c in costs if c.shape == tuple(shape) and c.method in per_method
             and math.isfinite(c.peak_mb)]
    return Estimate(total, per_method, unknown, used, from_probe,
                    max(peaks) if peaks else math.nan)


def store_costs(store: Any, limit: int = 20) -> list[UnitCost]:
    """:func:`unit_costs` of the store's most recent comparisons (unreadable ones
    skipped)."""
    from gda_core.errors import GDAError
    from gda_core.experiments.persist import list_comparisons, load_comparison

    results = []
    for record in list_comparisons(store, limit):
        try:
            results.append(load_comparison(store, record.id))
        except (GDAError, OSError, ValueError, KeyError):
            continue
    return unit_costs(results)


def probe_costs(config: Any, shape: tuple[int, ...], train_per_class: list[int],
                n_classes: int, methods: Iterable[str] | None = None) -> dict[str, float]:
    """Seconds per unit of each method (:func:`probe_parts` added up).

    Examples
    --------
    >>> from gda_core.experiments import ClassifierConfig, CompareConfig
    >>> config = CompareConfig(methods=("baseline", "smote"),
    ...                        classifier=ClassifierConfig(epochs=1, width=8))
    >>> sorted(probe_costs(config, (1, 8, 8), [60, 12], 2))
    ['baseline', 'smote']
    """
    return {method: sum(parts.values()) for method, parts in
            probe_parts(config, shape, train_per_class, n_classes, methods).items()}


def probe_parts(config: Any, shape: tuple[int, ...], train_per_class: list[int],
                n_classes: int, methods: Iterable[str] | None = None
                ) -> dict[str, dict[str, float]]:
    """Seconds per unit of each method of ``config`` predicted by a short probe, for
    methods no earlier unit on this machine tells about: ``{"resample": ..., "train":
    ...}``, the oversampler's part and the classifier's.

    A GAN's fit costs its steps times one step measured here
    (:meth:`gda_core.synthesizers.base.GANSynthesizer.fit_cost`); the classifier costs
    its epochs' steps likewise (:meth:`gda_core.classifiers.CNNClassifier.fit_cost`, at
    most: early stopping ends sooner); the other oversamplers (SMOTE, augmentation) take
    seconds and count as nothing.  The steps are timed once per machine and shape, so
    this takes seconds the first time and milliseconds after.  A method whose cost cannot
    be predicted this way (the three-player models, an ensemble classifier) is left out.

    Parameters
    ----------
    config : CompareConfig
    shape : (C, H, W)
    train_per_class : list of int
        Real training images per class of one unit (before the validation part is taken).
    n_classes : int
    methods : iterable of str, optional
        The methods to probe (default: every method of ``config``).
    """
    from gda_core.classifiers import make_classifier
    from gda_core.errors import GDAError
    from gda_core.experiments.config import BASELINE
    from gda_core.oversampling import make_oversampler

    keep = 1.0 - float(config.classifier.val_fraction)
    n_val = int(sum(train_per_class) * (1 - keep))
    n_real = max(2, int(sum(train_per_class) * keep))
    n_balanced = max(2, int(n_classes * max(train_per_class) * keep))
    clf = make_classifier(config.classifier, 0)
    if not hasattr(clf, "fit_cost"):
        return {}
    train_real = clf.fit_cost(shape, n_real, n_classes, n_val).seconds
    train_balanced = clf.fit_cost(shape, n_balanced, n_classes, n_val).seconds
    out: dict[str, dict[str, float]] = {}
    for method in config.methods if methods is None else methods:
        if method == BASELINE:
            out[method] = {"resample": 0.0, "train": train_real}
            continue
        sampler = make_oversampler(method, random_state=0,
                                   **config.method_params.get(method, {}))
        if getattr(sampler, "uses_own_classifier", False):
            continue
        over = 0.0
        if hasattr(sampler, "fit_cost"):
            counts = [max(1, int(n * keep)) for n in train_per_class]
            try:
                over = float(sampler.fit_cost(shape, counts).seconds)
            except GDAError:  # a model whose cost is not predictable this way
                continue
        out[method] = {"resample": over, "train": train_balanced}
    return out


def estimate_comparison(config: Any, splits: Any, costs: Iterable[UnitCost] = (), *,
                        probe: bool = True) -> tuple[Estimate, int]:
    """A comparison's predicted wall time here, before it runs, and its units per method.

    Earlier units of the same method and image shape (``costs``, e.g. :func:`store_costs`)
    where there are some, else a short probe (:func:`probe_costs`, unless ``probe`` is
    False).

    Parameters
    ----------
    config : CompareConfig
    splits : DatasetSplits
        The data as loaded (the protocol and the fold sizes come from it).
    costs : iterable of UnitCost
    probe : bool

    Raises
    ------
    ConfigError, DatasetError
        The data cannot give the protocol asked for (as the comparison would say).
    """
    from gda_core.experiments.compare import plan_units

    plan, pool, _ = plan_units(config, splits)
    shape = tuple(int(s) for s in splits.train.images.shape[1:])
    units = (plan.folds if plan.kind == "cv" else 1) * len(config.seeds)
    keep = 1.0 - float(config.classifier.val_fraction)
    per_class = list(plan.train_per_class)
    n_real = int(sum(per_class) * keep)
    n_balanced = int(len(per_class) * max(per_class) * keep)
    costs = list(costs)
    known = {c.method for c in costs if c.shape == shape}
    missing = [m for m in config.methods if m not in known]
    probed = (probe_costs(config, shape, per_class, len(pool.class_names), missing)
              if probe and missing else {})
    return estimate_seconds(config.methods, units, n_real, n_balanced, shape, costs,
                            probed), units
