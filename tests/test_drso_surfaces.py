"""Response surfaces, cases, objective transforms and fitting a designed experiment."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, shared_path

from gda_core.errors import ConfigError
from gda_core.optimization import CASES, DRSOCase, fit_experiment, fit_quadratic, term_names
from gda_core.optimization.objectives import evaluate_case, f1_from_mean
from gda_core.optimization.surfaces import QuadraticSurface, design_matrix, n_terms

PRINTING_MEAN = [327.6, 177.0, 109.4, 131.5, 32.0, -22.4, -29.1, 66.0, 75.5, 43.6]
PRINTING_SD = [34.9, 11.5, 15.3, 29.2, 4.2, -1.3, 16.8, 7.7, 5.1, 14.1]


def test_term_order_and_design_matrix():
    assert term_names(3) == ["1", "x1", "x2", "x3", "x1^2", "x2^2", "x3^2",
                             "x1x2", "x1x3", "x2x3"]
    assert [n_terms(k) for k in (1, 2, 3, 4)] == [3, 6, 10, 15]
    row = design_matrix(np.array([[2.0, 3.0, 5.0]]))[0]
    assert row.tolist() == [1, 2, 3, 5, 4, 9, 25, 6, 10, 15]


def test_printing_surface_by_hand():
    mean = CASES["printing"].mean
    # at x = (1, 1, 1) the mean is the sum of all coefficients
    assert mean.predict([[1, 1, 1]])[0] == pytest.approx(sum(PRINTING_MEAN))
    assert mean.predict([[0, 0, 0]])[0] == pytest.approx(327.6)
    # x1 = -1 alone: b0 - b1 + b11
    assert mean.predict([[-1, 0, 0]])[0] == pytest.approx(327.6 - 177.0 + 32.0)


def test_welding_case_matches_published_models():
    case = CASES["welding"]
    x = np.array([[0.5, -0.25]])
    m = 3.0422 + 0.4967 * 0.5 - 0.4367 * -0.25 + 0.0567 * 0.25 - 0.0033 * 0.0625
    s = (0.4813 + 0.1174 * 0.5 + 0.0515 * -0.25 - 0.1515 * 0.25 + 0.0115 * 0.0625
         + 0.0462 * 0.5 * -0.25)
    F, mean, sd = evaluate_case(case, x)
    assert mean[0] == pytest.approx(m) and sd[0] == pytest.approx(s)
    assert F[0].tolist() == pytest.approx([abs(m - 3.7), s])


@pytest.mark.parametrize("path", ["shared", "asset"])
def test_fit_of_27_runs_reproduces_published_coefficients(path):
    csv = shared_path("drso/printing_ink.csv") if path == "shared" else (
        REPO / "assets" / "printing_ink.csv")
    fit = fit_experiment(csv, target=500)
    assert np.round(fit.case.mean.coef, 1).tolist() == PRINTING_MEAN
    assert np.round(fit.case.sd.coef, 1).tolist() == PRINTING_SD
    assert fit.mean_fit.r2 == pytest.approx(0.927, abs=1e-3)
    assert fit.sd_fit.r2 == pytest.approx(0.454, abs=1e-3)
    assert fit.case.lower == (-1, -1, -1) and fit.case.upper == (1, 1, 1)
    table = fit.table
    assert np.allclose(table["mean"] - table["mean_fitted"], table["mean_residual"])
    assert list(fit.coefficient_table().index[:2]) == ["1", "x1"]


def test_fit_from_summary_columns_matches_published_values():
    csv = REPO / "assets" / "printing_ink.csv"
    fit = fit_experiment(csv, mean_col="ybar_published", sd_col="s_published", target=500)
    assert np.round(fit.case.sd.coef, 1).tolist() == PRINTING_SD


def test_exact_fit_recovers_a_known_surface():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (30, 2))
    true = QuadraticSurface.from_coefficients([1, 2, -3, 0.5, 0.25, -1])
    fit = fit_quadratic(X, true.predict(X))
    assert np.allclose(fit.surface.coef, true.coef)
    assert fit.r2 == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"x1": ["a", "b", "c"], "y1": [1, 2, 3], "y2": [1, 2, 3]}),
         "non-numeric value 'a'"),
        (pd.DataFrame({"x1": [-1, 0, 1, 0], "x2": [0, 1, -1, 0], "y1": [1, 2, 3, 4],
                       "y2": [2, 3, 4, 5]}), "needs at least 6 runs; the file has 4"),
        (pd.DataFrame({"x1": [-1, 0, 1], "y1": [1, 2, 3]}), "at least two replicate"),
        (pd.DataFrame({"a": [1, 2, 3], "y1": [1, 2, 3], "y2": [1, 2, 3]}),
         "no design columns"),
        (pd.DataFrame({"x1": [-1, 1, -1, 1], "y1": [1, 2, 3, 4], "y2": [1, 2, 3, 5]}),
         "three distinct levels"),
    ],
)
def test_bad_experiments_give_clear_messages(frame, message):
    with pytest.raises(ConfigError, match=message):
        fit_experiment(frame, target=1.0)


def test_unreadable_csv_bytes():
    with pytest.raises(ConfigError, match=r"no rows|could not read"):
        fit_experiment(b"", target=1.0)
    with pytest.raises(ConfigError, match="non-numeric"):
        fit_experiment(b"x1,y1,y2\n1,2,3\nfoo,1,2\n", target=1.0)


def test_case_validation():
    kw = dict(lower=(-1,), upper=(1,), target=0.0)
    DRSOCase.from_coefficients("ok", [1, 2, 3], [1, 0, 0], **kw)
    with pytest.raises(ConfigError, match="lower bound must be below"):
        DRSOCase.from_coefficients("bad", [1, 2, 3], [1, 0, 0], lower=(1,), upper=(-1,),
                                   target=0.0)
    with pytest.raises(ConfigError, match="not finite: x1"):
        DRSOCase.from_coefficients("nan", [1, float("nan"), 3], [1, 0, 0], **kw)
    with pytest.raises(ConfigError, match="do not make a full quadratic"):
        DRSOCase.from_coefficients("short", [1, 2], [1, 0, 0], **kw)
    with pytest.raises(ConfigError, match="needs a finite target"):
        DRSOCase.from_coefficients("t", [1, 2, 3], [1, 0, 0], lower=(-1,), upper=(1,))


def test_target_outside_reachable_range_is_reported():
    assert CASES["printing"].check_target() is None
    far = CASES["printing"].with_settings(target=5000.0)
    assert "outside the reachable range" in far.check_target()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("nominal", [10.0, 5.0, 0.0]), ("smaller", [490.0, 505.0, 500.0]),
     ("larger", [-490.0, -505.0, -500.0])],
)
def test_objective_transforms(kind, expected):
    mean = np.array([490.0, 505.0, 500.0])
    assert f1_from_mean(mean, kind, 500.0).tolist() == expected
