"""The dual response problem as a vectorised pymoo ``Problem``."""

from __future__ import annotations

from pymoo.core.problem import Problem

from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.objectives import evaluate_case


class DualResponseProblem(Problem):
    """Minimise ``(F1(mean(x)), sd(x))`` over the case's box.

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

    def _evaluate(self, x, out, *args, **kwargs) -> None:
        out["F"] = evaluate_case(self.case, x)[0]
