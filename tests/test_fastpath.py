"""The fast path chosen by measurement (gda_core.fastpath) and the models that use it."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
import torch

from gda_core.errors import ConfigError
from gda_core.fastpath import (
    PATHS,
    REFERENCE,
    PathCache,
    PathChoice,
    choose_path,
    machine_key,
    pick,
)


def sleeping_probe(ms: dict[str, float], calls: list[str]):
    """A probe whose steps take ``ms[name]`` milliseconds on path ``name``."""
    def probe(path):
        calls.append(path.name)

        def step():
            time.sleep(ms[path.name] / 1000)
        return step
    return probe


SLOW_BF16 = {"float32": 20.0, "float32+channels_last": 40.0, "bf16": 60.0,
             "bf16+channels_last": 50.0}


def test_emulated_bf16_slower_than_float32_is_not_chosen(tmp_path):
    calls: list[str] = []
    choice = choose_path("m", sleeping_probe(SLOW_BF16, calls), device="cpu", fast=True,
                         cache=PathCache(tmp_path / "f.json"), budget_s=0.2)
    assert choice.path is REFERENCE and choice.source == "measured"
    assert set(choice.times_ms) == set(PATHS)
    assert choice.times_ms["bf16"] > choice.times_ms["float32"]
    assert sorted(calls) == sorted(PATHS)  # every candidate timed once


def test_a_path_clearly_faster_than_float32_is_chosen_and_kept(tmp_path):
    cache = PathCache(tmp_path / "f.json")
    fast = {"float32": 60.0, "float32+channels_last": 50.0, "bf16": 30.0,
            "bf16+channels_last": 15.0}
    calls: list[str] = []
    first = choose_path("m", sleeping_probe(fast, calls), device="cpu", fast=True,
                        cache=cache, budget_s=0.2)
    assert first.path.name == "bf16+channels_last"
    calls.clear()
    again = choose_path("m", sleeping_probe(fast, calls), device="cpu", fast=True,
                        cache=cache, budget_s=0.2)
    assert calls == [] and again.source == "cache"   # read, not measured again
    assert again.path == first.path and again.times_ms.keys() == first.times_ms.keys()
    other = choose_path("other shape", sleeping_probe(SLOW_BF16, calls), device="cpu",
                        fast=True, cache=cache, budget_s=0.2)
    assert other.path is REFERENCE and calls          # another key is measured
    stored = json.loads((tmp_path / "f.json").read_text())
    assert all(key.startswith(machine_key("cpu")) for key in stored)


def test_within_the_margin_float32_stays():
    assert pick({"float32": 100.0, "bf16": 96.0}) is REFERENCE
    assert pick({"float32": 100.0, "bf16": 94.0}).name == "bf16"
    assert pick({}) is REFERENCE


def test_a_damaged_cache_is_measured_again_and_a_read_only_one_keeps_nothing(tmp_path):
    file = tmp_path / "f.json"
    file.write_text("{not json")
    calls: list[str] = []
    choice = choose_path("m", sleeping_probe(SLOW_BF16, calls), device="cpu", fast=True,
                         cache=PathCache(file), budget_s=0.1)
    assert choice.source == "measured" and json.loads(file.read_text())  # repaired
    file.write_text(json.dumps({f"{machine_key('cpu')}|m": {"path": "no such path"}}))
    assert PathCache(file).get(f"{machine_key('cpu')}|m") is None

    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        if os.access(locked, os.W_OK):
            pytest.skip("running as a user who can write anywhere (root)")
        choice = choose_path("m", sleeping_probe(SLOW_BF16, []), device="cpu", fast=True,
                             cache=PathCache(locked / "f.json"), budget_s=0.1)
        assert choice.path is REFERENCE and not list(locked.iterdir())
    finally:
        locked.chmod(0o700)


def test_reference_forced_and_unknown_forced(monkeypatch, tmp_path):
    calls: list[str] = []
    probe = sleeping_probe(SLOW_BF16, calls)
    assert choose_path("m", probe, device="cpu", fast=False).source == "reference"
    monkeypatch.setenv("GDA_FAST_PATH", "bf16")
    forced = choose_path("m", probe, device="cpu", fast=True, cache=PathCache(tmp_path / "f"))
    assert forced.path.name == "bf16" and forced.source == "forced"
    monkeypatch.setenv("GDA_FAST_PATH", "fp8")
    with pytest.raises(ConfigError, match="GDA_FAST_PATH must be one of"):
        choose_path("m", probe, device="cpu", fast=True)
    assert calls == []


def test_measuring_leaves_the_global_random_stream_alone(tmp_path):
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.Dropout(0.5))

    def probe(path):
        def step():
            net(torch.rand(3, 4)).sum().backward()   # draws from the global generator
        return step

    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    choose_path("m", probe, device="cpu", fast=True, cache=PathCache(tmp_path / "f"),
                budget_s=0.05)
    assert torch.equal(torch.rand(3), expected)


def test_a_path_whose_step_fails_is_left_out(tmp_path):
    def probe(path):
        def step():
            if path.dtype is not None:
                raise RuntimeError("no bfloat16 kernel")
        return step

    choice = choose_path("m", probe, device="cpu", fast=True,
                         cache=PathCache(tmp_path / "f"), budget_s=0.05)
    assert set(choice.times_ms) == {"float32", "float32+channels_last"}


def test_record_round_trip():
    from gda_core.fastpath import choice_from_record

    choice = PathChoice(PATHS["bf16"], "measured", {"float32": 3.0, "bf16": 1.5})
    back = choice_from_record(json.loads(json.dumps(choice.record())))
    assert back.path == choice.path and back.times_ms == choice.times_ms
    assert "measured here" in choice.describe()


# ----------------------------------------------------------------- the models record it
def test_the_classifier_records_its_path_and_predicts_on_it(digits_splits):
    from gda_core.classifiers import CNNClassifier

    X, y = digits_splits.train.images[:300], digits_splits.train.labels[:300]
    clf = CNNClassifier(epochs=1, random_state=0).fit(X, y)
    assert clf.fast_path_.source in ("measured", "cache")
    assert set(clf.fast_path_.times_ms) == set(PATHS)
    assert clf.fast_path_.path == pick(clf.fast_path_.times_ms)
    ref = CNNClassifier(epochs=1, random_state=0, fast=False).fit(X, y)
    assert ref.fast_path_.path is REFERENCE and ref.fast_path_.source == "reference"
    # measured or read from the cache: the same model either way
    again = CNNClassifier(epochs=1, random_state=0).fit(X, y)
    assert again.fast_path_.source == "cache"
    np.testing.assert_array_equal(again.predict_proba(X[:50]), clf.predict_proba(X[:50]))


def test_a_gan_records_each_models_path_and_keeps_it_in_its_file(tmp_path):
    from conftest_synth import fast_params, tiny_xy

    from gda_core.synthesizers import SYNTHESIZERS

    X, y = tiny_xy()
    synth = SYNTHESIZERS["dcgan"](random_state=0, **fast_params("dcgan")).fit(X, y)
    assert set(synth.fast_paths_) == {1, 2}
    for record in synth.fast_paths_.values():
        assert record["path"] in PATHS and record["source"] in ("measured", "cache")
    synth.save(tmp_path / "m.pt")
    loaded = type(synth).load(tmp_path / "m.pt")
    assert loaded.fast_paths_ == synth.fast_paths_
