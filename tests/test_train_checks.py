"""The end-of-training check of a synthesizer's images against the real ones, on
constructed synthesizers: noise, copies, a collapsed generator and a conditional model that
stopped drawing a class must each raise their warning; real images held out from training
must raise none."""

from __future__ import annotations

import numpy as np
import pytest

from gda_core.datasets import ImbalanceSpec, make_imbalanced
from gda_core.datasets.digits import load_digits_splits
from gda_core.experiments.train_checks import sample_findings
from gda_core.metrics.features import FeatureExtractor


class Drawn:
    """A stand-in synthesizer: ``draw(c, n, rng)`` gives its images of class ``c``."""

    def __init__(self, classes, draw):
        self.classes_ = list(classes)
        self.draw = draw
        self.rng = np.random.default_rng(0)

    def sample(self, n, y=None):
        return self.draw(int(y), n, self.rng)


@pytest.fixture(scope="module")
def setup():
    splits = load_digits_splits()
    data = make_imbalanced(splits, ImbalanceSpec(ratio=0.2, minority_classes=(3, 5),
                                                 majority_count=150, test_per_class=20),
                           random_state=0)
    extractor = FeatureExtractor(epochs=4, device="cpu").fit(
        splits.train.images, splits.train.labels, random_state=0)
    pool = splits.train
    used = {img.tobytes() for img in data.train.images}
    held_out = {c: np.stack([img for img in pool.images[pool.labels == data.source_classes[c]]
                             if img.tobytes() not in used])
                for c in range(len(data.class_names))}
    return data, extractor, held_out


def codes(found, cls):
    return [f["code"] for f in found if f["class_label"] == cls]


def test_held_out_real_images_raise_nothing(setup):
    data, extractor, held_out = setup
    minority = list(data.minority_classes)
    synth = Drawn(minority, lambda c, n, rng: held_out[c][rng.permutation(len(held_out[c]))[:n]])
    assert sample_findings(synth, data, minority, extractor=extractor) == []


def test_noise_copies_and_collapse_each_raise_their_warning(setup):
    data, extractor, _ = setup
    c = data.minority_classes[0]
    train_c = data.train.images[data.train.labels == c]

    def noise(_, n, rng):
        return rng.integers(0, 17, (n, *train_c.shape[1:]), dtype=np.uint8)

    def copies(_, n, rng):
        return train_c[:6][rng.integers(0, 6, n)]

    def collapsed(_, n, rng):
        blob = train_c.mean(axis=0)
        jitter = rng.normal(0, 0.05, (n, *blob.shape))
        return np.clip(blob + jitter, 0, 16).round().astype(np.uint8)

    for draw, expected in ((noise, "noise"), (copies, "copies"), (collapsed, "collapsed")):
        found = sample_findings(Drawn([c], draw), data, [c], extractor=extractor)
        assert expected in codes(found, c), (expected, found)


def test_a_conditional_model_that_dropped_a_class(setup):
    """Its '5's are '3's: every image is realistic, so only class coverage sees it."""
    data, extractor, held_out = setup
    three, five = (data.class_names.index(name) for name in ("3", "5"))

    def draw(c, n, rng):
        src = held_out[three] if c == five else held_out[c]
        return src[rng.permutation(len(src))[:n] % len(src)]

    found = sample_findings(Drawn([three, five], draw), data, [three, five],
                            extractor=extractor)
    assert codes(found, three) == []
    (missing,) = [f for f in found if f["code"] == "missing-class"]
    assert missing["class_label"] == five
    assert "class '5' are recognised as '5'" in missing["message"]
    assert "most look like '3'" in missing["message"]
    # without the project's CNN, class coverage is not judged (and nothing is made up)
    assert "missing-class" not in [f["code"] for f in sample_findings(
        Drawn([three, five], draw), data, [three, five])]
