"""Training losses for imbalanced classification: (weighted) cross-entropy and focal loss.

The FER report compares three criteria for the same network:

* ``"cross-entropy"``: plain softmax cross-entropy;
* ``"weighted-cross-entropy"``: cross-entropy with per-class weights inversely proportional
  to the class frequency (:func:`class_weights`, scikit-learn's ``"balanced"`` rule);
* ``"focal"``: the focal loss of Lin et al. (2017), which down-weights well-classified
  samples by ``(1 - p_t) ** gamma``.

Examples
--------
>>> import torch
>>> loss_fn = make_loss("focal", labels=[0, 0, 0, 1], n_classes=2, gamma=2.0)
>>> round(float(loss_fn(torch.zeros(2, 2), torch.tensor([0, 1]))), 4)  # 0.25 * log 2
0.1733
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from numbers import Real
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from gda_core.errors import ConfigError

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
"""``loss_fn(logits (N, K) float, targets (N,) int64) -> scalar tensor``."""

CLASSIFIER_LOSSES: tuple[str, ...] = ("cross-entropy", "weighted-cross-entropy", "focal")
"""Names accepted by :func:`make_loss` (and by ``CNNClassifier(loss=...)``)."""

LOSS_LABELS: dict[str, str] = {
    "cross-entropy": "Cross-entropy",
    "weighted-cross-entropy": "Class-weighted cross-entropy",
    "focal": "Focal loss",
}
"""Display name of every loss in :data:`CLASSIFIER_LOSSES`."""

_REDUCTIONS = ("mean", "sum", "none")
_FLOOR = 1e-12


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 2.0,
               alpha: float | Sequence[float] | torch.Tensor | None = None,
               reduction: str = "mean") -> torch.Tensor:
    """Softmax focal loss, ``FL = -alpha_t * (1 - p_t) ** gamma * log(p_t)`` (Lin et al. 2017).

    ``p_t`` is the softmax probability of the true class.  With ``gamma=0`` and
    ``alpha=None`` this is exactly the cross-entropy (``F.cross_entropy``).

    Parameters
    ----------
    logits : Tensor, shape (N, K)
        Unnormalised scores.
    targets : Tensor of int64, shape (N,)
        True class indices in ``0 .. K - 1``.
    gamma : float, >= 0
        Focusing parameter; larger values down-weight easy (confident) samples more.
    alpha : float, sequence of K floats, Tensor of shape (K,), or None
        Class balancing factor ``alpha_t``: ``None`` means 1 for every sample, a float is
        the same factor for every sample, and a vector gives the factor of each class
        (``alpha_t = alpha[target]``), e.g. :func:`class_weights`.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` is the plain mean over the N samples (it is *not* divided by the sum of
        the ``alpha_t`` as ``F.cross_entropy(weight=...)`` does); ``"none"`` returns the
        N per-sample losses.

    Returns
    -------
    Tensor
        A scalar, or shape (N,) with ``reduction="none"``.

    Examples
    --------
    >>> logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]])
    >>> targets = torch.tensor([0, 1])
    >>> p = torch.softmax(logits, 1)[[0, 1], targets]           # p_t: 0.8808, 0.5
    >>> by_hand = (-(1 - p) ** 2 * torch.log(p)).mean()
    >>> torch.allclose(focal_loss(logits, targets, gamma=2.0), by_hand)
    True
    >>> torch.allclose(focal_loss(logits, targets, gamma=0.0),
    ...                F.cross_entropy(logits, targets))
    True
    """
    _check_gamma(gamma)
    if reduction not in _REDUCTIONS:
        raise ConfigError(f"reduction must be one of {', '.join(_REDUCTIONS)}; "
                          f"got {reduction!r}")
    if logits.ndim != 2 or targets.ndim != 1 or logits.shape[0] != targets.shape[0]:
        raise ConfigError(f"logits must have shape (N, K) and targets (N,); got "
                          f"{tuple(logits.shape)} and {tuple(targets.shape)}")
    log_p = F.log_softmax(logits, dim=1).gather(1, targets.long().unsqueeze(1)).squeeze(1)
    loss = -log_p
    if gamma:
        # (1 - p_t) ** gamma with 1 - p_t = -expm1(log p_t) (accurate for p_t near 1).  The
        # floor keeps the gradient finite when p_t rounds to 1 (x ** gamma has an infinite
        # slope at 0 for gamma < 1); the loss there is ~0 either way.
        loss = loss * (-torch.expm1(log_p)).clamp(min=_FLOOR).pow(gamma)
    if alpha is not None:
        loss = loss * _alpha_t(alpha, targets, logits)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def class_weights(labels: Any, n_classes: int) -> np.ndarray:
    """Inverse-frequency class weights, ``n_samples / (n_present * count[c])``.

    This is scikit-learn's ``compute_class_weight("balanced")``: a minority class with
    half as many images gets twice the weight, and the average weight over the training
    *samples* is 1 (the total weight stays ``n_samples``).  Classes of ``0 .. n_classes - 1``
    absent from ``labels`` get weight 0 (they are never a target); ``n_present`` counts
    the classes that do occur.

    Parameters
    ----------
    labels : array-like of int, shape (N,)
        Training labels in ``0 .. n_classes - 1``.
    n_classes : int
        Length of the returned vector.

    Returns
    -------
    ndarray of float64, shape (n_classes,)

    Examples
    --------
    >>> class_weights([0, 0, 0, 1], n_classes=2)            # 4 / (2 * 3), 4 / (2 * 1)
    array([0.66666667, 2.        ])
    >>> class_weights([0, 0, 2, 2], n_classes=3)
    array([1., 0., 1.])
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, int | np.integer) \
            or n_classes < 1:
        raise ConfigError(f"n_classes must be a positive integer; got {n_classes!r}")
    y = np.asarray(labels)
    if y.ndim != 1 or y.size == 0:
        raise ConfigError("class weights need a non-empty one-dimensional array of labels")
    if not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() >= n_classes:
        raise ConfigError(f"labels must be integer class indices in 0..{n_classes - 1}")
    counts = np.bincount(y.astype(np.int64), minlength=int(n_classes)).astype(np.float64)
    present = counts > 0
    weights = np.zeros(int(n_classes), dtype=np.float64)
    weights[present] = y.size / (present.sum() * counts[present])
    return weights


def make_loss(name: str, labels: Any = None, n_classes: int | None = None,
              gamma: float = 2.0) -> LossFn:
    """The training criterion called ``name``, as ``loss_fn(logits, targets)``.

    Parameters
    ----------
    name : {"cross-entropy", "weighted-cross-entropy", "focal"}
    labels : array-like of int, optional
        Training labels; required by ``"weighted-cross-entropy"`` for its
        :func:`class_weights` (ignored otherwise).
    n_classes : int, optional
        Number of classes (default ``max(labels) + 1``).
    gamma : float
        Focusing parameter of ``"focal"`` (ignored otherwise).

    Returns
    -------
    callable
        ``loss_fn(logits, targets) -> scalar tensor``, a mean over the batch.  The
        weighted cross-entropy is ``F.cross_entropy(weight=w)``, i.e. normalised by the
        sum of the targets' weights; the focal loss uses no ``alpha``.

    Examples
    --------
    >>> logits, targets = torch.tensor([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0])
    >>> ce = make_loss("cross-entropy")
    >>> torch.allclose(ce(logits, targets), F.cross_entropy(logits, targets))
    True
    >>> wce = make_loss("weighted-cross-entropy", labels=[0, 0, 0, 1])
    >>> round(float(wce(logits, torch.tensor([0, 1]))), 4)  # (2/3 * .3133 + 2 * .3133) / (8/3)
    0.3133
    """
    if name not in CLASSIFIER_LOSSES:
        raise ConfigError(f"unknown loss {name!r}; choose from {', '.join(CLASSIFIER_LOSSES)}")
    if name == "cross-entropy":
        return _cross_entropy
    if name == "focal":
        _check_gamma(gamma)
        g = float(gamma)

        def _focal(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
            return focal_loss(logits, targets, gamma=g)

        return _focal
    if labels is None:
        raise ConfigError("the class-weighted cross-entropy needs the training labels")
    y = np.asarray(labels)
    if n_classes is None:
        n_classes = int(y.max()) + 1 if y.size else 1
    weight = torch.as_tensor(class_weights(y, n_classes), dtype=torch.float32)

    def _weighted(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits, targets, weight=weight.to(logits.device, logits.dtype))

    return _weighted


# ------------------------------------------------------------------- helpers
def _cross_entropy(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    return F.cross_entropy(logits, targets)


def _check_gamma(gamma: Any) -> None:
    ok = isinstance(gamma, Real) and not isinstance(gamma, bool) and math.isfinite(gamma)
    if not ok or gamma < 0:
        raise ConfigError(f"the focal loss gamma must be a number of at least 0; got {gamma!r}")


def _alpha_t(alpha: float | Sequence[float] | torch.Tensor, targets: torch.Tensor,
             logits: torch.Tensor) -> torch.Tensor | float:
    if isinstance(alpha, Real) and not isinstance(alpha, bool):
        return float(alpha)
    a = torch.as_tensor(alpha, dtype=logits.dtype, device=logits.device)
    if a.ndim != 1 or a.shape[0] != logits.shape[1]:
        raise ConfigError(f"alpha must be a number or one weight per class "
                          f"({logits.shape[1]}); got shape {tuple(a.shape)}")
    return a[targets.long()]
