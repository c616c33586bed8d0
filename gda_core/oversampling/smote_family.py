"""SMOTE, Borderline-SMOTE, ADASYN and random oversampling on images."""

from __future__ import annotations

from typing import Any

from imblearn.over_sampling import ADASYN, SMOTE, BorderlineSMOTE, RandomOverSampler

from gda_core.oversampling.imblearn_adapter import ImblearnOversampler
from gda_core.oversampling.params import ParamSpec

_K = ParamSpec("k_neighbors", "int", 5, low=1, high=50,
               help="Nearest same-class neighbours to interpolate towards.")


class RandomOversampler(ImblearnOversampler):
    """Repeat randomly chosen minority images (with replacement) until classes balance.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.zeros((6, 1, 4, 4), np.uint8); y = np.array([0, 0, 0, 0, 1, 1])
    >>> X_res, y_res = RandomOversampler(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [4, 4]
    """

    name = "random"
    label = "Random oversampling"
    description = "Duplicates randomly chosen minority images until the classes balance."
    params = ()
    copies_by_design = "repeats the training images"

    def _check_neighbours(self, *args: Any) -> None:
        return None  # duplication works from a single image

    def _make_sampler(self, strategy, params):
        return RandomOverSampler(sampling_strategy=strategy, random_state=self.random_state)


class SMOTEOversampler(ImblearnOversampler):
    """SMOTE (Chawla et al. 2002): new images on segments between same-class neighbours."""

    name = "smote"
    label = "SMOTE"
    description = ("Synthesizes images by interpolating pixel-wise between a minority image "
                   "and one of its k nearest minority neighbours.")
    params = (_K,)
    neighbour_params = ("k_neighbors",)

    def _make_sampler(self, strategy, params):
        return SMOTE(sampling_strategy=strategy, k_neighbors=params["k_neighbors"],
                     random_state=self.random_state)


class BorderlineSMOTEOversampler(ImblearnOversampler):
    """Borderline-SMOTE (Han et al. 2005): SMOTE from minority images near the border.

    Only minority images whose ``m_neighbors`` neighbours are mostly (but not all) of other
    classes are used; when none qualifies it creates no image, which is reported in
    ``warnings_`` and ``n_generated_`` rather than passing silently.
    """

    name = "borderline-smote"
    label = "Borderline-SMOTE"
    description = ("SMOTE restricted to minority images in danger, i.e. near the class "
                   "border; may create no image when no minority image is in danger.")
    params = (
        _K,
        ParamSpec("m_neighbors", "int", 10, low=1, high=100,
                  help="Neighbours (any class) used to decide whether an image is in danger."),
        ParamSpec("kind", "choice", "borderline-1", choices=("borderline-1", "borderline-2"),
                  help="borderline-2 may also interpolate towards other-class neighbours."),
    )
    neighbour_params = ("k_neighbors",)
    whole_set_params = ("m_neighbors",)

    def _make_sampler(self, strategy, params):
        return BorderlineSMOTE(sampling_strategy=strategy, k_neighbors=params["k_neighbors"],
                               m_neighbors=params["m_neighbors"], kind=params["kind"],
                               random_state=self.random_state)


class ADASYNOversampler(ImblearnOversampler):
    """ADASYN (He et al. 2008): more new images where the minority is harder to learn."""

    name = "adasyn"
    label = "ADASYN"
    description = ("Like SMOTE, but creates more images for minority images surrounded by "
                   "other classes; class totals are only approximately balanced.")
    params = (ParamSpec("n_neighbors", "int", 5, low=1, high=50,
                        help="Neighbours used to weight images and to interpolate."),)
    neighbour_params = ("n_neighbors",)
    whole_set_params = ("n_neighbors",)

    def _make_sampler(self, strategy, params):
        return ADASYN(sampling_strategy=strategy, n_neighbors=params["n_neighbors"],
                      random_state=self.random_state)

    def _explain(self, exc: Exception) -> str:
        text = str(exc)
        if "neigbours" in text or "neighbours" in text or "majority class" in text:
            return ("ADASYN cannot weight this data: no image of another class is among the "
                    "nearest neighbours of the minority images (the classes are far apart), "
                    "so its weights divide by zero. Use SMOTE or Borderline-SMOTE instead.")
        if "No samples will be generated" in text:
            return ("ADASYN computed that no image needs to be generated for this data; "
                    "use SMOTE to balance the classes exactly.")
        return super()._explain(exc)
