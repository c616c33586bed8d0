"""The contract every oversampler honours: imbalanced-learn's ``fit_resample``.

Subclasses implement :meth:`ImageOversampler._generate`, which returns only the *new*
images; :meth:`ImageOversampler.fit_resample` validates the input, works out how many
images each class needs, and returns the originals followed by the new images, so
``X_res[n_original_:]`` are always the synthesized ones.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from gda_core.errors import ConfigError, OversamplingError
from gda_core.images import check_labelled_images
from gda_core.notices import Notice
from gda_core.oversampling.params import ParamSpec, parse_params


class ImageOversampler:
    """Base class of image oversamplers.

    Constructors take keyword-only parameters and only store them (as in scikit-learn and
    imbalanced-learn); all validation happens in :meth:`fit_resample`.

    Attributes set by ``fit_resample``
    ----------------------------------
    n_original_ : int
        Number of input images (the synthesized ones follow them in the output).
    n_generated_ : dict of int to int
        Number of new images per class (0 included: Borderline-SMOTE may create none).
    warnings_ : list of Notice
        Plain-language findings, e.g. that a class received no new images
        (``"no-images-generated"``) or, for GANs, the training diagnostics.

    ``class_names`` (None, or a name per label) is used by messages only: a caller that
    re-indexed the user's classes (a comparison keeps labels 0..n-1 of the chosen classes)
    sets it so that errors name the user's class, not its index.
    """

    class_names: Sequence[str] | None = None

    name: ClassVar[str] = ""
    """The method's key in the registry (:data:`gda_core.oversampling.registry.METHODS`),
    in configurations, on the command line and in saved results."""
    label: ClassVar[str] = ""
    """Display name."""
    description: ClassVar[str] = ""
    """One or two sentences for the method pickers and ``list``."""
    params: ClassVar[tuple[ParamSpec, ...]] = ()
    """The tunable parameters (constructor keywords besides ``sampling_strategy`` and
    ``random_state``); widgets and ``--param`` are built from them."""
    uses_own_classifier: ClassVar[bool] = False
    """A comparison evaluates the method's own classifier instead of retraining its CNN on
    the oversampled data (``adso+q``, ``amo+q``)."""
    copies_by_design: ClassVar[str] = ""
    """For methods whose images are training images, repeated or transformed, by design
    (random oversampling, traditional augmentation): what they do, in words.  The quality
    gate's ``copies`` verdict then describes the method rather than a failure, and a
    recommendation of it says so."""

    def __init__(self, *, sampling_strategy: Any = "auto", random_state: int | None = None,
                 **params: Any) -> None:
        self.sampling_strategy = sampling_strategy
        self.random_state = random_state
        defaults = {p.name: p.default for p in self.params}
        unknown = set(params) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__} got unexpected parameter(s) {sorted(unknown)}")
        for key, value in {**defaults, **params}.items():
            setattr(self, key, value)

    def class_label(self, c: int) -> str:
        """``"class '3'"`` when :attr:`class_names` are known, else ``"class 2"``.

        Examples
        --------
        >>> sampler = ImageOversampler()
        >>> sampler.class_label(2)
        'class 2'
        >>> sampler.class_names = ["0", "1", "3", "8"]
        >>> sampler.class_label(2)
        "class '3'"
        """
        names = self.class_names
        if names is not None and 0 <= int(c) < len(names):
            return f"class {names[int(c)]!r}"
        return f"class {c}"

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as stored (scikit-learn's estimator API: with
        :meth:`set_params` it lets ``sklearn.base.clone``, imbalanced-learn's ``Pipeline``
        and grid searches use a sampler; ``deep`` changes nothing, a sampler holds no other
        estimator).

        Examples
        --------
        >>> from sklearn.base import clone
        >>> from gda_core.oversampling import make_oversampler
        >>> clone(make_oversampler("smote", k_neighbors=3)).get_params()["k_neighbors"]
        3
        """
        out = {"sampling_strategy": self.sampling_strategy, "random_state": self.random_state}
        out.update({p.name: getattr(self, p.name) for p in self.params})
        return out

    def set_params(self, **params: Any) -> ImageOversampler:
        """Set constructor parameters (stored as given, checked by :meth:`fit_resample`).

        Raises
        ------
        ValueError
            For a name that is not a parameter of this sampler (as scikit-learn does).
        """
        valid = self.get_params(deep=False)
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(f"invalid parameter {unknown[0]!r} for {type(self).__name__}; "
                             f"valid parameters: {', '.join(valid)}")
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def fit_resample(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Balance the classes of ``X`` by adding synthesized images.

        Parameters
        ----------
        X : ndarray of uint8, shape (N, C, H, W)
        y : ndarray of int, shape (N,)

        Returns
        -------
        X_res, y_res : ndarray
            The input followed by the new images, same dtype and image shape as ``X``.
        """
        X, y = check_resample_input(X, y)
        values = parse_params(self.params, {p.name: getattr(self, p.name) for p in self.params})
        targets = target_counts(y, self.sampling_strategy)
        self.n_original_ = len(y)
        self.warnings_: list[Notice] = []
        if sum(targets.values()) == 0:
            X_new = np.empty((0, *X.shape[1:]), dtype=np.uint8)
            y_new = np.empty(0, dtype=np.int64)
        else:
            X_new, y_new = self._generate(X, y, targets, values)
        self.n_generated_ = {int(c): int(np.sum(y_new == c)) for c in np.unique(y)}
        for c, want in targets.items():
            if want > 0 and self.n_generated_.get(c, 0) == 0:
                self.warnings_.append(Notice(
                    "no-images-generated",
                    f"{self.label or self.name}: 0 images generated for {self.class_label(c)} "
                    f"({want} were needed)"))
        return (np.concatenate([X, X_new.astype(np.uint8, copy=False)]),
                np.concatenate([y, y_new.astype(np.int64, copy=False)]))

    def _generate(self, X: np.ndarray, y: np.ndarray, targets: dict[int, int],
                  params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    @classmethod
    def advice(cls, n_images: int, params: dict[str, Any] | None = None) -> str | None:
        """What to expect when this method oversamples a class of ``n_images`` real images.

        ``None`` when the count is no concern; otherwise one plain-language sentence (too
        few images for the method's neighbours, for a GAN to learn from, ...).  ``params``
        are the method's settings (defaults where missing).
        """
        return None

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def check_resample_input(X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """Validate an image batch and its labels (:func:`gda_core.images.check_labelled_images`,
    raising :class:`OversamplingError`) and that there are two classes at least."""
    X, y = check_labelled_images(X, y, error=OversamplingError)
    if len(np.unique(y)) < 2:
        raise OversamplingError("oversampling needs at least two classes")
    return X, y


def target_counts(y: np.ndarray, sampling_strategy: Any) -> dict[int, int]:
    """Number of images to generate per class.

    ``"auto"`` (or ``"not majority"``) brings every class up to the largest class;
    ``"minority"`` only the smallest class; a mapping gives the desired *total* per class
    (as in imbalanced-learn).
    """
    classes, counts = np.unique(y, return_counts=True)
    have = dict(zip(classes.tolist(), counts.tolist(), strict=True))
    top = max(have.values())
    if sampling_strategy in ("auto", "not majority", "all"):
        return {c: top - n for c, n in have.items()}
    if sampling_strategy == "minority":
        low = min(have, key=lambda c: (have[c], c))
        return {c: (top - n if c == low else 0) for c, n in have.items()}
    if isinstance(sampling_strategy, Mapping):
        out = {c: 0 for c in have}
        for c, total in sampling_strategy.items():
            c = int(c)
            if c not in have:
                raise ConfigError(f"class {c} is not in the training set")
            if int(total) < have[c]:
                raise ConfigError(
                    f"class {c} has {have[c]} images; a target of {total} would remove some"
                )
            out[c] = int(total) - have[c]
        return out
    raise ConfigError(
        f"sampling_strategy must be 'auto', 'minority' or a dict; got {sampling_strategy!r}"
    )
