"""The trained synthesizer's images judged against the real images of each class, at the
end of a training run (the Train page and ``python -m gda_core train``).

The training-history checks (:func:`~gda_core.synthesizers.diagnostics.diagnose`) see the
signals of the game; these see what came out of it:

* the quality gate of a comparison (:mod:`gda_core.metrics.gate`) on each class's samples:
  noise, unlike the real images, collapsed (near-identical or far less varied), copies;
* class coverage: the share of a class's synthesized images that the project's CNN (the
  feature extractor, when the run trains one) recognises as that class, beside its
  accuracy on the real images of the class.  A conditional GAN that stopped drawing a
  class (its "5"s look like "3"s) is caught here; the history cannot see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from gda_core.datasets import ImbalancedData
from gda_core.metrics.gate import gate_findings, gate_scores

MISSING_RATIO = 0.5
"""A class counts as missing when its images are recognised less than this times as often
as its real images are."""
MIN_SAMPLES = 64
"""Images drawn per class at least (as many as the class's real images when more)."""


def class_coverage(predicted: np.ndarray, intended: int, real_predicted: np.ndarray
                   ) -> tuple[float, float]:
    """Share of synthesized images recognised as ``intended``, and the same share for the
    class's real images (the classifier's own accuracy on it: the reference).

    Examples
    --------
    >>> class_coverage(np.array([3, 3, 5, 3]), 3, np.array([3, 3, 3, 5]))
    (0.75, 0.75)
    """
    fake = float(np.mean(np.asarray(predicted) == intended)) if len(predicted) else 0.0
    real = float(np.mean(np.asarray(real_predicted) == intended)) if len(
        real_predicted) else float("nan")
    return fake, real


def missing_class_message(name: str, fake: float, real: float, looks_like: str | None
                          ) -> str | None:
    """The warning for a class whose images are not recognised as it (``None`` if they
    are, or when the classifier cannot recognise the real ones either).

    Examples
    --------
    >>> missing_class_message("5", 0.03, 0.97, "3")[:39]
    "the images of class '5' are recognised "
    >>> missing_class_message("5", 0.9, 0.97, None) is None
    True
    """
    if not real > 0 or fake >= MISSING_RATIO * real:
        return None
    like = f"; most look like '{looks_like}'" if looks_like is not None else ""
    return (f"the images of class '{name}' are recognised as '{name}' by the project's CNN "
            f"only {fake:.0%} of the time (its real images: {real:.0%}){like}. The model "
            "does not draw this class: a synthetic set would add mislabelled images. Train "
            "longer, use per-class models (DCGAN) or balance the classes in each batch.")


def sample_findings(synth: Any, data: ImbalancedData, classes: Sequence[int], *,
                    extractor: Any | None = None, step: int = 0,
                    random_state: int = 0) -> list[dict[str, Any]]:
    """Warnings about the trained ``synth``'s images of each class in ``classes``.

    Parameters
    ----------
    synth : fitted synthesizer
        With ``sample(n, y)`` and ``classes_``.
    data : ImbalancedData
        The data it was trained on (``train`` images, ``class_names``,
        ``source_classes``).
    classes : sequence of int
        The classes to judge (those it learned).
    extractor : FeatureExtractor, optional
        The project's CNN trained on the source data (labels of the *source*): its
        features for the gate, its predictions for class coverage.  Without it the gate
        uses pixels and random features only, and class coverage is not judged.
    step : int
        The step the warnings are dated at (the end of training).
    random_state : int
        Seeds the gate's subsamples.

    Returns
    -------
    list of dict
        ``{"code", "message", "step", "class_label"}``, as training warnings are stored;
        codes ``noise``, ``unlike-real``, ``collapsed``, ``copies``, ``missing-class``.
    """
    out: list[dict[str, Any]] = []
    train = data.train
    learned = [int(c) for c in classes if int(c) in {int(k) for k in synth.classes_}]
    for c in learned:
        real = train.images[train.labels == c]
        if len(real) == 0:
            continue
        fake = synth.sample(max(MIN_SAMPLES, len(real)), y=c)
        name = data.class_names[c]
        scores = gate_scores(real, real, fake, extractor=extractor, random_state=random_state)
        for notice in gate_findings(scores, what=f"The images of class '{name}'"):
            out.append({"code": notice.code, "message": notice.message, "step": int(step),
                        "class_label": c})
        if extractor is not None:
            source = int(data.source_classes[c])
            predicted = extractor.predict(fake)
            fake_hit, real_hit = class_coverage(predicted, source, extractor.predict(real))
            looks_like = _most_common_other(predicted, source, data)
            message = missing_class_message(name, fake_hit, real_hit, looks_like)
            if message is not None:
                out.append({"code": "missing-class", "message": message, "step": int(step),
                            "class_label": c})
    return out


def _most_common_other(predicted: np.ndarray, source: int, data: ImbalancedData) -> str | None:
    """Name of the class most synthesized images were taken for, other than ``source``."""
    others = predicted[predicted != source]
    if len(others) == 0:
        return None
    label = int(np.bincount(others).argmax())
    by_source = {int(s): i for i, s in enumerate(data.source_classes)}
    return data.class_names[by_source[label]] if label in by_source else str(label)
