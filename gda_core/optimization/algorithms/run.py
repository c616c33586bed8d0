"""One pymoo run of a genetic algorithm on a case, shared by every GA runner."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pymoo.optimize import minimize

from gda_core.optimization.algorithms.operators import variation
from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.problem import DualResponseProblem


def run_genetic(cls: type, case: DRSOCase, *, pop: int, gens: int, pc: float, pm: float,
                seed: int, progress: Callable[[float], None] | None = None,
                **options: Any) -> Any:
    """Minimise the case with ``cls(pop_size=pop, ...)`` for ``gens`` generations: SBX and
    polynomial mutation at rates ``pc`` / ``pm``, duplicates eliminated, seeded; returns
    pymoo's result (``result.algorithm`` is the algorithm after the last generation)."""
    crossover, mutation = variation(pc, pm)
    algorithm = cls(pop_size=pop, crossover=crossover, mutation=mutation,
                    eliminate_duplicates=True, **options)
    kwargs = {}
    if progress is not None:
        kwargs["callback"] = lambda alg: progress(min(1.0, alg.n_gen / gens))
    return minimize(DualResponseProblem(case), algorithm, ("n_gen", gens), seed=seed,
                    verbose=False, **kwargs)
