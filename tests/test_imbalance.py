"""Imbalance presets, ratio and count modes, and their error messages."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_dataset

from gda_core.datasets.base import DatasetSplits
from gda_core.datasets.imbalance import PRESETS, ImbalanceSpec, get_preset, make_imbalanced
from gda_core.errors import ConfigError, DatasetError


@pytest.fixture(scope="module")
def big_splits() -> DatasetSplits:
    train = synthetic_dataset({c: 4200 for c in range(10)}, size=2)
    test = synthetic_dataset({c: 150 for c in range(10)}, size=2, seed=1)
    return DatasetSplits(train, test)


@pytest.mark.parametrize(
    ("preset", "expected"),
    [
        ("am-study", [500, 25, 25]),
        ("mnist-case1", [4200, 6]),
        ("mnist-case2", [4200, 6, 6, 6, 6]),
        ("mnist-case3", [67] + [4200] * 9),
        ("lt-100", [4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40]),
    ],
)
def test_preset_counts(big_splits, preset, expected):
    data = make_imbalanced(big_splits, PRESETS[preset], random_state=0)
    assert list(data.train.counts().values()) == expected
    assert set(data.test.counts().values()) == {100}
    assert len(data.class_names) == len(expected)


def test_preset_roles_and_reindexing(big_splits):
    data = make_imbalanced(big_splits, PRESETS["mnist-case2"], random_state=0)
    assert data.class_names == ("c1", "c2", "c3", "c4", "c5")
    assert data.source_classes == (1, 2, 3, 4, 5)
    assert data.minority_classes == (1, 2, 3, 4)
    assert data.majority_classes == (0,)
    am = make_imbalanced(big_splits, PRESETS["am-study"], random_state=0)
    assert am.minority_classes == (1, 2) and am.majority_classes == (0,)


def test_max_per_class_caps_all_available(big_splits):
    spec = ImbalanceSpec(**{**PRESETS["mnist-case1"].__dict__, "max_per_class": 300})
    data = make_imbalanced(big_splits, spec, random_state=0)
    assert list(data.train.counts().values()) == [300, 6]


def test_preset_too_large_names_the_class():
    small = DatasetSplits(synthetic_dataset({0: 200, 1: 200, 2: 200}, size=2))
    with pytest.raises(DatasetError, match=r"class 'c0'.*500"):
        make_imbalanced(small, get_preset("am-study").__class__(
            **{**PRESETS["am-study"].__dict__, "test_per_class": 10}), random_state=0)


def test_unknown_preset_lists_names():
    with pytest.raises(ConfigError, match="am-study"):
        get_preset("nope")


def test_ratio_mode_counts_without_test_split():
    pool = DatasetSplits(synthetic_dataset({c: 180 for c in range(10)}, size=2))
    spec = ImbalanceSpec(ratio=0.1, minority_classes=(3, 8), test_per_class=30)
    data = make_imbalanced(pool, spec, random_state=0)
    counts = data.train.counts()
    assert counts[0] == 150 and counts[3] == 15 and counts[8] == 15
    assert set(data.test.counts().values()) == {30}
    assert data.minority_classes == (3, 8)
    # held-out test images are not in the training set
    train_rows = {r.tobytes() for r in data.train.images}
    assert not any(r.tobytes() in train_rows for r in data.test.images)


def test_ratio_mode_majority_count_and_minimum_one():
    pool = DatasetSplits(synthetic_dataset({0: 100, 1: 100}, size=2))
    spec = ImbalanceSpec(ratio=0.001, minority_classes=(1,), majority_count=50,
                         test_per_class=10)
    data = make_imbalanced(pool, spec, random_state=0)
    assert data.train.counts() == {0: 50, 1: 1}


@pytest.mark.parametrize("ratio", [0, -0.5, 1.5, float("nan"), None])
def test_ratio_out_of_range(ratio):
    pool = DatasetSplits(synthetic_dataset({0: 50, 1: 50}, size=2))
    with pytest.raises(ConfigError, match=r"ratio must be in \(0, 1\]"):
        make_imbalanced(pool, ImbalanceSpec(ratio=ratio, minority_classes=(1,),
                                            test_per_class=5))


def test_ratio_needs_minority_and_a_majority():
    pool = DatasetSplits(synthetic_dataset({0: 50, 1: 50}, size=2))
    with pytest.raises(ConfigError, match="minority"):
        make_imbalanced(pool, ImbalanceSpec(ratio=0.5, test_per_class=5))
    with pytest.raises(ConfigError, match="majority"):
        make_imbalanced(pool, ImbalanceSpec(ratio=0.5, minority_classes=(0, 1),
                                            test_per_class=5))


def test_counts_larger_than_available_and_bad_class():
    pool = DatasetSplits(synthetic_dataset({0: 50, 1: 50}, size=2))
    with pytest.raises(DatasetError, match=r"class 'c1' has 40 training images.*60"):
        make_imbalanced(pool, ImbalanceSpec(counts={0: 10, 1: 60}, test_per_class=10))
    with pytest.raises(ConfigError, match="does not exist"):
        make_imbalanced(pool, ImbalanceSpec(counts={0: 10, 7: 5}, test_per_class=10))


def test_test_split_smaller_than_asked_is_balanced_with_a_note():
    train = synthetic_dataset({0: 100, 1: 100}, size=2)
    test = synthetic_dataset({0: 40, 1: 25}, size=2, seed=3)
    data = make_imbalanced(DatasetSplits(train, test),
                           ImbalanceSpec(counts={0: 50, 1: 5}, test_per_class=100))
    assert data.test.counts() == {0: 25, 1: 25}
    assert any("25" in n for n in data.notes)


def test_seeded_and_seed_sensitive(big_splits):
    a = make_imbalanced(big_splits, PRESETS["am-study"], random_state=1)
    b = make_imbalanced(big_splits, PRESETS["am-study"], random_state=1)
    c = make_imbalanced(big_splits, PRESETS["am-study"], random_state=2)
    assert np.array_equal(a.train.images, b.train.images)
    assert not np.array_equal(a.train.images, c.train.images)


def test_hflip_doubles_training_set():
    pool = DatasetSplits(synthetic_dataset({0: 60, 1: 60}, size=3))
    data = make_imbalanced(pool, ImbalanceSpec(counts={0: 20, 1: 4}, test_per_class=10,
                                               hflip=True))
    assert data.train.counts() == {0: 40, 1: 8}
    assert np.array_equal(data.train.images[24:], data.train.images[:24][..., ::-1])


def test_spec_dict_round_trip():
    for spec in PRESETS.values():
        assert ImbalanceSpec.from_dict(spec.to_dict()) == spec
