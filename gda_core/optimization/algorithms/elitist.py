"""The elitist archive option that applies to every genetic algorithm alike.

With ``archive=True`` (:func:`gda_core.optimization.algorithms.registry.solve`) a run returns,
instead of its final population, the **non-dominated union of every generation's
population** (the initial one included), capped at ``archive_size`` points (default: the
population size).  The rule is the same for every algorithm: after each generation the
archive is merged with the population, dominated points and duplicates are dropped, and when
more than ``archive_size`` points remain the archive is truncated like SPEA2's archive
(Zitzler, Laumanns & Thiele 2001: repeatedly remove the point whose sorted distances to the
others are lexicographically smallest), in objective space normalised by the per-objective
range of the points being truncated.  Everything is deterministic, so a seeded run gives the
same archive.

The archive only records: it never feeds back into selection, so the algorithm itself runs
exactly as without it.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.spea2_fast import pairwise_distances, truncate_by_distance
from gda_core.optimization.front import non_dominated


def normalise(F: np.ndarray) -> np.ndarray:
    """Objectives scaled to ``[0, 1]`` by their per-column range (a constant column gives 0).

    Parameters
    ----------
    F : numpy.ndarray
        Objective vectors, one per row.

    Returns
    -------
    numpy.ndarray
        ``(F - min) / (max - min)`` per column.

    Examples
    --------
    >>> normalise(np.array([[0.0, 5.0], [2.0, 5.0], [1.0, 5.0]])).tolist()
    [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]]
    """
    F = np.asarray(F, dtype=float)
    lo = F.min(axis=0)
    span = F.max(axis=0) - lo
    return (F - lo) / np.where(span > 0, span, 1.0)


def nd_mask(F: np.ndarray) -> np.ndarray:
    """Rows of ``F`` that no other row dominates, duplicates kept once.

    The rule of :func:`gda_core.optimization.front.non_dominated`, vectorised for two
    objectives.

    Parameters
    ----------
    F : numpy.ndarray
        Objective vectors (minimised), one per row.

    Returns
    -------
    numpy.ndarray
        Boolean mask over the rows.

    Examples
    --------
    >>> nd_mask(np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]])).tolist()
    [True, True, False, False]
    """
    F = np.asarray(F, dtype=float)
    keep = np.zeros(len(F), dtype=bool)
    if len(F) == 0:
        return keep
    if F.shape[1] != 2:
        return non_dominated(F)
    order = np.lexsort(F.T[::-1])
    f2 = F[order, 1]
    best_before = np.concatenate([[np.inf], np.minimum.accumulate(f2)[:-1]])
    keep[order[f2 < best_before]] = True
    return keep


def check_archive_size(size: int) -> int:
    """``size`` as an int, or :class:`~gda_core.errors.ConfigError` when below 1.

    Examples
    --------
    >>> check_archive_size(5)
    5
    """
    if int(size) != size or size < 1:
        raise ConfigError(f"the archive size must be at least 1, got {size}")
    return int(size)


class ElitistArchive:
    """Non-dominated union of the populations it is shown, capped at ``size`` points.

    Use it as a pymoo callback (it is called with the algorithm after every generation and
    records ``algorithm.pop``) or call :meth:`update` directly.

    Parameters
    ----------
    size : int
        The cap (at least 1).

    Examples
    --------
    >>> a = ElitistArchive(size=2)
    >>> a.update(np.zeros((3, 1)), np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 2.0]]))
    >>> a.update(np.ones((2, 1)), np.array([[2.0, 0.0], [0.0, 2.0]]))
    >>> a.F.tolist()  # (1, 1) is dropped by the truncation: the ends are kept
    [[0.0, 2.0], [2.0, 0.0]]
    """

    def __init__(self, size: int) -> None:
        self.size = check_archive_size(size)
        self.X: np.ndarray | None = None
        self.F: np.ndarray | None = None

    def update(self, X: np.ndarray, F: np.ndarray) -> None:
        """Merge the points ``(X, F)`` in: keep the non-dominated ones, then truncate.

        Parameters
        ----------
        X : numpy.ndarray
            Decision vectors, one per row.
        F : numpy.ndarray
            Their objective vectors.
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        F = np.atleast_2d(np.asarray(F, dtype=float))
        if self.X is not None:
            X, F = np.vstack([self.X, X]), np.vstack([self.F, F])
        keep = np.flatnonzero(nd_mask(F))
        if len(keep) > self.size:
            keep = keep[truncate_by_distance(pairwise_distances(normalise(F[keep])),
                                             self.size)]
        self.X, self.F = X[keep], F[keep]

    def __call__(self, algorithm: Any) -> None:
        """pymoo callback: record the algorithm's current population."""
        pop = algorithm.pop
        self.update(pop.get("X"), pop.get("F"))
