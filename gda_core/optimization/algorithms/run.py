"""One pymoo run of a genetic algorithm on a case, shared by every GA runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from pymoo.optimize import minimize

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.elitist import ElitistArchive
from gda_core.optimization.algorithms.operators import variation
from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.problem import DualResponseProblem


def run_genetic(cls: type, case: DRSOCase, *, pop: int, gens: int, pc: float, pm: float,
                seed: int, progress: Callable[[float], None] | None = None,
                archive: bool = False, archive_size: int | None = None,
                **options: Any) -> np.ndarray:
    """Minimise the case with ``cls(pop_size=pop, ...)`` for ``gens`` generations.

    SBX and polynomial mutation at rates ``pc`` / ``pm``, duplicates eliminated, seeded.

    Parameters
    ----------
    cls : type
        A pymoo genetic algorithm class (``NSGA2``, ``FastSPEA2``, ``NPGA``, ...).
    case : DRSOCase
        The problem.
    pop, gens, pc, pm, seed : int, int, float, float, int
        Population size, generations, crossover and mutation rates, seed.
    progress : callable, optional
        Called with the fraction done after every generation.
    archive : bool
        Return the elitist archive (:class:`~.elitist.ElitistArchive`: the non-dominated
        union of every generation's population, capped) instead of the final population.
    archive_size : int, optional
        The archive's cap (default ``pop``); only with ``archive``.
    **options
        Passed to ``cls``.

    Returns
    -------
    numpy.ndarray
        Decision vectors: the final population's, or the archive's.

    Examples
    --------
    >>> from pymoo.algorithms.moo.nsga2 import NSGA2
    >>> from gda_core.optimization.cases import WELDING
    >>> run_genetic(NSGA2, WELDING, pop=10, gens=3, pc=0.5, pm=0.5, seed=1).shape
    (10, 2)
    >>> len(run_genetic(NSGA2, WELDING, pop=10, gens=3, pc=0.5, pm=0.5, seed=1,
    ...                 archive=True, archive_size=4))
    4
    """
    crossover, mutation = variation(pc, pm)
    if archive_size is not None and not archive:
        raise ConfigError("an archive size needs archive=True")
    recorder = ElitistArchive(pop if archive_size is None else archive_size) if archive else None
    algorithm = cls(pop_size=pop, crossover=crossover, mutation=mutation,
                    eliminate_duplicates=True, **options)

    def callback(alg: Any) -> None:
        if recorder is not None:
            recorder(alg)
        if progress is not None:
            progress(min(1.0, alg.n_gen / gens))

    res = minimize(DualResponseProblem(case), algorithm, ("n_gen", gens), seed=seed,
                   verbose=False, callback=callback)
    if recorder is not None:
        return np.atleast_2d(recorder.X)
    return np.atleast_2d(res.pop.get("X"))
