"""What a replay is: a source study's experiment rerun at a chosen scale, its published
numbers beside ours, and plain statements of what matched and what did not."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields, replace
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


NO_VERDICT_SMOKE = "no verdict at smoke scale (it only checks that the replay runs)"
"""What every check of a smoke-scale replay says instead of a verdict."""
EXPECTATION = "our expectation (not in the study)"
"""``Check.source`` of a claim the source study does not make: a hypothesis of ours."""
VERDICTS = ("matched", "not matched", "no verdict")


@dataclass(frozen=True)
class Check:
    """One claim, tested on our numbers.

    Attributes
    ----------
    claim : str
        The claim in words.
    published : str
        What the source study reports for it, quoted ("" when the study reports nothing:
        then ``source`` is :data:`EXPECTATION`).
    ours : str
        Our numbers (the evidence).
    matched : bool or None
        The verdict; None: no verdict (``reason`` says why).
    rule : str
        How the verdict is reached, with its thresholds ("matched: ...").
    source : str
        Where the claim appears in the study (table or section), or :data:`EXPECTATION`.
    reason : str
        Why there is no verdict (only with ``matched`` None).

    Examples
    --------
    >>> Check("a grows", "1.5", "2.0", True).verdict
    'matched'
    >>> Check("a grows", "1.5", "n/a", None, reason="a was not measured").verdict
    'no verdict'
    """

    claim: str
    published: str
    ours: str
    matched: bool | None
    rule: str = ""
    source: str = ""
    reason: str = ""

    @property
    def verdict(self) -> str:
        """``"matched"``, ``"not matched"`` or ``"no verdict"``."""
        if self.matched is None:
            return "no verdict"
        return "matched" if self.matched else "not matched"

    def without_verdict(self, reason: str) -> Check:
        """This check with no verdict, for ``reason``.

        Examples
        --------
        >>> Check("x", "1", "2", True).without_verdict("too small").verdict
        'no verdict'
        """
        return replace(self, matched=None, reason=reason)

    def to_dict(self) -> dict[str, Any]:
        """Plain values with the derived ``verdict``."""
        return {**asdict(self), "verdict": self.verdict}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Check:
        """Inverse of :meth:`to_dict` (also reads results saved before verdicts existed).

        Examples
        --------
        >>> c = Check("x", "1", "2", None, "matched: x > 1", "Table 2", "smoke")
        >>> Check.from_dict(c.to_dict()) == c
        True
        >>> Check.from_dict({"claim": "x", "published": "1", "ours": "2", "matched": True})
        Check(claim='x', published='1', ours='2', matched=True, rule='', source='', reason='')
        """
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in d.items() if k in names}
        if values.get("matched") is not None:
            values["matched"] = bool(values["matched"])
        return cls(**values)


@dataclass
class ReplayResult:
    """Published numbers, ours, the checks, and notes on scale and data.

    ``scale`` is the scale it ran at (``""`` for results saved before it was recorded);
    ``extra`` keeps training histories (``"histories"``), the full comparison
    (``"comparison"``), the evidence behind the checks (``"evidence"``) and PNG sample grids
    (``"samples"``, label -> bytes) the page shows.
    """

    name: str
    title: str
    published: pd.DataFrame
    ours: pd.DataFrame
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)
    scale: str = ""

    @property
    def n_matched(self) -> int:
        """Checks whose verdict is "matched"."""
        return sum(c.matched is True for c in self.checks)

    @property
    def n_verdicts(self) -> int:
        """Checks with a verdict (matched or not)."""
        return sum(c.matched is not None for c in self.checks)

    def without_verdicts(self, reason: str = NO_VERDICT_SMOKE) -> ReplayResult:
        """This result with every check's verdict replaced by "no verdict" for ``reason``.

        Examples
        --------
        >>> r = ReplayResult("x", "X", pd.DataFrame(), pd.DataFrame(), [Check("a", "", "", True)])
        >>> [c.verdict for c in r.without_verdicts().checks], r.without_verdicts().summary()
        (['no verdict'], 'no verdict at smoke scale (it only checks that the replay runs)')
        """
        return replace(self, checks=[c.without_verdict(reason) for c in self.checks])

    def summary(self) -> str:
        """The verdicts in a few words.

        Examples
        --------
        >>> checks = [Check("a", "", "", True), Check("b", "", "", False),
        ...           Check("c", "", "", None, reason="b failed")]
        >>> ReplayResult("x", "X", pd.DataFrame(), pd.DataFrame(), checks).summary()
        '1 of 2 matched (1 without a verdict)'
        """
        if self.checks and self.n_verdicts == 0:
            reasons = {c.reason for c in self.checks}
            return reasons.pop() if len(reasons) == 1 else "no verdicts"
        text = f"{self.n_matched} of {self.n_verdicts} matched"
        rest = len(self.checks) - self.n_verdicts
        return text + (f" ({rest} without a verdict)" if rest else "")

    def checks_frame(self) -> pd.DataFrame:
        """One row per check: claim, source, published, ours, rule, verdict (and why none)."""
        return pd.DataFrame([{"claim": c.claim, "source": c.source, "published": c.published,
                              "ours": c.ours, "rule": c.rule,
                              "verdict": c.verdict + (f": {c.reason}" if c.reason else "")}
                             for c in self.checks],
                            columns=["claim", "source", "published", "ours", "rule",
                                     "verdict"])

    def report(self) -> str:
        """The replay as text: both tables, each check with its verdict, the notes."""
        fmt = {"float_format": lambda v: f"{v:.4f}"}
        published = (self.published.to_string(**fmt) if len(self.published)
                     else "  (the source reports no numbers for this experiment)")
        lines = [f"== {self.title} ==", f"scale: {self.scale or 'unknown'}", "",
                 "published:", published, "", "ours:", self.ours.to_string(**fmt), "",
                 f"checks ({self.summary()}):"]
        marks = {"matched": "MATCHED    ", "not matched": "NOT MATCHED",
                 "no verdict": "NO VERDICT "}
        for c in self.checks:
            lines.append(f"  [{marks[c.verdict]}] {c.claim}")
            said = [f"source: {c.source}"] if c.source else []
            said += [f"published: {c.published}"] if c.published else []
            if said:
                lines.append("      " + "; ".join(said))
            lines.append(f"      ours: {c.ours}")
            if c.rule:
                lines.append(f"      rule: {c.rule}")
            if c.reason:
                lines.append(f"      {c.verdict}: {c.reason}")
        if self.notes:
            lines += ["", "notes:"] + [f"  - {n}" for n in self.notes]
        lines.append(f"\n({self.seconds:.1f} s)")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (NaN as None); :meth:`from_dict` reads it back.  ``extra`` keeps
        what the Replays page shows: training histories, the full comparison, the evidence
        and the sample grids (base64 PNG).  Each check carries its ``verdict``."""
        from gda_core.experiments.result import json_ready

        extra: dict[str, Any] = {}
        for key in ("histories", "evidence"):
            if key in self.extra:
                extra[key] = self.extra[key]
        if "comparison" in self.extra:
            extra["comparison"] = self.extra["comparison"].to_dict()
        if "samples" in self.extra:
            extra["samples"] = {k: base64.b64encode(v).decode("ascii")
                                for k, v in self.extra["samples"].items()}
        return json_ready({
            "format": "gda-workbench/replay@1", "name": self.name, "title": self.title,
            "scale": self.scale,
            "published": _frame_dict(self.published), "ours": _frame_dict(self.ours),
            "checks": [c.to_dict() for c in self.checks], "notes": list(self.notes),
            "seconds": self.seconds, "extra": extra})

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ReplayResult:
        """Inverse of :meth:`to_dict`.

        Examples
        --------
        >>> r = ReplayResult("x", "X", pd.DataFrame({"a": [1.5]}), pd.DataFrame({"a": [2.0]}),
        ...                  [Check("a grows", "1.5", "2.0", True)], ["a note"], 1.0,
        ...                  {"samples": {"G": b"png"}}, "quick")
        >>> back = ReplayResult.from_dict(r.to_dict())
        >>> back.ours.equals(r.ours), back.checks == r.checks, back.n_matched, back.scale
        (True, True, 1, 'quick')
        >>> back.extra["samples"], r.to_dict()["checks"][0]["verdict"]
        ({'G': b'png'}, 'matched')
        """
        from gda_core.experiments.result import ComparisonResult

        extra = dict(d.get("extra") or {})
        if extra.get("comparison") is not None:
            extra["comparison"] = ComparisonResult.from_dict(extra["comparison"])
        if extra.get("samples") is not None:
            extra["samples"] = {k: base64.b64decode(v) for k, v in extra["samples"].items()}
        return cls(name=d["name"], title=d["title"], published=_frame(d["published"]),
                   ours=_frame(d["ours"]),
                   checks=[Check.from_dict(c) for c in d.get("checks", [])],
                   notes=list(d.get("notes", [])), seconds=float(d.get("seconds", 0.0)),
                   extra=extra, scale=str(d.get("scale") or ""))


def _frame_dict(frame: pd.DataFrame) -> dict[str, Any]:
    return {"columns": [str(c) for c in frame.columns],
            "rows": frame.astype(object).where(frame.notna(), None).values.tolist()}


def _frame(d: dict[str, Any]) -> pd.DataFrame:
    frame = pd.DataFrame(d.get("rows", []), columns=d.get("columns", []))
    return frame.infer_objects()


@dataclass(frozen=True)
class ReplayOptions:
    """Options every replay understands.

    ``scale``: ``"smoke"`` (seconds: checks that everything runs; numbers meaningless and
    no verdicts, every check says :data:`NO_VERDICT_SMOKE`),
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
