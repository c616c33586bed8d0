"""More than two responses: k objectives from k response surfaces, solved by any of several
pymoo algorithms by name (NSGA-III by default), with picking rules that work for any k.

A :class:`MultiResponseCase` has ``k >= 2`` :class:`Response` surfaces over a box; each
response has a goal (``"min"``, ``"max"`` or ``"target"``) that turns it into an objective
to minimise (``y``, ``-y`` or ``|y - target|``).  The dual response problem is the case of
two responses (the mean on target and the sd minimised); :data:`MULTI_CASES` adds the
printing process with a third response, an illustrative running cost.

Examples
--------
>>> front = solve_multi(MULTI_CASES["printing-cost"], "nsga3", pop=24, gens=10, seed=1)
>>> front.F.shape[1], list(front.to_frame().columns)[:3]
(3, ['mean', 'sd', 'cost'])
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.operators import variation
from gda_core.optimization.cases import PRINTING
from gda_core.optimization.front import non_dominated
from gda_core.optimization.surfaces import QuadraticSurface

Goal = Literal["min", "max", "target"]
GOALS: dict[str, str] = {"min": "smaller is better: objective y",
                         "max": "larger is better: objective −y",
                         "target": "on target: objective |y − target|"}


@dataclass(frozen=True)
class Response:
    """One response surface and what is wanted of it.

    Parameters
    ----------
    name : str
        Short name (a column of the front's table).
    surface : QuadraticSurface
        The fitted surface.
    goal : {"min", "max", "target"}
        Smaller, larger or on target.
    target : float, optional
        The target (only for ``goal="target"``).
    """

    name: str
    surface: QuadraticSurface
    goal: Goal = "min"
    target: float | None = None

    def __post_init__(self) -> None:
        if self.goal not in GOALS:
            raise ConfigError(f"goal must be one of {', '.join(GOALS)}; got {self.goal!r}")
        if self.goal == "target" and (self.target is None or not np.isfinite(self.target)):
            raise ConfigError(f"response {self.name!r} is on target but has no finite target")

    def objective(self, y: np.ndarray) -> np.ndarray:
        """The objective (minimised) for response values ``y``."""
        y = np.asarray(y, float)
        if self.goal == "min":
            return y.copy()
        if self.goal == "max":
            return -y
        return np.abs(y - self.target)

    def objective_label(self) -> str:
        """``"sd"``, ``"−yield"`` or ``"|mean − 500|"``."""
        if self.goal == "min":
            return self.name
        if self.goal == "max":
            return f"−{self.name}"
        return f"|{self.name} − {self.target:g}|"


@dataclass(frozen=True)
class MultiResponseCase:
    """``k >= 2`` responses over a box, each an objective to minimise.

    Parameters
    ----------
    name : str
    responses : tuple of Response
    lower, upper : tuple of float
        Box bounds per variable.
    variables : tuple of str
        Names of the variables (default ``x1..``).
    description : str
    """

    name: str
    responses: tuple[Response, ...]
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    variables: tuple[str, ...] = ()
    description: str = ""

    def __post_init__(self) -> None:
        if len(self.responses) < 2:
            raise ConfigError("give at least two responses")
        k = self.responses[0].surface.k
        if any(r.surface.k != k for r in self.responses):
            raise ConfigError("every response surface needs the same variables")
        names = [r.name for r in self.responses]
        if len(set(names)) != len(names):
            raise ConfigError(f"response names must differ; got {', '.join(names)}")
        if not self.variables:
            object.__setattr__(self, "variables", tuple(f"x{i + 1}" for i in range(k)))
        if len(self.variables) != k or len(self.lower) != k or len(self.upper) != k:
            raise ConfigError(f"give one name and one lower and upper bound per variable ({k})")
        if not all(a < b for a, b in zip(self.lower, self.upper, strict=True)):
            raise ConfigError("every lower bound must be below its upper bound")

    @property
    def k(self) -> int:
        """Number of variables."""
        return self.responses[0].surface.k

    @property
    def n_obj(self) -> int:
        """Number of objectives (responses)."""
        return len(self.responses)

    def evaluate(self, X) -> tuple[np.ndarray, np.ndarray]:
        """``(F, Y)`` at the rows of ``X``: objectives (minimised) and response values."""
        X = np.atleast_2d(np.asarray(X, float)).reshape(-1, self.k)
        Y = np.column_stack([r.surface.predict(X) for r in self.responses]) if len(X) \
            else np.zeros((0, self.n_obj))
        F = np.column_stack([r.objective(Y[:, j]) for j, r in enumerate(self.responses)]) \
            if len(X) else np.zeros((0, self.n_obj))
        return F, Y


@dataclass
class MultiFront:
    """Non-dominated solutions of a k-objective run: ``X``, objectives ``F``, responses
    ``Y`` (columns in the case's response order), with what produced them."""

    X: np.ndarray
    F: np.ndarray
    Y: np.ndarray
    algorithm: str
    label: str = ""
    seconds: float = 0.0
    response_names: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.F)

    def to_frame(self) -> pd.DataFrame:
        """Columns: the responses, then the variables."""
        out = pd.DataFrame(self.Y, columns=list(self.response_names))
        for j, v in enumerate(self.variables):
            out[v] = self.X[:, j]
        return out


#: algorithm name -> (label, needs reference directions)
MULTI_ALGORITHMS: dict[str, tuple[str, bool]] = {
    "nsga3": ("NSGA-III", True),
    "unsga3": ("U-NSGA-III", True),
    "moead": ("MOEA/D", True),
    "smsemoa": ("SMS-EMOA", False),
    "nsga2": ("NSGA-II", False),
    "spea2": ("SPEA2", False),
}


def reference_directions(n_obj: int, pop: int) -> np.ndarray:
    """Das-Dennis reference directions for ``n_obj`` objectives: the most partitions whose
    number of directions does not exceed ``pop`` (at least one partition).

    Examples
    --------
    >>> reference_directions(3, 100).shape
    (91, 3)
    """
    from math import comb

    from pymoo.util.ref_dirs import get_reference_directions

    p = 1
    while comb(p + 1 + n_obj - 1, n_obj - 1) <= pop:
        p += 1
    return get_reference_directions("das-dennis", n_obj, n_partitions=p)


def _algorithm(name: str, n_obj: int, pop: int, pc: float, pm: float):
    if name not in MULTI_ALGORITHMS:
        raise ConfigError(f"unknown algorithm {name!r}; choose from "
                          f"{', '.join(MULTI_ALGORITHMS)}")
    crossover, mutation = variation(pc, pm)
    common = {"crossover": crossover, "mutation": mutation}
    if name == "nsga3":
        from pymoo.algorithms.moo.nsga3 import NSGA3

        return NSGA3(reference_directions(n_obj, pop), pop_size=pop,
                     eliminate_duplicates=True, **common)
    if name == "unsga3":
        from pymoo.algorithms.moo.unsga3 import UNSGA3

        return UNSGA3(reference_directions(n_obj, pop), pop_size=pop,
                      eliminate_duplicates=True, **common)
    if name == "moead":
        from pymoo.algorithms.moo.moead import MOEAD

        return MOEAD(reference_directions(n_obj, pop), n_neighbors=min(15, pop - 1),
                     **common)
    if name == "smsemoa":
        from pymoo.algorithms.moo.sms import SMSEMOA

        return SMSEMOA(pop_size=pop, eliminate_duplicates=True, **common)
    if name == "nsga2":
        from pymoo.algorithms.moo.nsga2 import NSGA2

        return NSGA2(pop_size=pop, eliminate_duplicates=True, **common)
    from pymoo.algorithms.moo.spea2 import SPEA2

    return SPEA2(pop_size=pop, eliminate_duplicates=True, **common)


def solve_multi(case: MultiResponseCase, algorithm: str = "nsga3", *, pop: int = 92,
                gens: int = 200, pc: float = 0.9, pm: float = 0.5, seed: int = 1,
                progress: Callable[[float], None] | None = None) -> MultiFront:
    """Solve a k-objective case with a pymoo algorithm named in :data:`MULTI_ALGORITHMS`.

    NSGA-III, U-NSGA-III and MOEA/D use Das-Dennis reference directions sized to ``pop``
    (:func:`reference_directions`).  SBX and polynomial mutation at rates ``pc`` / ``pm``;
    seeded, so the same arguments give the same front.  Returns the non-dominated points
    of the final population (sorted by the first objective).
    """
    from pymoo.core.problem import Problem
    from pymoo.optimize import minimize

    if int(pop) != pop or pop < 4:
        raise ConfigError(f"the population must be a whole number of at least 4, got {pop}")
    if int(gens) != gens or gens < 1:
        raise ConfigError(f"generations must be at least 1, got {gens}")
    if seed < 0:
        raise ConfigError(f"the seed must be at least 0; got {seed}")
    alg = _algorithm(algorithm, case.n_obj, int(pop), pc, pm)

    class _Problem(Problem):
        def __init__(self) -> None:
            super().__init__(n_var=case.k, n_obj=case.n_obj, xl=np.asarray(case.lower, float),
                             xu=np.asarray(case.upper, float), vtype=float)

        def _evaluate(self, x, out, *args, **kwargs) -> None:
            out["F"] = case.evaluate(x)[0]

    def callback(a) -> None:
        if progress is not None:
            progress(min(1.0, a.n_gen / gens))

    t0 = time.perf_counter()
    res = minimize(_Problem(), alg, ("n_gen", int(gens)), seed=int(seed), verbose=False,
                   callback=callback)
    seconds = time.perf_counter() - t0
    X = np.atleast_2d(res.pop.get("X"))
    F, _ = case.evaluate(X)
    keep = non_dominated(F)
    X = X[keep]
    X = X[np.argsort(case.evaluate(X)[0][:, 0], kind="stable")]
    F, Y = case.evaluate(X)
    label = f"{MULTI_ALGORITHMS[algorithm][0]} pop {pop} gens {gens} seed {seed}"
    return MultiFront(X, F, Y, algorithm, label, seconds,
                      tuple(r.name for r in case.responses), case.variables)


def normalised(F: np.ndarray) -> np.ndarray:
    """``F`` scaled to [0, 1] per column by the front's own ideal and nadir."""
    F = np.atleast_2d(np.asarray(F, float))
    if not len(F):
        raise ConfigError("the front is empty: run an algorithm first")
    lo, hi = F.min(axis=0), F.max(axis=0)
    return (F - lo) / np.where(hi > lo, hi - lo, 1.0)


def compromise(F: np.ndarray) -> int:
    """Row nearest to the ideal point after normalisation (any number of objectives).

    Examples
    --------
    >>> compromise(np.array([[0.0, 1.0, 1.0], [0.4, 0.4, 0.4], [1.0, 0.0, 0.0]]))
    1
    """
    return int(np.argmin(np.linalg.norm(normalised(F), axis=1)))


def asf_k(F: np.ndarray, weights: Sequence[float]) -> int:
    """Row minimising the weighted Chebyshev achievement function ``max_j w_j Z_j`` of the
    normalised objectives ``Z`` (a larger weight asks for a smaller objective).

    Examples
    --------
    >>> asf_k(np.array([[0.0, 1.0, 1.0], [0.4, 0.4, 0.4], [1.0, 0.0, 0.0]]), [1, 1, 1])
    1
    """
    w = np.asarray(weights, float).ravel()
    Z = normalised(F)
    if w.shape != (Z.shape[1],) or not np.all(w > 0):
        raise ConfigError(f"give {Z.shape[1]} positive weights, one per objective")
    return int(np.argmin((Z * w).max(axis=1)))


COST = QuadraticSurface.from_coefficients([10.0, 2.0, 1.5, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0,
                                           0.0])
PRINTING_COST = MultiResponseCase(
    "printing-cost",
    (Response("mean", PRINTING.mean, "target", 500.0), Response("sd", PRINTING.sd, "min"),
     Response("cost", COST, "min")),
    PRINTING.lower, PRINTING.upper,
    description="Printing process (mean on target 500, sd smallest) with a third response, "
                "an illustrative running cost 10 + 2 x1 + 1.5 x2 + x3 (not from the study): "
                "faster, harder and farther costs more")
MULTI_CASES: dict[str, MultiResponseCase] = {PRINTING_COST.name: PRINTING_COST}
