"""The study runner: algorithms x populations x rate pairs (x archive option) x repeats, and
its tables.

Every run's M1' and Delta' are the study's (eqs. 4, 7, 8: normalised by the objectives'
ranges over the design region, :func:`gda_core.optimization.ranges.objective_ranges`); HV,
IGD and the "(best-known)" variants are measured against the best-known front.  Every table
states each front's size (``points``) and names the algorithm as it ran
(e.g. "NSGA-II + archive").
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import pandas as pd

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.registry import ALGORITHMS, algorithm_label, solve
from gda_core.optimization.archive import FrontArchive
from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.front import Front
from gda_core.optimization.indicators import front_metrics
from gda_core.optimization.ranges import objective_ranges

#: The rate pairs (pc, pm) of the published study.
STUDY_RATES: tuple[tuple[float, float], ...] = ((0.0, 1.0), (0.5, 0.5), (1.0, 0.0))
SETTING_COLUMNS = ["algorithm", "archive", "pop", "pc", "pm"]


@dataclass(frozen=True)
class StudyConfig:
    """Which settings to run.

    Each (algorithm, archive, pop, pc, pm) runs ``repeats`` times with seeds ``seed,
    seed + 1, ...``.  ``archives`` holds the elitist archive option's values to run:
    ``(False,)`` (the default) runs every algorithm as published (final population out),
    ``(True,)`` every genetic algorithm with the archive, ``(False, True)`` both.  The
    epsilon-constraint method ignores pop, rates and the archive and runs once per repeat.
    """

    algorithms: tuple[str, ...] = ("nsga2", "spea2", "npga")
    pops: tuple[int, ...] = (50, 100)
    rates: tuple[tuple[float, float], ...] = STUDY_RATES
    repeats: int = 10
    gens: int = 200
    seed: int = 1
    archives: tuple[bool, ...] = (False,)

    def to_dict(self) -> dict:
        """JSON-ready form; :meth:`from_dict` reads it back.

        Examples
        --------
        >>> StudyConfig.from_dict(StudyConfig(pops=(20,)).to_dict()) == StudyConfig(pops=(20,))
        True
        """
        return {"algorithms": list(self.algorithms), "pops": list(self.pops),
                "rates": [list(r) for r in self.rates], "repeats": self.repeats,
                "gens": self.gens, "seed": self.seed, "archives": list(self.archives)}

    @classmethod
    def from_dict(cls, d: dict) -> StudyConfig:
        """Inverse of :meth:`to_dict` (configs saved before the archive option run without)."""
        return cls(algorithms=tuple(d["algorithms"]), pops=tuple(int(p) for p in d["pops"]),
                   rates=tuple((float(a), float(b)) for a, b in d["rates"]),
                   repeats=int(d["repeats"]), gens=int(d["gens"]), seed=int(d["seed"]),
                   archives=tuple(bool(a) for a in d.get("archives", (False,))))

    def settings(self) -> list[dict]:
        """One dict per (algorithm, archive, pop, pc, pm, repeat) run.

        Examples
        --------
        >>> cfg = StudyConfig(algorithms=("npga", "eps"), pops=(20,), rates=((0.5, 0.5),),
        ...                   repeats=1, archives=(False, True))
        >>> [(s["algorithm"], s["archive"]) for s in cfg.settings()]
        [('npga', False), ('npga', True), ('eps', False)]
        """
        unknown = [a for a in self.algorithms if a not in ALGORITHMS]
        if unknown:
            raise ConfigError(f"unknown algorithm(s) {', '.join(unknown)}; choose from "
                              f"{', '.join(ALGORITHMS)}")
        if self.repeats < 1:
            raise ConfigError("repeats must be at least 1")
        if not self.algorithms:
            raise ConfigError("choose at least one algorithm")
        if any(ALGORITHMS[a].genetic for a in self.algorithms) and not (self.pops
                                                                        and self.rates):
            raise ConfigError("choose at least one population and one rate pair")
        if self.seed < 0:
            raise ConfigError(f"the seed must be at least 0; got {self.seed}")
        if not self.archives:
            raise ConfigError("choose at least one archive option (False, True or both)")
        archives = list(dict.fromkeys(bool(a) for a in self.archives))
        out = []
        for alg in self.algorithms:
            genetic = ALGORITHMS[alg].genetic
            grid = (itertools.product(archives, self.pops, self.rates) if genetic
                    else [(False, None, (None, None))])
            for archive, pop, (pc, pm) in grid:
                for r in range(self.repeats):
                    out.append({"algorithm": alg, "archive": archive, "pop": pop, "pc": pc,
                                "pm": pm, "repeat": r, "seed": self.seed + r})
        return out


@dataclass
class StudyResult:
    """Every run's front and metrics, the archive, and the study's summary tables."""

    case: DRSOCase
    config: StudyConfig
    fronts: list[Front] = field(default_factory=list)
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)
    reference: Front | None = None

    def to_dict(self) -> dict:
        """JSON-ready form (NaN as None); :meth:`from_dict` reads it back."""
        runs = self.runs.astype(object).where(self.runs.notna(), None)
        return {"format": "gda-workbench/drso-study@1", "case": self.case.to_dict(),
                "config": self.config.to_dict(), "fronts": [f.to_dict() for f in self.fronts],
                "runs": {"columns": [str(c) for c in self.runs.columns],
                         "rows": runs.values.tolist()},
                "reference": None if self.reference is None else self.reference.to_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> StudyResult:
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> from gda_core.optimization.cases import WELDING
        >>> cfg = StudyConfig(algorithms=("nsga2",), pops=(20,), rates=((0.5, 0.5),),
        ...                   repeats=2, gens=5)
        >>> study = run_study(WELDING, cfg)
        >>> back = StudyResult.from_dict(study.to_dict())
        >>> back.summary().equals(study.summary()), len(back.fronts)
        (True, 2)
        """
        runs = pd.DataFrame(d["runs"]["rows"], columns=d["runs"]["columns"]).infer_objects()
        for col in ("pop", "pc", "pm"):  # None for the epsilon-constraint method
            if col in runs:
                runs[col] = pd.to_numeric(runs[col], errors="coerce")
        result = cls(case=DRSOCase.from_dict(d["case"]),
                     config=StudyConfig.from_dict(d["config"]),
                     fronts=[Front.from_dict(f) for f in d["fronts"]], runs=runs,
                     reference=None if d.get("reference") is None
                     else Front.from_dict(d["reference"]))
        if len(result.runs.columns) and "archive" not in result.runs:
            result.runs.insert(1, "archive", False)
        if len(result.runs) and "M1' (best-known)" not in result.runs:
            result.runs = _upgrade_metrics(result)
        return result

    def summary(self) -> pd.DataFrame:
        """One row per setting: the algorithm as it ran (``label``, e.g. "NPGA + archive"),
        mean and sd of the study's M1' and Delta', mean HV and IGD, the mean front size
        (``points``) and run time, and the number of runs."""
        if self.runs.empty:
            return pd.DataFrame()
        runs = self.runs if "archive" in self.runs else self.runs.assign(archive=False)
        g = runs.fillna({"pop": -1, "pc": -1, "pm": -1}).groupby(SETTING_COLUMNS, sort=False)
        table = pd.DataFrame({
            "M1' mean": g["M1'"].mean(), "M1' sd": g["M1'"].std(ddof=1),
            "Delta' mean": g["Delta'"].mean(), "Delta' sd": g["Delta'"].std(ddof=1),
            "HV mean": g["HV"].mean(), "IGD mean": g["IGD"].mean(),
            "points": g["points"].mean(), "seconds": g["seconds"].mean(),
            "runs": g.size(),
        }).reset_index()
        table[["pop", "pc", "pm"]] = table[["pop", "pc", "pm"]].where(
            table[["pop", "pc", "pm"]] >= 0)
        table.insert(1, "label", [algorithm_label(a, bool(x))
                                  for a, x in zip(table["algorithm"], table["archive"],
                                                  strict=True)])
        return table


def _metrics_frame(case: DRSOCase, fronts: Sequence[Front], settings: Sequence[dict],
                   reference: Front) -> pd.DataFrame:
    ranges = objective_ranges(case)
    rows = []
    for front, s in zip(fronts, settings, strict=True):
        rows.append({**s, **front_metrics(front.F, reference.F, ranges),
                     "seconds": front.seconds})
    return pd.DataFrame(rows)


def _upgrade_metrics(result: StudyResult) -> pd.DataFrame:
    """Runs saved before the study's M1' and Delta' existed held the best-known variants
    under those names: rename them and compute the study's from the saved fronts."""
    runs = result.runs.rename(columns={"M1'": "M1' (best-known)",
                                       "Delta'": "Delta' (best-known)"})
    if len(result.fronts) != len(runs):
        runs["M1'"] = runs["Delta'"] = float("nan")
        return runs
    ranges = objective_ranges(result.case)
    runs["M1'"] = [front_metrics(f.F, f.F, ranges)["M1'"] for f in result.fronts]
    runs["Delta'"] = [front_metrics(f.F, f.F, ranges)["Delta'"] for f in result.fronts]
    return runs


def run_study(case: DRSOCase, config: StudyConfig, *,
              archive: FrontArchive | None = None,
              progress: Callable[[float, str], None] | None = None) -> StudyResult:
    """Run every setting of ``config`` on ``case`` and measure each front.

    M1' and Delta' are the study's (normalised by the objectives' ranges over the design
    region); HV, IGD and the "(best-known)" variants are measured against the best-known
    front: the non-dominated union of the study's fronts and whatever ``archive`` already
    holds (the archive receives the study's fronts too).

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> cfg = StudyConfig(algorithms=("nsga2",), pops=(20,), rates=((0.5, 0.5),),
    ...                   repeats=2, gens=10)
    >>> run_study(WELDING, cfg).summary()[["algorithm", "runs"]].values.tolist()
    [['nsga2', 2]]
    """
    settings = config.settings()
    archive = archive if archive is not None else FrontArchive(case)
    fronts: list[Front] = []
    n = len(settings)
    for i, s in enumerate(settings):
        label = algorithm_label(s["algorithm"], s["archive"])
        if progress is not None:
            progress(i / n, f"{label} run {i + 1} of {n}")
        if ALGORITHMS[s["algorithm"]].genetic:
            front = solve(case, s["algorithm"], pop=s["pop"], gens=config.gens, pc=s["pc"],
                          pm=s["pm"], seed=s["seed"], archive=s["archive"])
        else:
            front = solve(case, s["algorithm"], seed=s["seed"])
        fronts.append(front)
        archive.add(front)
    reference = archive.best_known()
    if progress is not None:
        progress(1.0, f"{n} runs done")
    runs = _metrics_frame(case, fronts, settings, reference)
    return StudyResult(case, config, fronts, runs, reference)
