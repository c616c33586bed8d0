"""The headless command line."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO, children_of, running, shared_path

from gda_core.cli import main
from gda_core.cli.args import int_list, parse_counts
from gda_core.errors import ConfigError


def test_compare_digits_writes_json_and_table(tmp_path, capsys):
    out = tmp_path / "out.json"
    code = main(["compare", "--dataset", "digits", "--ratio", "0.1", "--minority", "3,8",
                 "--test-per-class", "20", "--methods", "baseline,smote,random",
                 "--param", "smote.k_neighbors=3", "--seeds", "0", "--epochs", "2",
                 "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0
    lines = captured.out.splitlines()
    header = next(line for line in lines if "accuracy" in line)
    assert "f1" in header and "gmean" in header and "R_min" in header
    assert any(line.startswith("smote") for line in lines)
    assert "wrote" in captured.out
    data = json.loads(out.read_text())
    assert [r["method"] for r in data["runs"]] == ["baseline", "smote", "random"]
    assert data["config"]["method_params"] == {"smote": {"k_neighbors": 3}}
    assert "epoch" in captured.err  # progress went to stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ratio", "1.5", "--minority", "3"], "ratio must be in (0, 1]"),
        (["--ratio", "0", "--minority", "3"], "ratio must be in (0, 1]"),
        (["--preset", "am-study"], "class '0'"),
        (["--preset", "nope"], "unknown imbalance preset"),
        (["--methods", "baseline,vae"], "unknown method 'vae'"),
        (["--param", "smote.k=3", "--methods", "smote"], "unknown parameter 'k'"),
        (["--param", "smote.k_neighbors=-1", "--methods", "smote"], "at least 1"),
        (["--counts", "0=10,1=abc"], "counts look like"),
        (["--preset", "am-study", "--ratio", "0.1"], "only one of"),
        (["--dataset", "mnist", "--root", "/nonexistent-gda"], "mnist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, message, capsys):
    code = main(["compare", "--epochs", "1", *args])
    err = capsys.readouterr().err
    assert code == 2
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") and message in last
    assert "Traceback" not in err


def test_method_failure_is_reported_not_raised(capsys):
    code = main(["compare", "--methods", "baseline,smote", "--param", "smote.k_neighbors=40",
                 "--epochs", "1", "--test-per-class", "20", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert "smote: FAILED" in out and "k_neighbors" in out


def test_list_names_everything(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for word in ("digits", "mnist", "am-study", "lt-100", "smote", "borderline-smote",
                 "adasyn", "augment", "k_neighbors"):
        assert word in out


def test_arg_parsers():
    assert int_list("0,2, 5-7") == (0, 2, 5, 6, 7)
    assert parse_counts("0=500,1=25,2=all") == {0: 500, 1: 25, 2: None}
    with pytest.raises(ConfigError):
        int_list("a,b")


def test_module_entry_point_runs(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "gda_core", "compare", "--ratio", "2",
                           "--minority", "3"], cwd=REPO, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2
    assert "error: the minority/majority ratio must be in (0, 1]" in proc.stderr


@pytest.mark.data
@pytest.mark.slow
def test_mnist_case2_offline(tmp_path, capsys):
    root = shared_path("mnist")
    out = tmp_path / "out.json"
    code = main(["compare", "--dataset", "mnist", "--root", str(root), "--preset",
                 "mnist-case2", "--max-per-class", "300", "--methods", "baseline,smote",
                 "--param", "smote.k_neighbors=4",
                 "--seeds", "0", "--epochs", "2", "--json", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    data = json.loads(out.read_text())
    assert data["class_names"] == ["1", "2", "3", "4", "5"]
    assert data["train_counts"] == [300, 6, 6, 6, 6]
    smote = data["runs"][1]
    # 10% of every class (at least one image) is held out for validation before SMOTE runs:
    # 270 + 5 x 4 real images are left, and SMOTE (k=4 neighbours of 5 images) fills up
    assert smote["split_counts"]["train"]["real"] == [270, 5, 5, 5, 5]
    assert smote["split_counts"]["validation"] == {"real": [30, 1, 1, 1, 1],
                                                   "synthetic": [0, 0, 0, 0, 0]}
    assert smote["n_generated"] == {"0": 0, "1": 265, "2": 265, "3": 265, "4": 265}


@pytest.mark.parametrize("jobs", [1, 2])
def test_ctrl_c_keeps_and_saves_what_finished(jobs, tmp_path):
    """SIGINT (Ctrl-C) while a slow DCGAN trains: the finished methods are printed, written
    to the JSON and saved as a stopped run; exit status 130; progress inside the GAN's
    training reached the (non-terminal) stderr.  With ``n_jobs=2`` its classes train in
    worker processes, which end with the command."""
    import os
    import signal
    import time

    from gda_core.experiments import list_comparisons, load_comparison
    from gda_core.runs import RunStore

    out, runs = tmp_path / "partial.json", tmp_path / "runs"
    args = [sys.executable, "-m", "gda_core", "compare", "--ratio", "0.2", "--minority", "3,8",
            "--majority-count", "60", "--test-per-class", "10", "--epochs", "1", "--width", "8",
            "--methods", "baseline,smote,dcgan", "--param", "smote.k_neighbors=3",
            "--param", "dcgan.min_steps=20000", "--param", "dcgan.width=8",
            "--param", f"dcgan.n_jobs={jobs}",
            "--no-sample-quality", "--json", str(out), "--save", "--runs-dir", str(runs)]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    err = tmp_path / "stderr.txt"
    with open(err, "w") as err_file:
        proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                                stderr=err_file, text=True)
        deadline = time.monotonic() + 120
        # a progress line from inside the GAN's training (a pipe is not a terminal: plain
        # lines, at least every 10 s), after baseline and SMOTE were written to the JSON
        while "training class" not in err.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.2)
        assert len(json.loads(out.read_text())["runs"]) == 2
        workers = children_of(proc.pid)
        if jobs > 1:  # its two classes' workers (and spawn's resource tracker)
            assert len(workers) >= 2
        proc.send_signal(signal.SIGINT)
        stdout, _ = proc.communicate(timeout=60)
    stderr = err.read_text()
    deadline = time.monotonic() + 10
    while [p for p in workers if running(p)] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if running(p)], "worker processes outlived the command"
    assert proc.returncode == 130, stderr
    assert "interrupted: 2 of 3 method x seed runs finished" in stderr
    assert "left" in stderr                              # an estimate of the time left
    assert any(line.startswith("smote") for line in stdout.splitlines())
    assert [r["method"] for r in json.loads(out.read_text())["runs"]] == ["baseline", "smote"]
    (record,) = list_comparisons(RunStore(runs))
    assert record.status == "stopped" and "(stopped)" in stdout
    assert load_comparison(RunStore(runs), record.id).missing_runs() == [("dcgan", 0)]


def test_ctrl_c_in_a_sweep_keeps_the_seeds_that_finished(tmp_path, monkeypatch, capsys):
    """Ctrl-C after the first seed of a sweep: it is printed, written, saved as stopped."""
    from gda_core.cli import commands
    from gda_core.experiments.persist import list_sweeps
    from gda_core.runs import RunStore

    real = commands.run_ratio_sweep

    def interrupted_after_one_seed(config, *args, on_seed=None, **kwargs):
        def first_then_stop(partial):
            on_seed(partial)
            raise KeyboardInterrupt
        return real(config, *args, on_seed=first_then_stop, **kwargs)

    monkeypatch.setattr(commands, "run_ratio_sweep", interrupted_after_one_seed)
    out, runs = tmp_path / "sweep.json", tmp_path / "runs"
    code = main(["compare", "--ratio", "0.2", "--minority", "3,8", "--majority-count", "60",
                 "--test-per-class", "10", "--epochs", "1", "--width", "8", "--quiet",
                 "--methods", "baseline,smote", "--param", "smote.k_neighbors=3",
                 "--seeds", "0,1", "--ratios", "0,1", "--json", str(out), "--save",
                 "--runs-dir", str(runs)])
    captured = capsys.readouterr()
    assert code == 130
    assert "interrupted: 1 of 2 seeds finished" in captured.err
    assert json.loads(out.read_text())["runs"][0]["seed"] == 0
    assert {r["seed"] for r in json.loads(out.read_text())["runs"]} == {0}
    (record,) = list_sweeps(RunStore(runs))
    assert record.status == "stopped" and "(stopped)" in captured.out


def test_an_oversampler_error_names_the_users_class_not_its_index(capsys):
    """Classes 0, 1, 3, 8 are labels 0..3 inside the comparison; SMOTE's message must say
    '3', the class the user chose, not 2."""
    code = main(["compare", "--dataset", "digits", "--counts", "0=60,1=60,3=3,8=60",
                 "--test-per-class", "10", "--methods", "baseline,smote", "--epochs", "1",
                 "--width", "8", "--quiet", "--no-sample-quality"])
    out = capsys.readouterr().out
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("smote: FAILED"))
    assert "class '3' has 2" in line and "class 2" not in line


def test_save_to_a_damaged_run_store_keeps_the_json_and_exits_2(tmp_path, capsys):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "runs.sqlite3").write_bytes(b"not a database " * 300)
    out = tmp_path / "out.json"
    code = main(["compare", "--ratio", "0.2", "--minority", "3,8", "--majority-count", "60",
                 "--test-per-class", "10", "--epochs", "1", "--width", "8", "--quiet",
                 "--methods", "baseline,smote", "--param", "smote.k_neighbors=3",
                 "--no-sample-quality", "--json", str(out), "--save", "--runs-dir", str(runs)])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err
    assert "the run store" in captured.err and "damaged" in captured.err
    assert [r["method"] for r in json.loads(out.read_text())["runs"]] == ["baseline", "smote"]


def test_a_folder_without_imbalance_options_starts_as_the_data_page_does(tmp_path, capsys):
    """Already imbalanced photos keep every image, the smaller class the minority (before,
    the digits default asked for minority class 3 of a two-class folder)."""
    import numpy as np
    from PIL import Image

    from gda_core.cli.main import main

    rng = np.random.default_rng(0)
    for name, n in (("normal", 40), ("defect", 8)):
        (tmp_path / name).mkdir()
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)).save(
                tmp_path / name / f"{i}.png")
    code = main(["compare", "--dataset", "folder", "--path", str(tmp_path), "--image-size",
                 "8", "--test-per-class", "3", "--methods", "baseline", "--epochs", "1",
                 "--quiet", "--protocol", "holdout"])
    out = capsys.readouterr().out
    assert code == 0
    assert "classes: defect, normal  (train [5, 37], test [3, 3])" in out
    # without --protocol, 8 defect photos are cross-validated: all 48 images, 5 folds
    code = main(["compare", "--dataset", "folder", "--path", str(tmp_path), "--image-size",
                 "8", "--methods", "baseline", "--epochs", "1", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0
    assert ("protocol: 5-fold cross-validation × 2 repeats: every image tested once per "
            "repeat, 2 + 8 test images (defect 2, normal 8) per fold — class 'defect' has 8 "
            "images (below 100)") in out


# --------------------------------------------------------------------- replays
def test_replay_at_smoke_scale_gives_no_verdict_in_text_and_json(tmp_path, capsys):
    """Smoke scale only checks that a replay runs: every check says so, never a verdict."""
    from gda_core.replays import NO_VERDICT_SMOKE

    out = tmp_path / "replay.json"
    assert main(["replay", "gan-contrast", "--scale", "smoke", "--quiet", "--json",
                 str(out)]) == 0
    text = capsys.readouterr().out
    assert f"checks ({NO_VERDICT_SMOKE}):" in text
    assert text.count("[NO VERDICT ]") == 2 and "[MATCHED" not in text
    assert text.count(f"no verdict: {NO_VERDICT_SMOKE}") == 2
    data = json.loads(out.read_text())
    assert data["scale"] == "smoke"
    assert [(c["verdict"], c["matched"], c["reason"]) for c in data["checks"]] == [
        ("no verdict", None, NO_VERDICT_SMOKE)] * 2
    assert all(c["rule"].startswith("matched: ") for c in data["checks"])
    assert set(data["extra"]["samples"]) == {"GAN (MLP)", "DCGAN"}
