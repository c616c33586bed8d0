"""What a replay is: a source study's experiment rerun at a chosen scale, its published
numbers beside ours, and plain statements of what matched and what did not."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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
