"""``python -m gda_core drso`` and ``drso-study``: the Pareto explorer headless."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gda_core.errors import ConfigError


def add_drso_parsers(sub) -> None:
    """Add the ``drso`` and ``drso-study`` sub-commands to the CLI's sub-parsers."""
    one = sub.add_parser("drso", help="dual response surface optimisation: one algorithm's "
                         "Pareto front of (F1 from the mean, sd)")
    _case_args(one)
    a = one.add_argument_group("algorithm")
    a.add_argument("--algorithm", default="nsga2", help="nsga2, spea2, npga or eps")
    a.add_argument("--pop", type=int, help="population size (genetic algorithms; default 100)")
    a.add_argument("--gens", type=int, help="generations (genetic algorithms; default 200)")
    a.add_argument("--pc", type=float, default=0.5, help="crossover rate")
    a.add_argument("--pm", type=float, default=0.5, help="mutation rate")
    a.add_argument("--eps-points", type=int, default=50,
                   help="eps: number of eps values, i.e. front points (default 50)")
    a.add_argument("--seed", type=int, default=1)
    a.add_argument("--reference", default="best-known", metavar="best-known|none|CSV",
                   help="front the metrics are measured against: best-known (default: this "
                   "front, 2 NSGA-II restarts and a 60-point eps sweep merged), none, or a "
                   "CSV with columns F1 and F2 (e.g. an earlier --out)")
    a.add_argument("--out", type=Path, help="write the front as CSV (F1, F2, mean, sd, x1..)")
    a.add_argument("--pick", metavar="knee|mse|F1:SD",
                   help="print the suggested point of the front: the knee, the minimum "
                   "mean squared error, or the point nearest to the aspiration levels F1:SD "
                   "(each objective scaled by the front's range)")

    study = sub.add_parser("drso-study", help="the study's tables: algorithms x populations "
                           "x rate pairs x repeats, M1', Delta', HV, IGD and run time")
    _case_args(study)
    s = study.add_argument_group("settings")
    s.add_argument("--algorithms", default="nsga2,spea2,npga")
    s.add_argument("--pops", default="50,100", help="population sizes, e.g. 50,100")
    s.add_argument("--rates", default="0:1,0.5:0.5,1:0",
                   help="crossover:mutation rate pairs, e.g. 0:1,0.5:0.5,1:0")
    s.add_argument("--repeats", type=int, default=10)
    s.add_argument("--gens", type=int, default=200)
    s.add_argument("--seed", type=int, default=1, help="first seed; repeats use seed+1, ...")
    s.add_argument("--out", type=Path, help="write the summary table as CSV")
    s.add_argument("--runs-out", type=Path, help="write every run's metrics as CSV")
    s.add_argument("--quiet", action="store_true", help="no progress output")


def _case_args(parser: argparse.ArgumentParser) -> None:
    c = parser.add_argument_group("problem")
    c.add_argument("--case", default="printing",
                   help="printing, welding, or a CSV of design columns x1.. and replicate "
                        "columns y1..; drso also takes printing-cost (three responses: "
                        "--algorithm nsga3, unsga3, moead, smsemoa, spea2)")
    c.add_argument("--objective", choices=("nominal", "smaller", "larger"),
                   help="type of the mean's objective (default: the case's, or nominal)")
    c.add_argument("--target", type=float, help="target of the mean (nominal-the-best)")
    c.add_argument("--bounds", help="per-variable bounds, e.g. --bounds=-1:1,-1:1,-1:1 (with =)")
    c.add_argument("--sd-max", type=float, help="constraint: sd <= SD_MAX")
    c.add_argument("--lsl", type=float, help="constraint: mean >= LSL (lower spec limit)")
    c.add_argument("--usl", type=float, help="constraint: mean <= USL (upper spec limit)")
    c.add_argument("--log-sd", action="store_true",
                   help="CSV cases: fit log(s) (the predicted sd is then always positive)")
    c.add_argument("--reduce", action="store_true",
                   help="CSV cases: drop insignificant terms (backward elimination, p > 0.10)")


def parse_rates(text: str) -> tuple[tuple[float, float], ...]:
    """``"0:1,0.5:0.5"`` -> ``((0.0, 1.0), (0.5, 0.5))``."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        pc, sep, pm = part.partition(":")
        try:
            if not sep:
                raise ValueError
            pairs.append((float(pc), float(pm)))
        except ValueError:
            raise ConfigError(f"rate pairs look like 0.5:0.5 (crossover:mutation); "
                              f"got {part!r}") from None
    if not pairs:
        raise ConfigError("give at least one rate pair, e.g. 0.5:0.5")
    return tuple(pairs)


def parse_bounds(text: str) -> tuple[list[float], list[float]]:
    """``"-1:1,0:2"`` -> ``([-1, 0], [1, 2])``."""
    lower, upper = [], []
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, sep, hi = part.rpartition(":")
        try:
            if not sep:
                raise ValueError
            lower.append(float(lo))
            upper.append(float(hi))
        except ValueError:
            raise ConfigError(f"bounds look like -1:1,-1:1; got {part!r}") from None
    return lower, upper


def case_from_args(args: argparse.Namespace):
    """The built-in case or a case fitted from a CSV, with the overrides applied."""
    from gda_core.optimization import CASES, fit_experiment

    changes: dict = {}
    if args.objective:
        changes["objective"] = args.objective
    if args.target is not None:
        changes["target"] = args.target
    if args.bounds:
        lo, hi = parse_bounds(args.bounds)
        changes["lower"], changes["upper"] = tuple(lo), tuple(hi)
    constraints = {key: getattr(args, key) for key in ("sd_max", "lsl", "usl")
                   if getattr(args, key, None) is not None}
    if args.case in CASES:
        changes.update(constraints)
        case = CASES[args.case]
        return case.with_settings(**changes) if changes else case
    path = Path(args.case)
    if path.suffix.lower() != ".csv" and not path.exists():
        raise ConfigError(f"--case is printing, welding or a CSV file; got {args.case!r}")
    objective = changes.pop("objective", "nominal")
    target = changes.pop("target", None)
    if objective == "nominal" and target is None:
        raise ConfigError("a CSV case with a nominal-the-best mean needs --target "
                          "(or --objective smaller / larger)")
    fit = fit_experiment(path, objective=objective, target=target,
                         lower=changes.get("lower"), upper=changes.get("upper"),
                         name=path.stem, log_sd=getattr(args, "log_sd", False),
                         reduce=getattr(args, "reduce", False))
    print(f"fitted {path.name}: R^2 mean {fit.mean_fit.r2:.3f}, sd {fit.sd_fit.r2:.3f}")
    print(f"  mean = {fit.case.mean.equation(fit.case.variables)}")
    sd_name = "log(s)" if fit.case.sd.link == "log" else "sd"
    print(f"  {sd_name:<4} = {fit.case.sd.equation(fit.case.variables)}")
    for notice in fit.notices:
        print(f"{'note' if notice.code == 'model-reduced' else 'warning'}: {notice.message}",
              file=sys.stderr)
    return fit.case.with_settings(**constraints) if constraints else fit.case


def drso(args: argparse.Namespace) -> int:
    from gda_core.optimization import ALGORITHMS, solve
    from gda_core.optimization.multi import MULTI_CASES

    if args.case in MULTI_CASES:
        return drso_multi(args)
    case = case_from_args(args)
    if warning := case.check_target():
        print(f"warning: {warning}", file=sys.stderr)
    if (notice := case.check_sd()) is not None and args.case in _builtin_names():
        print(f"warning: {notice.message}", file=sys.stderr)
    if case.constrained:
        print(f"constraints: {case.constraints_text()} (feasible points only)")
    if args.algorithm not in ALGORITHMS:
        raise ConfigError(f"unknown algorithm {args.algorithm!r}; choose from "
                          f"{', '.join(ALGORITHMS)}")
    if ALGORITHMS[args.algorithm].genetic:
        front = solve(case, args.algorithm, pop=100 if args.pop is None else args.pop,
                      gens=200 if args.gens is None else args.gens, pc=args.pc, pm=args.pm,
                      seed=args.seed)
    else:
        if args.pop is not None or args.gens is not None:
            print(f"note: --pop and --gens do not apply to {args.algorithm}; it finds "
                  f"--eps-points {args.eps_points} points", file=sys.stderr)
        front = solve(case, args.algorithm, seed=args.seed, n_points=args.eps_points)
    print(f"{front.label}: {len(front)} non-dominated points in {front.seconds:.2f} s")
    if not len(front):
        print("no feasible point: loosen the constraints", file=sys.stderr)
        return 1
    from gda_core.optimization import front_metrics, objective_ranges

    ranges = objective_ranges(case)
    reference, described = reference_front(case, front, args.reference, seed=args.seed)
    metrics = front_metrics(front.F, front.F if reference is None else reference, ranges)
    own = {k: metrics[k] for k in ("M1'", "Delta'", "points")}
    print("  " + ", ".join(f"{k} {v:.4g}" for k, v in own.items())
          + " (the study's eqs. (4), (7), (8): ranges of F1 and sd over the design region)")
    if reference is not None:
        rest = {k: v for k, v in metrics.items() if k not in own}
        print(f"  against {described}: "
              + ", ".join(f"{k} {v:.4g}" for k, v in rest.items()))
    table = front.to_frame(case.variables)
    picked = pick_row(case, front, args.pick) if args.pick else None
    return print_front(table, picked, args.out)


def print_front(table, picked: tuple[int, str] | None, out: Path | None) -> int:
    """Print every tenth row of a front's table and the picked row ``(row, how)``; write
    the table to ``out`` as CSV when given."""
    print(table.iloc[:: max(1, len(table) // 10)].to_string(
        index=False, float_format=lambda v: f"{v:.4g}"))
    if picked is not None:
        row, how = picked
        print(f"picked ({how}):")
        print(table.iloc[[row]].to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    if out:
        table.to_csv(out, index=False)
        print(f"wrote {out}")
    return 0


def drso_multi(args: argparse.Namespace) -> int:
    """``drso --case printing-cost``: a k-response case solved by a pymoo algorithm by name
    (``--algorithm nsga3`` by default; ``nsga2`` is read as pymoo's), picked with
    ``--pick compromise`` or response levels ``--pick 500:30:9``."""
    from gda_core.optimization import explorer
    from gda_core.optimization.multi import MULTI_ALGORITHMS, MULTI_CASES, compromise, solve_multi

    case = MULTI_CASES[args.case]
    algorithm = "nsga3" if args.algorithm == "nsga2" else args.algorithm
    if algorithm not in MULTI_ALGORITHMS:
        raise ConfigError(f"{args.case} has {case.n_obj} objectives; choose --algorithm from "
                          f"{', '.join(MULTI_ALGORITHMS)}")
    front = solve_multi(case, algorithm, pop=92 if args.pop is None else args.pop,
                        gens=200 if args.gens is None else args.gens, seed=args.seed)
    print(f"{front.label}: {len(front)} non-dominated points of {case.n_obj} objectives "
          f"({', '.join(r.objective_label() for r in case.responses)}) in "
          f"{front.seconds:.2f} s")
    table = front.to_frame()
    picked = None
    if args.pick:
        if args.pick == "compromise":
            row, how = compromise(front.F), "compromise: nearest to the ideal point"
        else:
            try:
                levels = [float(v) for v in args.pick.split(":")]
                ref = [r.objective([y])[0] for r, y in zip(case.responses, levels,
                                                            strict=True)]
            except ValueError:
                raise ConfigError(f"--pick is compromise or {case.n_obj} response levels "
                                  f"like 500:30:9; got {args.pick!r}") from None
            row, how = explorer.nearest_to_reference(front.F, ref), f"nearest to {args.pick}"
        picked = (row, how)
    return print_front(table, picked, args.out)


def _builtin_names() -> tuple[str, ...]:
    from gda_core.optimization import CASES

    return tuple(CASES)


def pick_row(case, front, spec: str) -> tuple[int, str]:
    """Row of ``front`` chosen by ``--pick``: ``knee``, ``mse`` or ``F1:SD`` aspiration
    levels (:func:`~gda_core.optimization.explorer.nearest_to_reference`)."""
    from gda_core.optimization import explorer

    if spec == "knee":
        return explorer.suggestion_rows(case, front, 0.5, 0.5)["knee"], "knee"
    if spec == "mse":
        row = explorer.suggestion_rows(case, front, 0.5, 0.5)["minimum MSE"]
        if row is None:
            raise ConfigError("--pick mse is not defined for larger-the-better")
        return row, "minimum mean squared error"
    f1, sep, sd = spec.partition(":")
    try:
        if not sep:
            raise ValueError
        ref = (float(f1), float(sd))
    except ValueError:
        raise ConfigError(f"--pick is knee, mse or F1:SD aspiration levels; got {spec!r}"
                          ) from None
    return (explorer.nearest_to_reference(front.F, ref),
            f"nearest to F1 {ref[0]:g}, sd {ref[1]:g}")


def reference_front(case, front, spec: str, *, seed: int = 1):
    """``(F, description)`` of the front that metrics are measured against, or
    ``(None, "")`` for ``spec == "none"``.

    ``"best-known"``: ``front`` merged with two NSGA-II restarts and a 60-point
    eps-constraint sweep (:meth:`FrontArchive.complete`); else a CSV with columns F1, F2.
    """
    import numpy as np

    if spec == "none":
        return None, ""
    if spec == "best-known":
        from gda_core.optimization.archive import FrontArchive

        archive = FrontArchive(case)
        archive.add(front)
        best = archive.complete(restarts=2, eps_points=60, seed=seed)
        return best.F, (f"the best-known front ({len(best)} points: this front, 2 NSGA-II "
                        "restarts and a 60-point eps sweep)")
    import pandas as pd

    path = Path(spec)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"--reference {spec}: cannot read it as a CSV ({exc})") from None
    if not {"F1", "F2"} <= set(table.columns):
        raise ConfigError(f"--reference {spec} needs columns F1 and F2 (as --out writes); "
                          f"it has {', '.join(map(str, table.columns))}")
    F = table[["F1", "F2"]].to_numpy(dtype=float)
    if len(F) == 0 or not np.isfinite(F).all():
        raise ConfigError(f"--reference {spec}: F1 and F2 must be numbers, at least one row")
    return F, f"{path.name} ({len(F)} points)"


def drso_study(args: argparse.Namespace) -> int:
    from gda_core.cli.args import int_list
    from gda_core.optimization import StudyConfig, run_study

    case = case_from_args(args)
    config = StudyConfig(
        algorithms=tuple(a.strip() for a in args.algorithms.split(",") if a.strip()),
        pops=int_list(args.pops), rates=parse_rates(args.rates), repeats=args.repeats,
        gens=args.gens, seed=args.seed)

    def progress(fraction: float, message: str) -> None:
        if not args.quiet:
            print(f"[{fraction:5.0%}] {message}", file=sys.stderr, flush=True)

    result = run_study(case, config, progress=progress)
    summary = result.summary()
    print(f"case {case.name}: {len(result.runs)} runs; best-known front "
          f"{len(result.reference)} points; M1' and Delta' are the study's eqs. (4), (7), "
          "(8) over the ranges of F1 and sd in the design region, HV, IGD and the "
          "'(best-known)' columns use the best-known front's ideal and nadir)")
    print(summary.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if args.out:
        summary.to_csv(args.out, index=False)
        print(f"wrote {args.out}")
    if args.runs_out:
        result.runs.to_csv(args.runs_out, index=False)
        print(f"wrote {args.runs_out}")
    return 0
