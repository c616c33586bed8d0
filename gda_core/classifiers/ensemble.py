"""Soft voting over several AM-study CNNs trained with consecutive seeds."""

from __future__ import annotations

from numbers import Integral
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from gda_core.classifiers.trainer import CNNClassifier, EpochCallback
from gda_core.errors import ConfigError, GDAError


class SoftVotingEnsemble(ClassifierMixin, BaseEstimator):
    """Average of the class probabilities of ``n_members`` trained CNNs.

    Member ``i`` is ``CNNClassifier(**member_params, random_state=random_state + i)``, so
    members differ in their validation split, initial weights, dropout and batch order
    but see the same training images.

    Parameters
    ----------
    member_params : dict, optional
        Keyword arguments of every :class:`~gda_core.classifiers.CNNClassifier` (without
        ``random_state``).
    n_members : int, >= 1
    random_state : int or None
        Seed of the first member; None gives every member a fresh random seed.

    Attributes
    ----------
    members_ : list of CNNClassifier
    n_classes_ : int
    classes_ : ndarray of int64
    history_ : list of dict
        The members' epoch logs one after the other, each with a ``member`` index.

    Examples
    --------
    >>> ens = SoftVotingEnsemble(member_params={"epochs": 2}, n_members=3)
    >>> ens.fit(X, y).predict_proba(X_test).shape             # doctest: +SKIP
    (360, 10)
    """

    def __init__(self, *, member_params: dict[str, Any] | None = None, n_members: int = 3,
                 random_state: int | None = 0) -> None:
        self.member_params = member_params
        self.n_members = n_members
        self.random_state = random_state

    def fit(self, X: np.ndarray, y: np.ndarray, *, n_classes: int | None = None,
            callback: EpochCallback | None = None,
            validation: tuple[np.ndarray, np.ndarray] | None = None) -> SoftVotingEnsemble:
        """Train the members one after the other.

        ``callback(epoch, n_epochs, logs)`` counts epochs over all members (member ``i``'s
        epoch ``e`` is ``i * epochs + e`` of ``n_members * epochs``).  ``validation``
        (held-out real images) goes to every member's :meth:`CNNClassifier.fit`.
        """
        n = self.n_members
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
            raise ConfigError(f"an ensemble needs at least 1 member; got {n!r}")
        params = dict(self.member_params or {})
        if "random_state" in params:
            raise ConfigError("member_params must not hold random_state; the ensemble "
                              "seeds its members")
        members, history = [], []
        for i in range(int(n)):
            seed = None if self.random_state is None else int(self.random_state) + i
            member = CNNClassifier(**params, random_state=seed)
            member.fit(X, y, n_classes=n_classes, callback=_shifted(callback, i, member, n),
                       validation=validation)
            members.append(member)
            history += [{**logs, "member": i} for logs in member.history_]
        self.members_ = members
        self.n_classes_ = members[0].n_classes_
        self.classes_ = members[0].classes_
        self.history_ = history
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Mean of the members' probabilities, float64 of shape ``(N, n_classes_)``."""
        if not hasattr(self, "members_"):
            raise GDAError("the ensemble is not trained yet; call fit first")
        return np.mean([m.predict_proba(X) for m in self.members_], axis=0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class of every image under the averaged probabilities."""
        return self.predict_proba(X).argmax(axis=1).astype(np.int64)


def _shifted(callback: EpochCallback | None, i: int, member: CNNClassifier,
             n_members: int) -> EpochCallback | None:
    if callback is None:
        return None
    epochs = int(member.epochs)

    def report(epoch: int, n_epochs: int, logs: dict[str, float]) -> None:
        callback(i * epochs + epoch, n_members * epochs, {**logs, "member": i})

    return report
