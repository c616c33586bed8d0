"""Apply imbalanced-learn's samplers to images.

Images are flattened to float32 rows for the sampler and the new rows are rounded,
clipped to 0..255 and reshaped back, so callers keep uint8 ``(N, C, H, W)`` arrays.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from gda_core.errors import OversamplingError
from gda_core.oversampling.base import ImageOversampler


def flatten_images(X: np.ndarray) -> np.ndarray:
    """``(N, C, H, W)`` uint8 -> ``(N, C*H*W)`` float32."""
    return X.reshape(len(X), -1).astype(np.float32)


def restore_images(rows: np.ndarray, image_shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`flatten_images`: round, clip to 0..255, reshape, uint8."""
    return np.clip(np.rint(rows), 0, 255).astype(np.uint8).reshape(-1, *image_shape)


class ImblearnOversampler(ImageOversampler):
    """Base for oversamplers backed by an imbalanced-learn sampler.

    Subclasses set :attr:`neighbour_params` (names of parameters that need that many
    images plus one in each oversampled class) and implement :meth:`_make_sampler`.
    """

    neighbour_params: ClassVar[tuple[str, ...]] = ()
    whole_set_params: ClassVar[tuple[str, ...]] = ()

    def _make_sampler(self, strategy: dict[int, int], params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _generate(self, X, y, targets, params):
        have = {int(c): int(n) for c, n in zip(*np.unique(y, return_counts=True), strict=True)}
        wanted = {c: n for c, n in targets.items() if n > 0}
        self._check_neighbours(have, wanted, params, len(y))
        strategy = {c: have[c] + n for c, n in wanted.items()}
        sampler = self._make_sampler(strategy, params)
        try:
            rows, labels = sampler.fit_resample(flatten_images(X), y)
        except (ValueError, RuntimeError) as exc:
            raise OversamplingError(self._explain(exc)) from None
        return restore_images(rows[len(y):], X.shape[1:]), labels[len(y):]

    def _check_neighbours(self, have: dict[int, int], wanted: dict[int, int],
                          params: dict[str, Any], n_total: int) -> None:
        for c in sorted(wanted):
            if have[c] < 2:
                raise OversamplingError(
                    f"{self.label} interpolates between images of the same class, but "
                    f"{self.class_label(c)} has only {have[c]} image; use random oversampling "
                    "or augmentation for it, or add images"
                )
            for p in self.neighbour_params:
                k = int(params[p])
                if have[c] <= k:
                    raise OversamplingError(
                        f"{self.label} needs more than {p}={k} images in every class it "
                        f"oversamples, but {self.class_label(c)} has {have[c]}; set {p} to at most "
                        f"{have[c] - 1} or add images"
                    )
        for p in self.whole_set_params:
            k = int(params[p])
            if n_total <= k:
                raise OversamplingError(
                    f"{self.label} needs more than {p}={k} training images in all; "
                    f"there are {n_total}; lower {p}"
                )

    @classmethod
    def advice(cls, n_images: int, params: dict[str, Any] | None = None) -> str | None:
        values = {p.name: p.default for p in cls.params} | dict(params or {})
        if n_images < 2:
            return (f"{cls.label} interpolates between two images of a class; a class of "
                    f"{n_images} image cannot be oversampled with it.")
        for p in cls.neighbour_params:
            k = int(values[p])
            if n_images <= k:
                return (f"{cls.label} needs more than {p}={k} images per class; with "
                        f"{n_images} it cannot run (lower {p} to {n_images - 1}).")
        return None

    def _explain(self, exc: Exception) -> str:
        return f"{self.label} could not oversample this data: {exc}"
