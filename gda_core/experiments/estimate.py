"""How long a comparison will take, from what its units cost on this machine before.

Every finished unit of a comparison records its seconds (``MethodRun.seconds``: the
oversampler's fit, the classifier's training, the quality gate) and how many images the
classifier trained on.  :func:`unit_costs` reads them back from the run store's recent
comparisons; :func:`estimate_seconds` predicts a new comparison from them, per method:
the median oversampling time of earlier units on images of the same shape (a GAN's cost
follows its steps, not the number of images), plus the classifier's time scaled by the
number of training images.  A method never run here on images of that shape is named as
unknown rather than guessed.
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
    """

    seconds: float
    per_method: dict[str, float] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    n_measured: int = 0

    def text(self, units_per_method: int) -> str:
        """One line for people, e.g. "about 12 min (from 23 earlier units on this
        machine); not measured here yet: DCGAN"."""
        if math.isnan(self.seconds):
            return ("no estimate yet: none of these methods has run here on images of this "
                    "size")
        minutes = self.seconds / 60
        when = f"about {minutes:.0f} min" if minutes >= 1.5 else f"about {self.seconds:.0f} s"
        text = f"{when} (from {self.n_measured} earlier units on this machine)"
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
                out.append(UnitCost(run.method, shape, dict(run.seconds), int(run.n_train)))
    return out


def _shape(result: ComparisonResult) -> tuple[int, ...]:
    for samples in result.real_samples.values():
        return tuple(np.asarray(samples).shape[1:])
    return ()


def estimate_seconds(methods: Iterable[str], units_per_method: int, n_real: int,
                     n_balanced: int, shape: tuple[int, ...],
                     costs: list[UnitCost]) -> Estimate:
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

    Examples
    --------
    >>> costs = [UnitCost("smote", (1, 8, 8), {"resample": 0.1, "train": 4.0}, 200)]
    >>> e = estimate_seconds(["smote", "dcgan"], 10, 100, 400, (1, 8, 8), costs)
    >>> round(e.seconds, 1), e.unknown
    (81.0, ['dcgan'])
    """
    per_method: dict[str, float] = {}
    unknown: list[str] = []
    used = 0
    for method in methods:
        mine = [c for c in costs if c.method == method and c.shape == tuple(shape)]
        if not mine:
            unknown.append(method)
            continue
        used += len(mine)
        fixed = float(np.median([sum(v for k, v in c.seconds.items() if k != "train")
                                 for c in mine]))
        rate = float(np.median([c.seconds.get("train", 0.0) / max(c.n_train, 1)
                                for c in mine]))
        per_method[method] = fixed + rate * (n_real if method == "baseline" else n_balanced)
    total = sum(per_method.values()) * units_per_method if per_method else math.nan
    return Estimate(total, per_method, unknown, used)


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
