"""Checks of fitted response surfaces: ANOVA, lack of fit, term tests, reduction, log(s),
intervals and the notices about weak fits and negative predicted sd.

Every statistic is compared with an independent computation (``numpy.linalg.lstsq``, an
explicit ``inv(A'A)``, leave-one-out refits, the classical lack-of-fit test on all
observations) rather than with the code's own formulas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from scipy import stats

from gda_core.errors import ConfigError
from gda_core.optimization import DRSOCase, fit_experiment, fit_quadratic, solve
from gda_core.optimization.algorithms.epsilon import epsilon_constraint
from gda_core.optimization.fitcheck import (
    LACK_OF_FIT,
    MODEL_REDUCED,
    NEGATIVE_SD,
    SATURATED_FIT,
    WEAK_FIT,
    fit_notices,
)
from gda_core.optimization.objectives import evaluate_case
from gda_core.optimization.surfaces import (
    QuadraticSurface,
    design_matrix,
    surface_minimum,
    term_names,
    term_parents,
)

EXAMPLE = REPO / "assets" / "printing_ink.csv"


def grid(levels, k: int) -> np.ndarray:
    """Full factorial of ``levels`` in ``k`` variables."""
    return np.array(np.meshgrid(*[levels] * k, indexing="ij")).reshape(k, -1).T


def codes(notices) -> list[str]:
    return [n.code for n in notices]


# ------------------------------------------------------------------ ANOVA and term tests
def test_printing_anova_adds_up_and_matches_hand_formulas():
    fit = fit_experiment(EXAMPLE, target=500)
    for f in (fit.mean_fit, fit.sd_fit):
        y = f.y
        A = design_matrix(f.X)
        n, p = A.shape
        coef, *_ = np.linalg.lstsq(A, y, rcond=None)
        resid = y - A @ coef
        ss_res = float(resid @ resid)
        ss_tot = float(np.sum((y - y.mean()) ** 2))
        table = f.anova()
        assert table.loc["Regression", "SS"] + table.loc["Residual", "SS"] == pytest.approx(
            table.loc["Total", "SS"])
        assert table.loc["Regression", "df"] + table.loc["Residual", "df"] == n - 1
        assert table.loc["Residual", "SS"] == pytest.approx(ss_res)
        assert table.loc["Total", "SS"] == pytest.approx(ss_tot)
        F = ((ss_tot - ss_res) / (p - 1)) / (ss_res / (n - p))
        assert table.loc["Regression", "F"] == pytest.approx(F)
        assert table.loc["Regression", "p"] == pytest.approx(stats.f.sf(F, p - 1, n - p))
        assert f.r2_adj == pytest.approx(1 - (ss_res / (n - p)) / (ss_tot / (n - 1)))

        s2 = ss_res / (n - p)
        se = np.sqrt(s2 * np.diag(np.linalg.inv(A.T @ A)))
        t = coef / se
        terms = f.coefficients()
        assert np.allclose(terms["coef"], coef)
        assert np.allclose(terms["se"], se)
        assert np.allclose(terms["t"], t)
        assert np.allclose(terms["p"], 2 * stats.t.sf(np.abs(t), n - p))

        # predicted R^2 from explicit leave-one-out refits
        loo = [y[i] - design_matrix(f.X[i:i + 1])[0] @ np.linalg.lstsq(
            np.delete(A, i, 0), np.delete(y, i), rcond=None)[0] for i in range(n)]
        press = float(np.sum(np.square(loo)))
        assert f.press == pytest.approx(press)
        assert f.r2_pred == pytest.approx(1 - press / ss_tot)


def test_example_sd_model_is_the_weak_one_and_is_reported():
    fit = fit_experiment(EXAMPLE, target=500)
    assert fit.sd_fit.r2_adj == pytest.approx(0.165, abs=1e-3)
    assert fit.mean_fit.r2_adj == pytest.approx(0.888, abs=1e-3)
    weak = [n for n in fit.notices if n.code == WEAK_FIT]
    assert len(weak) == 1 and "sd model" in weak[0].message
    assert "0.165" in weak[0].message and "log(s)" in weak[0].message
    summary = fit.summary_table()
    assert list(summary.index) == ["mean", "sd"]
    assert summary.loc["sd", "r2_adj"] == pytest.approx(0.165, abs=1e-3)


# --------------------------------------------------------------------------- lack of fit
def replicated_data(cubic: float, seed: int, reps: int = 3, sigma: float = 0.2):
    """A 5 x 5 grid with ``reps`` runs per point of a quadratic plus ``cubic * x1^3``."""
    rng = np.random.default_rng(seed)
    X = np.repeat(grid(np.linspace(-1, 1, 5), 2), reps, axis=0)
    truth = QuadraticSurface.from_coefficients([1.0, 2.0, -1.0, 1.5, 0.5, 0.8])
    y = truth.predict(X) + cubic * X[:, 0] ** 3 + rng.normal(0, sigma, len(X))
    return X, y


def test_lack_of_fit_from_repeated_points_finds_a_cubic_and_not_a_quadratic():
    X, y = replicated_data(cubic=1.0, seed=3)
    fit = fit_quadratic(X, y)
    lof = fit.lack_of_fit()
    assert lof is not None and lof.pure_error.source == "repeated points"
    assert lof.df == 25 - 6 and lof.pure_error.df == 75 - 25
    assert lof.p < 1e-3
    table = fit.anova()
    assert table.loc["Lack of fit", "SS"] + table.loc["Pure error", "SS"] == pytest.approx(
        table.loc["Residual", "SS"])
    assert table.loc["Lack of fit", "df"] + table.loc["Pure error", "df"] == table.loc[
        "Residual", "df"]
    # pure error by hand: spread about each point's mean
    by_point = y.reshape(25, 3)  # the rows come in threes, one point each
    ss_pe = np.sum((by_point - by_point.mean(axis=1, keepdims=True)) ** 2)
    assert table.loc["Pure error", "SS"] == pytest.approx(ss_pe)
    assert LACK_OF_FIT in codes(fit_notices(fit))

    X, y = replicated_data(cubic=0.0, seed=3)
    fit = fit_quadratic(X, y)
    assert fit.lack_of_fit().p > 0.05
    assert LACK_OF_FIT not in codes(fit_notices(fit))


@pytest.mark.parametrize(("cubic", "significant"), [(1.0, True), (0.0, False)])
def test_lack_of_fit_from_replicate_columns_is_the_classical_test(cubic, significant):
    rng = np.random.default_rng(11)
    X = grid(np.linspace(-1, 1, 5), 2)
    truth = QuadraticSurface.from_coefficients([1.0, 2.0, -1.0, 1.5, 0.5, 0.8])
    mu = truth.predict(X) + cubic * X[:, 0] ** 3
    Y = mu[:, None] + rng.normal(0, 0.2, (len(X), 3))
    frame = pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "y1": Y[:, 0], "y2": Y[:, 1],
                          "y3": Y[:, 2]})
    fit = fit_experiment(frame, objective="smaller")
    lof = fit.mean_fit.lack_of_fit()
    assert lof.pure_error.source == "replicates"

    # the classical test on all 75 observations, by hand
    Xs, ys = np.repeat(X, 3, axis=0), Y.ravel()
    A = design_matrix(Xs)
    coef, *_ = np.linalg.lstsq(A, ys, rcond=None)
    ss_res = float(np.sum((ys - A @ coef) ** 2))
    ss_pe = float(np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2))
    df_lof, df_pe = 25 - 6, 25 * 2
    F = ((ss_res - ss_pe) / df_lof) / (ss_pe / df_pe)
    assert np.allclose(fit.case.mean.coef, coef)
    assert lof.df == df_lof and lof.pure_error.df == df_pe
    assert lof.F == pytest.approx(F)
    assert lof.p == pytest.approx(stats.f.sf(F, df_lof, df_pe))
    assert (lof.p < 0.05) is significant
    assert (LACK_OF_FIT in codes(fit.notices)) is significant
    assert fit.mean_fit.anova().attrs["pure_error"] == "replicates"
    assert fit.sd_fit.lack_of_fit() is None  # no repeated design points for the sd model


def test_printing_example_has_no_pure_error_for_sd_but_has_it_for_the_mean():
    fit = fit_experiment(EXAMPLE, target=500)
    assert fit.sd_fit.lack_of_fit() is None
    assert list(fit.sd_fit.anova().index) == ["Regression", "Residual", "Total"]
    lof = fit.mean_fit.lack_of_fit()
    assert (lof.df, lof.pure_error.df) == (17, 54)
    assert lof.p < 0.001  # the quadratic misses the printing data's shape


# ------------------------------------------------------------------------ model reduction
def test_reduction_drops_known_zero_terms_and_keeps_hierarchy():
    rng = np.random.default_rng(5)
    X = grid([-1.0, 0.0, 1.0], 3)
    X = np.vstack([X, X])  # 54 runs
    # x2 itself is zero but x2^2 is not: hierarchy must keep x2
    truth = QuadraticSurface.from_coefficients(
        [1.0, 2.0, 0.0, 3.0, 0.0, 1.5, 0.0, 0.0, 1.0, 0.0])
    y = truth.predict(X) + rng.normal(0, 0.3, len(X))
    full = fit_quadratic(X, y)
    fit = fit_quadratic(X, y, reduce=True)
    names = term_names(3)
    zero = {"x2", "x1^2", "x3^2", "x1x2", "x2x3"}
    assert {"x1^2", "x1x2", "x2x3"} <= set(fit.dropped) <= zero - {"x2"}
    assert set(full.terms) - zero <= set(fit.terms)  # every real term stays
    assert "x2" in fit.terms and full.coefficients().loc["x2", "p"] > 0.10
    for j, kept in enumerate(fit.kept):  # every kept term's main effects are kept
        if kept:
            assert all(fit.kept[q] for q in term_parents(3)[j]), names[j]
    assert fit.coefficients().loc[fit.dropped, "coef"].eq(0).all()
    assert fit.coefficients().loc[fit.dropped, "p"].isna().all()
    assert fit.df_residual == len(X) - len(fit.terms)
    # the reduced model equals least squares on the kept columns alone
    A = design_matrix(X)[:, np.asarray(fit.kept)]
    assert np.allclose(np.asarray(fit.surface.coef)[np.asarray(fit.kept)],
                       np.linalg.lstsq(A, y, rcond=None)[0])
    assert MODEL_REDUCED in codes(fit_notices(fit))
    assert fit.alpha == 0.10 and full.alpha is None


def test_reduced_models_drive_the_optimisers():
    fit = fit_experiment(EXAMPLE, target=500, reduce=True)
    case = fit.case
    assert case.mean.k == 3 and len(case.mean.coef) == 10
    assert 0 < len(fit.mean_fit.dropped) and 0 < len(fit.sd_fit.dropped)
    assert DRSOCase.from_dict(case.to_dict()) == case
    front = solve(case, "nsga2", pop=20, gens=10, seed=1)
    F = evaluate_case(case, front.X)[0]
    assert np.allclose(front.F, F)


# ------------------------------------------------------------------------------ log(s)
def positive_sd_data(seed: int = 2):
    """A 3 x 3 x 3 experiment whose sd varies over two orders of magnitude (the plain
    quadratic then dips below zero; the log model cannot)."""
    rng = np.random.default_rng(seed)
    X = grid([-1.0, 0.0, 1.0], 3)
    log_sd = 0.5 + 1.5 * X[:, 0] - 1.2 * X[:, 1] + 0.6 * X[:, 0] * X[:, 1]
    sd = np.exp(log_sd + rng.normal(0, 0.1, len(X)))
    mean = 10 + 3 * X[:, 0] + 2 * X[:, 2]
    return pd.DataFrame({"x1": X[:, 0], "x2": X[:, 1], "x3": X[:, 2], "m": mean, "s": sd})


def test_log_sd_model_predicts_positive_sd_and_survives_round_trips():
    frame = positive_sd_data()
    plain = fit_experiment(frame, mean_col="m", sd_col="s", target=12.0)
    fit = fit_experiment(frame, mean_col="m", sd_col="s", target=12.0, log_sd=True)
    assert fit.case.sd.link == "log" and fit.sd_fit.log
    rng = np.random.default_rng(0)
    pts = rng.uniform(-3, 3, (5000, 3))  # far outside the design too
    assert np.all(fit.case.sd.predict(pts) > 0)
    assert surface_minimum(plain.case.sd, [-1] * 3, [1] * 3)[1] < 0
    assert NEGATIVE_SD in codes(plain.notices)
    assert NEGATIVE_SD not in codes(fit.notices)
    assert fit.sd_fit.r2_adj > plain.sd_fit.r2_adj
    # the log fit is least squares of log(s)
    A = design_matrix(frame[["x1", "x2", "x3"]].to_numpy())
    assert np.allclose(fit.case.sd.coef, np.linalg.lstsq(A, np.log(frame["s"]), rcond=None)[0])
    assert np.allclose(fit.table["sd_fitted"], fit.case.sd.predict(A[:, 1:4]))
    assert fit.case.sd.equation().startswith("exp(")
    assert DRSOCase.from_dict(fit.case.to_dict()) == fit.case
    assert fit.case.to_dict()["sd_link"] == "log" and "sd_link" not in plain.case.to_dict()
    iv = fit.sd_fit.interval([[0.0, 0.0, 0.0], [1.0, -1.0, 0.0]])
    assert np.all(iv["pi_low"] > 0) and np.all(iv["ci_low"] < iv["fit"])
    assert np.all(iv["fit"] < iv["ci_high"])


def test_log_sd_case_works_with_the_ga_and_the_epsilon_method():
    case = fit_experiment(positive_sd_data(), mean_col="m", sd_col="s", target=12.0,
                          log_sd=True).case
    front = solve(case, "nsga2", pop=20, gens=15, seed=1)
    assert np.all(front.sd > 0)
    X, _ = epsilon_constraint(case, n_points=6, n_starts=2)
    F = evaluate_case(case, X)[0]
    assert np.all(F[:, 1] > 0)
    # the sd-minimising end of the eps front is the true minimum of the exp surface
    lo, hi = case.bounds
    assert F[:, 1].min() == pytest.approx(surface_minimum(case.sd, lo, hi)[1], rel=1e-4)


def test_log_sd_needs_positive_sds():
    with pytest.raises(ConfigError, match=r"run 10 \(0\), run 14 \(0\)"):
        fit_experiment(EXAMPLE, target=500, log_sd=True)


# --------------------------------------------------------------------------- negative sd
def test_negative_sd_inside_the_region_is_reported_with_where_and_how_much():
    # sd = 0.5 - x1^2 + 0.1 x2: smallest at x1 = +-1, x2 = -1, value -0.6
    case = DRSOCase.from_coefficients("dip", [1, 1, 0, 0, 0, 0], [0.5, 0, 0.1, -1, 0, 0],
                                      lower=(-1, -1), upper=(1, 1), objective="smaller")
    notice = case.check_sd()
    assert notice is not None and notice.code == NEGATIVE_SD
    assert "-0.6" in notice.message and "x2 = -1" in notice.message
    assert "log(s)" in notice.message
    x, value = surface_minimum(case.sd, *case.bounds)
    assert value == pytest.approx(-0.6) and abs(x[0]) == pytest.approx(1.0)
    assert case.with_settings(lower=(-0.5, -1), upper=(0.5, 1)).check_sd() is None


def test_negative_sd_of_an_interior_minimum_is_found():
    # a bowl whose minimum, -0.5 at (0.3, -0.2), lies between the screened points:
    # sd = 0.5 ((x1 - 0.3)^2 + (x2 + 0.2)^2) - 0.5
    sd = QuadraticSurface.from_coefficients([0.5 * (0.09 + 0.04) - 0.5, -0.3, 0.2, 0.5, 0.5,
                                             0.0])
    x, value = surface_minimum(sd, [-1, -1], [1, 1], n=16)
    assert np.allclose(x, [0.3, -0.2], atol=1e-5)
    assert value == pytest.approx(-0.5, abs=1e-9)


def test_sound_fits_give_no_notices_and_saturated_ones_say_so():
    X, y = replicated_data(cubic=0.0, seed=3)
    assert fit_notices(fit_quadratic(X, y)) == []
    X = grid([-1.0, 0.0, 1.0], 2)[:6]
    X = np.vstack([X[:3], [[0.5, 0.5], [-0.5, 1.0], [1.0, -0.5]]])
    fit = fit_quadratic(X, np.arange(6.0) ** 1.5)
    assert fit.df_residual == 0 and codes(fit_notices(fit)) == [SATURATED_FIT]
    assert np.isnan(fit.anova().loc["Regression", "F"])
    assert fit.interval([[0.0, 0.0]])["pi_low"].isna().all()


# ---------------------------------------------------------------------------- intervals
def test_intervals_match_the_textbook_formulas():
    X, y = replicated_data(cubic=0.0, seed=8, reps=1)
    fit = fit_quadratic(X, y)
    A = design_matrix(X)
    n, p = A.shape
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    s2 = float(np.sum((y - A @ coef) ** 2)) / (n - p)
    x0 = np.array([[0.3, -0.7], [1.0, 1.0]])
    a0 = design_matrix(x0)
    h = np.einsum("ij,jk,ik->i", a0, np.linalg.inv(A.T @ A), a0)
    t = stats.t.ppf(0.95, n - p)
    iv = fit.interval(x0, level=0.90)
    assert np.allclose(iv["fit"], a0 @ coef)
    assert np.allclose(iv["ci_high"] - iv["fit"], t * np.sqrt(s2 * h))
    assert np.allclose(iv["pi_high"] - iv["fit"], t * np.sqrt(s2 * (1 + h)))
    with pytest.raises(ConfigError, match="between 0 and 1"):
        fit.interval(x0, level=95)


def test_interval_coverage_on_simulated_data_is_about_95_percent():
    rng = np.random.default_rng(2024)
    X = grid([-1.0, 0.0, 1.0], 2)
    X = np.vstack([X, [[0.0, 0.0]] * 3])  # 12 runs, 6 residual df
    truth = QuadraticSurface.from_coefficients([2.0, 1.0, -0.5, 0.7, -0.3, 0.4])
    x0 = np.array([[0.5, -0.8]])
    mu0 = float(truth.predict(x0)[0])
    mu = truth.predict(X)
    n_sim, pi_hits, ci_hits = 2000, 0, 0
    for _ in range(n_sim):
        fit = fit_quadratic(X, mu + rng.normal(0, 1.0, len(X)))
        iv = fit.interval(x0).iloc[0]
        y_new = mu0 + rng.normal()
        pi_hits += iv["pi_low"] <= y_new <= iv["pi_high"]
        ci_hits += iv["ci_low"] <= mu0 <= iv["ci_high"]
    # binomial sd of the coverage estimate is about 0.005
    assert pi_hits / n_sim == pytest.approx(0.95, abs=0.02)
    assert ci_hits / n_sim == pytest.approx(0.95, abs=0.02)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: QuadraticSurface.from_coefficients([1, 2, 3], link="sqrt"),
         r"^the model scale must be one of identity, log, got 'sqrt'$"),
        (lambda: fit_quadratic(grid([-1.0, 0.0, 1.0], 1), [1.0, 2.0, 3.0], reduce=True,
                               alpha=1.5),
         r"^the significance level for dropping terms must be between 0 and 1, got 1\.5$"),
        (lambda: fit_quadratic(grid([-1.0, 0.0, 1.0], 1), [1.0, -2.0, 3.0], log=True,
                               name="sd"),
         r"^the log model of sd needs positive values; run 2 \(-2\) is not\. Use the plain"),
        (lambda: surface_minimum(QuadraticSurface.from_coefficients([1, 2, 3]), [1], [-1]),
         r"^give a lower below an upper bound for each of the 1 variables$"),
    ],
    ids=["link", "alpha", "log-negative", "minimum-bounds"],
)
def test_fit_guards(call, match):
    with pytest.raises(ConfigError, match=match):
        call()
