"""Dual response surface optimisation: response surfaces, multi-objective algorithms,
front metrics, a study runner and posterior-preference suggestions.

A case (:class:`DRSOCase`) has a mean and a standard-deviation surface over a box; its two
objectives, F1 (from the mean: off-target, smaller or larger) and F2 = sd, are minimised,
optionally under an sd cap and spec limits on the mean.  :mod:`.explorer` holds the Pareto
explorer's logic without a user interface (runs, tables, picks, natural units) and
:mod:`.multi` cases of k >= 2 responses solved by pymoo algorithms by name (NSGA-III).

Examples
--------
>>> from gda_core.optimization import CASES, solve, FrontArchive
>>> front = solve(CASES["welding"], "nsga2", pop=20, gens=10, seed=1)
>>> list(front.to_frame().columns)
['F1', 'F2', 'mean', 'sd', 'x1', 'x2']
"""

from gda_core.optimization.algorithms.registry import (
    ALGORITHMS,
    AlgorithmInfo,
    algorithm_label,
    solve,
)
from gda_core.optimization.archive import FrontArchive, pieces
from gda_core.optimization.cases import CASES, OBJECTIVE_TYPES, DRSOCase, get_case
from gda_core.optimization.data import ExperimentFit, fit_experiment
from gda_core.optimization.front import Front, merge_fronts, non_dominated
from gda_core.optimization.indicators import ObjectiveRanges, front_metrics
from gda_core.optimization.ranges import objective_ranges
from gda_core.optimization.study import STUDY_RATES, StudyConfig, StudyResult, run_study
from gda_core.optimization.surfaces import QuadraticSurface, fit_quadratic, term_names

__all__ = [
    "ALGORITHMS",
    "CASES",
    "OBJECTIVE_TYPES",
    "STUDY_RATES",
    "AlgorithmInfo",
    "DRSOCase",
    "ExperimentFit",
    "Front",
    "FrontArchive",
    "ObjectiveRanges",
    "QuadraticSurface",
    "StudyConfig",
    "StudyResult",
    "algorithm_label",
    "fit_experiment",
    "fit_quadratic",
    "front_metrics",
    "get_case",
    "merge_fronts",
    "non_dominated",
    "objective_ranges",
    "pieces",
    "run_study",
    "solve",
    "term_names",
]
