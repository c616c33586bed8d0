"""Advice for the few-data case, read off a comparison's own runs.

:func:`few_data_guidance` is a pure function of a :class:`ComparisonResult`: it says when
the baseline classifier never predicts a class (it learned to ignore it), and when a class
has too few real images for one of the chosen methods (each method's
:meth:`~gda_core.oversampling.base.ImageOversampler.advice`).  Findings are
``{"code", "message"}`` dicts, like the runs' warnings.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gda_core.experiments.config import BASELINE
from gda_core.experiments.result import ComparisonResult
from gda_core.notices import Notice
from gda_core.oversampling import OVERSAMPLERS


def few_data_guidance(result: ComparisonResult) -> list[dict[str, str]]:
    """Findings about classes with too few images (see the module docstring).

    Codes: ``"baseline-ignores-class"`` (the baseline's confusion matrix has an empty
    column for the class in some seed) and ``"too-few-images"`` (a method's advice for the
    class's count of real training images, after the validation hold-out).

    Examples
    --------
    >>> from gda_core.experiments import MethodRun
    >>> run = MethodRun("baseline", 0, {"f1_macro": 0.4}, [[5, 0], [5, 0]])
    >>> res = ComparisonResult({"method_params": {}}, ["ok", "defect"], [1], [0],
    ...                        [100, 5], [5, 5], runs=[run])
    >>> [g["code"] for g in few_data_guidance(res)]
    ['baseline-ignores-class']
    """
    found: list[Notice] = []
    names = result.class_names
    ignored: dict[int, list[int]] = {}
    folds = result.protocol.get("kind") == "cv"
    for run in result.runs_of(BASELINE):
        if not run.ok or not run.confusion_matrix:
            continue
        predicted = np.asarray(run.confusion_matrix).sum(axis=0)
        for c in np.flatnonzero(predicted == 0).tolist():
            ignored.setdefault(int(c), []).append(run.seed)
    n_units = sum(1 for r in result.runs_of(BASELINE) if r.ok)
    for c, seeds in sorted(ignored.items()):
        if folds:
            when = (f"in any of its {n_units} folds" if len(seeds) == n_units else
                    f"in {len(seeds)} of its {n_units} folds")
        else:
            when = ("in every seed" if len(seeds) == n_units and n_units > 1 else
                    f"with seed {', '.join(map(str, seeds))}")
        found.append(Notice("baseline-ignores-class", (
            f"The baseline classifier never predicted class {names[c]!r} {when}: with "
            f"{_count(result, c)} real training images it learned to ignore it, so its "
            "recall is 0 and every gain on that class comes from the oversampling. Check "
            "that the gain is not an artefact of noise images (see the quality gate).")))
    params: dict[str, Any] = result.config.get("method_params", {})
    for method in result.methods:
        cls = OVERSAMPLERS.get(method)
        if cls is None:
            continue
        for c in result.minority_classes:
            n = _count(result, c)
            text = cls.advice(n, params.get(method, {})) if n is not None else None
            if text:
                found.append(Notice("too-few-images", f"Class {names[c]!r}: {text}"))
    return [f.to_dict() for f in found]


def _count(result: ComparisonResult, c: int) -> int | None:
    """Real training images of class ``c`` the methods learned from (first run that says)."""
    for run in result.runs:
        counts = run.split_counts.get("train", {}).get("real")
        if counts:
            return int(counts[c])
    return int(result.train_counts[c]) if c < len(result.train_counts) else None
