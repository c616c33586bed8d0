"""Full quadratic response surfaces: terms, prediction and least-squares fits.

Coefficients follow the order used in the dual-response literature: the intercept, the linear
terms ``x1..xk``, the pure quadratic terms ``x1^2..xk^2``, then the interactions ``x1x2, x1x3,
..., x(k-1)xk``, so a model in ``k`` variables has ``1 + 2k + k(k-1)/2`` coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np

from gda_core.errors import ConfigError


def n_terms(k: int) -> int:
    """Number of coefficients of a full quadratic model in ``k`` variables."""
    return 1 + 2 * k + k * (k - 1) // 2


def term_names(k: int, names: tuple[str, ...] | None = None) -> list[str]:
    """Human-readable term names, e.g. ``['1', 'x1', 'x2', 'x1^2', 'x2^2', 'x1x2']``."""
    v = list(names) if names else [f"x{i + 1}" for i in range(k)]
    return (["1"] + v + [f"{n}^2" for n in v]
            + [f"{v[i]}{v[j]}" if names is None else f"{v[i]}*{v[j]}"
               for i, j in combinations(range(k), 2)])


def design_matrix(X: np.ndarray) -> np.ndarray:
    """Model matrix of a full quadratic model, shape ``(n, n_terms(k))``.

    Examples
    --------
    >>> design_matrix(np.array([[2.0, 3.0]]))
    array([[1., 2., 3., 4., 9., 6.]])
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    n, k = X.shape
    cols = [np.ones(n), *X.T, *(X.T ** 2)]
    cols += [X[:, i] * X[:, j] for i, j in combinations(range(k), 2)]
    return np.column_stack(cols)


@dataclass(frozen=True)
class QuadraticSurface:
    """A full quadratic model ``y = b0 + sum bi xi + sum bii xi^2 + sum bij xi xj``.

    Examples
    --------
    >>> s = QuadraticSurface.from_coefficients([1, 2, 0, 0, 0, 0])
    >>> float(s.predict([[1.0, 5.0]])[0])
    3.0
    """

    coef: tuple[float, ...]
    k: int

    @classmethod
    def from_coefficients(cls, coef) -> QuadraticSurface:
        c = np.asarray(coef, dtype=float).ravel()
        k = _k_for(len(c))
        if not np.all(np.isfinite(c)):
            bad = [term_names(k)[i] for i in np.flatnonzero(~np.isfinite(c))]
            raise ConfigError(f"coefficients must be numbers; missing or not finite: "
                              f"{', '.join(bad)}")
        return cls(coef=tuple(float(x) for x in c), k=k)

    def predict(self, X) -> np.ndarray:
        """Values at the rows of ``X`` (shape ``(n, k)``)."""
        X = np.atleast_2d(np.asarray(X, dtype=float))
        if X.shape[1] != self.k:
            raise ConfigError(f"the model has {self.k} variables, got {X.shape[1]}")
        return design_matrix(X) @ np.asarray(self.coef)

    def equation(self, names: tuple[str, ...] | None = None, digits: int = 4) -> str:
        """The model as text, e.g. ``327.6 + 177x1 - 22.4x2^2``."""
        parts = []
        for name, c in zip(term_names(self.k, names), self.coef, strict=True):
            if c == 0 and name != "1":
                continue
            value = f"{abs(c):.{digits}g}"
            body = value if name == "1" else f"{value}{name}"
            parts.append(("- " if c < 0 else "+ ") + body)
        text = " ".join(parts) or "0"
        return text[2:] if text.startswith("+ ") else "-" + text[2:]


def _k_for(n_coef: int) -> int:
    for k in range(1, 20):
        if n_terms(k) == n_coef:
            return k
        if n_terms(k) > n_coef:
            break
    raise ConfigError(f"{n_coef} coefficients do not make a full quadratic model "
                      f"(1 variable needs 3, 2 need 6, 3 need 10, 4 need 15)")


@dataclass(frozen=True)
class SurfaceFit:
    """A least-squares fit: the surface, R^2, adjusted R^2, fitted values and residuals."""

    surface: QuadraticSurface
    r2: float
    r2_adj: float
    fitted: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)


def fit_quadratic(X, y) -> SurfaceFit:
    """Fit a full quadratic model to ``(X, y)`` by least squares.

    Raises :class:`~gda_core.errors.ConfigError` when there are fewer runs than model terms,
    when values are not finite, or when the design cannot separate the terms (e.g. a
    variable held at two levels only cannot give its square term).
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y, dtype=float).ravel()
    n, k = X.shape
    p = n_terms(k)
    if len(y) != n:
        raise ConfigError(f"{n} design rows but {len(y)} responses")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ConfigError("the design and the responses must be finite numbers")
    if n < p:
        raise ConfigError(f"a full quadratic model in {k} variables has {p} terms, so it needs "
                          f"at least {p} runs; the data has {n}")
    A = design_matrix(X)
    rank = np.linalg.matrix_rank(A)
    if rank < p:
        raise ConfigError(f"the design cannot separate the {p} model terms (rank {rank}); "
                          "each variable needs at least three distinct levels")
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    fitted = A @ coef
    resid = y - fitted
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    r2 = 1.0 - float(resid @ resid) / ss_tot if ss_tot > 0 else 1.0
    r2_adj = 1.0 - (1.0 - r2) * (n - 1) / (n - p) if n > p else float("nan")
    return SurfaceFit(QuadraticSurface.from_coefficients(coef), r2, r2_adj, fitted, resid)
