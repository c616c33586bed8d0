"""Run the baseline and each oversampler through the same classifier, unit by unit.

A unit is one method with one seed (held-out protocol) or with one fold of one repeat
(cross-validation; see :mod:`gda_core.experiments.protocol`).  Methods that bring their
own classifier (``adso+q``, ``amo+q``: the three-player game's Q) are evaluated with it
instead; see :func:`run_method`.  Each unit first holds real validation images out of its
training images (:func:`split_for_seed`, :func:`split_for_unit`); oversamplers never see
them, nor a fold's test images.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gda_core.classifiers import make_classifier
from gda_core.datasets import (
    DatasetSplits,
    ImageDataset,
    ImbalancedData,
    load_source,
    make_imbalanced,
)
from gda_core.datasets.split import stratified_split
from gda_core.devices import peak_memory_mb
from gda_core.errors import ConfigError, GDAError
from gda_core.experiments.config import BASELINE, CompareConfig
from gda_core.experiments.guidance import few_data_guidance
from gda_core.experiments.protocol import (
    Protocol,
    check_folds,
    cv_pool,
    fold_indices,
    resolve_protocol,
)
from gda_core.experiments.quality import QualityReference, quality_reference
from gda_core.experiments.recommend import recommend
from gda_core.experiments.result import (
    OWN_CLASSIFIER,
    SCALAR_METRICS,
    ComparisonResult,
    MethodRun,
)
from gda_core.metrics import evaluate
from gda_core.metrics.gate import gate_coverage, gate_findings, gate_scores
from gda_core.notices import Notice, notice_dict
from gda_core.oversampling import OVERSAMPLERS, make_oversampler
from gda_core.runs.executors import ExecutorConfig, UnitFailure, run_units

Progress = Callable[[float, str], None]
_LOG = logging.getLogger(__name__)

GAN_SHARE = 0.7
"""Share of a GAN method's run that its progress reports give to the GAN's training (the
classifier's epochs get the rest) when the two are not predicted (:func:`unit_weights`
predicts them: a DCGAN fold at 64x64 is 98 % training the GAN)."""
VALIDATION_STREAM = 1
"""Seed-sequence key of the validation hold-out (next to the comparison's seed)."""


@dataclass(frozen=True)
class SeedSplit:
    """One seed's data, split before any oversampling.

    Attributes
    ----------
    data : ImbalancedData
        The imbalanced training set and the balanced test set of this seed.
    fit : ImageDataset
        The real training images the oversampler and the classifier learn from.
    validation : ImageDataset
        Real training images held out (stratified, :attr:`ClassifierConfig.val_fraction`
        of every class, at least one per class that has two or more, never a class's last
        image) for the classifier's early stopping.  No oversampler ever sees them.
    """

    data: ImbalancedData
    fit: ImageDataset
    validation: ImageDataset


def split_for_seed(config: CompareConfig, splits: DatasetSplits, seed: int) -> SeedSplit:
    """The imbalanced split of ``seed`` and its validation hold-out (see :class:`SeedSplit`).

    Examples
    --------
    >>> from gda_core.datasets import load_digits_splits
    >>> split = split_for_seed(CompareConfig(), load_digits_splits(), 0)
    >>> len(split.fit.labels) + len(split.validation.labels) == len(split.data.train.labels)
    True
    """
    data = make_imbalanced(splits, config.imbalance, random_state=seed)
    rng = np.random.default_rng([int(seed), VALIDATION_STREAM])
    fit_idx, val_idx = stratified_split(data.train.labels, config.classifier.val_fraction, rng,
                                        min_per_class=1)
    return SeedSplit(data, data.train.subset(fit_idx), data.train.subset(val_idx))


def split_for_unit(config: CompareConfig, splits: DatasetSplits, seed: int,
                   fold: int | None, pool: ImbalancedData | None = None) -> SeedSplit:
    """The data of one unit: :func:`split_for_seed` for the held-out protocol
    (``fold=None``), else fold ``fold`` of repeat ``seed`` of the cross-validation pool
    (:func:`~gda_core.experiments.protocol.cv_pool`, made here when not given).

    The fold's test images are the unit's test set; its other images are split into the
    oversampler's and classifier's training images and the validation hold-out, seeded by
    ``(seed, fold)``.

    Examples
    --------
    >>> from gda_core.datasets import load_digits_splits
    >>> cfg = CompareConfig(protocol="cv", folds=5)
    >>> split = split_for_unit(cfg, load_digits_splits(), 0, 2)
    >>> total = len(split.fit.labels) + len(split.validation.labels)
    >>> total == len(split.data.train.labels) and len(split.data.test.labels) > 0
    True
    """
    if fold is None:
        return split_for_seed(config, splits, seed)
    if pool is None:
        pool = cv_pool(splits, config.imbalance, config.seeds[0])
    train_idx, test_idx = fold_indices(pool.train.labels, config.folds, seed, fold)
    data = replace(pool, train=pool.train.subset(train_idx), test=pool.train.subset(test_idx))
    rng = np.random.default_rng([int(seed), VALIDATION_STREAM, int(fold)])
    fit_idx, val_idx = stratified_split(data.train.labels, config.classifier.val_fraction, rng,
                                        min_per_class=1)
    return SeedSplit(data, data.train.subset(fit_idx), data.train.subset(val_idx))


def plan_units(config: CompareConfig, splits: DatasetSplits
               ) -> tuple[Protocol, ImbalancedData, list[tuple[int, int | None, str]]]:
    """The protocol a comparison runs, every real image the imbalance keeps (the
    cross-validation pool; for hold-out only its classes matter) and the units
    ``(seed, fold, method)`` in the order the local executor runs them.

    Raises
    ------
    ConfigError, DatasetError
        When the data cannot give the asked protocol (e.g. a class with fewer images than
        folds).
    """
    pool = cv_pool(splits, config.imbalance, config.seeds[0])
    kind, reason = resolve_protocol(config.protocol, config.folds, config.seeds, splits, pool)
    n = len(pool.class_names)
    if kind == "cv":
        smallest = int(np.bincount(pool.train.labels, minlength=n).min())
        if config.protocol == "auto" and 2 <= smallest < config.folds:
            # too few images of a class for the folds asked: as many folds as it allows
            reason += f"; {smallest} folds, as the smallest class has {smallest} images"
            config = replace(config, folds=smallest)
        check_folds(pool, config.folds)
        first = split_for_unit(config, splits, config.seeds[0], 0, pool)
        units = [(seed, fold, method) for seed in config.seeds
                 for fold in range(config.folds) for method in config.methods]
        protocol = Protocol("cv", config.folds, len(config.seeds), reason,
                            np.bincount(first.data.test.labels, minlength=n).tolist(),
                            np.bincount(first.data.train.labels, minlength=n).tolist())
        return protocol, pool, units
    first = split_for_seed(config, splits, config.seeds[0])
    units = [(seed, None, method) for seed in config.seeds for method in config.methods]
    protocol = Protocol("holdout", 0, len(config.seeds), reason,
                        np.bincount(first.data.test.labels, minlength=n).tolist(),
                        np.bincount(first.data.train.labels, minlength=n).tolist())
    return protocol, pool, units


def run_comparison(
    config: CompareConfig,
    *,
    splits: DatasetSplits | None = None,
    progress: Progress | None = None,
    on_run: Callable[[MethodRun, ComparisonResult], None] | None = None,
    executor: ExecutorConfig | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ComparisonResult:
    """Train the same classifier on the baseline and on each oversampled training set.

    For every seed the imbalanced split, the oversampler and the classifier's
    initialisation all use that seed, so methods are compared on identical data and
    identical starting weights.  A method that cannot run (e.g. too few minority images
    for its neighbours) is recorded with its error and the others go on.

    With ``config.sample_quality`` the images each oversampler synthesized are scored per
    class against the real images of the full training data (see
    :mod:`gda_core.experiments.quality`), into :attr:`MethodRun.quality`; a scoring
    failure becomes a warning of that run.

    Every (method, seed) pair is one unit of work (:func:`compare_unit`); ``executor``
    says where the units run (:mod:`gda_core.runs.executors`: here in order, or in
    parallel on Ray).  The result is the same either way: runs are kept in seed-then-method
    order and the samples shown are those of the earliest seed.

    Parameters
    ----------
    config : CompareConfig
    splits : DatasetSplits, optional
        Already-loaded data (else loaded from ``config.data``).
    progress : callable, optional
        ``progress(fraction, message)`` with fraction in [0, 1].
    on_run : callable, optional
        ``on_run(run, partial_result)`` after each finished :class:`MethodRun`, so a
        caller can save partial results (a run killed halfway loses nothing finished).
    executor : ExecutorConfig, optional
        Default: local, one unit after another.
    should_stop : callable, optional
        Polled between units and at every progress report; when it returns True the
        comparison returns what finished (:meth:`ComparisonResult.is_complete` is then
        False).

    Returns
    -------
    ComparisonResult

    Examples
    --------
    >>> from gda_core.experiments import CompareConfig, ClassifierConfig
    >>> cfg = CompareConfig(methods=("baseline", "smote"),
    ...                     classifier=ClassifierConfig(epochs=2))
    >>> result = run_comparison(cfg)                        # doctest: +SKIP
    >>> result.metrics_table().loc["smote", "f1_macro"]     # doctest: +SKIP
    """
    config.validate()
    report = progress or (lambda fraction, message: None)
    t0 = time.perf_counter()
    if splits is None:
        report(0.0, f"loading {config.data.source}")
        splits = load_source(config.data.source, **config.data.load_kwargs())
    protocol, pool, units = plan_units(config, splits)
    config = replace(config, folds=protocol.folds or config.folds)
    if protocol.kind != "cv":
        pool = None  # hold-out units make their own split
    quality = _quality(config, splits, report) if protocol.kind == "holdout" else None
    first = split_for_unit(config, splits, config.seeds[0], units[0][1], pool)
    result = _new_result(config, first, splits)
    result.protocol = protocol.to_dict()
    if isinstance(quality, str):
        result.notes.append(quality)
    order = {unit: i for i, unit in enumerate(units)}
    sample_from: dict[str, int] = {}  # method -> unit index its shown samples come from

    def finished(unit: tuple[int, int | None, str], value: Any) -> None:
        seed, fold, method = unit
        if isinstance(value, UnitFailure):
            where = f"seed {seed}" + ("" if fold is None else f", fold {fold}")
            _LOG.warning("%s, %s failed:\n%s", where, method, value.detail)
            run, samples = MethodRun(method=method, seed=seed, error=value.message,
                                     fold=fold), {}
        else:
            run, samples = value
        result.runs.append(run)
        result.runs.sort(key=lambda r: order.get((r.seed, r.fold, r.method), len(order)))
        if samples and order[unit] < sample_from.get(method, len(order)):
            sample_from[method] = order[unit]
            result.synthetic_samples[method] = samples
        result.guidance = few_data_guidance(result)
        result.recommendation = recommend(result)
        result.seconds = time.perf_counter() - t0
        result.peak_memory_mb = peak_memory_mb()
        if on_run is not None:
            on_run(run, result)

    shared = CompareUnits(config, splits,
                          quality if isinstance(quality, QualityReference) else None, pool)
    weights, shares = unit_weights(config, splits, protocol, units)
    shared = replace(shared, gan_shares=shares)
    result.predicted_seconds = float(sum(weights)) if weights else math.nan
    run_units(compare_unit, units, shared=shared, on_result=finished, executor=executor,
              progress=report, should_stop=should_stop, weights=weights)
    result.recommendation = recommend(result)
    result.seconds = time.perf_counter() - t0
    result.peak_memory_mb = peak_memory_mb()
    report(1.0, "done" if result.is_complete() else "stopped")
    return result


def unit_weights(config: CompareConfig, splits: DatasetSplits, protocol: Protocol,
                 units: list[tuple[int, int | None, str]]
                 ) -> tuple[list[float] | None, dict[str, float]]:
    """Each unit's predicted seconds on this machine (:func:`~gda_core.experiments.
    estimate.probe_parts`), the weights of the comparison's progress, so that its time
    left follows the cost of what is left rather than the number of units (None when a
    method's cost cannot be predicted, e.g. the three-player models, or the probe fails);
    and per method the share of its unit a GAN's training takes (the rest: the
    classifier), which the unit's own progress follows.
    """
    from gda_core.experiments.estimate import probe_parts

    shape = tuple(int(s) for s in splits.train.images.shape[1:])
    per_class = list(protocol.train_per_class)
    if not per_class:
        return None, {}
    try:
        parts = probe_parts(config, shape, per_class, len(per_class))
    except (GDAError, RuntimeError, ValueError) as exc:
        _LOG.info("no prediction of the units' costs: %s", exc)
        return None, {}
    shares = {m: p["resample"] / (p["resample"] + p["train"]) for m, p in parts.items()
              if p["resample"] > 0 and p["train"] > 0}
    if any(method not in parts for method in config.methods):
        return None, shares
    return [sum(parts[method].values()) for _, _, method in units], shares


@dataclass(frozen=True)
class CompareUnits:
    """What every unit of a comparison shares: settings, loaded data, the quality
    reference (held-out protocol) and the cross-validation pool (cross-validation)."""

    config: CompareConfig
    splits: DatasetSplits
    quality: QualityReference | None = None
    pool: ImbalancedData | None = None
    gan_shares: dict[str, float] = field(default_factory=dict)


def compare_unit(shared: CompareUnits, unit: tuple[int, int | None, str],
                 report: Progress) -> tuple[MethodRun, dict[int, np.ndarray]]:
    """One method with one seed, and with cross-validation one fold (a unit of
    :func:`run_comparison`): the run, and the first synthesized images of each class
    (``config.samples_per_class``) to show.

    With cross-validation the quality gate's reference is made from the fold's training
    images only (its feature CNN cached per fold): the fold's test images never reach it.
    """
    seed, fold, method = unit
    split = split_for_unit(shared.config, shared.splits, seed, fold, shared.pool)
    if fold is not None:
        plain = f"seed {seed} · "
        where = f"seed {seed} · fold {fold + 1}/{shared.config.folds} · "

        def report_fold(fraction: float, message: str, inner: Progress = report) -> None:
            inner(fraction, message.replace(plain, where, 1))

        report = report_fold
    quality, reference_s = shared.quality, 0.0
    if fold is not None and method != BASELINE and shared.config.sample_quality:
        report(0.0, f"seed {seed} · {method}: feature CNN for sample quality")
        t = time.perf_counter()
        try:
            quality = quality_reference(DatasetSplits(split.data.train, None),
                                        cache_dir=shared.config.quality_cache_dir,
                                        device=shared.config.classifier.device,
                                        labels_are_source=False)
        except GDAError:
            quality = None  # the gate still checks the pixels
        reference_s = time.perf_counter() - t
    samples: dict[int, np.ndarray] = {}
    share = min(max(shared.gan_shares.get(method, GAN_SHARE), 0.1), 0.94)
    run = run_method(shared.config, split, method, seed, report, samples=samples,
                     quality=quality, gan_share=share)
    run.fold = fold
    if reference_s and run.ok:
        run.seconds["reference"] = reference_s  # the fold's feature CNN (or its cache)
    return run, samples


def _quality(config: CompareConfig, splits: DatasetSplits,
             report: Progress) -> QualityReference | str | None:
    """The sample-quality reference, a note saying why there is none, or None if off."""
    if not config.sample_quality or all(m == BASELINE for m in config.methods):
        return None
    report(0.0, "training the feature extractor for sample quality")
    try:
        return quality_reference(splits, cache_dir=config.quality_cache_dir,
                                 device=config.classifier.device)
    except GDAError as exc:
        return f"sample quality skipped: {exc}"


def _new_result(config: CompareConfig, split: SeedSplit,
                splits: DatasetSplits) -> ComparisonResult:
    k = config.samples_per_class
    data, fit = split.data, split.fit
    real = {c: fit.images[fit.labels == c][:k] for c in range(len(data.class_names))}
    return ComparisonResult(
        config=config.to_dict(),
        class_names=list(data.class_names),
        minority_classes=list(data.minority_classes),
        majority_classes=list(data.majority_classes),
        train_counts=list(data.train.counts().values()),
        test_counts=list(data.test.counts().values()),
        real_samples=real,
        notes=list(splits.report[:20]) + list(data.notes),
    )


def run_method(config: CompareConfig, split: SeedSplit, method: str, seed: int,
               report: Progress, *, samples: dict[int, np.ndarray] | None = None,
               quality: QualityReference | None = None,
               sampling_strategy: Any = "auto", sampler: Any | None = None,
               gan_share: float = GAN_SHARE) -> MethodRun:
    """Oversample (unless ``method`` is the baseline), train and evaluate with one seed.

    The oversampler learns from ``split.fit`` only; the classifier trains on its output
    and stops early on ``split.validation`` (real images only), and is scored on
    ``split.data.test``.  ``run.split_counts`` records, per class, how many real and
    synthetic images each of the three sets held.

    ``sampling_strategy`` goes to the oversampler (see
    :func:`gda_core.oversampling.base.target_counts`); ``samples`` receives the first
    ``config.samples_per_class`` synthesized images of each class; ``quality`` scores the
    synthesized images.
    ``sampler`` is an oversampler of ``method`` to use instead of a new one (a ratio sweep
    passes the same one for every ratio of a seed, so a GAN trains once and each ratio
    draws from it); it must have been made with ``random_state=seed`` and the
    configuration's parameters.

    A method whose class sets ``uses_own_classifier`` (``adso+q``, ``amo+q``) is fitted on
    the imbalanced training set like any oversampler (so its synthesized images are shown
    and scored too), but it is evaluated with its own classifier (the three-player game's
    Q, :meth:`predict_proba`) instead of the comparison's CNN; ``run.classifier`` says so.
    """
    run = MethodRun(method=method, seed=seed)
    data = split.data
    X, y = split.fit.images, split.fit.labels
    n_classes = len(data.class_names)
    n_real = len(y)
    trains = False  # whether the oversampler trains a model (then most of the time goes there)
    try:
        if method == BASELINE:
            sampler = None
        else:
            report(0.0, f"seed {seed} · {method}: oversampling")
            t = time.perf_counter()
            if sampler is None:
                sampler = make_oversampler(method, random_state=seed,
                                           **config.method_params.get(method, {}))
            sampler.class_names = list(data.class_names)  # messages name the user's classes
            if _own_classifier(sampler) and sampling_strategy != "auto":
                raise ConfigError(f"{sampler.label} is evaluated with its own classifier, so "
                                  "the amount of synthetic data cannot be varied; use "
                                  f"{method.removesuffix('+q')} instead")
            sampler.sampling_strategy = sampling_strategy
            if hasattr(sampler, "set_step_callback"):  # GANs: progress while they train
                trains = True
                models = 1 if getattr(sampler, "conditional", False) else _n_short(
                    y, sampling_strategy)
                sampler.set_step_callback(_gan_progress(report, seed, method, gan_share,
                                                        models))
            X, y = sampler.fit_resample(X, y)
            run.seconds["resample"] = time.perf_counter() - t
            run.n_generated = dict(sampler.n_generated_)
            paths = sorted({r["path"] for r in getattr(sampler, "fast_paths_", {}).values()})
            if paths:
                run.fast_paths["synthesizer"] = " / ".join(paths)
            run.warnings = [notice_dict(w) for w in sampler.warnings_]
            new_X, new_y = X[sampler.n_original_:], y[sampler.n_original_:]
            if samples is not None:
                samples.update({c: new_X[new_y == c][: config.samples_per_class]
                                for c in np.unique(new_y).tolist()})
            if len(new_y):
                _score(run, quality, split, new_X, new_y, seed, report,
                       at=gan_share if trains else 0.05)
        if sampler is not None and _own_classifier(sampler):
            run.classifier = OWN_CLASSIFIER
            run.n_train = sampler.n_original_
            run.epochs_run = int(sampler.history_[-1]["epoch"]) if sampler.history_ else 0
            proba = _full_proba(sampler.predict_proba(data.test.images), sampler.classes_,
                                n_classes)
        else:
            run.n_train = len(y)
            clf = make_classifier(config.classifier, seed)

            def on_epoch(epoch: int, n_epochs: int, logs: dict) -> None:
                start = gan_share if trains else 0.1
                report(start + (0.95 - start) * epoch / n_epochs,
                       f"seed {seed} · {method}: epoch {epoch}/{n_epochs}")

            t = time.perf_counter()
            clf.fit(X, y, n_classes=n_classes, callback=on_epoch,
                    validation=(split.validation.images, split.validation.labels))
            run.seconds["train"] = time.perf_counter() - t
            run.epochs_run = len(clf.history_)
            if getattr(clf, "fast_path_", None) is not None:
                run.fast_paths["classifier"] = clf.fast_path_.path.name
            proba = clf.predict_proba(data.test.images)
        scores = evaluate(data.test.labels, proba.argmax(1), proba, n_classes=n_classes,
                          minority_classes=data.minority_classes,
                          majority_classes=data.majority_classes,
                          train_counts=np.bincount(data.train.labels,
                                                   minlength=n_classes).tolist())
    except GDAError as exc:
        run.error = str(exc)
        report(1.0, f"seed {seed} · {method}: failed")
        return run
    run.split_counts = split_counts(split, X[n_real:], y[n_real:], n_classes)
    run.metrics = {k: float(scores[k]) for k in SCALAR_METRICS
                   if not (k == "top2_accuracy" and n_classes <= 2)}  # always 1 then
    run.confusion_matrix = [list(map(int, row)) for row in scores["confusion_matrix"]]
    run.per_class = {k: [float(v) for v in vals] for k, vals in scores["per_class"].items()}
    report(1.0, f"seed {seed} · {method}: done")
    return run


def split_counts(split: SeedSplit, synthetic: np.ndarray, synthetic_labels: np.ndarray,
                 n_classes: int) -> dict[str, dict[str, list[int]]]:
    """Real and synthetic images per class in the training, validation and test sets.

    Training counts come from what the classifier was given (the real images, then the
    synthesized ones).  Validation and test images are checked against the synthesized
    images byte for byte: an image identical to a synthesized one counts as synthetic
    (it is a leak), the others as real.

    Returns
    -------
    dict
        ``{"train" | "validation" | "test": {"real": [per class], "synthetic": [...]}}``.
    """
    made = {_digest(img) for img in synthetic}

    def counts(images: np.ndarray, labels: np.ndarray) -> dict[str, list[int]]:
        fake = np.array([_digest(img) in made for img in images], dtype=bool) if made \
            else np.zeros(len(labels), dtype=bool)
        return {"real": np.bincount(labels[~fake], minlength=n_classes).tolist(),
                "synthetic": np.bincount(labels[fake], minlength=n_classes).tolist()}

    return {
        "train": {"real": np.bincount(split.fit.labels, minlength=n_classes).tolist(),
                  "synthetic": np.bincount(np.asarray(synthetic_labels, dtype=np.int64),
                                           minlength=n_classes).tolist()},
        "validation": counts(split.validation.images, split.validation.labels),
        "test": counts(split.data.test.images, split.data.test.labels),
    }


def _digest(image: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(image).tobytes(), digest_size=16).digest()


def _gan_progress(report: Progress, seed: int, method: str, share: float,
                  models: int) -> Callable[[dict], None]:
    """A GAN step callback reporting every 10th step as the first ``share`` of this run.

    Per-class models restart their step count, and may train at once (``n_jobs``), so
    the fraction adds up each model's own share done (``models`` are expected) and never
    goes back."""
    reached: dict[Any, float] = {}
    done = [0.0]

    def on_step(event: dict) -> None:
        step, total = event["step"], max(1, event.get("total_steps", 1))
        key = event.get("class")
        reached[key] = step / total
        if step % 10 and step != total:
            return
        n = max(models, len(reached))
        done[0] = max(done[0], sum(reached.values()) / n)
        where = f" class {key}" if key is not None else ""
        report(share * done[0], f"seed {seed} · {method}: training{where}, step {step} "
                                f"of {total}")
    return on_step


def _n_short(y: np.ndarray, sampling_strategy: Any) -> int:
    """How many classes an oversampler will add images to (per-class GAN models)."""
    counts = np.bincount(np.asarray(y, dtype=np.int64))
    if isinstance(sampling_strategy, dict):
        return max(1, sum(1 for c, n in sampling_strategy.items()
                          if int(c) < len(counts) and n > counts[int(c)]))
    present = counts[counts > 0]
    return max(1, int(np.sum(present < present.max())))


def _own_classifier(sampler: Any) -> bool:
    """Whether the method is evaluated with its own classifier (see :func:`_run_one`)."""
    return bool(getattr(sampler, "uses_own_classifier", False))


def _full_proba(proba: np.ndarray, classes: list[int], n_classes: int) -> np.ndarray:
    """Probabilities over ``classes`` (N, len(classes)) -> over all classes (N, n_classes)."""
    out = np.zeros((len(proba), n_classes), dtype=np.float64)
    out[:, np.asarray(classes, dtype=np.int64)] = proba
    return out


def _score(run: MethodRun, quality: QualityReference | None, split: SeedSplit,
           new_X: np.ndarray, new_y: np.ndarray, seed: int, report: Progress,
           at: float = 0.05) -> None:
    """Sample quality and the quality gate's verdicts of one run's synthesized images.

    With a :class:`QualityReference` every score is computed (features included); without
    one the gate still checks the pixels (noise, copies, near-identical images) against
    the run's real training images.  Verdicts become ``run.warnings``.  ``at``: the
    unit's fraction done so far (after a GAN's training, its share), so that progress
    never goes back.
    """
    report(at, f"seed {seed} · {run.method}: sample quality")
    t = time.perf_counter()
    fit, held = split.fit, split.validation
    try:
        if quality is not None:
            scores = quality.score(split.data, new_X, new_y, train_images=fit.images,
                                   train_labels=fit.labels, held_images=held.images,
                                   held_labels=held.labels, random_state=seed)
        else:
            scores = {int(c): gate_scores(fit.images[fit.labels == c],
                                          fit.images[fit.labels == c], new_X[new_y == c],
                                          random_state=seed,
                                          held_out=held.images[held.labels == c])
                      for c in np.unique(new_y).tolist()}
    except GDAError as exc:
        run.warnings.append(notice_dict(Notice("quality-not-computed",
                                               f"sample quality not computed: {exc}")))
        return
    run.quality = {int(c): {k: float(v) for k, v in s.items()} for c, s in scores.items()}
    run.seconds["quality"] = time.perf_counter() - t
    label = getattr(OVERSAMPLERS.get(run.method), "label", run.method) or run.method
    names = split.data.class_names
    for c, s in sorted(scores.items()):
        what = f"{label}'s images of class {names[c]!r}"
        run.warnings += [notice_dict(f) for f in gate_findings(s, what=what)]
        if c in split.data.minority_classes:
            run.warnings += [notice_dict(Notice("not-judged", f"{what}: {text}"))
                             for text in gate_coverage(s)]
