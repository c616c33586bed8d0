"""Dual response cases: a mean and a standard-deviation surface, bounds and a target.

Built-in cases are the two studied in the dual-response literature; users bring their own
by fitting a designed experiment (:mod:`gda_core.optimization.data`) or by typing
coefficients (:meth:`DRSOCase.from_coefficients`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from gda_core.errors import ConfigError
from gda_core.notices import Notice
from gda_core.optimization.fitcheck import negative_sd_notice
from gda_core.optimization.surfaces import QuadraticSurface

ObjectiveType = Literal["nominal", "smaller", "larger"]
OBJECTIVE_TYPES: dict[str, str] = {
    "nominal": "nominal-the-best: F1 = |mean - target|",
    "smaller": "smaller-the-better: F1 = mean",
    "larger": "larger-the-better: F1 = -mean",
}


@dataclass(frozen=True)
class DRSOCase:
    """A dual response surface optimisation problem.

    Parameters
    ----------
    name : short identifier
    mean, sd : the fitted mean and standard-deviation surfaces
    lower, upper : box bounds per variable
    objective : ``"nominal"`` (needs ``target``), ``"smaller"`` or ``"larger"``
    target : the target of the mean for nominal-the-best
    variables : names of the variables (default ``x1..xk``)
    description : one line shown in the UI
    sd_max : optional cap on the standard deviation (constraint ``sd <= sd_max``)
    lsl, usl : optional spec limits on the mean (constraints ``lsl <= mean <= usl``)

    The constraints hold for every algorithm alike: the genetic algorithms minimise
    penalised objectives (an infeasible point is worse than every feasible one in both, and
    worse the more it violates, see :class:`~gda_core.optimization.problem.
    DualResponseProblem`), and every front keeps its feasible points only
    (:meth:`~gda_core.optimization.front.Front.from_X`), which for the eps-constraint method
    is the whole of its constraint handling.
    """

    name: str
    mean: QuadraticSurface
    sd: QuadraticSurface
    lower: tuple[float, ...]
    upper: tuple[float, ...]
    objective: ObjectiveType = "nominal"
    target: float | None = None
    variables: tuple[str, ...] = ()
    description: str = ""
    sd_max: float | None = None
    lsl: float | None = None
    usl: float | None = None

    def __post_init__(self) -> None:
        k = self.mean.k
        if self.sd.k != k:
            raise ConfigError(f"the mean model has {k} variables but the sd model has "
                              f"{self.sd.k}")
        if not self.variables:
            object.__setattr__(self, "variables", tuple(f"x{i + 1}" for i in range(k)))
        if len(self.variables) != k or len(self.lower) != k or len(self.upper) != k:
            raise ConfigError(f"give one name and one lower and upper bound per variable ({k})")
        lo, hi = np.asarray(self.lower, float), np.asarray(self.upper, float)
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ConfigError("bounds must be finite numbers")
        bad = [v for v, a, b in zip(self.variables, lo, hi, strict=True) if not a < b]
        if bad:
            raise ConfigError(f"lower bound must be below upper bound for {', '.join(bad)}")
        if self.objective not in OBJECTIVE_TYPES:
            raise ConfigError(f"objective must be one of {', '.join(OBJECTIVE_TYPES)}")
        if self.objective == "nominal":
            if self.target is None or not np.isfinite(self.target):
                raise ConfigError("nominal-the-best needs a finite target value")
        for label, v in (("sd cap", self.sd_max), ("lower spec limit", self.lsl),
                         ("upper spec limit", self.usl)):
            if v is not None and not np.isfinite(v):
                raise ConfigError(f"the {label} must be a finite number")
        if self.sd_max is not None and self.sd_max <= 0:
            raise ConfigError(f"the sd cap must be positive, got {self.sd_max:g}")
        if self.lsl is not None and self.usl is not None and not self.lsl < self.usl:
            raise ConfigError(f"the lower spec limit ({self.lsl:g}) must be below the upper "
                              f"({self.usl:g})")

    @property
    def constrained(self) -> bool:
        """True when the case has an sd cap or a spec limit."""
        return any(v is not None for v in (self.sd_max, self.lsl, self.usl))

    def constraint_values(self, mean, sd) -> np.ndarray:
        """One column per constraint, ``G <= 0`` where it holds: ``sd - sd_max``,
        ``lsl - mean``, ``mean - usl`` (only those set; shape ``(n, 0)`` for none).

        Examples
        --------
        >>> c = WELDING.with_settings(sd_max=0.5, usl=4.0)
        >>> c.constraint_values([3.0, 4.5], [0.4, 0.6]).tolist()
        [[-0.09999999999999998, -1.0], [0.09999999999999998, 0.5]]
        """
        mean, sd = np.asarray(mean, float).ravel(), np.asarray(sd, float).ravel()
        cols = []
        if self.sd_max is not None:
            cols.append(sd - self.sd_max)
        if self.lsl is not None:
            cols.append(self.lsl - mean)
        if self.usl is not None:
            cols.append(mean - self.usl)
        return np.column_stack(cols) if cols else np.zeros((len(mean), 0))

    def violation(self, mean, sd) -> np.ndarray:
        """Total constraint violation per point (0 where every constraint holds)."""
        return np.clip(self.constraint_values(mean, sd), 0.0, None).sum(axis=1)

    def constraints_text(self) -> str:
        """The constraints in words ("" for none).

        Examples
        --------
        >>> WELDING.with_settings(sd_max=0.5, lsl=3.5).constraints_text()
        'sd ≤ 0.5, mean ≥ 3.5'
        """
        parts = []
        if self.sd_max is not None:
            parts.append(f"sd ≤ {self.sd_max:g}")
        if self.lsl is not None and self.usl is not None:
            parts.append(f"{self.lsl:g} ≤ mean ≤ {self.usl:g}")
        elif self.lsl is not None:
            parts.append(f"mean ≥ {self.lsl:g}")
        elif self.usl is not None:
            parts.append(f"mean ≤ {self.usl:g}")
        return ", ".join(parts)

    @property
    def k(self) -> int:
        return self.mean.k

    @property
    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(self.lower, float), np.asarray(self.upper, float)

    def to_dict(self) -> dict:
        """JSON-ready form (coefficients, bounds, objective); :meth:`from_dict` reads it.

        A surface on the log scale adds ``"mean_link"`` / ``"sd_link"`` = ``"log"`` (absent
        for the plain scale, so plain cases keep their old form).

        Examples
        --------
        >>> DRSOCase.from_dict(WELDING.to_dict()) == WELDING
        True
        """
        d = {"name": self.name, "mean": [float(c) for c in self.mean.coef],
             "sd": [float(c) for c in self.sd.coef],
             "lower": [float(v) for v in self.lower], "upper": [float(v) for v in self.upper],
             "objective": self.objective,
             "target": None if self.target is None else float(self.target),
             "variables": list(self.variables), "description": self.description}
        for key, surface in (("mean_link", self.mean), ("sd_link", self.sd)):
            if surface.link != "identity":
                d[key] = surface.link
        for key in ("sd_max", "lsl", "usl"):  # constraints only when set
            if getattr(self, key) is not None:
                d[key] = float(getattr(self, key))
        return d

    @classmethod
    def from_dict(cls, d: dict) -> DRSOCase:
        """Inverse of :meth:`to_dict` (validated like any case)."""
        return cls.from_coefficients(d["name"], d["mean"], d["sd"], lower=d["lower"],
                                     upper=d["upper"], objective=d.get("objective", "nominal"),
                                     target=d.get("target"),
                                     variables=tuple(d.get("variables", ())),
                                     description=d.get("description", ""),
                                     mean_link=d.get("mean_link", "identity"),
                                     sd_link=d.get("sd_link", "identity"),
                                     sd_max=d.get("sd_max"), lsl=d.get("lsl"),
                                     usl=d.get("usl"))

    def with_settings(self, **changes) -> DRSOCase:
        """A copy with some fields changed (validated again)."""
        return replace(self, **changes)

    @classmethod
    def from_coefficients(cls, name: str, mean_coef, sd_coef, *, lower, upper,
                          objective: ObjectiveType = "nominal", target: float | None = None,
                          variables: tuple[str, ...] = (), description: str = "",
                          mean_link: str = "identity", sd_link: str = "identity",
                          sd_max: float | None = None, lsl: float | None = None,
                          usl: float | None = None) -> DRSOCase:
        """Build a case from typed-in coefficients (see :mod:`surfaces` for their order);
        ``sd_link="log"`` when the sd coefficients are those of ``log(s)``; ``sd_max``,
        ``lsl`` and ``usl`` are the optional constraints."""
        def opt(v):
            return None if v is None else float(v)

        return cls(name, QuadraticSurface.from_coefficients(mean_coef, link=mean_link),
                   QuadraticSurface.from_coefficients(sd_coef, link=sd_link),
                   tuple(map(float, lower)),
                   tuple(map(float, upper)), objective,
                   opt(target), tuple(variables), description, opt(sd_max), opt(lsl),
                   opt(usl))

    def mean_range(self, n: int = 20_000, seed: int = 0) -> tuple[float, float]:
        """Approximate range of the mean over the box (random points plus corners)."""
        lo, hi = self.bounds
        rng = np.random.default_rng(seed)
        pts = lo + rng.random((n, self.k)) * (hi - lo)
        corners = np.array(np.meshgrid(*zip(lo, hi, strict=True))).reshape(self.k, -1).T
        m = self.mean.predict(np.vstack([pts, corners]))
        return float(m.min()), float(m.max())

    def check_target(self) -> str | None:
        """A warning when the target lies outside what the mean model can reach in the box."""
        if self.objective != "nominal":
            return None
        lo, hi = self.mean_range()
        if not lo <= self.target <= hi:
            return (f"the target {self.target:g} is outside the reachable range of the mean "
                    f"in these bounds (about {lo:.4g} to {hi:.4g}): every solution misses it, "
                    "and the front reduces to the trade-off near the closest edge")
        return None

    def check_sd(self, seed: int = 0) -> Notice | None:
        """A ``negative-sd`` notice when the sd surface goes below zero within the bounds
        (searched by sampling and local polishing), with the smallest value and where.

        Examples
        --------
        >>> WELDING.check_sd() is None
        True
        >>> dip = DRSOCase.from_coefficients("dip", [0, 1, 0], [0.2, 0, -1], lower=(-1,),
        ...                                  upper=(1,), objective="smaller")
        >>> dip.check_sd().code
        'negative-sd'
        """
        return negative_sd_notice(self.sd, self.lower, self.upper, variables=self.variables,
                                  seed=seed)


PRINTING = DRSOCase.from_coefficients(
    "printing",
    [327.6, 177.0, 109.4, 131.5, 32.0, -22.4, -29.1, 66.0, 75.5, 43.6],
    [34.9, 11.5, 15.3, 29.2, 4.2, -1.3, 16.8, 7.7, 5.1, 14.1],
    lower=(-1, -1, -1), upper=(1, 1, 1), objective="nominal", target=500.0,
    description="Printing process (Box & Draper 1987; Vining & Myers 1990): speed, pressure, "
                "distance; target 500",
)
WELDING = DRSOCase.from_coefficients(
    "welding",
    [3.0422, 0.4967, -0.4367, 0.0567, -0.0033, 0.0],
    [0.4813, 0.1174, 0.0515, -0.1515, 0.0115, 0.0462],
    lower=(-1, -1), upper=(1, 1), objective="nominal", target=3.7,
    description="GMAW welding penetration (Kim & Rhee 2003): two process variables; "
                "target 3.7 mm",
)
CASES: dict[str, DRSOCase] = {"printing": PRINTING, "welding": WELDING}


def get_case(name: str) -> DRSOCase:
    """A built-in case by name."""
    try:
        return CASES[name]
    except KeyError:
        raise ConfigError(f"unknown case {name!r}; built-in cases: {', '.join(CASES)}") from None
