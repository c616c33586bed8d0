"""Results of a comparison, and their JSON form."""

from __future__ import annotations

import base64
import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gda_core.experiments.config import BASELINE
from gda_core.notices import notice_dict

SCALAR_METRICS = (
    "accuracy", "precision_macro", "recall_macro", "f1_macro", "acsa", "gmean",
    "gmean_sens_spec", "minority_recall", "smallest_class_recall", "majority_precision",
    "top2_accuracy", "roc_auc_ovr",
)

QUALITY_METRICS = ("fid_equal", "fid_real", "coverage_equal", "coverage_real",
                   "struct_fid_equal", "struct_fid_real", "struct_coverage_equal",
                   "struct_coverage_real", "noise_share", "copy_share", "dup_share", "spread",
                   "n_compared",
                   "fid", "precision", "recall", "density", "coverage", "diversity",
                   "diversity_real")
"""Sample-quality scores kept per class in :attr:`MethodRun.quality`: the quality gate's
(:func:`gda_core.metrics.gate.gate_scores`, each beside its real-vs-real reference at the
same count), then those of :func:`gda_core.metrics.sample_quality.sample_quality` on all
the images."""

OWN_CLASSIFIER = "own"
""":attr:`MethodRun.classifier` of a method evaluated with its own classifier (the
three-player game's Q) instead of the comparison's."""


@dataclass
class MethodRun:
    """One method trained and evaluated with one seed.

    ``error`` is set (and the metrics empty) when the method could not run with these
    settings, e.g. SMOTE with ``k_neighbors`` larger than a minority class.  ``quality``
    maps a class index to the sample-quality scores of the images synthesized for it
    (empty unless the comparison asked for sample quality).  ``classifier`` is ``""``
    when the comparison's classifier was trained on the (oversampled) data, and
    :data:`OWN_CLASSIFIER` when the method was evaluated with its own (``adso+q``,
    ``amo+q``).

    ``warnings`` are ``{"code", "message"}`` dicts (see :mod:`gda_core.notices`): the
    oversampler's remarks, the GAN's training diagnostics and the sample-quality gate's
    verdicts.  ``split_counts`` maps ``"train"``, ``"validation"`` and ``"test"`` to
    ``{"real": [per class], "synthetic": [per class]}``: what the classifier trained on,
    stopped early on and was scored on.  ``fold`` is the cross-validation fold of the run
    (None on a held-out test set); ``seed`` is then the repeat.  ``fast_paths`` names the
    path (:mod:`gda_core.fastpath`) each model ran on: ``"classifier"`` and, for a GAN, its
    models' paths under ``"synthesizer"`` (one name, or several joined with ``" / "``).
    """

    method: str
    seed: int
    metrics: dict[str, float] = field(default_factory=dict)
    confusion_matrix: list[list[int]] = field(default_factory=list)
    per_class: dict[str, list[float]] = field(default_factory=dict)
    n_train: int = 0
    n_generated: dict[int, int] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    error: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    epochs_run: int = 0
    quality: dict[int, dict[str, float]] = field(default_factory=dict)
    classifier: str = ""
    split_counts: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    fold: int | None = None
    fast_paths: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


def encode_images(images: np.ndarray) -> dict[str, Any]:
    """Lossless, compact JSON form of a uint8 array."""
    arr = np.ascontiguousarray(images, dtype=np.uint8)
    return {"shape": list(arr.shape), "b64": base64.b64encode(arr.tobytes()).decode("ascii")}


def decode_images(d: dict[str, Any]) -> np.ndarray:
    """Inverse of :func:`encode_images`."""
    raw = base64.b64decode(d["b64"])
    return np.frombuffer(raw, dtype=np.uint8).reshape(d["shape"]).copy()


@dataclass
class ComparisonResult:
    """Per-method, per-seed metrics and confusion matrices, plus sample images.

    ``real_samples[c]`` holds a few real training images of class ``c``;
    ``synthetic_samples[method][c]`` a few images that ``method`` synthesized for class
    ``c`` (first unit).  ``protocol`` is the
    :class:`~gda_core.experiments.protocol.Protocol` that ran, as a dict (empty for
    comparisons saved before protocols existed: a held-out test set); ``recommendation``
    is :func:`~gda_core.experiments.recommend.recommend`'s answer.  ``predicted_seconds``
    is what the run was expected to take before it started (its units' costs predicted by
    :func:`gda_core.experiments.estimate.probe_costs`; NaN where they could not be),
    beside ``seconds``, what it took; ``peak_memory_mb`` the most memory the process that
    ran it had by its end (:func:`gda_core.devices.peak_memory_mb`; NaN if unknown).
    """

    config: dict[str, Any]
    class_names: list[str]
    minority_classes: list[int]
    majority_classes: list[int]
    train_counts: list[int]
    test_counts: list[int]
    runs: list[MethodRun] = field(default_factory=list)
    real_samples: dict[int, np.ndarray] = field(default_factory=dict)
    synthetic_samples: dict[str, dict[int, np.ndarray]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    guidance: list[dict[str, str]] = field(default_factory=list)
    protocol: dict[str, Any] = field(default_factory=dict)
    recommendation: dict[str, Any] = field(default_factory=dict)
    predicted_seconds: float = math.nan
    peak_memory_mb: float = math.nan

    @property
    def methods(self) -> list[str]:
        """Methods that have runs, in the configuration's order."""
        present = dict.fromkeys(r.method for r in self.runs)
        listed = [m for m in self.config.get("methods", []) if m in present]
        return listed + [m for m in present if m not in listed]

    def is_complete(self) -> bool:
        """Whether every (method, seed) of the configuration has a run (False for a
        comparison that was stopped or interrupted: what finished is kept)."""
        return not self.missing_runs()

    def missing_runs(self) -> list[tuple[str, int]]:
        """The (method, seed) pairs of the configuration that have no run (with
        cross-validation: that lack a run of some fold)."""
        folds = [None]
        if self.protocol.get("kind") == "cv":
            folds = list(range(int(self.protocol.get("folds", 0))))
        done = {(r.method, r.seed, r.fold) for r in self.runs}
        return [(m, int(s)) for s in self.config.get("seeds", []) for m in
                self.config.get("methods", [])
                if any((m, int(s), f) not in done for f in folds)]

    def runs_of(self, method: str) -> list[MethodRun]:
        return [r for r in self.runs if r.method == method]

    def errors(self) -> dict[str, str]:
        """Method -> first error message, for methods that failed."""
        out: dict[str, str] = {}
        for r in self.runs:
            if r.error and r.method not in out:
                out[r.method] = r.error
        return out

    @property
    def metric_names(self) -> list[str]:
        """The :data:`SCALAR_METRICS` the runs report (top-2 accuracy is left out for two
        classes, where it is always 1)."""
        seen = {k for r in self.runs if r.ok for k in r.metrics}
        return [k for k in SCALAR_METRICS if k in seen]

    def metrics_table(self, stat: str = "mean") -> pd.DataFrame:
        """Rows = methods that ran, columns = metrics; ``stat`` is ``"mean"`` or ``"std"``."""
        rows = {}
        names = self.metric_names
        for m in self.methods:
            ok = [r.metrics for r in self.runs_of(m) if r.ok]
            if not ok:
                continue
            frame = pd.DataFrame(ok).reindex(columns=names)
            rows[m] = frame.mean() if stat == "mean" else frame.std(ddof=1)
        return pd.DataFrame.from_dict(rows, orient="index", columns=names)

    def warning_codes(self) -> dict[str, list[str]]:
        """Method -> the distinct codes of its runs' warnings (all seeds), in first-seen
        order; methods without warnings are left out."""
        out: dict[str, dict[str, None]] = {}
        for r in self.runs:
            for w in r.warnings:
                out.setdefault(r.method, {})[w["code"]] = None
        return {m: list(codes) for m, codes in out.items()}

    def grouped_warnings(self, method: str) -> list[dict[str, str]]:
        """``method``'s warnings, one per code (the first run's message), each with where
        it came from: ``"seeds 0, 2"``, ``"3 of 10 folds"``, or ``""`` for a single run.

        Examples
        --------
        >>> runs = [MethodRun("dcgan", 0, warnings=[{"code": "noise", "message": m}], fold=f)
        ...         for f, m in enumerate(["90% noise", "80% noise"])]
        >>> runs.append(MethodRun("dcgan", 0, fold=2))
        >>> res = ComparisonResult({}, ["a"], [], [0], [1], [1], runs=runs,
        ...                        protocol={"kind": "cv", "folds": 3})
        >>> res.grouped_warnings("dcgan")
        [{'code': 'noise', 'message': '90% noise', 'where': '2 of 3 folds'}]
        """
        runs = [r for r in self.runs_of(method) if r.ok or r.warnings]
        found: dict[str, dict[str, Any]] = {}
        for r in runs:
            for w in r.warnings:
                entry = found.setdefault(w["code"], {"message": w["message"], "units": []})
                if (r.seed, r.fold) not in entry["units"]:
                    entry["units"].append((r.seed, r.fold))
        out = []
        for code, entry in found.items():
            units = entry["units"]
            if self.protocol.get("kind") == "cv":
                where = f"{len(units)} of {len(runs)} folds" if len(runs) > 1 else ""
            elif len(runs) > 1:
                seeds = [s for s, _ in units]
                where = f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))}"
            else:
                where = ""
            out.append({"code": code, "message": entry["message"], "where": where})
        return out

    def delta_table(self) -> pd.DataFrame:
        """Mean metrics minus the baseline's (empty when there is no baseline)."""
        table = self.metrics_table()
        if BASELINE not in table.index:
            return table.iloc[0:0]
        return table - table.loc[BASELINE]

    def confusion(self, method: str, seed: int | None = None) -> np.ndarray:
        """Confusion matrix of ``method`` for one seed, or summed over seeds."""
        mats = [np.asarray(r.confusion_matrix) for r in self.runs_of(method)
                if r.ok and (seed is None or r.seed == seed)]
        if not mats:
            raise KeyError(f"no successful run of {method!r}")
        return np.sum(mats, axis=0)

    def per_class_recall_table(self) -> pd.DataFrame:
        """Rows = methods that ran, columns = class names: test recall, mean over seeds."""
        rows = {}
        for m in self.methods:
            recalls = [r.per_class["recall"] for r in self.runs_of(m)
                       if r.ok and "recall" in r.per_class]
            if recalls:
                rows[m] = np.mean(np.asarray(recalls, dtype=np.float64), axis=0)
        return pd.DataFrame.from_dict(rows, orient="index", columns=list(self.class_names))

    def quality_table(self) -> pd.DataFrame:
        """Sample quality per method and class, mean over the seeds that scored it.

        Returns
        -------
        DataFrame
            One row per (method, class) with synthesized images, in run and class order;
            columns ``method``, ``class`` (index), ``class_name``, the
            :data:`QUALITY_METRICS`, ``n_fake`` (mean synthesized images per seed) and
            ``n_seeds``.  Empty (same columns) when nothing was scored.
        """
        columns = ["method", "class", "class_name", *QUALITY_METRICS, "n_fake", "n_seeds"]
        rows = [{"method": r.method, "class": int(c),
                 **{k: s.get(k, math.nan) for k in QUALITY_METRICS},
                 # the gate's pixel-only scores carry no count: the run's own is the same
                 "n_fake": s.get("n_fake", r.n_generated.get(int(c), math.nan))}
                for r in self.runs if r.ok for c, s in sorted(r.quality.items())]
        if not rows:
            return pd.DataFrame(columns=columns)
        frame = pd.DataFrame(rows).astype({k: "float64" for k in (*QUALITY_METRICS, "n_fake")})
        grouped = frame.groupby(["method", "class"], sort=False)
        table = grouped.mean()
        table["n_seeds"] = grouped.size()
        table = table.reset_index()
        order = {m: i for i, m in enumerate(self.methods)}
        table = table.sort_values(["method", "class"], key=lambda col: col.map(order)
                                  if col.name == "method" else col, kind="stable")
        table["class_name"] = [self.class_names[c] for c in table["class"]]
        return table[columns].reset_index(drop=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "gda-workbench/comparison@1",
            "config": self.config,
            "class_names": self.class_names,
            "minority_classes": self.minority_classes,
            "majority_classes": self.majority_classes,
            "train_counts": self.train_counts,
            "test_counts": self.test_counts,
            "runs": [json_ready(asdict(r)) for r in self.runs],
            "real_samples": {str(c): encode_images(a) for c, a in self.real_samples.items()},
            "synthetic_samples": {
                m: {str(c): encode_images(a) for c, a in per.items()}
                for m, per in self.synthetic_samples.items()
            },
            "notes": self.notes,
            "seconds": self.seconds,
            "guidance": self.guidance,
            "protocol": json_ready(self.protocol),
            "recommendation": json_ready(self.recommendation),
            "predicted_seconds": json_ready(self.predicted_seconds),
            "peak_memory_mb": json_ready(self.peak_memory_mb),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ComparisonResult:
        runs = []
        for r in d["runs"]:
            r = dict(r)
            r["n_generated"] = {int(k): v for k, v in r.get("n_generated", {}).items()}
            r["metrics"] = {k: (math.nan if v is None else v) for k, v in r["metrics"].items()}
            r["quality"] = {int(c): {k: (math.nan if v is None else v) for k, v in s.items()}
                            for c, s in r.get("quality", {}).items()}
            r["warnings"] = [notice_dict(w) for w in r.get("warnings", [])]
            runs.append(MethodRun(**r))
        return cls(
            config=d["config"],
            class_names=list(d["class_names"]),
            minority_classes=list(d["minority_classes"]),
            majority_classes=list(d["majority_classes"]),
            train_counts=list(d["train_counts"]),
            test_counts=list(d["test_counts"]),
            runs=runs,
            real_samples={int(c): decode_images(a) for c, a in d["real_samples"].items()},
            synthetic_samples={
                m: {int(c): decode_images(a) for c, a in per.items()}
                for m, per in d["synthetic_samples"].items()
            },
            notes=list(d.get("notes", [])),
            seconds=float(d.get("seconds", 0.0)),
            guidance=[notice_dict(g) for g in d.get("guidance", [])],
            protocol=dict(d.get("protocol") or {}),
            recommendation=dict(d.get("recommendation") or {}),
            predicted_seconds=(math.nan if d.get("predicted_seconds") is None
                               else float(d["predicted_seconds"])),
            peak_memory_mb=(math.nan if d.get("peak_memory_mb") is None
                            else float(d["peak_memory_mb"])),
        )

    def to_json(self, path: str | Path | None = None) -> str:
        """Serialise to JSON text (NaN written as null); also write it to ``path`` if given."""
        return dump_json(self.to_dict(), path)

    @classmethod
    def from_json(cls, text_or_path: str | Path) -> ComparisonResult:
        return cls.from_dict(load_json(text_or_path))


def dump_json(d: dict[str, Any], path: str | Path | None = None) -> str:
    """``d`` as indented JSON text, also written to ``path`` when given."""
    text = json.dumps(d, indent=1)
    if path is not None:
        Path(path).write_text(text, encoding="utf-8")
    return text


def load_json(text_or_path: str | Path) -> Any:
    """Parse JSON given as text (starting with ``{``) or as a file path."""
    is_text = str(text_or_path).lstrip().startswith("{")
    return json.loads(str(text_or_path) if is_text
                      else Path(text_or_path).read_text(encoding="utf-8"))


def json_ready(obj: Any) -> Any:
    """Replace NaN/inf by None so the JSON is standard."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {(str(k) if not isinstance(k, str) else k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [json_ready(v) for v in obj]
    if isinstance(obj, np.generic):
        return json_ready(obj.item())
    return obj
