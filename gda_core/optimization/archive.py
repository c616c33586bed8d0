"""The best-known front of a case: the archive of everything computed for it.

A single GA run often misses pieces of a disconnected front. The archive keeps every front
computed for a case, its non-dominated union is the reference for the metrics, and
:meth:`FrontArchive.complete` adds restarts and epsilon-constraint solutions to fill it in.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.front import Front, merge_fronts


class FrontArchive:
    """Fronts computed for one case, and their non-dominated union.

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> from gda_core.optimization.algorithms.registry import solve
    >>> archive = FrontArchive(WELDING)
    >>> archive.add(solve(WELDING, "nsga2", pop=20, gens=10))
    >>> len(archive.best_known()) > 0
    True
    """

    def __init__(self, case: DRSOCase) -> None:
        self.case = case
        self.fronts: list[Front] = []

    def add(self, front: Front) -> None:
        self.fronts.append(front)

    def extend(self, fronts) -> None:
        self.fronts.extend(fronts)

    def best_known(self) -> Front:
        """The non-dominated union of every archived front."""
        return merge_fronts(self.case, self.fronts)

    def complete(self, *, restarts: int = 3, eps_points: int = 60, seed: int = 1,
                 pop: int = 100, gens: int = 200,
                 progress: Callable[[float, str], None] | None = None) -> Front:
        """Fill in the best-known front: NSGA-II restarts with fresh seeds and a dense
        epsilon-constraint sweep (which finds pieces a GA population can miss).

        Returns the new best-known front; every run is kept in the archive.
        """
        from gda_core.optimization.algorithms.registry import solve

        jobs = [("nsga2", seed + 1000 + r) for r in range(restarts)] + [("eps", seed)]
        for i, (name, s) in enumerate(jobs):
            if progress is not None:
                progress(i / len(jobs), f"completing the front: {name} seed {s}")
            if name == "eps":
                self.add(solve(self.case, "eps", seed=s, n_points=eps_points))
            else:
                self.add(solve(self.case, name, pop=pop, gens=gens, pc=0.9, pm=1.0, seed=s))
        if progress is not None:
            progress(1.0, "front completed")
        return self.best_known()


def pieces(front: Front, gap_factor: float = 5.0, min_gap: float = 0.05) -> list[np.ndarray]:
    """Split a front (sorted by F1) into connected pieces.

    A gap is a step between consecutive points, in the front's normalised objective space,
    longer than ``gap_factor`` times the median step and than ``min_gap``. Returns the row
    indices of each piece.

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[0, 1.0], [0.05, 0.95], [0.1, 0.9], [0.9, 0.1], [0.95, 0.05]])
    >>> f = Front(np.zeros((5, 1)), F, F[:, 0], F[:, 1], "demo")
    >>> [p.tolist() for p in pieces(f)]
    [[0, 1, 2], [3, 4]]
    """
    n = len(front)
    if n < 3:
        return [np.arange(n)]
    F = front.F
    lo, hi = F.min(axis=0), F.max(axis=0)
    Z = (F - lo) / np.where(hi > lo, hi - lo, 1.0)
    order = np.argsort(Z[:, 0], kind="stable")
    steps = np.linalg.norm(np.diff(Z[order], axis=0), axis=1)
    cut = max(gap_factor * float(np.median(steps)), min_gap)
    breaks = np.flatnonzero(steps > cut) + 1
    return [order[p] for p in np.split(np.arange(n), breaks)]
