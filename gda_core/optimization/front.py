"""Fronts: the solutions an algorithm returns, non-dominated filtering and the archive."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.objectives import evaluate_case


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    """True when ``a`` is no worse than ``b`` everywhere and better somewhere (minimising)."""
    a, b = np.asarray(a), np.asarray(b)
    return bool(np.all(a <= b) and np.any(a < b))


def non_dominated(F: np.ndarray) -> np.ndarray:
    """Boolean mask of the rows of ``F`` that no other row dominates (duplicates kept once).

    Examples
    --------
    >>> non_dominated(np.array([[0, 1], [1, 0], [1, 1], [0, 1]])).tolist()
    [True, True, False, False]
    """
    F = np.asarray(F, dtype=float)
    n = len(F)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.lexsort(F.T[::-1])  # by F1, then F2
    keep = np.zeros(n, dtype=bool)
    if F.shape[1] == 2:
        best_f2 = np.inf
        last = None
        for i in order:
            f1, f2 = F[i]
            if f2 < best_f2:
                keep[i] = True
                best_f2 = f2
                last = (f1, f2)
            elif last is not None and f2 == best_f2 and f1 == last[0]:
                pass  # duplicate of a kept point
        return keep
    for i in order:  # general case, O(n^2)
        if not any(keep[j] and np.all(F[j] <= F[i]) for j in range(n)):
            keep[i] = True
    return keep


@dataclass
class Front:
    """Solutions of one run: decision vectors ``X``, objectives ``F`` and the responses.

    ``label`` names the run (e.g. ``"NSGA-II pop 100 seed 1"``), ``settings`` holds what
    produced it, ``seconds`` its wall time and ``n_evals`` the model evaluations used.
    """

    X: np.ndarray
    F: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    algorithm: str
    label: str = ""
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0
    n_evals: int = 0

    @classmethod
    def from_X(cls, case: DRSOCase, X: np.ndarray, algorithm: str, *,
               filter_dominated: bool = True, **kwargs) -> Front:
        """Evaluate ``X`` on the case, optionally keep only its non-dominated rows (of a
        constrained case, its feasible non-dominated rows)."""
        X = np.atleast_2d(np.asarray(X, dtype=float)).reshape(-1, case.k)
        if filter_dominated and case.constrained and len(X):
            _, mean, sd = evaluate_case(case, X)
            X = X[case.violation(mean, sd) <= 0]
        F = evaluate_case(case, X)[0]
        keep = non_dominated(F) if filter_dominated and len(F) else np.ones(len(F), bool)
        X = X[keep][np.argsort(F[keep, 0], kind="stable")]
        # evaluate the kept rows as they are stored: BLAS may round a row differently in a
        # batch of another size, and evaluate_case(case, front.X) must give front.F exactly
        F, mean, sd = evaluate_case(case, X)
        return cls(X, F, mean, sd, algorithm, **kwargs)

    def __len__(self) -> int:
        return len(self.F)

    def to_dict(self) -> dict:
        """JSON-ready form; :meth:`from_dict` reads it back exactly (floats as JSON numbers)."""
        settings = {str(k): v.item() if isinstance(v, np.generic) else v
                    for k, v in self.settings.items()}
        return {"k": int(self.X.shape[1]) if self.X.ndim == 2 else 0, "X": self.X.tolist(),
                "F": self.F.tolist(), "mean": self.mean.tolist(), "sd": self.sd.tolist(),
                "algorithm": self.algorithm, "label": self.label, "settings": settings,
                "seconds": float(self.seconds), "n_evals": int(self.n_evals)}

    @classmethod
    def from_dict(cls, d: dict) -> Front:
        """Inverse of :meth:`to_dict`."""
        X = np.asarray(d["X"], dtype=float).reshape(-1, int(d.get("k", 0)))
        return cls(X,
                   np.asarray(d["F"], dtype=float).reshape(-1, 2),
                   np.asarray(d["mean"], dtype=float), np.asarray(d["sd"], dtype=float),
                   d["algorithm"], label=d.get("label", ""), settings=dict(d.get("settings", {})),
                   seconds=float(d.get("seconds", 0.0)), n_evals=int(d.get("n_evals", 0)))

    def to_frame(self, variables: tuple[str, ...] | None = None) -> pd.DataFrame:
        """Columns ``F1, F2, mean, sd, x1..xk`` (or the case's variable names)."""
        names = variables or tuple(f"x{i + 1}" for i in range(self.X.shape[1]))
        df = pd.DataFrame({"F1": self.F[:, 0], "F2": self.F[:, 1], "mean": self.mean,
                           "sd": self.sd})
        for j, name in enumerate(names):
            df[name] = self.X[:, j]
        return df


def merge_fronts(case: DRSOCase, fronts, algorithm: str = "best-known") -> Front:
    """The non-dominated union of several fronts: the best-known front of a case."""
    fronts = [f for f in fronts if len(f)]
    if not fronts:
        return Front(np.zeros((0, case.k)), np.zeros((0, 2)), np.zeros(0), np.zeros(0),
                     algorithm, label=algorithm)
    X = np.vstack([f.X for f in fronts])
    return Front.from_X(case, X, algorithm, label=algorithm)
