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
        self.filled: list[Front] = []  # gap fillers: part of the best-known front, not runs

    def add(self, front: Front) -> None:
        self.fronts.append(front)

    def extend(self, fronts) -> None:
        self.fronts.extend(fronts)

    def best_known(self) -> Front:
        """The non-dominated union of every archived front (and of the gap fillers)."""
        return merge_fronts(self.case, self.fronts + self.filled)

    def fill_gaps(self, *, sweep_points: int = 50, points: int = 8, rounds: int = 3,
                  seed: int = 1) -> Front:
        """Find and sharpen the pieces of a disconnected front, cheaply (no restarts).

        An eps-constraint sweep over the whole F1 range (once per archive) finds pieces a
        GA population missed; then, ``rounds`` times, ``points`` eps values spread inside
        each gap between consecutive pieces find where the next piece really starts (an
        even sweep meets it only at its grid points).  The solutions are kept in
        :attr:`filled`: they join the best-known front but are not listed as runs.

        Returns the new best-known front.
        """
        from gda_core.optimization.algorithms.epsilon import epsilon_constraint

        def add(X: np.ndarray, label: str) -> None:
            front = Front.from_X(self.case, X, "eps", label=label) if len(X) else None
            if front is not None and len(front):  # (constraints may leave none)
                self.filled.append(front)

        if not self.filled:
            add(epsilon_constraint(self.case, n_points=sweep_points, seed=seed)[0],
                f"eps sweep ({sweep_points} points)")
        for r in range(rounds):
            best = self.best_known()
            if len(best) < 3:
                break
            gaps = sparse_steps(best)
            eps = [e for lo, hi in gaps for e in np.linspace(lo, hi, points + 2)[1:-1]]
            if not eps:
                break
            add(epsilon_constraint(self.case, eps_values=eps, seed=seed + r + 1)[0],
                f"gap fill, round {r + 1}")
        return self.best_known()

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
        self.fill_gaps(seed=seed)
        if progress is not None:
            progress(1.0, "front completed")
        return self.best_known()


def sparse_steps(front: Front, factor: float = 2.0, most: int = 4
                 ) -> list[tuple[float, float]]:
    """``(F1 before, F1 after)`` of the ``most`` longest steps between consecutive points
    (sorted by F1) that are longer than ``factor`` times the median step in normalised
    objective space: where a front is thin or broken, to be filled (a real gap stays empty
    however densely it is searched).

    Examples
    --------
    >>> import numpy as np
    >>> F = np.array([[0, 1.0], [0.1, 0.9], [0.2, 0.8], [0.7, 0.3], [0.8, 0.2]])
    >>> f = Front(np.zeros((5, 1)), F, F[:, 0], F[:, 1], "demo")
    >>> [(float(a), float(b)) for a, b in sparse_steps(f)]
    [(0.2, 0.7)]
    """
    if len(front) < 3:
        return []
    F = front.F[np.argsort(front.F[:, 0], kind="stable")]
    lo, hi = F.min(axis=0), F.max(axis=0)
    Z = (F - lo) / np.where(hi > lo, hi - lo, 1.0)
    steps = np.linalg.norm(np.diff(Z, axis=0), axis=1)
    wide = np.flatnonzero(steps > factor * float(np.median(steps)))
    wide = wide[np.argsort(-steps[wide], kind="stable")][:most]
    return [(float(F[i, 0]), float(F[i + 1, 0])) for i in sorted(wide)]


def pieces(front: Front, gap_factor: float = 5.0, min_gap: float = 0.03) -> list[np.ndarray]:
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
