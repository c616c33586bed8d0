"""NPGA, the Niched Pareto Genetic Algorithm (Horn, Nafpliotis & Goldberg 1994), for pymoo.

Selection is a *Pareto domination tournament*: for each binary tournament a comparison set of
``t_dom`` individuals is drawn at random from the current population (the two candidates
excluded).  When exactly one candidate is dominated by some member of the set, the other one
wins.  Otherwise (both or neither dominated) the tie is broken by *equivalence class
sharing*: the candidate with the smaller niche count wins, and exact ties go to a random
candidate.  The niche count of ``i`` is ``m_i = sum_j sh(d_ij)`` with ``sh(d) = 1 - d /
sigma_share`` for ``d < sigma_share`` (else 0) and ``d`` the Euclidean distance in objective
space normalised by the current population's per-objective range.  As in Horn et al.'s
*continuously updated sharing*, ``j`` runs over the mating pool filled so far in this
generation (the winners of the earlier tournaments), so the pool spreads out along the front.

Replacement is generational (the offspring replace the population), as in the original,
non-elitist NPGA, and the output is the final population (the explorer keeps its
non-dominated points), as Horn et al. define it.  Like every genetic algorithm here, NPGA can
run with the elitist archive option (``solve(..., archive=True)``, see
:mod:`gda_core.optimization.algorithms.elitist`): then the output is the non-dominated union
of every generation's population, capped, by the same rule as for the others, and tables name
it "NPGA + archive".
"""

from __future__ import annotations

import numpy as np
from pymoo.algorithms.base.genetic import GeneticAlgorithm
from pymoo.core.population import Population
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.operators.sampling.rnd import FloatRandomSampling
from pymoo.operators.selection.tournament import TournamentSelection
from pymoo.termination.default import DefaultMultiObjectiveTermination
from pymoo.util.display.multi import MultiObjectiveOutput

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.elitist import normalise
from gda_core.optimization.algorithms.run import run_genetic
from gda_core.optimization.algorithms.spea2_fast import domination_matrix
from gda_core.optimization.cases import DRSOCase


def sharing_matrix(F_norm: np.ndarray, sigma_share: float,
                   reference: np.ndarray | None = None) -> np.ndarray:
    """``sh(d_ij) = max(0, 1 - d_ij / sigma_share)`` between the rows of ``F_norm`` and those of
    ``reference`` (default ``F_norm`` itself, so each row shares 1 with itself)."""
    A = np.asarray(F_norm, dtype=float)
    B = A if reference is None else np.asarray(reference, dtype=float)
    sq = np.zeros((len(A), len(B)))
    for a, b in zip(A.T, B.T, strict=True):
        d = a[:, None] - b
        sq += d * d
    return np.maximum(0.0, 1.0 - np.sqrt(sq) / sigma_share)


def niche_counts(F_norm: np.ndarray, sigma_share: float,
                 reference: np.ndarray | None = None) -> np.ndarray:
    """Niche count ``m_i = sum_j sh(d_ij)`` of each row of ``F_norm`` against the rows of
    ``reference`` (default: ``F_norm`` itself, the row's own 1 included).

    Examples
    --------
    >>> niche_counts(np.array([[0.0, 0.0], [0.05, 0.0], [1.0, 1.0]]), 0.1).tolist()
    [1.5, 1.5, 1.0]
    """
    return sharing_matrix(F_norm, sigma_share, reference).sum(axis=1)


def dominated_by_any(F_set: np.ndarray, f: np.ndarray) -> bool:
    """True when some row of ``F_set`` dominates ``f`` (minimising)."""
    F_set = np.asarray(F_set, dtype=float).reshape(-1, len(f))
    return bool(np.any(np.all(F_set <= f, axis=1) & np.any(F_set < f, axis=1)))


def tournament_winner(f_a: np.ndarray, f_b: np.ndarray, F_comp: np.ndarray, niche_a: float,
                      niche_b: float, random_state: np.random.Generator) -> int:
    """One niched Pareto tournament: ``0`` when candidate ``a`` wins, ``1`` when ``b`` wins.

    Parameters
    ----------
    f_a, f_b : the candidates' objective vectors
    F_comp : the comparison set's objective vectors, shape ``(t_dom, n_obj)``
    niche_a, niche_b : the candidates' niche counts
    random_state : breaks exact ties

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> tournament_winner([2, 2], [0, 3], np.array([[1, 1]]), 0.0, 5.0, rng)  # a dominated
    1
    """
    dom_a = dominated_by_any(F_comp, np.asarray(f_a, dtype=float))
    dom_b = dominated_by_any(F_comp, np.asarray(f_b, dtype=float))
    return _decide(dom_a, dom_b, niche_a, niche_b, bool(random_state.random() < 0.5))


def _decide(dom_a: bool, dom_b: bool, niche_a: float, niche_b: float, coin: bool) -> int:
    if dom_a != dom_b:
        return 1 if dom_a else 0
    if niche_a != niche_b:
        return 0 if niche_a < niche_b else 1
    return 0 if coin else 1


def _objectives(pop) -> np.ndarray:
    return np.array([ind.F for ind in pop], dtype=float)


def comparison_sets(n: int, a: np.ndarray, b: np.ndarray, size: int,
                    random_state: np.random.Generator) -> np.ndarray:
    """For each tournament ``(a[t], b[t])``, ``size`` distinct random indices of ``range(n)``
    other than ``a[t]`` and ``b[t]``; shape ``(len(a), size)``."""
    T = len(a)
    if size <= 0:
        return np.zeros((T, 0), dtype=int)
    r = random_state.random((T, n - 2)).argsort(axis=1)[:, :size]
    lo, hi = np.minimum(a, b)[:, None], np.maximum(a, b)[:, None]
    r = r + (r >= lo)  # skip lo, then hi: a bijection from range(n - 2) onto the others
    return r + (r >= hi)


def niched_pareto_tournament(pop, P: np.ndarray, algorithm, random_state=None,
                             **kwargs) -> np.ndarray:
    """NPGA's selection for pymoo's ``TournamentSelection``: the winner of each row of ``P``.

    ``algorithm`` provides ``t_dom``, ``sigma_share`` and, when no ``random_state`` is
    passed, ``random_state``; the niche counts accumulate over
    the winners selected so far in the current generation (kept on the algorithm between
    the calls pymoo makes while it fills the offspring).
    """
    n_tournaments, n_parents = P.shape
    if n_parents != 2:
        raise ValueError("only binary tournaments are implemented")
    rng = random_state if random_state is not None else algorithm.random_state
    cache = getattr(algorithm, "_npga_cache", None)
    if cache is None or cache["pop"] is not pop:
        F = _objectives(pop)
        cache = {"pop": pop, "dom": domination_matrix(F),
                 "sh": sharing_matrix(normalise(F), algorithm.sigma_share),
                 "niche": np.zeros(len(F))}
        try:
            algorithm._npga_cache = cache
        except AttributeError:  # a read-only stub: no sharing across calls
            pass
    dom, sh, niche = cache["dom"], cache["sh"], cache["niche"]
    n = len(dom)

    a, b = P[:, 0].astype(int), P[:, 1].astype(int)
    size = min(int(algorithm.t_dom), n - 2)
    C = comparison_sets(n, a, b, size, rng)
    dom_a = dom[C, a[:, None]].any(axis=1)
    dom_b = dom[C, b[:, None]].any(axis=1)
    coins = rng.random(n_tournaments) < 0.5

    S = np.empty(n_tournaments, dtype=int)
    rows = zip(a.tolist(), b.tolist(), dom_a.tolist(), dom_b.tolist(), coins.tolist(),
               strict=True)
    for t, (ia, ib, da, db, coin) in enumerate(rows):
        w = (ia, ib)[_decide(da, db, niche[ia], niche[ib], coin)]
        S[t] = w
        niche += sh[w]  # the pool now holds w: update every individual's niche count
    return S[:, None]


class NPGA(GeneticAlgorithm):
    """Niched Pareto Genetic Algorithm (Horn, Nafpliotis & Goldberg 1994): niched Pareto
    tournaments, generational replacement, no archive; the final population is the output.

    Parameters
    ----------
    pop_size : int
        Population size (at least 4).
    t_dom : int, optional
        Comparison set size (default 10 % of ``pop_size``, at least 2).
    sigma_share : float
        Niche radius in objective space normalised to ``[0, 1]`` per objective.
    sampling, crossover, mutation : optional
        As for pymoo's NSGA2.
    **kwargs
        Passed to pymoo's ``GeneticAlgorithm`` (e.g. ``eliminate_duplicates``).

    Examples
    --------
    >>> NPGA(pop_size=50).t_dom
    5
    """

    def __init__(self, pop_size: int = 100, t_dom: int | None = None,
                 sigma_share: float = 0.1, sampling=None, crossover=None, mutation=None,
                 **kwargs) -> None:
        if pop_size < 4:
            raise ConfigError(f"population size must be at least 4, got {pop_size}")
        t_dom = max(2, round(0.1 * pop_size)) if t_dom is None else int(t_dom)
        if not 1 <= t_dom <= pop_size - 2:
            raise ConfigError(f"the comparison set size t_dom must be between 1 and the "
                              f"population size minus 2 ({pop_size - 2}), got {t_dom}")
        if not (np.isfinite(sigma_share) and sigma_share > 0):
            raise ConfigError(f"the niche radius sigma_share must be above 0, got "
                              f"{sigma_share:g}")
        super().__init__(
            pop_size=pop_size,
            sampling=FloatRandomSampling() if sampling is None else sampling,
            selection=TournamentSelection(func_comp=niched_pareto_tournament),
            crossover=SBX(eta=15, prob=0.9) if crossover is None else crossover,
            mutation=PM(eta=20) if mutation is None else mutation,
            survival=None,
            output=MultiObjectiveOutput(),
            advance_after_initial_infill=False,
            **kwargs,
        )
        self.termination = DefaultMultiObjectiveTermination()
        self.t_dom = t_dom
        self.sigma_share = float(sigma_share)
        self._npga_cache = None

    def _advance(self, infills=None, **kwargs) -> None:
        if infills is None or len(infills) == 0:
            return
        off = infills
        if len(off) < self.pop_size:  # mating could not make enough distinct offspring
            fill = self.random_state.choice(len(self.pop), self.pop_size - len(off),
                                            replace=False)
            off = Population.merge(off, self.pop[fill])
        self.pop = off  # generational replacement
        self._npga_cache = None


def run_npga(case: DRSOCase, *, pop: int, gens: int, pc: float, pm: float, seed: int,
             progress=None, **options) -> np.ndarray:
    """Run NPGA on a case; the final population's decision vectors.

    ``options``: ``t_dom``, ``sigma_share`` (see :class:`NPGA`) and the archive option
    ``archive`` / ``archive_size`` shared by every genetic algorithm (then the archive's
    decision vectors; see :func:`~gda_core.optimization.algorithms.run.run_genetic`).

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> run_npga(WELDING, pop=12, gens=4, pc=0.9, pm=0.5, seed=1).shape
    (12, 2)
    """
    return run_genetic(NPGA, case, pop=pop, gens=gens, pc=pc, pm=pm, seed=seed,
                       progress=progress, **options)
