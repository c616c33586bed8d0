"""The quality gate's calibration suite: constructed synthesizers whose verdict is known,
fed through the Compare path, in a 25-image user setting and a pool setting.

The ten cases are ``gda_core.metrics.gate_cases``; ``bench/gate_cases.py`` prints the same
table with the scores behind it (64×64 CIFAR-10 and the built-in digits).
"""

from __future__ import annotations

import tarfile

import numpy as np
import pytest
from conftest import shared_path

from gda_core.datasets import DatasetSplits, ImageDataset, ImbalanceSpec
from gda_core.experiments import ClassifierConfig, CompareConfig, run_comparison
from gda_core.experiments.compare import split_for_unit
from gda_core.experiments.quality import quality_reference
from gda_core.metrics.gate import gate_findings
from gda_core.metrics.gate_cases import EXPECTED, is_right, make_cases

USER = ImbalanceSpec(counts={0: None, 1: None})


def verdicts(config: CompareConfig, splits: DatasetSplits, fold: int | None, cls: str,
             held: np.ndarray, other: np.ndarray, cache, seed: int = 0,
             cases: list[str] | None = None) -> dict[str, list[str]]:
    """Each case's gate codes, through the Compare path of one unit."""
    split = split_for_unit(config, splits, seed, fold)
    c = list(split.data.class_names).index(cls)
    if fold is None:
        reference = quality_reference(splits, cache_dir=cache)
    else:
        reference = quality_reference(DatasetSplits(split.data.train, None), cache_dir=cache,
                                      labels_are_source=False)
    fit, val = split.fit, split.validation
    train = fit.images[fit.labels == c]
    n = int(np.bincount(fit.labels).max() - len(train))
    rng = np.random.default_rng(seed)
    out = {}
    for case, fakes in make_cases(train, held, other, n, rng).items():
        if cases is not None and case not in cases:
            continue
        scores = reference.score(split.data, fakes, np.full(len(fakes), c),
                                 train_images=fit.images, train_labels=fit.labels,
                                 held_images=val.images, held_labels=val.labels,
                                 random_state=seed)[c]
        out[case] = [f.code for f in gate_findings(scores)]
    return out


def digits_user(digits_splits) -> tuple[DatasetSplits, np.ndarray, np.ndarray]:
    t = digits_splits.train
    threes, eights, fives = (t.images[t.labels == d] for d in (3, 8, 5))
    splits = DatasetSplits(ImageDataset(np.concatenate([threes[:25], eights[:170]]),
                                        np.repeat([0, 1], [25, 170]), ("3", "8")), None)
    return splits, threes[25:], fives


def test_every_case_gets_its_verdict_on_25_digits_as_a_folder(digits_splits, tmp_path):
    splits, held, other = digits_user(digits_splits)
    config = CompareConfig(imbalance=USER, methods=("baseline",), protocol="cv", folds=5)
    got = verdicts(config, splits, 0, "3", held, other, tmp_path)
    wrong = {case: codes for case, codes in got.items() if not is_right(case, codes)}
    assert not wrong, wrong
    assert set(got) == set(EXPECTED)


def test_every_case_gets_its_verdict_against_the_digits_pool(digits_splits, tmp_path):
    t = digits_splits.train
    config = CompareConfig(imbalance=ImbalanceSpec(counts={3: 25, 8: 160}, test_per_class=5),
                           methods=("baseline",), protocol="holdout")
    got = verdicts(config, digits_splits, None, "3", t.images[t.labels == 3][30:],
                   t.images[t.labels == 5], tmp_path)
    wrong = {case: codes for case, codes in got.items() if not is_right(case, codes)}
    assert not wrong, wrong


@pytest.mark.slow
def test_held_out_real_images_pass_in_19_of_20_draws(digits_splits, tmp_path):
    """The gate's false alarms: new real images of the class, in 20 draws of the user
    setting (other folds and repeats, other 25 images of the class)."""
    t = digits_splits.train
    threes, eights, fives = (t.images[t.labels == d] for d in (3, 8, 5))
    passed = 0
    for draw in range(20):
        rng = np.random.default_rng(draw)
        pick = rng.permutation(len(threes))
        splits = DatasetSplits(ImageDataset(np.concatenate([threes[pick[:25]], eights[:170]]),
                                            np.repeat([0, 1], [25, 170]), ("3", "8")), None)
        config = CompareConfig(imbalance=USER, methods=("baseline",), protocol="cv", folds=5,
                               seeds=(draw,))
        case = "held-out real images of the class"
        got = verdicts(config, splits, draw % 5, "3", threes[pick[25:]], fives, tmp_path,
                       seed=draw, cases=[case])
        passed += is_right(case, got[case])
    assert passed >= 19, passed


@pytest.mark.slow
@pytest.mark.data
def test_every_case_gets_its_verdict_on_25_cifar_horses_as_a_folder(tmp_path):
    archive = shared_path("cifar10") / "cifar10-jpeg.tar.gz"
    from PIL import Image

    wanted = {"horse": 225, "deer": 300}
    found: dict[str, list[np.ndarray]] = {k: [] for k in wanted}
    with tarfile.open(archive) as tar:
        for m in sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name):
            parts = m.name.split("/")
            if len(parts) == 3 and parts[0] == "train" and parts[1] in wanted and \
                    len(found[parts[1]]) < wanted[parts[1]]:
                img = Image.open(tar.extractfile(m)).convert("RGB")
                found[parts[1]].append(np.asarray(img).transpose(2, 0, 1))
    horses, deer = (np.stack(found[k]) for k in ("horse", "deer"))
    splits = DatasetSplits(ImageDataset(np.concatenate([horses[:25], deer[:250]]),
                                        np.repeat([0, 1], [25, 250]), ("horse", "deer")), None)
    config = CompareConfig(imbalance=USER, methods=("baseline",), protocol="cv", folds=5)
    got = verdicts(config, splits, 0, "horse", horses[25:], deer[250:], tmp_path)
    wrong = {case: codes for case, codes in got.items() if not is_right(case, codes)}
    assert not wrong, wrong


def test_a_memorising_synthesizer_is_flagged_and_never_recommended(digits_splits, tmp_path):
    """The memorising control (training images plus invisible noise) in a cross-validated
    comparison: copies in every fold, left out of the answer, while SMOTE passes."""
    splits, _, _ = digits_user(digits_splits)
    config = CompareConfig(imbalance=USER, methods=("baseline", "memorise", "smote"),
                           method_params={"smote": {"k_neighbors": 3}}, seeds=(0,),
                           classifier=ClassifierConfig(epochs=3, width=8, fc_units=32),
                           protocol="cv", folds=5, quality_cache_dir=str(tmp_path))
    result = run_comparison(config, splits=splits)
    memorised = result.runs_of("memorise")
    assert all("copies" in {w["code"] for w in r.warnings} for r in memorised)
    assert not any("copies" in {w["code"] for w in r.warnings} for r in result.runs_of("smote"))
    answer = result.recommendation
    assert answer["method"] != "memorise"
    assert [e["method"] for e in answer["excluded"]] == ["memorise"]
    assert "Memorising control was excluded: its images are copies of the training images" \
        in answer["text"]
