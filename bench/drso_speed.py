"""Seconds, front size and hypervolume of the dual-response algorithms, ours beside pymoo's.

For each built-in case (printing, welding; seed 1, pc = pm = 0.5) it runs, with pop 100 x 200
generations (``--quick``: pop 40 x 50, one round):

* ours, through the registry (:func:`gda_core.optimization.solve`): ``nsga2`` (pymoo's
  NSGA-II behind our runner), ``spea2`` (:mod:`gda_core.optimization.algorithms.spea2_fast`),
  ``npga`` (Horn et al. 1994: final population out), each also with the elitist archive
  option (``+ archive``: the non-dominated union of every generation's population, capped at
  pop), and ``eps`` (the epsilon-constraint method with its default options);
* pymoo itself on the same problem, seed and operators, without our registry: ``NSGA2`` and
  ``SPEA2`` as pymoo ships them, built here with pymoo's ``SBX(prob=pc, eta=15)`` and
  ``PM(prob=pm, eta=20)`` and ``eliminate_duplicates=True``, the final population out.

Runs are interleaved over rounds (timings on a shared machine drift) and the median seconds
are printed with each front's size (its non-dominated points) and its hypervolume against the
best-known front (the non-dominated union of every front of the run), in objective space
normalised by that front's ideal and nadir with the reference point ``(1.1, 1.1)``.  One table
per case: ours and pymoo side by side, and whether the two fronts are identical.  About 1-2
minutes on 2 CPU cores.

    python bench/drso_speed.py [--quick] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.algorithms.moo.spea2 import SPEA2
from pymoo.indicators.hv import HV
from pymoo.operators.crossover.sbx import SBX
from pymoo.operators.mutation.pm import PM
from pymoo.optimize import minimize

from gda_core.optimization import DRSOCase, Front, algorithm_label, merge_fronts, solve
from gda_core.optimization.cases import PRINTING, WELDING
from gda_core.optimization.problem import DualResponseProblem

GOAL_S = 2.0
#: (row label, our registry name, archive option, pymoo class beside it or None)
ROWS = (("NSGA-II", "nsga2", False, NSGA2), ("SPEA2", "spea2", False, SPEA2),
        ("NPGA", "npga", False, None), ("NSGA-II + archive", "nsga2", True, None),
        ("SPEA2 + archive", "spea2", True, None), ("NPGA + archive", "npga", True, None),
        ("epsilon-constraint", "eps", False, None))


def hypervolume(front: Front, ideal: np.ndarray, nadir: np.ndarray) -> float:
    """Hypervolume of ``front`` in the box normalised by ``ideal`` and ``nadir``, reference
    point 1.1 per objective."""
    if not len(front):
        return 0.0
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    return float(HV(ref_point=np.full(2, 1.1))((front.F - ideal) / span))


def pymoo_front(cls: type, case: DRSOCase, *, pop: int, gens: int, pc: float, pm: float,
                seed: int) -> Front:
    """pymoo's own ``cls`` on the case, without the registry: its final population's
    non-dominated points."""
    t0 = time.perf_counter()
    algorithm = cls(pop_size=pop, crossover=SBX(prob=pc, eta=15), mutation=PM(prob=pm, eta=20),
                    eliminate_duplicates=True)
    res = minimize(DualResponseProblem(case), algorithm, ("n_gen", gens), seed=seed,
                   verbose=False)
    seconds = time.perf_counter() - t0
    return Front.from_X(case, np.atleast_2d(res.pop.get("X")), f"pymoo {cls.__name__}",
                        label=f"pymoo {cls.__name__}", seconds=seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pop 40 x 50 gens, one round")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    pop, gens = (40, 50) if args.quick else (100, 200)
    rounds = args.rounds or (1 if args.quick else 3)
    eps_options = {"n_points": 20} if args.quick else {}
    pc = pm = 0.5

    print(f"pop {pop} x {gens} generations, seed 1, pc = pm = {pc:g}, median of {rounds} "
          f"round(s); HV normalised by the best-known front, reference (1.1, 1.1); points = "
          f"the front's non-dominated points (at most pop, or the archive's cap = pop)\n")
    summary: dict[tuple[str, str], float] = {}
    for case in (PRINTING, WELDING):
        seconds: dict[str, list[float]] = {}
        fronts: dict[str, Front] = {}
        for _ in range(rounds):
            for label, name, archive, cls in ROWS:
                options = eps_options if name == "eps" else {}
                front = solve(case, name, pop=pop, gens=gens, pc=pc, pm=pm, seed=1,
                              archive=archive, **options)
                assert algorithm_label(name, archive) == label
                seconds.setdefault(label, []).append(front.seconds)
                fronts[label] = front
                if cls is not None:
                    key = f"pymoo {label}"
                    other = pymoo_front(cls, case, pop=pop, gens=gens, pc=pc, pm=pm, seed=1)
                    seconds.setdefault(key, []).append(other.seconds)
                    fronts[key] = other
        best = merge_fronts(case, fronts.values())
        ideal, nadir = best.F.min(axis=0), best.F.max(axis=0)
        hv_best = hypervolume(best, ideal, nadir)
        print(f"{case.name}: best-known front {len(best)} points, HV {hv_best:.4f}")
        print(f"  {'':<19} {'ours':>26}   {'pymoo':>26}")
        head = f"{'seconds':>8} {'points':>7} {'HV':>9}"
        print(f"  {'algorithm':<19} {head}   {head}   identical")
        for label, _, _, cls in ROWS:
            s = statistics.median(seconds[label])
            summary[case.name, label] = s
            ours = (f"{s:8.2f} {len(fronts[label]):7d} "
                    f"{hypervolume(fronts[label], ideal, nadir):9.4f}")
            if cls is None:
                print(f"  {label:<19} {ours}   {'-':>26}")
                continue
            key = f"pymoo {label}"
            summary[case.name, key] = statistics.median(seconds[key])
            theirs = (f"{summary[case.name, key]:8.2f} {len(fronts[key]):7d} "
                      f"{hypervolume(fronts[key], ideal, nadir):9.4f}")
            same = np.array_equal(fronts[label].F, fronts[key].F)
            print(f"  {label:<19} {ours}   {theirs}   {same}")
        print()

    print("ratios (seconds)")
    for case in (PRINTING, WELDING):
        parts = [f"{label} ours/pymoo {summary[case.name, label] / summary[case.name, k]:4.2f}"
                 for label, k in (("NSGA-II", "pymoo NSGA-II"), ("SPEA2", "pymoo SPEA2"))]
        print(f"  {case.name:<9} " + "  ".join(parts))
        over = [f"{label} {summary[case.name, label]:.2f} s" for label, *_ in ROWS
                if summary[case.name, label] > GOAL_S]
        print(f"  {'':<9} ours over the {GOAL_S:g} s goal: {', '.join(over) or 'none'}")


if __name__ == "__main__":
    main()
