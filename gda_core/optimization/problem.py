"""The dual response problem as a vectorised pymoo ``Problem``."""

from __future__ import annotations

import numpy as np
from pymoo.core.problem import Problem

from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.objectives import evaluate_case


def penalty_offset(case: DRSOCase, n: int = 4096, seed: int = 0) -> np.ndarray:
    """Per objective, twice the spread of ``F`` over a seeded sample of the box plus 1: added
    to an infeasible point's objectives, it makes every feasible point better in both.

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> bool((penalty_offset(WELDING) > 1).all())
    True
    """
    lo, hi = case.bounds
    rng = np.random.default_rng(seed)
    F = evaluate_case(case, lo + rng.random((n, case.k)) * (hi - lo))[0]
    return 2.0 * np.ptp(F, axis=0) + 1.0


class DualResponseProblem(Problem):
    """Minimise ``(F1(mean(x)), sd(x))`` over the case's box.

    A constrained case (sd cap, spec limits on the mean) is solved with a static penalty
    the same for every algorithm: an infeasible point's objectives are
    ``F + offset + violation`` (:func:`penalty_offset`), so feasible points dominate it and
    smaller violations are preferred; fronts then keep their feasible points only.

    Examples
    --------
    >>> import numpy as np
    >>> from gda_core.optimization.cases import WELDING
    >>> p = DualResponseProblem(WELDING)
    >>> p.evaluate(np.zeros((1, 2))).shape
    (1, 2)
    """

    def __init__(self, case: DRSOCase) -> None:
        lo, hi = case.bounds
        super().__init__(n_var=case.k, n_obj=2, n_ieq_constr=0, xl=lo, xu=hi,
                         vtype=float)
        self.case = case
        self.offset = penalty_offset(case) if case.constrained else None

    def _evaluate(self, x, out, *args, **kwargs) -> None:
        F, mean, sd = evaluate_case(self.case, x)
        if self.offset is not None:
            v = self.case.violation(mean, sd)
            bad = v > 0
            F[bad] += self.offset + v[bad, None]
        out["F"] = F
