"""A scikit-learn-style estimator that trains :class:`AMStudyCNN` on uint8 images."""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any, ClassVar

import numpy as np
import torch
from sklearn.base import BaseEstimator, ClassifierMixin
from torch import nn

from gda_core.classifiers.cnn import AMStudyCNN
from gda_core.classifiers.losses import CLASSIFIER_LOSSES, make_loss
from gda_core.datasets.split import stratified_split
from gda_core.devices import autocast, inference_batch, resolve_device
from gda_core.errors import ConfigError, GDAError
from gda_core.fastpath import REFERENCE, Path, PathChoice, choose_path
from gda_core.images import check_images, check_labelled_images
from gda_core.seeds import resolve_seed

EpochCallback = Callable[[int, int, dict[str, float]], None]


@dataclass(frozen=True)
class TrainCost:
    """A classifier's predicted training time here (:meth:`CNNClassifier.fit_cost`)."""

    seconds: float
    steps: int
    step_ms: float
    path: str


class CNNClassifier(ClassifierMixin, BaseEstimator):
    """Train the AM-study CNN with Adam, a stratified validation split and early stopping.

    The constructor only stores its keyword-only parameters (scikit-learn convention);
    they are validated by :meth:`fit`, which raises :class:`~gda_core.errors.ConfigError`
    for bad values.  Training leaves the global torch and numpy random states untouched:
    the weights are initialised and dropout is drawn inside ``torch.random.fork_rng``
    seeded with ``random_state``, and batches are shuffled with a private generator.

    Parameters
    ----------
    width, fc_units, dropout
        Architecture of :class:`~gda_core.classifiers.AMStudyCNN`.
    epochs : int
        Maximum number of passes over the training images.
    batch_size : int
    lr : float
        Adam learning rate.
    weight_decay : float
        Adam weight decay (L2).
    val_fraction : float in [0, 0.5]
        Share of the images held out (stratified) for early stopping.  Validation is
        skipped, and all epochs run, when it is 0 or some class has fewer than 2 images.
        The held-out set has at least one image per class.
    patience : int
        Epochs without a lower validation loss before training stops; the weights of the
        best epoch are restored.  The validation loss is class-balanced (the mean over
        classes of each class's mean loss, :func:`balanced_loss`), so that the two or three
        held-out images of a small class weigh as much as the many of a large one: the
        epoch kept is the best for every class, not for the majority.
    random_state : int or None
        Seed of the split, initial weights, dropout and batch order.
    device : {"auto", "cpu", "cuda"}
        ``"auto"``: CUDA when available, else the CPU (the rule of :mod:`gda_core.devices`).
    loss : {"cross-entropy", "weighted-cross-entropy", "focal"}
        Training criterion (see :func:`gda_core.classifiers.losses.make_loss`); the class
        weights of ``"weighted-cross-entropy"`` come from the training part of ``y``.  The
        validation loss used for early stopping is the same criterion.
    focal_gamma : float, >= 0
        Focusing parameter of the focal loss (ignored by the other losses).
    fast : bool
        The fast path (default): the layout and autocast dtype
        :func:`gda_core.fastpath.choose_path` measured fastest for this network, image
        shape and batch on this machine (float32 NCHW unless channels_last and / or
        bfloat16 autocast beat it by 5 %), in training and prediction, and a fused Adam;
        losses, gradients and Adam's state stay float32.  ``False``: plain float32 NCHW
        with PyTorch's default Adam, the reference that ``bench/cnn_speed.py`` compares
        with.

    Attributes
    ----------
    model_ : AMStudyCNN
        The trained network (best epoch), in eval mode.
    n_classes_ : int
    classes_ : ndarray of int64
        ``arange(n_classes_)``.
    history_ : list of dict
        Per epoch: ``epoch``, ``train_loss``, ``train_acc``, ``val_loss``, ``val_acc``
        (NaN without validation) and ``seconds``.
    best_epoch_ : int
        1-based epoch whose weights were kept.
    mean_, std_ : ndarray of float
        Per-channel statistics (in [0, 1] units) used to normalise the inputs.
    fast_path_ : gda_core.fastpath.PathChoice
        The path it trained and predicts on, how it was chosen and the candidates' times.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> d = load_digits()
    >>> X = (d.images * 255 / 16).astype(np.uint8)[:, None]
    >>> clf = CNNClassifier(epochs=3).fit(X[:1500], d.target[:1500])
    >>> clf.predict_proba(X[1500:]).shape
    (297, 10)
    """

    _min_batch: ClassVar[int] = 1
    """Smallest training batch the network accepts (2 for networks with batch norm)."""

    def __init__(self, *, width: int = 16, fc_units: int = 128, dropout: float = 0.25,
                 epochs: int = 15, batch_size: int = 64, lr: float = 1e-3,
                 weight_decay: float = 0.0, val_fraction: float = 0.1, patience: int = 4,
                 random_state: int | None = 0, device: str = "auto",
                 loss: str = "cross-entropy", focal_gamma: float = 2.0,
                 fast: bool = True) -> None:
        self.width = width
        self.fc_units = fc_units
        self.dropout = dropout
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.weight_decay = weight_decay
        self.val_fraction = val_fraction
        self.patience = patience
        self.random_state = random_state
        self.device = device
        self.loss = loss
        self.focal_gamma = focal_gamma
        self.fast = fast

    # ------------------------------------------------------------------ fitting
    def fit(self, X: np.ndarray, y: np.ndarray, *, n_classes: int | None = None,
            callback: EpochCallback | None = None,
            validation: tuple[np.ndarray, np.ndarray] | None = None) -> CNNClassifier:
        """Train on uint8 images ``X`` (N, C, H, W) with integer labels ``y``.

        Parameters
        ----------
        X : ndarray of uint8, shape (N, C, H, W)
        y : array-like of int, shape (N,)
        n_classes : int, optional
            Number of outputs (default ``max(y) + 1``); classes absent from ``y`` allowed.
        callback : callable, optional
            ``callback(epoch, n_epochs, logs)`` after every epoch (``epoch`` from 1);
            ``logs`` is that epoch's :attr:`history_` entry.  An exception raised by the
            callback stops training and propagates (a UI can use it to cancel).
        validation : (X_val, y_val), optional
            Images for early stopping, held out by the caller.  Then every image of
            ``X`` is trained on and ``val_fraction`` is not used.  Pass real images held
            out *before* oversampling, so that synthetic images never pick the model (an
            empty pair trains every epoch without validation).

        Returns
        -------
        self
        """
        self._check_params()
        X, y = _check_xy(X, y)
        self.n_classes_ = _n_classes(y, n_classes)
        self.classes_ = np.arange(self.n_classes_, dtype=np.int64)
        self.image_shape_ = tuple(X.shape[1:])
        self.device_ = resolve_device(self.device)
        seed = resolve_seed(self.random_state)
        if validation is None:
            train_idx, val_idx = _split(y, self.val_fraction, seed)
            X_val, y_val = X[val_idx], y[val_idx]
            X, y = X[train_idx], y[train_idx]
        else:
            X_val, y_val = _check_validation(validation, self.image_shape_, self.n_classes_)
        self.mean_, self.std_ = _channel_stats(X)
        dev = torch.device(self.device_)
        if dev.type == "cuda" and dev.index is None:
            dev = torch.device("cuda", torch.cuda.current_device())
        with torch.random.fork_rng(devices=[] if dev.type == "cpu" else [dev.index]):
            torch.default_generator.manual_seed(seed)
            if dev.type == "cuda":
                with torch.cuda.device(dev):
                    torch.cuda.manual_seed(seed)
            model = self._build_model(X.shape[1], self.n_classes_, (X.shape[2], X.shape[3]))
            model = model.to(dev)
            self.fast_path_ = self._choose_path(model, dev, min(self.batch_size, len(y)))
            self.model_ = model.to(memory_format=self._layout())
            try:
                self._train(X, y, X_val, y_val, seed, callback)
            except BaseException:
                del self.model_  # a half-trained network must not be used for predictions
                raise
        self.model_.eval()
        return self

    def _build_model(self, in_channels: int, n_classes: int,
                     image_size: tuple[int, int]) -> nn.Module:
        """The network to train; subclasses override it to swap the architecture.

        Called inside the seeded ``fork_rng`` of :meth:`fit`, so its initial weights are
        reproducible.
        """
        return AMStudyCNN(in_channels, n_classes, image_size, width=self.width,
                          fc_units=self.fc_units, dropout=self.dropout)

    def _check_params(self) -> None:
        _int_param("width", self.width, 1)
        _int_param("fc_units", self.fc_units, 1)
        _int_param("epochs", self.epochs, 1)
        _int_param("batch_size", self.batch_size, 1)
        _int_param("patience", self.patience, 1)
        _real_param("dropout", self.dropout, 0.0, 1.0, hi_open=True)
        _real_param("lr", self.lr, 0.0, math.inf, lo_open=True, hi_open=True)
        _real_param("weight_decay", self.weight_decay, 0.0, math.inf, hi_open=True)
        _real_param("val_fraction", self.val_fraction, 0.0, 0.5)
        _real_param("focal_gamma", self.focal_gamma, 0.0, math.inf, hi_open=True)
        if not isinstance(self.loss, str) or self.loss not in CLASSIFIER_LOSSES:
            raise ConfigError(f"loss must be one of {', '.join(CLASSIFIER_LOSSES)}; "
                              f"got {self.loss!r}")
        if not isinstance(self.fast, (bool, np.bool_)):
            raise ConfigError(f"fast must be True or False; got {self.fast!r}")
        resolve_seed(self.random_state)  # checked with the others, before the data

    def _path(self) -> Path:
        choice = getattr(self, "fast_path_", None)
        return REFERENCE if choice is None else choice.path

    def _layout(self) -> torch.memory_format:
        return self._path().memory_format

    def _cast(self) -> torch.dtype | None:
        """The autocast dtype of the fitted network (None: float32)."""
        return self._path().dtype

    def _choose_path(self, model: nn.Module, dev: torch.device, batch: int) -> PathChoice:
        """The fast path (see ``fast``), timed on a copy of ``model`` with one training
        step (forward, cross-entropy, backward, fused Adam) on a batch of ``batch``."""
        shape = tuple(self.image_shape_)
        b = max(2, batch)
        probe = self._path_probe(model, dev, b)
        size = sum(p.numel() for p in model.parameters())
        key = (f"classifier:{type(model).__name__}:{size}:x{'x'.join(map(str, shape))}"
               f":b{b}")
        return choose_path(key, probe, device=dev.type, fast=bool(self.fast))

    def fit_cost(self, image_shape: tuple[int, ...], n_train: int, n_classes: int,
                 n_val: int = 0) -> TrainCost:
        """What :meth:`fit` would cost here at most (every epoch run; early stopping ends
        sooner): its steps times one step measured on its fast path on this machine
        (read from the machine's cache of :mod:`gda_core.fastpath`, else timed now), and
        a validation pass per epoch at a third of a step per batch.

        Examples
        --------
        >>> cost = CNNClassifier(epochs=2, batch_size=50).fit_cost((1, 8, 8), 200, 10)
        >>> cost.steps, cost.seconds > 0
        (8, True)
        """
        self._check_params()
        probe = type(self)(**self.get_params())
        probe.image_shape_ = tuple(int(s) for s in image_shape)
        probe.n_classes_ = int(n_classes)
        dev = torch.device(resolve_device(self.device))
        C, H, W = probe.image_shape_
        with torch.random.fork_rng(devices=[]):
            model = probe._build_model(C, probe.n_classes_, (H, W)).to(dev)
        b = max(2, min(self.batch_size, n_train))
        choice = probe._choose_path(model, dev, b)
        ms = choice.times_ms.get(choice.path.name)
        if ms is None:
            from gda_core.fastpath import time_paths

            ms = time_paths(probe._path_probe(model, dev, b), (choice.path,),
                            device=dev.type, budget_s=0.5).get(choice.path.name, math.nan)
        steps = self.epochs * len(_batches(n_train, self.batch_size, self._min_batch))
        val = self.epochs * -(-int(n_val) // inference_batch(H * W, dev.type))
        return TrainCost(seconds=(steps + val / 3) * ms / 1000, steps=steps, step_ms=ms,
                         path=choice.path.name)

    def _path_probe(self, model: nn.Module, dev: torch.device, b: int) -> Any:
        """A :data:`gda_core.fastpath.Probe` of one training step of a copy of ``model``."""
        shape = tuple(self.image_shape_)

        def probe(path: Path) -> Callable[[], None]:
            net = copy.deepcopy(model).train().to(memory_format=path.memory_format)
            opt = torch.optim.Adam(net.parameters(), lr=self.lr, fused=True)
            gen = torch.Generator().manual_seed(0)
            x = torch.randn(b, *shape, generator=gen).to(dev)
            x = x.contiguous(memory_format=path.memory_format)
            target = torch.randint(0, self.n_classes_, (b,), generator=gen).to(dev)

            def step() -> None:
                with autocast(dev.type, path.dtype):
                    loss = nn.functional.cross_entropy(net(x).float(), target)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()

            return step

        return probe

    def _train(self, X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray,
               seed: int, callback: EpochCallback | None) -> None:
        dev = torch.device(self.device_)
        self._shift, self._scale = self._norm_tensors(dev)
        Xt, yt = torch.from_numpy(X).to(dev), torch.from_numpy(y).to(dev)
        Xv, yv = torch.from_numpy(X_val).to(dev), torch.from_numpy(y_val).to(dev)
        criterion = make_loss(self.loss, y, self.n_classes_, self.focal_gamma)
        model = self.model_
        cast = self._cast()
        # fused Adam: one kernel for all weights, 7-13 % faster epochs on 2 CPU cores, the
        # same updates up to rounding (fast=False keeps the default implementation)
        opt = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay,
                               fused=True if self.fast else None)
        gen = torch.Generator().manual_seed(seed)
        self.history_: list[dict[str, float]] = []
        best_loss, best_state, stale = math.inf, None, 0
        self.best_epoch_ = 0
        n = len(yt)
        for epoch in range(1, self.epochs + 1):
            t0 = time.perf_counter()
            model.train()
            perm = torch.randperm(n, generator=gen).to(dev)
            loss_sum = torch.zeros((), device=dev)
            correct = torch.zeros((), dtype=torch.int64, device=dev)
            for start, stop in _batches(n, self.batch_size, self._min_batch):
                idx = perm[start:stop]
                target = yt[idx]
                with autocast(dev.type, cast):
                    logits = model(self._prepare(Xt[idx])).float()
                loss = criterion(logits, target)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                loss_sum += loss.detach() * len(idx)
                correct += (logits.detach().argmax(1) == target).sum()
            logs = {"epoch": epoch, "train_loss": float(loss_sum) / n,
                    "train_acc": float(correct) / n, "val_loss": math.nan, "val_acc": math.nan}
            if len(yv):
                val_logits = self._logits(Xv)
                logs["val_loss"] = balanced_loss(criterion, val_logits, yv)
                logs["val_acc"] = float((val_logits.argmax(1) == yv).float().mean())
            if not math.isfinite(logs["train_loss"]) or (len(yv) and math.isnan(logs["val_loss"])):
                raise GDAError(f"training diverged (loss became NaN) at epoch {epoch}; "
                               "lower the learning rate")
            logs["seconds"] = time.perf_counter() - t0
            self.history_.append(logs)
            if callback is not None:
                callback(epoch, self.epochs, dict(logs))
            if not len(yv):
                self.best_epoch_ = epoch
                continue
            if logs["val_loss"] < best_loss:
                best_loss, stale, self.best_epoch_ = logs["val_loss"], 0, epoch
                best_state = copy.deepcopy(model.state_dict())
            else:
                stale += 1
                if stale >= self.patience:
                    break
        if best_state is not None:
            model.load_state_dict(best_state)

    # --------------------------------------------------------------- prediction
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Class probabilities, float64 array of shape ``(N, n_classes_)``."""
        logits = self._logits(torch.from_numpy(self._check_predict_x(X)))
        return torch.softmax(logits.double(), dim=1).cpu().numpy()

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Most probable class index of every image (int64)."""
        return self.predict_proba(X).argmax(axis=1).astype(np.int64)

    def _check_predict_x(self, X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise GDAError("the classifier is not trained yet; call fit first")
        X = check_images(X)
        if tuple(X.shape[1:]) != self.image_shape_:
            raise ConfigError(f"images have shape {tuple(X.shape[1:])} but the classifier was "
                              f"trained on {self.image_shape_}")
        return X

    def _norm_tensors(self, dev: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
        """``x_float = (x_uint8 - shift) * scale`` per channel, shaped (1, C, 1, 1)."""
        shift = torch.as_tensor(self.mean_ * 255.0, dtype=torch.float32, device=dev)
        scale = torch.as_tensor(1.0 / (self.std_ * 255.0), dtype=torch.float32, device=dev)
        return shift.view(1, -1, 1, 1), scale.view(1, -1, 1, 1)

    def _prepare(self, xb: torch.Tensor) -> torch.Tensor:
        return ((xb.float() - self._shift) * self._scale).contiguous(
            memory_format=self._layout())

    def _logits(self, X: torch.Tensor) -> torch.Tensor:
        """Logits of uint8 images, batch by batch, in eval mode, without autograd."""
        model = self.model_
        dev = torch.device(self.device_)
        step = inference_batch(X.shape[2] * X.shape[3], dev.type)
        if not hasattr(self, "_shift") or self._shift.device != dev:
            self._shift, self._scale = self._norm_tensors(dev)
        was_training = model.training
        model.eval()
        cast = self._cast()
        try:
            with torch.inference_mode(), autocast(dev.type, cast):
                out = [model(self._prepare(X[i:i + step].to(dev))).float()
                       for i in range(0, len(X), step)]
        finally:
            model.train(was_training)
        if not out:
            return torch.empty((0, self.n_classes_), device=dev)
        return torch.cat(out)


# ------------------------------------------------------------------- helpers
def _batches(n: int, size: int, min_last: int) -> list[tuple[int, int]]:
    """``(start, stop)`` of the training batches; a last batch smaller than ``min_last``
    joins the one before it (batch norm cannot train on a single image)."""
    starts = list(range(0, n, size))
    if len(starts) > 1 and n - starts[-1] < min_last:
        starts.pop()
    return list(zip(starts, [*starts[1:], n], strict=True))


def _int_param(name: str, value: Any, lo: int) -> None:
    if isinstance(value, bool) or not isinstance(value, Integral) or value < lo:
        raise ConfigError(f"{name} must be an integer of at least {lo}; got {value!r}")


def _real_param(name: str, value: Any, lo: float, hi: float, *, lo_open: bool = False,
                hi_open: bool = False) -> None:
    ok = isinstance(value, Real) and not isinstance(value, bool) and not math.isnan(value)
    if ok:
        ok = (value > lo if lo_open else value >= lo) and (value < hi if hi_open else value <= hi)
    if not ok:
        left, right = "(" if lo_open else "[", ")" if hi_open else "]"
        raise ConfigError(f"{name} must be a number in {left}{lo:g}, {hi:g}{right}; got {value!r}")


def _check_xy(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Images and labels checked; labels index the network's outputs, so none is negative."""
    X, y = check_labelled_images(X, y)
    if y.min() < 0:
        raise ConfigError("labels must be non-negative integers")
    return X, y


def _check_validation(validation: Any, image_shape: tuple[int, ...],
                      n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Validate a caller's ``(X_val, y_val)`` against the training images."""
    try:
        X_val, y_val = validation
    except (TypeError, ValueError):
        raise ConfigError("validation must be a pair (X_val, y_val)") from None
    y_val = np.asarray(y_val)
    if len(y_val) == 0:
        return (np.zeros((0, *image_shape), np.uint8), np.zeros(0, np.int64))
    X_val, y_val = _check_xy(X_val, y_val)
    if tuple(X_val.shape[1:]) != image_shape:
        raise ConfigError(f"validation images have shape {tuple(X_val.shape[1:])} but the "
                          f"training images {image_shape}")
    if y_val.max() >= n_classes:
        raise ConfigError(f"validation labels go up to {int(y_val.max())} but there are "
                          f"{n_classes} classes")
    return X_val, y_val


def _n_classes(y: np.ndarray, n_classes: int | None) -> int:
    present = np.unique(y)
    if len(present) < 2:
        raise ConfigError(f"training needs images of at least 2 classes; got only class "
                          f"{int(present[0])}")
    if n_classes is None:
        return int(y.max()) + 1
    if isinstance(n_classes, bool) or not isinstance(n_classes, Integral) or n_classes <= y.max():
        raise ConfigError(f"n_classes={n_classes!r} but labels go up to {int(y.max())}")
    return int(n_classes)


def _split(y: np.ndarray, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Stratified (train, validation) indices, at least one validation image per class
    (:func:`~gda_core.datasets.split.stratified_split`); no validation when it cannot be
    stratified (a class of fewer than 2 images)."""
    idx = np.arange(len(y))
    if val_fraction <= 0 or np.unique(y, return_counts=True)[1].min() < 2:
        return idx, idx[:0]
    return stratified_split(y, val_fraction, np.random.default_rng(seed), min_per_class=1)


def _channel_stats(X: np.ndarray, chunk: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel mean and standard deviation of uint8 images, in [0, 1] units."""
    total = np.zeros(X.shape[1])
    squares = np.zeros(X.shape[1])
    for i in range(0, len(X), chunk):
        part = X[i:i + chunk].astype(np.float64)
        total += part.sum(axis=(0, 2, 3))
        squares += np.square(part).sum(axis=(0, 2, 3))
    count = X.shape[0] * X.shape[2] * X.shape[3]
    mean = total / count
    std = np.sqrt(np.maximum(squares / count - mean**2, 0.0))
    return mean / 255.0, np.maximum(std / 255.0, 1e-3)


def balanced_loss(criterion: Any, logits: torch.Tensor, target: torch.Tensor) -> float:
    """Mean over the classes present in ``target`` of ``criterion`` on that class's rows.

    Examples
    --------
    >>> ce = torch.nn.CrossEntropyLoss()
    >>> logits = torch.tensor([[2.0, 0.0]] * 9 + [[2.0, 0.0]])
    >>> target = torch.tensor([0] * 9 + [1])
    >>> round(balanced_loss(ce, logits, target), 4), round(float(ce(logits, target)), 4)
    (1.1269, 0.3269)
    """
    values = [criterion(logits[target == c], target[target == c])
              for c in torch.unique(target).tolist()]
    return float(torch.stack([v.float() for v in values]).mean())
