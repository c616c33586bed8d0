"""``python -m gda_core drso``: metrics against a reference that is not the front itself,
``--eps-points``, and a start that imports neither torch nor scikit-learn."""

from __future__ import annotations

import subprocess
import sys

from conftest import REPO

from gda_core.cli.main import main

SMALL = ["drso", "--case", "welding", "--pop", "12", "--gens", "5"]


def test_metrics_are_measured_against_the_best_known_front(capsys):
    assert main(SMALL) == 0
    out = capsys.readouterr().out
    line = next(ln for ln in out.splitlines() if "against the best-known front" in ln)
    igd = float(line.split("IGD ")[1].split(",")[0])
    assert igd > 0          # a 12 x 5 NSGA-II run is not the best-known front (before: 0)


def test_a_reference_csv_and_none(tmp_path, capsys):
    ref = tmp_path / "ref.csv"
    assert main([*SMALL, "--reference", "none", "--out", str(ref)]) == 0
    assert "against" not in capsys.readouterr().out
    assert main(["drso", "--case", "welding", "--algorithm", "eps", "--eps-points", "7",
                 "--reference", str(ref)]) == 0
    out = capsys.readouterr().out
    assert "against ref.csv (" in out
    assert int(out.split(" non-dominated points")[0].rsplit(" ", 1)[1]) <= 7
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert main([*SMALL, "--reference", str(bad)]) == 2
    assert "needs columns F1 and F2" in capsys.readouterr().err


def test_pop_is_said_not_to_apply_to_eps(capsys):
    assert main(["drso", "--case", "welding", "--algorithm", "eps", "--pop", "30",
                 "--eps-points", "5", "--reference", "none"]) == 0
    assert "--pop and --gens do not apply to eps" in capsys.readouterr().err


def test_drso_imports_neither_torch_nor_sklearn():
    code = ("import sys\nfrom gda_core.cli.main import main\n"
            "main(['drso', '--case', 'welding', '--pop', '8', '--gens', '2', "
            "'--reference', 'none'])\n"
            "print(sorted(m for m in ('torch', 'sklearn', 'streamlit') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "[]"
