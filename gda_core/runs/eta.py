"""Estimates of the time a job has left, from the pace of its progress reports."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gda_core.runs.context import RunContext


class TimeLeft:
    """Seconds left at the recent pace: progress made over the last ``window`` seconds of
    the current unit of work.

    The recent pace within the unit, not the average since the start, because a job's
    units differ widely in cost (a baseline trains in seconds, a GAN for minutes): after
    four quick units, the pace over the last minute would promise the end of a GAN's
    training in seconds.  So the pace is measured afresh when the unit changes (the
    ``unit`` given to :meth:`update`), and no estimate is given before ``min_span``
    seconds of it.

    Parameters
    ----------
    window : float
        Seconds of history the pace is measured over.
    min_span : float
        Seconds of the unit before the first estimate.
    min_points : int
        Progress reports of the unit before the first estimate (e.g. training steps).
    clock : callable
        Monotonic clock (tests pass a fake one).

    Examples
    --------
    >>> now = [0.0]
    >>> eta = TimeLeft(window=60, clock=lambda: now[0])
    >>> eta.update(0.0) is None
    True
    >>> now[0] = 10.0
    >>> eta.update(0.25)       # 25% in 10 s: 75% takes 30 s more
    30.0
    """

    def __init__(self, window: float = 60.0, min_span: float = 1.0,
                 clock: Callable[[], float] = time.monotonic, *, min_points: int = 2) -> None:
        self.window = window
        self.min_span = min_span
        self.min_points = min_points
        self.clock = clock
        self.points: deque[tuple[float, float]] = deque()
        self.count = 0  # reports since the unit (or its pace) began
        self.unit: object = None
        self.start = clock()

    def update(self, fraction: float, unit: object = None) -> float | None:
        """Record ``fraction`` done now (within ``unit``, any label of the unit of work in
        progress); return the seconds left, or None before there is a pace (less than
        ``min_span`` seconds, ``min_points`` reports or any progress since the unit
        began, in the window: a long job's fraction, weighed by its units' cost, can move
        by less than 0.1 % in that time and still give a pace)."""
        now = self.clock()
        if not math.isfinite(fraction):
            return None
        fraction = min(max(fraction, 0.0), 1.0)
        if fraction <= 0.0 and self.points and self.points[-1][1] <= 0.0:
            self.points.pop()  # still starting up: the pace starts with the progress
        if unit != self.unit or (self.points and fraction < self.points[-1][1]):
            self.points.clear()  # a new unit, or progress went back: a new pace
            self.count = 0
            self.unit = unit
        self.points.append((now, fraction))
        self.count += 1
        while len(self.points) > 2 and now - self.points[1][0] >= self.window:
            self.points.popleft()
        t0, f0 = self.points[0]
        if fraction >= 1.0:
            return 0.0
        if now - t0 < self.min_span or fraction - f0 < 1e-6 or self.count < self.min_points:
            return None
        return (1.0 - fraction) * (now - t0) / (fraction - f0)

    @property
    def elapsed(self) -> float:
        """Seconds since this estimator was made."""
        return self.clock() - self.start


def format_duration(seconds: float) -> str:
    """``"45 s"``, ``"12 min"``, ``"2.5 h"``.

    Examples
    --------
    >>> format_duration(44.6), format_duration(720), format_duration(9000)
    ('45 s', '12 min', '2.5 h')
    """
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def time_text(seconds: float | None, eta_s: float | None, *, running: bool,
              estimating: bool = True) -> str:
    """The time part of a run's progress line: ``"12 s"`` once it ended; while it runs
    ``"75 s elapsed · about 45 s left"``, or ``"… · estimating time left…"`` while its job
    has no estimate yet (``eta_s`` None) but makes one (``estimating``: e.g. training,
    not loading data).

    Examples
    --------
    >>> time_text(75.0, 44.6, running=True)
    '75 s elapsed · about 45 s left'
    >>> time_text(12.0, None, running=True), time_text(130.0, None, running=False)
    ('12 s elapsed · estimating time left…', '2 min')
    >>> time_text(3.0, None, running=True, estimating=False)
    '3 s elapsed'
    """
    if not running:
        return "" if seconds is None else format_duration(seconds)
    parts = [] if seconds is None else [f"{format_duration(seconds)} elapsed"]
    if eta_s is not None and math.isfinite(float(eta_s)):
        parts.append(f"about {format_duration(float(eta_s))} left")
    elif estimating:
        parts.append("estimating time left…")
    return " · ".join(parts)


def unit_of(message: str) -> str:
    """The unit of work a progress message is about: ``"seed 0 · dcgan"`` of
    ``"seed 0 · dcgan: training class 3, step 940 of 2000"`` (the text before the colon).

    Examples
    --------
    >>> unit_of("seed 1 · smote: epoch 3/15"), unit_of("loading digits")
    ('seed 1 · smote', 'loading digits')
    """
    return message.split(":", 1)[0]


class JobProgress:
    """A job's ``progress(fraction, message)`` for the run store: the fraction (never
    moving back), the message, the elapsed time and the time left at the pace of the unit
    in progress (:class:`TimeLeft`, units told apart by :func:`unit_of`), plus
    :attr:`summary` (e.g. the latest partial result's).

    With ``whole=True`` the pace is the job's own since its progress began, units not
    told apart: for a job whose fraction already follows the cost of its units (a
    comparison weighs each unit by its predicted seconds, see
    :func:`gda_core.runs.executors.run_units`), where the pace of one unit would promise
    the rest at that unit's speed.

    Parameters
    ----------
    ctx : RunContext
        The job's context.
    whole : bool
        Pace over the whole job rather than per unit.
    """

    def __init__(self, ctx: RunContext, *, whole: bool = False) -> None:
        self.ctx = ctx
        self.whole = whole
        self.eta = TimeLeft(window=math.inf if whole else 60.0, min_span=3.0)
        self.summary: dict[str, Any] = {}
        self.fraction = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        self.fraction = max(self.fraction, min(1.0, float(fraction)))  # never moves back
        left = self.eta.update(self.fraction, unit=None if self.whole else unit_of(message))
        self.ctx.progress(min(self.fraction, 0.999), {
            **self.summary, "message": message, "elapsed_s": round(self.eta.elapsed, 1),
            "eta_s": None if left is None else round(left, 1)})

    def end(self, fraction: float, message: str) -> None:
        """The final report: no time left."""
        self.ctx.progress(fraction, {**self.summary, "message": message,
                                     "elapsed_s": round(self.eta.elapsed, 1), "eta_s": None})
