"""Cost before Start and a time left that holds: fit costs from steps timed here, the
comparison's units weighed by their predicted seconds, the CLI's --dry-run, the Train
page's estimate."""

from __future__ import annotations

import json
import math

import pytest
from conftest import REPO
from conftest_synth import fast_params
from streamlit.testing.v1 import AppTest

from gda_core.cli.main import main
from gda_core.datasets import ImbalanceSpec
from gda_core.experiments import ClassifierConfig, CompareConfig, run_comparison
from gda_core.experiments.estimate import estimate_comparison, probe_costs
from gda_core.runs.eta import TimeLeft
from gda_core.runs.executors import run_units, unit_shares
from gda_core.synthesizers import SYNTHESIZERS

FAST = ClassifierConfig(epochs=2, width=8, fc_units=32)
SPEC = ImbalanceSpec(ratio=0.2, minority_classes=(3, 8), classes=(0, 1, 3, 8),
                     majority_count=60, test_per_class=10)


def test_a_gans_cost_follows_its_steps_and_models():
    one = SYNTHESIZERS["dcgan"](**fast_params("dcgan", epochs=1, min_steps=200))
    cost = one.fit_cost((1, 8, 8), {0: 60, 3: 12, 8: 12})
    assert cost.models == 2 and cost.steps == [200, 200]          # the two minority classes
    assert cost.step_ms > 0 and math.isfinite(cost.seconds)
    double = SYNTHESIZERS["dcgan"](**fast_params("dcgan", epochs=1, min_steps=400))
    assert double.fit_cost((1, 8, 8), {0: 60, 3: 12, 8: 12}).steps == [400, 400]
    assert one.fit_cost((1, 8, 8), {0: 60, 3: 12, 8: 12}, classes=[3]).models == 1
    epochs = SYNTHESIZERS["dcgan"](**fast_params("dcgan", epochs=50, min_steps=0,
                                                 batch_size=4))
    assert epochs.fit_cost((1, 8, 8), [60, 12]).steps == [150]        # 50 x ceil(12 / 4)
    cgan = SYNTHESIZERS["cgan"](**fast_params("cgan", epochs=1, min_steps=30))
    assert cgan.fit_cost((1, 8, 8), [60, 12]).models == 1              # one model of all
    assert "2 models × 200 steps" in cost.text()


def test_the_three_player_models_are_not_guessed():
    from gda_core.errors import GDAError

    with pytest.raises(GDAError, match="not predicted"):
        SYNTHESIZERS["adso"]().fit_cost((1, 8, 8), [60, 12])


def test_probe_costs_price_a_gan_unit_above_smote(digits_splits):
    config = CompareConfig(imbalance=SPEC, methods=("baseline", "smote", "dcgan", "adso"),
                           classifier=FAST,
                           method_params={"dcgan": fast_params("dcgan", min_steps=300)})
    costs = probe_costs(config, (1, 8, 8), [60, 60, 12, 12], 4)
    assert set(costs) == {"baseline", "smote", "dcgan"}               # adso: not predicted
    assert costs["dcgan"] > costs["smote"] >= costs["baseline"] > 0
    estimate, units = estimate_comparison(config, digits_splits)
    assert units == 1 and estimate.unknown == ["adso"]
    assert "from a training step timed on this machine" in estimate.text(units)


def test_unit_shares_weigh_progress_by_cost():
    reports: list[float] = []

    def unit(shared, item, report):
        report(0.5, f"item {item}")

    run_units(unit, ["cheap", "dear"], on_result=lambda *a: None,
              progress=lambda f, m: reports.append(round(f, 3)), weights=[1.0, 3.0])
    assert reports == [0.125, 0.625]          # halfway through each, on the job's scale
    assert unit_shares(3, [1.0, 0.0, 2.0]) == [1 / 3] * 3  # a zero weight: equal shares


def test_the_pace_starts_with_the_progress_not_the_start_up():
    now = [0.0]
    eta = TimeLeft(window=math.inf, min_span=3, clock=lambda: now[0])
    for t in (0.0, 30.0, 60.0):          # a minute of start-up at 0 %
        now[0] = t
        assert eta.update(0.0) is None
    now[0] = 70.0
    assert eta.update(0.25) == pytest.approx(30.0)   # 25 % in 10 s, not in 70 s


def test_a_comparison_records_what_it_was_predicted_to_take(digits_splits):
    config = CompareConfig(imbalance=SPEC, methods=("baseline", "smote", "dcgan"), seeds=(0,),
                           classifier=FAST,
                           method_params={"dcgan": fast_params("dcgan", min_steps=60)})
    seen: list[float] = []
    result = run_comparison(config, splits=digits_splits,
                            progress=lambda f, m: seen.append(f))
    assert math.isfinite(result.predicted_seconds) and result.predicted_seconds > 0
    assert 50 < result.peak_memory_mb < 64 * 1024                  # MiB, this process's
    assert seen == sorted(seen)          # never back (the gate's line after a GAN)
    back = type(result).from_dict(json.loads(result.to_json()))
    assert back.predicted_seconds == pytest.approx(result.predicted_seconds)
    assert back.peak_memory_mb == pytest.approx(result.peak_memory_mb)
    # the next estimate of the same methods and shape names that memory
    from gda_core.experiments.estimate import estimate_seconds, unit_costs

    costs = unit_costs([result])
    estimate = estimate_seconds(["baseline", "smote", "dcgan"], 1, 100, 200, (1, 8, 8),
                                costs)
    assert estimate.peak_mb == pytest.approx(result.peak_memory_mb)
    assert "memory: up to" in estimate.text(1)
    assert "memory" not in estimate_seconds(["baseline"], 1, 100, 200, (3, 8, 8),
                                            costs).text(1)       # another shape: unknown


def test_cli_compare_dry_run_runs_nothing(tmp_path, capsys):
    code = main(["compare", "--methods", "baseline,smote,dcgan", "--param",
                 "dcgan.min_steps=50", "--epochs", "2", "--runs-dir", str(tmp_path / "r"),
                 "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "protocol:" in out and "dcgan:" in out and "estimate: about" in out
    assert not (tmp_path / "r").exists()                 # no run store, nothing run


def test_cli_train_dry_run(capsys):
    code = main(["train", "--synthesizer", "dcgan", "--class", "8", "--param",
                 "min_steps=120", "--dry-run"])
    out = capsys.readouterr().out
    assert code == 0 and "1 model × 120 steps" in out and "ms per step here" in out


def test_train_page_estimates_before_start(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/train.py").run()
    at.number_input(key="train-dcgan-min_steps").set_value(300)
    next(b for b in at.button if b.label == "Estimate time").click().run()
    assert not at.exception and not at.error
    text = " ".join(i.value for i in at.info)
    assert "This training would take about" in text and "× 300 steps" in text
    assert "run" not in at.query_params                       # nothing started


def test_a_gan_units_progress_gives_its_training_its_predicted_share(digits_splits):
    from gda_core.experiments.compare import plan_units, unit_weights

    config = CompareConfig(imbalance=SPEC, methods=("baseline", "dcgan"), classifier=FAST,
                           method_params={"dcgan": fast_params("dcgan", min_steps=2000)})
    plan, _, units = plan_units(config, digits_splits)
    weights, shares = unit_weights(config, digits_splits, plan, units)
    assert [m for _, _, m in units] == ["baseline", "dcgan"]
    assert weights[1] > 3 * weights[0]          # 2 x 2,000 GAN steps outweigh 2 epochs
    assert set(shares) == {"dcgan"} and 0.7 < shares["dcgan"] < 1
    three = CompareConfig(imbalance=SPEC, methods=("baseline", "adso"), classifier=FAST)
    plan, _, units = plan_units(three, digits_splits)
    assert unit_weights(three, digits_splits, plan, units)[0] is None   # not predicted
