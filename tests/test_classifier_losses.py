"""Focal loss against its formula, class weights by hand, and the CNN's ``loss`` option."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.base import clone
from sklearn.utils.class_weight import compute_class_weight

from gda_core.classifiers import CNNClassifier
from gda_core.classifiers.losses import CLASSIFIER_LOSSES, class_weights, focal_loss, make_loss
from gda_core.errors import ConfigError
from gda_core.experiments import ClassifierConfig, CompareConfig

LOGITS = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [0.0, 1.0, 3.0]])
TARGETS = torch.tensor([0, 1, 1])


def _softmax_row(row: list[float]) -> list[float]:
    e = [math.exp(v) for v in row]
    return [v / sum(e) for v in e]


def test_focal_loss_by_hand():
    # p_t from the softmax of each row, written out.
    p = [_softmax_row([2.0, 0.0, -1.0])[0],      # 0.8438
         _softmax_row([0.5, 0.5, 0.0])[1],       # 0.3837
         _softmax_row([0.0, 1.0, 3.0])[1]]       # 0.1142
    assert p[0] == pytest.approx(math.exp(2) / (math.exp(2) + 1 + math.exp(-1)))
    gamma = 2.0
    by_hand = [-(1 - pt) ** gamma * math.log(pt) for pt in p]
    got = focal_loss(LOGITS, TARGETS, gamma=gamma, reduction="none")
    assert got.tolist() == pytest.approx(by_hand, rel=1e-6)
    assert float(focal_loss(LOGITS, TARGETS, gamma=gamma)) == pytest.approx(
        sum(by_hand) / 3, rel=1e-6)
    assert float(focal_loss(LOGITS, TARGETS, gamma=gamma, reduction="sum")) == pytest.approx(
        sum(by_hand), rel=1e-6)
    # The easy sample (p_t = 0.84) is down-weighted far more than the hard one.
    ce = [-math.log(pt) for pt in p]
    assert by_hand[0] / ce[0] < 0.03 < 0.7 < by_hand[2] / ce[2]


def test_focal_loss_with_alpha_by_hand():
    alpha = [0.25, 1.0, 2.0]
    p = [_softmax_row([2.0, 0.0, -1.0])[0], _softmax_row([0.5, 0.5, 0.0])[1],
         _softmax_row([0.0, 1.0, 3.0])[1]]
    a_t = [alpha[0], alpha[1], alpha[1]]
    by_hand = [-a * (1 - pt) ** 1.5 * math.log(pt) for a, pt in zip(a_t, p, strict=True)]
    got = focal_loss(LOGITS, TARGETS, gamma=1.5, alpha=alpha, reduction="none")
    assert got.tolist() == pytest.approx(by_hand, rel=1e-6)
    scalar = focal_loss(LOGITS, TARGETS, gamma=1.5, alpha=0.5, reduction="none")
    plain = focal_loss(LOGITS, TARGETS, gamma=1.5, reduction="none")
    assert torch.allclose(scalar, 0.5 * plain)


def test_focal_gamma_zero_is_cross_entropy():
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(16, 5, generator=gen)
    targets = torch.randint(0, 5, (16,), generator=gen)
    assert torch.allclose(focal_loss(logits, targets, gamma=0.0),
                          F.cross_entropy(logits, targets))
    assert torch.allclose(focal_loss(logits, targets, gamma=0.0, reduction="none"),
                          F.cross_entropy(logits, targets, reduction="none"))


def test_focal_loss_gradient_is_finite_for_confident_predictions():
    logits = torch.tensor([[50.0, -50.0], [0.0, 0.0]], requires_grad=True)
    loss = focal_loss(logits, torch.tensor([0, 1]), gamma=0.5)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"gamma": -1.0}, "gamma"), ({"gamma": math.nan}, "gamma"),
    ({"reduction": "max"}, "reduction"), ({"alpha": [1.0, 2.0]}, "alpha"),
])
def test_focal_loss_rejects_bad_settings(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        focal_loss(LOGITS, TARGETS, **kwargs)


def test_class_weights_by_hand():
    labels = [0] * 6 + [1] * 3 + [2] * 1        # N = 10, K = 3
    w = class_weights(labels, 3)
    assert w.tolist() == pytest.approx([10 / 18, 10 / 9, 10 / 3])
    # Mean over the training samples is 1: 6 * 10/18 + 3 * 10/9 + 1 * 10/3 = 10.
    assert float(np.sum(w[labels])) == pytest.approx(10.0)
    assert w.tolist() == pytest.approx(
        compute_class_weight("balanced", classes=np.arange(3), y=np.array(labels)).tolist())
    assert class_weights([0, 0, 1, 1], 2).tolist() == [1.0, 1.0]    # balanced: all 1


def test_class_weights_absent_class_and_errors():
    assert class_weights([0, 0, 0, 2], 4).tolist() == pytest.approx([2 / 3, 0.0, 2.0, 0.0])
    with pytest.raises(ConfigError, match="labels"):
        class_weights([0, 3], 3)
    with pytest.raises(ConfigError, match="labels"):
        class_weights([], 3)


def test_make_loss_names():
    labels = np.array([0, 0, 0, 1, 2])
    ce = make_loss("cross-entropy", labels, 3)
    assert torch.allclose(ce(LOGITS, TARGETS), F.cross_entropy(LOGITS, TARGETS))
    wce = make_loss("weighted-cross-entropy", labels, 3)
    w = torch.tensor(class_weights(labels, 3), dtype=torch.float32)
    per = F.cross_entropy(LOGITS, TARGETS, reduction="none")
    expected = (w[TARGETS] * per).sum() / w[TARGETS].sum()
    assert torch.allclose(wce(LOGITS, TARGETS), expected)
    focal = make_loss("focal", labels, 3, gamma=1.0)
    assert torch.allclose(focal(LOGITS, TARGETS), focal_loss(LOGITS, TARGETS, gamma=1.0))
    assert set(CLASSIFIER_LOSSES) == {"cross-entropy", "weighted-cross-entropy", "focal"}
    with pytest.raises(ConfigError, match="unknown loss"):
        make_loss("hinge", labels, 3)
    with pytest.raises(ConfigError, match="labels"):
        make_loss("weighted-cross-entropy")


TINY = {"width": 4, "fc_units": 16, "epochs": 2}


@pytest.mark.parametrize("loss", CLASSIFIER_LOSSES)
def test_cnn_trains_with_each_loss(loss, imbalanced_xy):
    X, y = imbalanced_xy
    clf = CNNClassifier(loss=loss, random_state=1, **TINY).fit(X, y)
    assert clf.predict_proba(X).shape == (len(y), 3)
    assert all(math.isfinite(h["train_loss"]) for h in clf.history_)
    assert clone(clf).get_params()["loss"] == loss


def test_cnn_default_is_cross_entropy_and_losses_differ(imbalanced_xy):
    X, y = imbalanced_xy
    default = CNNClassifier(random_state=1, **TINY).fit(X, y)
    explicit = CNNClassifier(loss="cross-entropy", random_state=1, **TINY).fit(X, y)
    assert default.loss == "cross-entropy" and default.focal_gamma == 2.0
    assert np.array_equal(default.predict_proba(X), explicit.predict_proba(X))
    focal = CNNClassifier(loss="focal", random_state=1, **TINY).fit(X, y)
    assert not np.allclose(default.predict_proba(X), focal.predict_proba(X))
    gamma0 = CNNClassifier(loss="focal", focal_gamma=0.0, random_state=1, **TINY).fit(X, y)
    assert np.allclose(default.predict_proba(X), gamma0.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"loss": "hinge"}, "loss"), ({"loss": None}, "loss"),
    ({"focal_gamma": -0.5}, "focal_gamma"), ({"focal_gamma": "2"}, "focal_gamma"),
])
def test_cnn_rejects_bad_loss_settings(kwargs, match, imbalanced_xy):
    X, y = imbalanced_xy
    with pytest.raises(ConfigError, match=match):
        CNNClassifier(**TINY, **kwargs).fit(X, y)


def test_classifier_config_carries_the_loss():
    cfg = CompareConfig(methods=("baseline",),
                        classifier=ClassifierConfig(loss="focal", focal_gamma=1.0))
    again = CompareConfig.from_dict(cfg.to_dict())
    assert again == cfg and again.classifier.loss == "focal"
    old = cfg.to_dict()
    del old["classifier"]["loss"], old["classifier"]["focal_gamma"]   # a pre-loss JSON
    assert CompareConfig.from_dict(old).classifier.loss == "cross-entropy"
    with pytest.raises(ConfigError, match="loss"):
        CompareConfig(classifier=ClassifierConfig(loss="hinge")).validate()
    with pytest.raises(ConfigError, match="gamma"):
        CompareConfig(classifier=ClassifierConfig(focal_gamma=-1.0)).validate()
