"""Algorithms by name, and :func:`solve`, which runs one of them on a case.

The registry feeds the Pareto page's choices, the CLI and the contract tests.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.elitist import check_archive_size
from gda_core.optimization.algorithms.epsilon import run_epsilon
from gda_core.optimization.algorithms.npga import run_npga
from gda_core.optimization.algorithms.run import run_genetic
from gda_core.optimization.algorithms.spea2_fast import FastSPEA2
from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.front import Front

Progress = Callable[[float], None]


@dataclass(frozen=True)
class AlgorithmInfo:
    """An algorithm the explorer can run: label for the UI, a description, and the runner
    ``run(case, pop, gens, pc, pm, seed, progress, **options) -> X`` (decision vectors)."""

    name: str
    label: str
    description: str
    run: Callable[..., np.ndarray]
    genetic: bool = True  # uses pop / gens / pc / pm


def pymoo_runner(cls: type) -> Callable[..., np.ndarray]:
    """A registry runner for a pymoo genetic algorithm class: its final population, or with
    ``archive=True`` the elitist archive (see
    :func:`~gda_core.optimization.algorithms.run.run_genetic`).

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> pymoo_runner(NSGA2)(WELDING, pop=8, gens=2, pc=0.5, pm=0.5, seed=1).shape
    (8, 2)
    """
    def run(case: DRSOCase, *, pop: int, gens: int, pc: float, pm: float, seed: int,
            progress: Progress | None = None, **options) -> np.ndarray:
        return run_genetic(cls, case, pop=pop, gens=gens, pc=pc, pm=pm, seed=seed,
                           progress=progress, **options)
    return run


ALGORITHMS: dict[str, AlgorithmInfo] = {
    "nsga2": AlgorithmInfo("nsga2", "NSGA-II", "non-dominated sorting with crowding distance "
                           "(Deb et al. 2002; pymoo)", pymoo_runner(NSGA2)),
    "spea2": AlgorithmInfo("spea2", "SPEA2", "strength Pareto with an archive and density "
                           "truncation (Zitzler et al. 2001; pymoo's SPEA2 with a vectorised "
                           "archive truncation)", pymoo_runner(FastSPEA2)),
    "npga": AlgorithmInfo("npga", "NPGA", "niched Pareto tournaments with a comparison set "
                          "and fitness sharing (Horn et al. 1994); no archive, the final "
                          "population is the output",
                          run_npga),
    "eps": AlgorithmInfo("eps", "epsilon-constraint", "minimise sd subject to F1 <= eps over "
                         "an even grid of eps, multi-start SLSQP (not genetic)", run_epsilon,
                         genetic=False),
}


def algorithm_label(name: str, archive: bool = False) -> str:
    """The name tables and charts show: the algorithm's label, with " + archive" when it ran
    with the elitist archive option.

    Examples
    --------
    >>> algorithm_label("npga"), algorithm_label("nsga2", archive=True)
    ('NPGA', 'NSGA-II + archive')
    """
    label = ALGORITHMS[name].label if name in ALGORITHMS else name
    return f"{label} + archive" if archive else label


def check_settings(pop: int, gens: int) -> None:
    if pop < 4:
        raise ConfigError(f"population size must be at least 4, got {pop}")
    if gens < 1:
        raise ConfigError(f"generations must be at least 1, got {gens}")


def solve(case: DRSOCase, algorithm: str = "nsga2", *, pop: int = 100, gens: int = 200,
          pc: float = 0.5, pm: float = 0.5, seed: int = 1,
          progress: Progress | None = None, archive: bool = False,
          archive_size: int | None = None, **options) -> Front:
    """Run one algorithm on a case and return its non-dominated solutions.

    Same arguments and seed give the same front.

    Parameters
    ----------
    case : DRSOCase
        The problem.
    algorithm : str
        A key of :data:`ALGORITHMS`.
    pop, gens, pc, pm : int, int, float, float
        Population size, generations, crossover and mutation rates (genetic algorithms).
    seed : int
        Seed (at least 0).
    progress : callable, optional
        Called with the fraction done.
    archive : bool
        The elitist archive option, the same for every genetic algorithm: the output is the
        non-dominated union of every generation's population, capped at ``archive_size``
        (default ``pop``), instead of the final population
        (:mod:`~gda_core.optimization.algorithms.elitist`).  The label says
        "+ archive".  Ignored by the epsilon-constraint method (not a population method: it
        keeps every solution it finds already).
    archive_size : int, optional
        The archive's cap; only with ``archive``.
    **options
        Algorithm-specific options (e.g. NPGA's ``t_dom``, epsilon's ``n_points``).

    Returns
    -------
    Front
        The non-dominated solutions, sorted by F1; ``settings`` records what produced them
        (``archive`` and ``archive_size`` only when the archive was used).

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> front = solve(WELDING, "nsga2", pop=20, gens=10, seed=1)
    >>> front.F.shape[1], len(front) <= 20
    (2, True)
    >>> solve(WELDING, "npga", pop=20, gens=10, seed=1, archive=True).label
    'NPGA + archive pop 20 pc 0.5 pm 0.5 seed 1'
    """
    if algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {algorithm!r}; choose from "
                          f"{', '.join(ALGORITHMS)}")
    info = ALGORITHMS[algorithm]
    if info.genetic:
        check_settings(pop, gens)
    if seed < 0:
        raise ConfigError(f"the seed must be at least 0; got {seed}")
    archive = bool(archive) and info.genetic
    extra: dict = {}
    if archive:
        extra = {"archive": True,
                 "archive_size": check_archive_size(pop if archive_size is None
                                                    else archive_size)}
    elif archive_size is not None and info.genetic:
        raise ConfigError("an archive size needs archive=True")
    t0 = time.perf_counter()
    X = info.run(case, pop=pop, gens=gens, pc=pc, pm=pm, seed=seed, progress=progress,
                 **extra, **options)
    seconds = time.perf_counter() - t0
    settings = {"algorithm": algorithm, "pop": pop, "gens": gens, "pc": pc, "pm": pm,
                "seed": seed, **extra, **options}
    name = algorithm_label(algorithm, archive)
    label = (f"{name} pop {pop} pc {pc:g} pm {pm:g} seed {seed}" if info.genetic
             else f"{name} seed {seed}")
    return Front.from_X(case, X, algorithm, label=label, settings=settings, seconds=seconds,
                        n_evals=pop * gens if info.genetic else 0)
