"""Configuration of a comparison: data, imbalance, methods, seeds and classifier."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gda_core.classifiers.factory import ARCHITECTURES
from gda_core.classifiers.losses import CLASSIFIER_LOSSES
from gda_core.datasets.cache import default_cache_dir
from gda_core.datasets.imbalance import ImbalanceSpec
from gda_core.errors import ConfigError
from gda_core.metrics.stats import PRIMARY_METRICS
from gda_core.oversampling.registry import OVERSAMPLERS

BASELINE = "baseline"

PROTOCOLS: dict[str, str] = {
    "auto": "cross-validation when the data have no test split of their own and a class "
            "has fewer than 100 images, else a held-out test set",
    "cv": "repeated stratified k-fold cross-validation over all real images",
    "holdout": "a balanced held-out test set",
}
"""How a comparison tests its classifiers (``CompareConfig.protocol``)."""

MAX_FOLDS = 20
"""Most folds a cross-validation may have."""


@dataclass(frozen=True)
class DataConfig:
    """Where the images come from (arguments of :func:`gda_core.datasets.load_source`).

    ``fit`` (``"crop"``, ``"pad"``, ``"stretch"``; None = crop) applies to folders and zips.
    """

    source: str = "digits"
    root: str | None = None
    path: str | None = None
    image_size: int | None = None
    color: str | None = None
    download: bool = False
    fit: str | None = None

    def load_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of :func:`~gda_core.datasets.load_source` for this data.

        They include ``cache_dir``: the decoded-dataset cache of
        :func:`~gda_core.datasets.default_cache_dir` (``$GDA_CACHE_DIR``; ``off`` switches
        it off).  Where the cache lives is a property of the machine, not of the data, so
        it is not a field (saved configs stay as they were).

        Examples
        --------
        >>> sorted(DataConfig(source="folder", path="defects").load_kwargs())
        ['cache_dir', 'color', 'download', 'fit', 'image_size', 'path', 'root']
        """
        fields = {k: v for k, v in asdict(self).items() if k != "source"}
        return {**fields, "cache_dir": default_cache_dir()}


@dataclass(frozen=True)
class ClassifierConfig:
    """The classifier of a comparison (seed excluded); see
    :func:`gda_core.classifiers.make_classifier`.

    ``architecture`` is ``"am-cnn"`` (the AM study's CNN), ``"resnet18"`` (torchvision's
    ResNet-18 trained from scratch; ``width`` and ``fc_units`` do not apply) or
    ``"ensemble"`` (soft voting over ``ensemble_size`` AM-study CNNs seeded ``seed``,
    ``seed + 1``, ...).  The other fields are training settings of
    :class:`gda_core.classifiers.CNNClassifier`; ``fast=False`` trains on its float32 NCHW
    reference path (PyTorch's default Adam) instead of the fast path (the layout and
    autocast dtype measured fastest on this machine, :mod:`gda_core.fastpath`, and a fused
    Adam), e.g. to check that a result does not hinge on bfloat16 rounding.
    """

    width: int = 16
    fc_units: int = 128
    epochs: int = 15
    batch_size: int = 64
    lr: float = 1e-3
    val_fraction: float = 0.1
    patience: int = 4
    device: str = "auto"
    loss: str = "cross-entropy"
    focal_gamma: float = 2.0
    architecture: str = "am-cnn"
    ensemble_size: int = 3
    fast: bool = True


@dataclass(frozen=True)
class CompareConfig:
    """Everything needed to rerun a comparison.

    ``methods`` holds ``"baseline"`` (no oversampling) and/or names from
    :data:`gda_core.oversampling.OVERSAMPLERS`; ``method_params`` maps a method name to its
    parameters.  Methods registered with ``uses_own_classifier`` (``adso+q``, ``amo+q``)
    are evaluated with their own classifier, so ``classifier`` does not apply to them.
    Each seed drives the split, the oversampler and the classifier together.

    ``protocol`` says how the classifiers are tested (:data:`PROTOCOLS`; ``"auto"``
    chooses, see :func:`gda_core.experiments.protocol.resolve_protocol`): with
    cross-validation every seed is one repeat of a stratified ``folds``-fold partition of
    all real images, and every (seed, fold, method) is one unit.  ``primary_metric`` is
    the one metric tested against the baseline (the others are descriptive), chosen before
    the run.

    With ``sample_quality`` on (the default), the images every oversampler synthesized are
    scored per class (FID beside a real-vs-real FID at the same count, precision / recall,
    density / coverage, diversity) on the features of a CNN trained on the full training
    data, which is cached in ``quality_cache_dir`` (default: a folder in the system's
    temporary directory).  The quality gate judges every method's images either way; off,
    it checks only their pixels (noise, copies, near-identical images).

    Examples
    --------
    >>> cfg = CompareConfig(methods=("baseline", "smote"), seeds=(0,))
    >>> CompareConfig.from_dict(cfg.to_dict()) == cfg
    True
    """

    data: DataConfig = field(default_factory=DataConfig)
    imbalance: ImbalanceSpec = field(
        default_factory=lambda: ImbalanceSpec(ratio=0.1, minority_classes=(3, 8),
                                              test_per_class=30, name="ratio"))
    methods: tuple[str, ...] = (BASELINE, "smote", "borderline-smote", "adasyn")
    method_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    seeds: tuple[int, ...] = (0,)
    classifier: ClassifierConfig = field(default_factory=ClassifierConfig)
    samples_per_class: int = 8
    sample_quality: bool = True
    quality_cache_dir: str | None = None
    protocol: str = "auto"
    folds: int = 5
    primary_metric: str = "f1_macro"

    def validate(self) -> None:
        """Raise :class:`ConfigError` for settings that cannot run."""
        if not self.methods:
            raise ConfigError("choose at least one method")
        unknown = [m for m in self.methods if m != BASELINE and m not in OVERSAMPLERS]
        if unknown:
            raise ConfigError(
                f"unknown method {unknown[0]!r}; choose from {BASELINE}, {', '.join(OVERSAMPLERS)}"
            )
        if len(set(self.methods)) != len(self.methods):
            raise ConfigError("each method may be listed once")
        if not self.seeds:
            raise ConfigError("give at least one seed")
        bad = [s for s in self.seeds if isinstance(s, bool) or not isinstance(s, int) or s < 0]
        if bad:
            raise ConfigError(f"seeds must be whole numbers >= 0; got {bad[0]!r}")
        c = self.classifier
        if c.epochs < 1 or c.batch_size < 1 or c.lr <= 0:
            raise ConfigError("epochs and batch size must be at least 1 and the learning "
                              "rate positive")
        if c.loss not in CLASSIFIER_LOSSES:
            raise ConfigError(f"unknown loss {c.loss!r}; choose from "
                              f"{', '.join(CLASSIFIER_LOSSES)}")
        if (isinstance(c.focal_gamma, bool) or not isinstance(c.focal_gamma, int | float)
                or not c.focal_gamma >= 0):
            raise ConfigError(f"the focal loss gamma must be at least 0; got {c.focal_gamma!r}")
        if c.architecture not in ARCHITECTURES:
            raise ConfigError(f"unknown architecture {c.architecture!r}; choose from "
                              f"{', '.join(ARCHITECTURES)}")
        if (isinstance(c.ensemble_size, bool) or not isinstance(c.ensemble_size, int)
                or c.ensemble_size < 2):
            raise ConfigError(f"an ensemble needs at least 2 models; got {c.ensemble_size!r}")
        if self.protocol not in PROTOCOLS:
            raise ConfigError(f"unknown protocol {self.protocol!r}; choose from "
                              f"{', '.join(PROTOCOLS)}")
        if (isinstance(self.folds, bool) or not isinstance(self.folds, int)
                or not 2 <= self.folds <= MAX_FOLDS):
            raise ConfigError(f"cross-validation needs 2 to {MAX_FOLDS} folds; got "
                              f"{self.folds!r}")
        if self.primary_metric not in PRIMARY_METRICS:
            raise ConfigError(f"unknown primary metric {self.primary_metric!r}; choose from "
                              f"{', '.join(PRIMARY_METRICS)}")
        if not isinstance(c.fast, bool):
            raise ConfigError(f"the classifier's fast setting must be true or false; got "
                              f"{c.fast!r}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "data": asdict(self.data),
            "imbalance": self.imbalance.to_dict(),
            "methods": list(self.methods),
            "method_params": {k: dict(v) for k, v in self.method_params.items()},
            "seeds": list(self.seeds),
            "classifier": asdict(self.classifier),
            "samples_per_class": self.samples_per_class,
            "sample_quality": self.sample_quality,
            "quality_cache_dir": self.quality_cache_dir,
            "protocol": self.protocol,
            "folds": self.folds,
            "primary_metric": self.primary_metric,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CompareConfig:
        return cls(
            data=DataConfig(**d.get("data", {})),
            imbalance=ImbalanceSpec.from_dict(d["imbalance"]),
            methods=tuple(d["methods"]),
            method_params={k: dict(v) for k, v in d.get("method_params", {}).items()},
            seeds=tuple(int(s) for s in d["seeds"]),
            classifier=ClassifierConfig(**d.get("classifier", {})),
            samples_per_class=int(d.get("samples_per_class", 8)),
            sample_quality=bool(d.get("sample_quality", True)),
            quality_cache_dir=d.get("quality_cache_dir"),
            # comparisons saved before these settings existed ran on a held-out test set
            protocol=str(d.get("protocol", "holdout")),
            folds=int(d.get("folds", 5)),
            primary_metric=str(d.get("primary_metric", "f1_macro")),
        )
