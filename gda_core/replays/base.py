"""What a replay is: a source study's experiment rerun at a chosen scale, its published
numbers beside ours, and plain statements of what matched and what did not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from gda_core.errors import ConfigError

Progress = Callable[[float, str], None]
SCALES = ("smoke", "quick", "full")


def paper_gan_params(name: str) -> dict[str, Any]:
    """The GAN settings of the studies the replays follow, pinned for synthesizer ``name``.

    The studies trained plain GANs: no DiffAugment and, for the convolutional models,
    DCGAN's width of 64.  The product's defaults for few-shot photos differ (augmentation
    on, narrower networks), so a replay pins these to keep the study's protocol.

    Examples
    --------
    >>> paper_gan_params("dcgan"), paper_gan_params("gan")
    ({'augment': 'off', 'width': 64}, {'augment': 'off'})
    """
    from gda_core.synthesizers import SYNTHESIZERS

    names = {p.name for p in SYNTHESIZERS[name].params}
    out: dict[str, Any] = {"augment": "off"} if "augment" in names else {}
    if "width" in names:
        out["width"] = 64
    return out


@dataclass(frozen=True)
class Check:
    """One claim of the source study, tested on our numbers."""

    claim: str
    published: str
    ours: str
    matched: bool


@dataclass
class ReplayResult:
    """Published numbers, ours, the checks, and notes on scale and data."""

    name: str
    title: str
    published: pd.DataFrame
    ours: pd.DataFrame
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_matched(self) -> int:
        return sum(c.matched for c in self.checks)

    def checks_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"claim": c.claim, "published": c.published, "ours": c.ours,
                              "matched": "yes" if c.matched else "no"} for c in self.checks])

    def report(self) -> str:
        """The replay as text: both tables, each check, the notes."""
        fmt = {"float_format": lambda v: f"{v:.4f}"}
        lines = [f"== {self.title} ==", "", "published:", self.published.to_string(**fmt), "",
                 "ours:", self.ours.to_string(**fmt), "",
                 f"checks ({self.n_matched} of {len(self.checks)} matched):"]
        for c in self.checks:
            mark = "MATCHED    " if c.matched else "NOT MATCHED"
            lines.append(f"  [{mark}] {c.claim} (published: {c.published}; ours: {c.ours})")
        if self.notes:
            lines += ["", "notes:"] + [f"  - {n}" for n in self.notes]
        lines.append(f"\n({self.seconds:.1f} s)")
        return "\n".join(lines)


    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None); :meth:`from_dict` reads it back.  ``extra`` keeps
        what the Replays page shows: training histories and the full comparison."""
        from gda_core.experiments.result import json_ready

        extra: dict[str, Any] = {}
        if "histories" in self.extra:
            extra["histories"] = self.extra["histories"]
        if "comparison" in self.extra:
            extra["comparison"] = self.extra["comparison"].to_dict()
        return json_ready({
            "format": "gda-workbench/replay@1", "name": self.name, "title": self.title,
            "published": _frame_dict(self.published), "ours": _frame_dict(self.ours),
            "checks": [asdict(c) for c in self.checks], "notes": list(self.notes),
            "seconds": self.seconds, "extra": extra})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReplayResult:
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> r = ReplayResult("x", "X", pd.DataFrame({"a": [1.5]}), pd.DataFrame({"a": [2.0]}),
        ...                  [Check("a grows", "1.5", "2.0", True)], ["a note"], 1.0)
        >>> back = ReplayResult.from_dict(r.to_dict())
        >>> back.ours.equals(r.ours), back.checks == r.checks, back.n_matched
        (True, True, 1)
        """
        from gda_core.experiments.result import ComparisonResult

        extra = dict(d.get("extra") or {})
        if extra.get("comparison") is not None:
            extra["comparison"] = ComparisonResult.from_dict(extra["comparison"])
        return cls(name=d["name"], title=d["title"], published=_frame(d["published"]),
                   ours=_frame(d["ours"]), checks=[Check(**c) for c in d.get("checks", [])],
                   notes=list(d.get("notes", [])), seconds=float(d.get("seconds", 0.0)),
                   extra=extra)


def _frame_dict(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": [str(c) for c in frame.columns],
            "rows": frame.astype(object).where(frame.notna(), None).values.tolist()}


def _frame(d: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(d.get("rows", []), columns=d.get("columns", []))
    return frame.infer_objects()


@dataclass(frozen=True)
class ReplayOptions:
    """Options every replay understands.

    ``scale``: ``"smoke"`` (seconds: checks that everything runs, numbers meaningless),
    ``"quick"`` (CPU-friendly minutes, the default) or ``"full"`` (the study's own sizes
    where feasible). ``root``: folder with MNIST / Fashion-MNIST files (replays that need
    them fall back to a built-in stand-in and say so). ``path``: a user's image folder or zip
    (the AM replay). ``dataset``: ``"mnist"`` or ``"fashion-mnist"`` for the GAN
    diversity replay. ``seed``: first seed. ``download``: let torchvision download into
    ``root``.
    """

    scale: str = "quick"
    root: str | None = None
    path: str | None = None
    dataset: str = "mnist"
    seed: int = 0
    download: bool = False

    def __post_init__(self) -> None:
        if self.scale not in SCALES:
            raise ConfigError(f"scale must be one of {', '.join(SCALES)}; got {self.scale!r}")
        if self.dataset not in ("mnist", "fashion-mnist"):
            raise ConfigError(f"dataset must be mnist or fashion-mnist; got {self.dataset!r}")


@dataclass(frozen=True)
class Replay:
    """A registered replay: name, title, source, what it runs, and its runner."""

    name: str
    title: str
    source: str
    description: str
    run: Callable[[ReplayOptions, Progress], ReplayResult]
    needs: str = ""  # data it prefers, shown in the UI
