"""Seconds and front quality of the dual-response algorithms at the study's default budget.

For each built-in case (printing, welding; seed 1, pc = pm = 0.5) it runs

* ``nsga2``          pymoo's NSGA-II;
* ``spea2 (pymoo)``  pymoo's SPEA2 as it ships (``SPEA2Survival``);
* ``spea2``          the registry's SPEA2 (:mod:`gda_core.optimization.algorithms.spea2_fast`,
  the same algorithm with a vectorised archive truncation and tournament);
* ``npga``           :mod:`gda_core.optimization.algorithms.npga`;
* ``eps``            the epsilon-constraint method with its default options;

the genetic ones with pop 100 x 200 generations, in interleaved rounds (timings on this
machine drift), and prints the median seconds, the size of each front and its hypervolume
against the best-known front (the non-dominated union of every front of the run).  The
hypervolume is computed in objective space normalised by the ideal and nadir points of the
best-known front, with the reference point at its nadir plus 10 % of its range, i.e.
``(1.1, 1.1)``.  Then the ratios: SPEA2 pymoo / ours and every algorithm against NSGA-II and
against the 2 s goal.  About a minute on 2 CPU cores (``--quick``: pop 40 x 50, one round,
a few seconds).

    python bench/drso_speed.py [--quick] [--rounds 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from pymoo.algorithms.moo.spea2 import SPEA2
from pymoo.indicators.hv import HV

from gda_core.optimization.algorithms.registry import (
    ALGORITHMS,
    AlgorithmInfo,
    _pymoo_runner,
    register,
    solve,
)
from gda_core.optimization.cases import PRINTING, WELDING
from gda_core.optimization.front import Front, merge_fronts

GOAL_S = 2.0
RUNS = (("nsga2", "nsga2"), ("spea2 (pymoo)", "spea2_pymoo"), ("spea2", "spea2"),
        ("npga", "npga"), ("eps", "eps"))


def hypervolume(front: Front, ideal: np.ndarray, nadir: np.ndarray) -> float:
    """Hypervolume of ``front`` in the box normalised by ``ideal`` and ``nadir``, reference
    point 1.1 per objective."""
    if not len(front):
        return 0.0
    span = np.where(nadir > ideal, nadir - ideal, 1.0)
    return float(HV(ref_point=np.full(2, 1.1))((front.F - ideal) / span))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="pop 40 x 50 gens, one round")
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args()
    pop, gens = (40, 50) if args.quick else (100, 200)
    rounds = args.rounds or (1 if args.quick else 3)
    eps_options = {"n_points": 20} if args.quick else {}

    if "spea2_pymoo" not in ALGORITHMS:  # the unmodified pymoo SPEA2, for the comparison
        register(AlgorithmInfo("spea2_pymoo", "SPEA2 (pymoo)", "pymoo's SPEA2 as shipped",
                               _pymoo_runner(SPEA2)))

    print(f"pop {pop} x {gens} generations, seed 1, pc = pm = 0.5, median of {rounds} "
          f"round(s); HV normalised by the best-known front, reference (1.1, 1.1)\n")
    summary: dict[tuple[str, str], float] = {}
    for case in (PRINTING, WELDING):
        seconds: dict[str, list[float]] = {label: [] for label, _ in RUNS}
        fronts: dict[str, Front] = {}
        for _ in range(rounds):
            for label, name in RUNS:
                options = eps_options if name == "eps" else {}
                front = solve(case, name, pop=pop, gens=gens, seed=1, **options)
                seconds[label].append(front.seconds)
                fronts[label] = front
        best = merge_fronts(case, fronts.values())
        ideal, nadir = best.F.min(axis=0), best.F.max(axis=0)
        hv_best = hypervolume(best, ideal, nadir)
        print(f"{case.name}: best-known front {len(best)} points, HV {hv_best:.4f}")
        print(f"  {'algorithm':<15} {'seconds':>8} {'points':>7} {'HV':>8} {'HV/best':>8}")
        for label, _ in RUNS:
            s = statistics.median(seconds[label])
            hv = hypervolume(fronts[label], ideal, nadir)
            summary[case.name, label] = s
            print(f"  {label:<15} {s:8.2f} {len(fronts[label]):7d} {hv:8.4f} "
                  f"{hv / hv_best:8.4f}")
        same = np.array_equal(fronts["spea2"].F, fronts["spea2 (pymoo)"].F)
        print(f"  spea2 ours vs pymoo: identical fronts: {same}\n")

    print("ratios (seconds)")
    for case in (PRINTING, WELDING):
        old, new = summary[case.name, "spea2 (pymoo)"], summary[case.name, "spea2"]
        nsga2 = summary[case.name, "nsga2"]
        parts = [f"spea2 pymoo/ours {old / new:5.2f}x"]
        parts += [f"{label}/nsga2 {summary[case.name, label] / nsga2:4.2f}"
                  for label, _ in RUNS if label != "nsga2"]
        print(f"  {case.name:<9} " + "  ".join(parts))
        over = [f"{label} {summary[case.name, label]:.2f} s" for label, _ in RUNS
                if label != "spea2 (pymoo)" and summary[case.name, label] > GOAL_S]
        print(f"  {'':<9} over the {GOAL_S:g} s goal: {', '.join(over) or 'none'}")


if __name__ == "__main__":
    main()
