"""Image features for sample-quality metrics, from our own CNN (no downloaded weights).

FID and precision / recall are usually computed on Inception-v3 features, whose weights
must be downloaded and which suit neither 8x8 digits nor grey defect images.  Here the
features are the penultimate layer (the ``fc_units`` hidden units after ReLU) of the
AM-study CNN (:class:`~gda_core.classifiers.CNNClassifier`) trained on the full training
data of the dataset.  Scores computed with different extractors are not comparable, and
neither are they comparable with published Inception-based FIDs.

Training takes seconds to minutes, so :meth:`FeatureExtractor.cached` keeps trained
extractors in a folder chosen by the caller, keyed by a fingerprint of the images, labels
and settings (:func:`dataset_fingerprint`).
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch

from gda_core.classifiers import AMStudyCNN, CNNClassifier
from gda_core.devices import inference_batch, resolve_device
from gda_core.errors import ConfigError, GDAError

FORMAT = "gda-workbench/feature-extractor@1"
"""Format tag stored in saved extractors (part of the cache fingerprint too)."""

_CL = torch.channels_last  # as CNNClassifier: faster on CPU, and the same kernels after load


class FeatureExtractor:
    """Penultimate-layer features of the AM-study CNN trained on a dataset.

    Parameters
    ----------
    epochs, width, fc_units, dropout, batch_size, lr, val_fraction, patience, loss
        Training settings of :class:`~gda_core.classifiers.CNNClassifier`; the feature
        dimension is ``fc_units``.  The class-weighted loss (default) keeps a small class
        from being ignored: the network also serves as the quality gate's class check.
    device : str
        ``"auto"``, ``"cpu"`` or ``"cuda[:i]"``, for training and :meth:`transform`.  It
        is not part of the cache fingerprint.

    Attributes
    ----------
    model_ : AMStudyCNN
        The trained network, in eval mode.
    mean_, std_ : ndarray of float64
        Per-channel input statistics (in [0, 1] units) of the training images.
    image_shape_ : tuple of int
        ``(C, H, W)`` the extractor accepts.
    n_classes_ : int
    random_state_ : int or None
        Seed it was trained with.
    report_ : dict
        ``best_epoch``, ``epochs_run`` and the validation accuracy ``val_acc`` of the kept
        epoch (NaN without validation).
    from_cache_ : bool
        True when :meth:`cached` loaded it instead of training it.

    Examples
    --------
    >>> from gda_core.datasets.digits import load_digits_splits
    >>> train = load_digits_splits().train
    >>> ext = FeatureExtractor(epochs=3).fit(train.images, train.labels, random_state=0)
    >>> ext.transform(train.images[:5]).shape
    (5, 128)
    """

    def __init__(self, *, epochs: int = 10, width: int = 16, fc_units: int = 128,
                 dropout: float = 0.25, batch_size: int = 64, lr: float = 1e-3,
                 val_fraction: float = 0.1, patience: int = 4,
                 loss: str = "weighted-cross-entropy", device: str = "auto") -> None:
        self.epochs = epochs
        self.width = width
        self.fc_units = fc_units
        self.dropout = dropout
        self.batch_size = batch_size
        self.lr = lr
        self.val_fraction = val_fraction
        self.patience = patience
        self.loss = loss
        self.device = device
        self.from_cache_ = False

    def settings(self) -> dict[str, Any]:
        """The training settings (everything but ``device``), as JSON-friendly values."""
        values = {"epochs": self.epochs, "width": self.width, "fc_units": self.fc_units,
                  "dropout": self.dropout, "batch_size": self.batch_size, "lr": self.lr,
                  "val_fraction": self.val_fraction, "patience": self.patience,
                  "loss": self.loss}
        return {k: _plain(v) for k, v in values.items()}

    @property
    def n_features(self) -> int:
        """Dimension of the features returned by :meth:`transform`."""
        return int(self.fc_units)

    # ------------------------------------------------------------------ fitting
    def fit(self, images: np.ndarray, labels: Any, *, random_state: int | None = 0,
            n_classes: int | None = None) -> FeatureExtractor:
        """Train the CNN to classify ``images``; its hidden layer becomes the features.

        Parameters
        ----------
        images : ndarray of uint8, shape (N, C, H, W)
            All training images of the dataset (not the imbalanced subsample).
        labels : array-like of int, shape (N,)
        random_state : int or None
            Seed of the split, initial weights, dropout and batch order.
        n_classes : int, optional
            Number of classes (default ``max(labels) + 1``).

        Returns
        -------
        self
        """
        clf = CNNClassifier(**self.settings(), random_state=random_state, device=self.device)
        clf.fit(images, labels, n_classes=n_classes)
        self.model_ = clf.model_.to(memory_format=_CL)  # already NHWC: a no-op
        self.mean_ = np.asarray(clf.mean_, dtype=np.float64)
        self.std_ = np.asarray(clf.std_, dtype=np.float64)
        self.image_shape_ = tuple(int(s) for s in clf.image_shape_)
        self.n_classes_ = int(clf.n_classes_)
        self.random_state_ = _plain(random_state)
        best = clf.history_[clf.best_epoch_ - 1] if clf.best_epoch_ else {}
        self.report_ = {"best_epoch": int(clf.best_epoch_), "epochs_run": len(clf.history_),
                        "val_acc": float(best.get("val_acc", float("nan")))}
        self.from_cache_ = False
        return self

    # ---------------------------------------------------------------- features
    def transform(self, images: np.ndarray) -> np.ndarray:
        """Features of uint8 images, float64 array of shape ``(N, n_features)``.

        The network runs in eval mode (no dropout), batch by batch, without autograd.
        """
        if not hasattr(self, "model_"):
            raise GDAError("the feature extractor is not trained yet; call fit or load first")
        if not isinstance(images, np.ndarray) or images.ndim != 4 or images.dtype != np.uint8:
            raise ConfigError("images must be a uint8 array of shape (N, C, H, W)")
        if tuple(images.shape[1:]) != self.image_shape_:
            raise ConfigError(f"images have shape {tuple(images.shape[1:])} but the feature "
                              f"extractor was trained on {self.image_shape_}")
        model = self.model_
        dev = next(model.parameters()).device
        shift = torch.as_tensor(self.mean_ * 255.0, dtype=torch.float32, device=dev)
        scale = torch.as_tensor(1.0 / (self.std_ * 255.0), dtype=torch.float32, device=dev)
        shift, scale = shift.view(1, -1, 1, 1), scale.view(1, -1, 1, 1)
        head = model.classifier[:-1]  # Flatten, Linear, ReLU, Dropout (identity in eval)
        model.eval()
        out = []
        with torch.inference_mode():
            step = inference_batch(images.shape[2] * images.shape[3], dev.type)
            for i in range(0, len(images), step):
                xb = torch.from_numpy(np.ascontiguousarray(images[i:i + step])).to(dev)
                xb = ((xb.float() - shift) * scale).contiguous(memory_format=_CL)
                out.append(head(model.features(xb)).double().cpu())
        if not out:
            return np.zeros((0, self.n_features), dtype=np.float64)
        return torch.cat(out).numpy()

    def predict(self, images: np.ndarray) -> np.ndarray:
        """The class the CNN gives each uint8 image (labels as in :meth:`fit`), int64."""
        last = self.model_.classifier[-1]  # the Linear layer after the features
        dev = next(last.parameters()).device
        feats = torch.from_numpy(self.transform(images)).float().to(dev)
        with torch.inference_mode():
            logits = last(feats)
        return logits.argmax(dim=1).cpu().numpy().astype(np.int64)

    # ------------------------------------------------------------- persistence
    def save(self, path: str | Path) -> Path:
        """Write the weights and metadata to ``path`` (a ``torch.save`` of plain values).

        The file is written to a temporary name first and then renamed, so a reader
        never sees half a file.
        """
        if not hasattr(self, "model_"):
            raise GDAError("the feature extractor is not trained yet; nothing to save")
        path = Path(path)
        payload = {
            "format": FORMAT,
            "settings": self.settings(),
            "state_dict": {k: v.detach().cpu() for k, v in self.model_.state_dict().items()},
            "mean": torch.from_numpy(self.mean_.copy()),
            "std": torch.from_numpy(self.std_.copy()),
            "image_shape": list(self.image_shape_),
            "n_classes": self.n_classes_,
            "random_state": self.random_state_,
            "report": dict(self.report_),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                torch.save(payload, fh)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path, *, device: str = "auto") -> FeatureExtractor:
        """Read an extractor written by :meth:`save` (``torch.load(weights_only=True)``).

        Raises
        ------
        GDAError
            When the file is missing or is not a saved feature extractor.
        """
        path = Path(path)
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise GDAError(f"no saved feature extractor at {path}") from None
        except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as exc:
            raise GDAError(f"{path} is not a readable feature extractor ({exc})") from None
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise GDAError(f"{path} is not a saved feature extractor ({FORMAT})")
        ext = cls(**payload["settings"], device=device)
        c, h, w = (int(s) for s in payload["image_shape"])
        with torch.random.fork_rng(devices=[]):  # the init draws must not touch global state
            model = AMStudyCNN(c, int(payload["n_classes"]), (h, w), width=ext.width,
                               fc_units=ext.fc_units, dropout=ext.dropout)
        model.load_state_dict(payload["state_dict"])
        ext.model_ = model.to(torch.device(resolve_device(device)), memory_format=_CL).eval()
        ext.mean_ = payload["mean"].numpy().astype(np.float64)
        ext.std_ = payload["std"].numpy().astype(np.float64)
        ext.image_shape_ = (c, h, w)
        ext.n_classes_ = int(payload["n_classes"])
        ext.random_state_ = payload["random_state"]
        ext.report_ = dict(payload.get("report", {}))
        return ext

    @classmethod
    def cached(cls, images: np.ndarray, labels: Any, cache_dir: str | Path, *,
               random_state: int | None = 0, n_classes: int | None = None,
               **settings: Any) -> FeatureExtractor:
        """Load the extractor for this data and settings from ``cache_dir``, or train it.

        Parameters
        ----------
        images, labels, random_state, n_classes
            As for :meth:`fit`.  ``random_state=None`` trains afresh and caches nothing.
        cache_dir : str or Path
            Folder of cached extractors (created if needed); files are named
            ``extractor-<fingerprint>.pt``.
        **settings
            Constructor parameters (``epochs``, ``width``, ``device``, ...).

        Returns
        -------
        FeatureExtractor
            With ``from_cache_`` True when it was loaded.  An unreadable cache file is
            replaced by a freshly trained extractor; a cache folder that cannot be written
            only means it is not cached.

        Examples
        --------
        >>> ext = FeatureExtractor.cached(images, labels, "cache/features",  # doctest: +SKIP
        ...                               epochs=5)
        """
        ext = cls(**settings)
        if random_state is None:
            return ext.fit(images, labels, random_state=None, n_classes=n_classes)
        key = dataset_fingerprint(images, labels, {**ext.settings(), "n_classes": n_classes,
                                                   "random_state": int(random_state)})
        path = Path(cache_dir) / f"extractor-{key[:32]}.pt"
        if path.is_file():
            try:
                loaded = cls.load(path, device=ext.device)
            except GDAError:
                loaded = None
            if loaded is not None:
                loaded.from_cache_ = True
                return loaded
        ext.fit(images, labels, random_state=random_state, n_classes=n_classes)
        try:
            ext.save(path)
        except OSError:
            pass  # a read-only or full cache folder: use it uncached, train again next time
        return ext


class RandomFeatures:
    """Features of a fixed, randomly initialised CNN: no training, no download.

    Four stride-2 3x3 convolutions (``widths`` channels) with ReLU, He-initialised from a
    seeded ``torch.Generator``; the features are the mean and the standard deviation of
    every layer's maps over the image (``2 * sum(widths)`` numbers), so they respond to
    colour, edges and textures at four scales.  Naeem et al. (2020, "Reliable Fidelity and
    Diversity Metrics for Generative Models") recommend randomly initialised embeddings
    for data unlike ImageNet.  They complement :class:`FeatureExtractor`: a classifier of
    two classes learns to ignore most of what an image shows, so a featureless blob can
    sit right among its features of real photos, while random features still see it.

    Parameters
    ----------
    seed : int
        Seed of the weights; the same seed gives the same features on every machine.
    widths : sequence of int
        Output channels of the four convolutions.

    Examples
    --------
    >>> images = np.random.default_rng(0).integers(0, 256, (3, 1, 16, 16), np.uint8)
    >>> f = RandomFeatures().transform(images)
    >>> f.shape, bool(np.allclose(f, RandomFeatures().transform(images)))
    ((3, 960), True)
    """

    def __init__(self, *, seed: int = 0, widths: tuple[int, ...] = (32, 64, 128, 256)) -> None:
        self.seed = seed
        self.widths = tuple(int(w) for w in widths)
        self._weights: dict[int, list[torch.Tensor]] = {}

    @property
    def n_features(self) -> int:
        """Dimension of the features returned by :meth:`transform`."""
        return 2 * sum(self.widths)

    def _layers(self, channels: int) -> list[torch.Tensor]:
        if channels not in self._weights:
            gen = torch.Generator().manual_seed(int(self.seed) * 31 + channels)
            weights, c = [], channels
            for w in self.widths:
                weights.append(torch.randn(w, c, 3, 3, generator=gen) * (2.0 / (9 * c)) ** 0.5)
                c = w
            self._weights[channels] = weights
        return self._weights[channels]

    def transform(self, images: np.ndarray) -> np.ndarray:
        """Features of uint8 images ``(N, C, H, W)``, float64 array ``(N, n_features)``."""
        if not isinstance(images, np.ndarray) or images.ndim != 4 or images.dtype != np.uint8:
            raise ConfigError("images must be a uint8 array of shape (N, C, H, W)")
        weights = self._layers(images.shape[1])
        out = []
        with torch.inference_mode():
            step = inference_batch(images.shape[2] * images.shape[3], "cpu")
            for i in range(0, len(images), step):
                x = torch.from_numpy(np.ascontiguousarray(images[i:i + step]))
                x = x.float().div_(127.5).sub_(1.0)
                parts = []
                for w in weights:
                    x = torch.relu(torch.nn.functional.conv2d(x, w, stride=2, padding=1))
                    parts += [x.mean(dim=(2, 3)), x.std(dim=(2, 3), unbiased=False)]
                out.append(torch.cat(parts, dim=1).double())
        if not out:
            return np.zeros((0, self.n_features), dtype=np.float64)
        return torch.cat(out).numpy()


def dataset_fingerprint(images: np.ndarray, labels: Any,
                        settings: dict[str, Any] | None = None) -> str:
    """SHA-256 (hex) of the images' bytes and shape, the labels and the settings.

    Examples
    --------
    >>> x = np.zeros((2, 1, 8, 8), np.uint8)
    >>> dataset_fingerprint(x, [0, 1]) == dataset_fingerprint(x.copy(), np.array([0, 1]))
    True
    >>> dataset_fingerprint(x, [0, 1]) == dataset_fingerprint(x, [1, 0])
    False
    """
    arr = np.ascontiguousarray(images)
    y = np.ascontiguousarray(np.asarray(labels, dtype=np.int64))
    h = hashlib.sha256()
    h.update(json.dumps({"format": FORMAT, "shape": list(arr.shape), "dtype": str(arr.dtype),
                         "n_labels": int(y.size), "settings": settings or {}},
                        sort_keys=True, default=str).encode())
    h.update(arr.tobytes())
    h.update(y.tobytes())
    return h.hexdigest()


def _plain(value: Any) -> Any:
    """A numpy scalar as the Python number ``torch.load(weights_only=True)`` accepts."""
    return value.item() if isinstance(value, np.generic) else value


class CachedFeatures:
    """Any ``transform(images)`` with its last results remembered, by the images' bytes.

    A comparison scores every method's images against the same real images of a class;
    their features do not change between methods or seeds, so they are computed once.
    The results are exactly those of ``features.transform`` (returned read-only).

    Parameters
    ----------
    features : object with ``transform(images) -> ndarray``
    max_entries : int
        How many distinct image sets are remembered (least recently used go first).

    Examples
    --------
    >>> images = np.random.default_rng(0).integers(0, 256, (3, 1, 16, 16), np.uint8)
    >>> cached = CachedFeatures(RandomFeatures())
    >>> a = cached.transform(images)
    >>> cached.transform(images) is a, cached.hits
    (True, 1)
    """

    def __init__(self, features: Any, max_entries: int = 16) -> None:
        self.features = features
        self.max_entries = int(max_entries)
        self.hits = 0
        self._memo: OrderedDict[tuple, np.ndarray] = OrderedDict()

    def __getattr__(self, name: str) -> Any:  # n_features, predict, ... of the wrapped one
        if name == "features":  # not set yet (unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.features, name)

    def transform(self, images: np.ndarray) -> np.ndarray:
        """``features.transform(images)``, from memory when these images were seen."""
        arr = np.ascontiguousarray(images)
        key = (arr.shape, str(arr.dtype),
               hashlib.blake2b(arr.tobytes(), digest_size=20).digest())
        found = self._memo.get(key)
        if found is not None:
            self._memo.move_to_end(key)
            self.hits += 1
            return found
        out = np.asarray(self.features.transform(images))
        out.setflags(write=False)
        self._memo[key] = out
        while len(self._memo) > self.max_entries:
            self._memo.popitem(last=False)
        return out
