"""Bad input suite: each case goes through the command line (the same library calls the
dashboard makes) and must end in a clear message, never a traceback.

Exit status 2 with ``error: ...`` for input that cannot run; exit status 0 with a ``note:``
or a per-method message for input that is handled (skipped files, a method that cannot run
while the others do).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gda_core.cli import main

QUICK = ["--epochs", "1", "--quiet", "--test-per-class", "2"]


def _png(path: Path, shape=(10, 10), mode: str = "L", seed: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    channels = {"L": (), "RGB": (3,), "RGBA": (4,)}[mode]
    Image.fromarray(rng.integers(0, 255, (*shape, *channels), dtype=np.uint8), mode).save(path)


def _folder(root: Path, counts: dict[str, int]) -> Path:
    for name, n in counts.items():
        for i in range(n):
            _png(root / name / f"{i}.png", seed=i)
    return root


def _run(args: list[str], capsys) -> tuple[int, str]:
    code = main(args)
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "Traceback" not in text
    return code, text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--ratio", "0", "--minority", "3"], "ratio must be in (0, 1]"),
        (["--ratio", "-0.5", "--minority", "3"], "ratio must be in (0, 1]"),
        (["--ratio", "1.5", "--minority", "3"], "ratio must be in (0, 1]"),
        (["--counts", "0=500,1=25"], "were asked for"),
        (["--ratio", "0.1", "--minority", "42"], "minority class 42"),
        (["--counts", "0=5,1=x"], "counts look like"),
    ],
)
def test_imbalance_settings(extra, message, capsys):
    code, text = _run(["compare", "--dataset", "digits", *extra, "--methods", "baseline",
                       *QUICK], capsys)
    assert code == 2 and message in text


@pytest.mark.parametrize(
    ("counts", "params", "message"),
    [
        # one-image class: our guard's message (imbalanced-learn's own error would differ)
        ("0=30,1=1", [], "class '1' has only 1 image; use random oversampling"),
        # k above the minority's count
        ("0=30,1=4", ["--param", "smote.k_neighbors=10"],
         "but class '1' has 3; set k_neighbors to at most 2"),  # 1 held out
    ],
)
def test_smote_on_too_few_minority_images(counts, params, message, capsys):
    code, text = _run(["compare", "--dataset", "digits", "--counts", counts, "--methods",
                       "baseline,smote", *params, *QUICK], capsys)
    assert code == 0  # the baseline still runs; SMOTE's failure is explained
    assert message in text and "smote: FAILED" in text
    assert "baseline" in text


def test_empty_dataset(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    code, text = _run(["compare", "--dataset", "folder", "--path", str(tmp_path), *QUICK],
                      capsys)
    assert code == 2 and "error:" in text


def test_zip_without_class_folders(tmp_path, capsys):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(3):
            img = io.BytesIO()
            Image.new("L", (8, 8)).save(img, "PNG")
            zf.writestr(f"{i}.png", img.getvalue())
    path = tmp_path / "flat.zip"
    path.write_bytes(buf.getvalue())
    code, text = _run(["compare", "--dataset", "zip", "--path", str(path), *QUICK], capsys)
    assert code == 2 and "class" in text.lower()


def test_non_image_and_corrupt_files_are_skipped_and_listed(tmp_path, capsys):
    root = _folder(tmp_path / "data", {"a": 6, "b": 6})
    (root / "a" / "notes.txt").write_text("not an image")
    (root / "b" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 garbage")
    good = io.BytesIO()
    Image.new("L", (10, 10)).save(good, "PNG")
    (root / "b" / "cut.png").write_bytes(good.getvalue()[:30])  # truncated PNG
    code, text = _run(["compare", "--dataset", "folder", "--path", str(root), "--image-size",
                       "8", "--counts", "0=4,1=3", "--methods", "baseline", *QUICK], capsys)
    assert code == 0
    assert "notes.txt" in text and "broken.jpg" in text and "cut.png" in text


def test_mixed_modes_and_sizes_are_handled(tmp_path, capsys):
    root = tmp_path / "mixed"
    for i, (mode, shape) in enumerate([("L", (10, 12)), ("RGB", (31, 17)), ("RGBA", (8, 8)),
                                       ("L", (40, 40)), ("RGB", (9, 9)), ("RGBA", (20, 5))]):
        _png(root / "a" / f"{i}.png", shape, mode, seed=i)
        _png(root / "b" / f"{i}.png", shape, mode, seed=10 + i)
    code, text = _run(["compare", "--dataset", "folder", "--path", str(root), "--image-size",
                       "8", "--color", "rgb", "--counts", "0=4,1=3", "--methods", "baseline",
                       "--protocol", "holdout", *QUICK], capsys)
    assert code == 0 and "train [4, 3]" in text


@pytest.mark.parametrize(
    ("csv", "extra", "message"),
    [
        ("x1,x2,y1,y2\n1,a,2,3\n0,1,2,3\n", ["--target", "1"], "non-numeric value 'a'"),
        ("x1,x2,y1,y2\n-1,-1,1,2\n1,1,2,3\n0,0,3,4\n", ["--target", "1"],
         "needs at least 6 runs"),
        ("x1,x2,y1,y2\n", ["--target", "1"], "no rows"),
        ("a,b\n1,2\n", ["--target", "1"], "design columns"),
    ],
)
def test_bad_drso_csvs(tmp_path, csv, extra, message, capsys):
    path = tmp_path / "case.csv"
    path.write_text(csv)
    code, text = _run(["drso", "--case", str(path), *extra, "--pop", "8", "--gens", "2"],
                      capsys)
    assert code == 2 and message in text


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--bounds", "1:-1,-1:1,-1:1"], "lower bound must be below upper bound for x1"),
        (["--bounds=-1:1"], "one name and one lower and upper bound per variable"),
        (["--bounds", "a:b,-1:1,-1:1"], "bounds look like"),
    ],
)
def test_bad_drso_bounds(extra, message, capsys):
    code, text = _run(["drso", "--case", "printing", *extra], capsys)
    assert code == 2 and message in text


def test_target_outside_reachable_range_warns(capsys):
    code, text = _run(["drso", "--case", "printing", "--target", "5000", "--pop", "8",
                       "--gens", "2"], capsys)
    assert code == 0 and "outside the reachable range" in text


def test_nan_coefficients_are_refused():
    from gda_core.errors import ConfigError
    from gda_core.optimization import DRSOCase

    with pytest.raises(ConfigError, match="not finite: x1x2"):
        DRSOCase.from_coefficients("c", [1, 2, 3, 4, 5, float("nan")], [1, 0, 0, 0, 0, 0],
                                   lower=(-1, -1), upper=(1, 1), target=1.0)
