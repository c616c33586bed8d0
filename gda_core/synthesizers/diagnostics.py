"""Plain-language warnings about a GAN's training history.

:func:`diagnose` is a pure function of the per-step history the trainer records (see
:mod:`gda_core.synthesizers.trainer`); the dashboard shows its warnings next to the loss
curves.  Histories of per-class models (entries with a ``class`` key) are checked class
by class (and the steps of a shared pretraining, ``"phase": "pretrain"``, apart).

Checks
------
``vanishing-gradient``
    The generator's gradient norm collapsed (recent median below
    :data:`VANISHING_GRAD_RATIO` of its earlier peak) while the discriminator rejects the
    fakes (recent median ``d_fake`` below :data:`VANISHING_D_FAKE`): the discriminator
    won and the generator has stopped learning.  Typical of the minimax loss.
``d-wins``
    For the recent stretch the discriminator tells real from generated images apart
    (median D(x) above :data:`D_WINS_REAL`, D(G(z)) below :data:`D_WINS_FAKE`) while the
    generator's loss climbs (recent median at least :data:`G_CLIMB` times its early one,
    and higher by :data:`G_CLIMB_MIN`) or D has been that sure for at least
    :data:`D_WINS_SHARE` of the run (rolling medians): the discriminator has won and the
    generator gets little to learn from.  Its images stop improving, and often stop
    varying too: that is said here, not called a mode collapse.
``mode-collapse``
    Judged against the real images of the class, after :data:`MIN_STEPS_ABSOLUTE` steps:
    the fixed-noise images are near-duplicates of one another (recent median
    ``dup_share`` above :data:`DUP_SHARE`), or they vary less than
    :data:`COLLAPSED_DIVERSITY` times as much as the real images (``diversity`` is
    relative to them); or, at any length, the diversity fell below
    :data:`MODE_COLLAPSE_RATIO` of the best value it had reached before.
``divergence``
    A loss or the gradient norm became NaN or infinite, or a loss exploded while staying
    finite: its recent median magnitude is above :data:`EXPLODE_RATIO` times its early one
    and above :data:`EXPLODE_MIN` (a least-squares GAN's D loss reached 1.7e10 and the
    run finished "ok" before this check).
``discriminator-saturated``
    For the recent stretch the discriminator is certain about everything: median D(x)
    above :data:`SATURATED_D` and D(G(z)) below ``1 - SATURATED_D``.  It has memorised the
    real images or overpowered the generator (typical of a few real images without
    augmentation), and the generator learns little from it.

Each :class:`TrainingWarning` names the logged ``signals`` it was judged on, so a view
can plot them beside the message.

"Recent" is the last :data:`WINDOW_FRACTION` of the records (at least one); "earlier
peaks" are the largest 3-step medians before it.  Trend checks need :data:`MIN_STEPS` steps, and
:data:`MIN_DIVERSITY_RECORDS` diversity measurements for mode collapse.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

VANISHING_GRAD_RATIO = 0.05
VANISHING_D_FAKE = 0.05
MODE_COLLAPSE_RATIO = 0.30
WINDOW_FRACTION = 0.2
MIN_STEPS = 10
MIN_DIVERSITY_RECORDS = 4
EXPLODE_RATIO = 1000.0
EXPLODE_MIN = 1000.0
SATURATED_D = 0.99
D_WINS_REAL = 0.9
D_WINS_FAKE = 0.1
G_CLIMB = 1.5
G_CLIMB_MIN = 0.5
D_WINS_SHARE = 0.6
MIN_STEPS_ABSOLUTE = 100
DUP_SHARE = 0.5
COLLAPSED_DIVERSITY = 0.3
SIGNALS = {
    "divergence": ("d_loss", "g_loss"),
    "vanishing-gradient": ("g_grad_norm", "d_fake"),
    "d-wins": ("d_real", "d_fake", "g_loss"),
    "mode-collapse": ("diversity", "dup_share"),
    "discriminator-saturated": ("d_real", "d_fake"),
}
"""The logged series each check judges: what to plot beside its warning."""
_FINITE_KEYS = ("d_loss", "g_loss", "g_grad_norm")


@dataclass(frozen=True)
class TrainingWarning:
    """One finding about a training run.

    Attributes
    ----------
    code : {"divergence", "vanishing-gradient", "d-wins", "mode-collapse", \
"discriminator-saturated"}
    message : str
        What happened, what it means and what to try, for a non-specialist.
    step : int
        Generator step at which the problem starts (as far as it can be told).
    class_label : int or None
        The class whose model is concerned, for per-class models.
    """

    code: str
    message: str
    step: int
    class_label: int | None = None

    @property
    def signals(self) -> tuple[str, ...]:
        """The logged series this warning was judged on (:data:`SIGNALS`)."""
        return SIGNALS.get(self.code, ())


def diagnose(history: Sequence[dict[str, Any]], *,
             augmented: bool = False) -> list[TrainingWarning]:
    """Warnings for a training history (empty list when training looks healthy).

    Parameters
    ----------
    history : sequence of dict
        Entries with ``step``, ``d_loss``, ``g_loss``, ``g_grad_norm``, ``d_fake`` and,
        on some steps, ``diversity``; an optional ``class`` key splits the history.
    augmented : bool
        Whether the GAN trained with DiffAugment: the advice then does not suggest turning
        it on, and says what else is left.

    Returns
    -------
    list of TrainingWarning
        At most one per code and class, in the order divergence, vanishing gradient,
        D wins, mode collapse, discriminator saturated.  A discriminator that won is said
        once: no "saturated" after a vanishing gradient or D wins, and no mode collapse
        after D wins (its message says the images may stop varying).

    Examples
    --------
    >>> steps = [{"step": i, "d_loss": 0.1, "g_loss": 1.0 + i / 10, "g_grad_norm": 1.0,
    ...           "d_real": 0.97, "d_fake": 0.03} for i in range(1, 201)]
    >>> [w.code for w in diagnose(steps)]
    ['d-wins']
    """
    groups: dict[Any, list[dict[str, Any]]] = {}
    for entry in history:
        key = ("pretrain", None) if entry.get("phase") == "pretrain" else \
            ("", entry.get("class"))
        groups.setdefault(key, []).append(entry)
    out: list[TrainingWarning] = []
    for (phase, label), entries in groups.items():
        label = None if label is None else int(label)
        for check in (_divergence, _vanishing_gradient, _d_wins, _mode_collapse,
                      _saturated):
            found = check(entries)
            said = {w.code for w in out if w.class_label == label}
            if found is not None and found[0] in _SAID_BY and said & _SAID_BY[found[0]]:
                continue  # a discriminator that won is said once
            if found is not None:
                code, message, step = found
                if augmented:
                    message = message.replace(TIP_AUGMENT, TIP_AUGMENTED).replace(
                        TIP_TRY_AUGMENT, TIP_TRIED_AUGMENT)
                if phase:
                    message = f"Pretraining: {message}"
                elif label is not None:
                    message = f"Class {label}: {message}"
                out.append(TrainingWarning(code, message, int(step), label))
    return out


# ------------------------------------------------------------------------- checks
Finding = tuple[str, str, int]
TIP_AUGMENT = "turn DiffAugment on (augment), "
TIP_AUGMENTED = "DiffAugment is already on; "
TIP_TRY_AUGMENT = "Try DiffAugment (augment), "
TIP_TRIED_AUGMENT = "DiffAugment is already on; try "
"""The advice to turn DiffAugment on, and what it becomes when it is already on."""
_SAID_BY = {"discriminator-saturated": {"vanishing-gradient", "d-wins"},
            "mode-collapse": {"d-wins"}}
"""A finding left out when one of these was made (it would repeat it)."""


def _d_wins(entries: list[dict[str, Any]]) -> Finding | None:
    """D tells real from fake apart while G's loss climbs."""
    rows = [e for e in entries if _finite(e.get("d_real")) and _finite(e.get("d_fake"))
            and _finite(e.get("g_loss"))]
    if len(rows) < MIN_STEPS:
        return None
    recent = _recent(rows)
    early = rows[:len(recent)]
    d_real = float(np.median([e["d_real"] for e in recent]))
    d_fake = float(np.median([e["d_fake"] for e in recent]))
    g_early = float(np.median([e["g_loss"] for e in early]))
    g_now = float(np.median([e["g_loss"] for e in recent]))
    climbing = g_now >= G_CLIMB * max(g_early, 1e-6) and g_now - g_early >= G_CLIMB_MIN
    smooth = _rolling_medians(rows, ("d_real", "d_fake"))
    won = [r for r in smooth if r["d_real"] > D_WINS_REAL and r["d_fake"] < D_WINS_FAKE]
    most = len(won) > D_WINS_SHARE * len(smooth)
    if not (d_real > D_WINS_REAL and d_fake < D_WINS_FAKE and (climbing or most)):
        return None
    step = won[0]["step"] if most else _onset(
        smooth, lambda e: e["d_real"] > D_WINS_REAL and e["d_fake"] < D_WINS_FAKE,
        recent[0]["step"])
    how = (f"the generator's loss keeps climbing (from about {g_early:.3g} to {g_now:.3g})"
           if climbing else f"it has done so for {len(won) / len(smooth):.0%} of the run, "
           f"the generator's loss staying high (about {g_now:.3g})")
    return ("d-wins",
            f"the discriminator has won since about step {step}: it tells real images "
            f"from generated ones almost every time (D(x) = {d_real:.2f}, D(G(z)) = "
            f"{d_fake:.2f}) and {how}. The generator then gets little to learn from: "
            "its images stop improving and often stop varying (that is why, not a collapse "
            "of its own). Typical of a few real images: " + TIP_AUGMENT + "lower "
            "lr_D or the discriminator steps, or add label smoothing or spectral norm.",
            step)


def _divergence(entries: list[dict[str, Any]]) -> Finding | None:
    for e in entries:
        for key in _FINITE_KEYS:
            value = e.get(key, 0.0)
            if key == "g_grad_norm" and value is not None and math.isnan(value) \
                    and math.isfinite(e.get("g_loss", 0.0)):
                continue  # gradient norm not monitored
            if value is None or not math.isfinite(value):
                return ("divergence",
                        f"training blew up at step {e['step']}: the {key.replace('_', ' ')} "
                        f"became {value}. The networks' weights are no longer usable. Lower "
                        "the learning rates (e.g. divide lr_D and lr_G by 10); with WGAN-GP "
                        "also try beta1 = 0.", e["step"])
    return _exploded(entries)


def _exploded(entries: list[dict[str, Any]]) -> Finding | None:
    """A loss that grew by orders of magnitude while staying finite."""
    if len(entries) < MIN_STEPS:
        return None
    recent = _recent(entries)
    early = entries[:max(3, len(recent))]
    for key in ("d_loss", "g_loss"):
        before = [abs(e[key]) for e in early if _finite(e.get(key))]
        now = [abs(e[key]) for e in recent if _finite(e.get(key))]
        if not before or not now:
            continue
        b, n = float(np.median(before)), float(np.median(now))
        if n > EXPLODE_MIN and n > EXPLODE_RATIO * max(b, 1e-3):
            step = _onset(entries, lambda e, key=key, b=b: _finite(e.get(key)) and abs(
                e[key]) > EXPLODE_RATIO * max(b, 1e-3), recent[0]["step"])
            name = {"d_loss": "discriminator", "g_loss": "generator"}[key]
            return ("divergence",
                    f"training blew up from about step {step}: the {name} loss grew from "
                    f"about {b:.3g} to {n:.3g} ({n / max(b, 1e-3):.0f} times). The numbers "
                    "stayed finite, but the networks are far from a working balance and "
                    "their images are not to be trusted. Lower the learning rates (e.g. "
                    "divide lr_D and lr_G by 10) or use another loss.", step)
    return None


def _saturated(entries: list[dict[str, Any]]) -> Finding | None:
    """The discriminator certain about every real and every generated image."""
    rows = [e for e in entries if _finite(e.get("d_real")) and _finite(e.get("d_fake"))]
    if len(rows) < MIN_STEPS:
        return None
    recent = _recent(rows)
    d_real = float(np.median([e["d_real"] for e in recent]))
    d_fake = float(np.median([e["d_fake"] for e in recent]))
    if not (d_real > SATURATED_D and d_fake < 1 - SATURATED_D):
        return None
    step = _onset(rows, lambda e: e["d_real"] > SATURATED_D and e["d_fake"] < 1 - SATURATED_D,
                  recent[0]["step"])
    return ("discriminator-saturated",
            f"from about step {step} the discriminator is certain about every image (D(x) = "
            f"{d_real:.3f} for real images, D(G(z)) = {d_fake:.3f} for generated ones): it "
            "has memorised the real images or overpowered the generator, which then learns "
            "little. Typical of a few real images: " + TIP_AUGMENT + "lower lr_D "
            "or the discriminator steps, or add label smoothing or spectral norm.", step)


def _vanishing_gradient(entries: list[dict[str, Any]]) -> Finding | None:
    rows = [e for e in entries if _finite(e.get("g_grad_norm")) and _finite(e.get("d_fake"))]
    if len(rows) < MIN_STEPS:
        return None
    recent = _recent(rows)
    g_peak = _peak([e["g_grad_norm"] for e in rows[:len(rows) - len(recent)]])
    g_recent = float(np.median([e["g_grad_norm"] for e in recent]))
    d_fake = float(np.median([e["d_fake"] for e in recent]))
    if not (g_peak > 0 and g_recent < VANISHING_GRAD_RATIO * g_peak
            and d_fake < VANISHING_D_FAKE):
        return None
    step = _onset(rows, lambda e: e["g_grad_norm"] < VANISHING_GRAD_RATIO * g_peak
                  and e["d_fake"] < VANISHING_D_FAKE, recent[0]["step"])
    return ("vanishing-gradient",
            f"the generator has almost stopped learning since about step {step}: its "
            f"gradients shrank to {g_recent:.2g} (from {g_peak:.2g} earlier) while the "
            f"discriminator rejects nearly every generated image (D(G(z)) = {d_fake:.3f}). "
            "The discriminator is winning too easily. Switch to the non-saturating loss "
            "(if you use minimax), lower lr_D or the discriminator steps k, or add label "
            "smoothing.", step)


def _mode_collapse(entries: list[dict[str, Any]]) -> Finding | None:
    rows = [e for e in entries if _finite(e.get("diversity"))]
    if len(entries) < MIN_STEPS or len(rows) < MIN_DIVERSITY_RECORDS:
        return None
    recent = _recent(rows)
    found = _collapsed_against_real(entries, rows, recent)
    if found is not None:
        return found
    before = rows[:len(rows) - len(recent)]
    # Reference: the best earlier value.  Fresh generators start with near-identical
    # images, so the first records are a poor reference; a collapse is a fall from the
    # diversity the generator had reached.
    d_peak = _peak([e["diversity"] for e in before])
    d_recent = float(np.median([e["diversity"] for e in recent]))
    if not (d_peak > 0 and d_recent < MODE_COLLAPSE_RATIO * d_peak):
        return None
    step = _onset(rows, lambda e: e["diversity"] < MODE_COLLAPSE_RATIO * d_peak,
                  recent[0]["step"])
    return ("mode-collapse",
            f"the generated images became much less varied from about step {step} "
            f"(diversity {d_recent:.2f}, down from {d_peak:.2f}; 1 means as varied as the "
            "real images). The generator is probably drawing the same few images whatever "
            "the noise (mode collapse), so the synthetic set would add little variety. Try "
            "MAD-GAN (several generators), a lower lr_G, label smoothing or the WGAN-GP "
            "loss, or train for fewer epochs.", step)


def _collapsed_against_real(entries: list[dict[str, Any]], rows: list[dict[str, Any]],
                            recent: list[dict[str, Any]]) -> Finding | None:
    """Near-duplicates, or far less varied than the real images, once past the start
    (a fresh generator draws near-identical images)."""
    if entries[-1]["step"] < MIN_STEPS_ABSOLUTE or recent[0]["step"] < MIN_STEPS_ABSOLUTE / 2:
        return None
    dups = [e["dup_share"] for e in recent if _finite(e.get("dup_share"))]
    dup = float(np.median(dups)) if dups else math.nan
    div = float(np.median([e["diversity"] for e in recent]))
    if _finite(dup) and dup > DUP_SHARE:
        step = _onset([e for e in rows if _finite(e.get("dup_share"))],
                      lambda e: e["dup_share"] > DUP_SHARE, recent[0]["step"])
        detail = (f"{dup:.0%} of the images drawn from fixed noise are near-identical to "
                  "another one")
    elif div < COLLAPSED_DIVERSITY:
        step = _onset(rows, lambda e: e["diversity"] < COLLAPSED_DIVERSITY, recent[0]["step"])
        detail = (f"the images drawn from fixed noise vary {div:.2f}× as much as the real "
                  "images of the class")
    else:
        return None
    return ("mode-collapse",
            f"the generator draws the same few images whatever the noise (mode collapse) "
            f"since about step {step}: {detail}. The synthetic set would add copies of "
            "those few images, not variety. " + TIP_TRY_AUGMENT + "MAD-GAN (several "
            "generators), a lower lr_G, label smoothing or the WGAN-GP loss.", step)


# ------------------------------------------------------------------------ helpers
def _finite(value: Any) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def _peak(values: list[float]) -> float:
    """Largest median of 3 neighbours (one outlier cannot make the peak)."""
    if not values:
        return 0.0
    return max(float(np.median(values[max(0, i - 1):i + 2])) for i in range(len(values)))


def _rolling_medians(rows: list[dict[str, Any]], keys: tuple[str, ...]
                     ) -> list[dict[str, Any]]:
    """``rows`` with ``keys`` replaced by their centred rolling median (a window of about
    2 % of the rows, at least 5): single noisy steps neither start nor end a stretch."""
    w = max(5, len(rows) // 50)
    out = []
    for i, e in enumerate(rows):
        part = rows[max(0, i - w // 2):i + w // 2 + 1]
        out.append({**e, **{k: float(np.median([r[k] for r in part])) for k in keys}})
    return out


def _recent(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return rows[-max(1, int(len(rows) * WINDOW_FRACTION)):]


def _onset(rows: list[dict[str, Any]], condition: Callable[[dict[str, Any]], bool],
           default: int) -> int:
    """First step of the trailing run of rows meeting ``condition`` (``default`` if none)."""
    start = None
    for e in reversed(rows):
        if not condition(e):
            break
        start = e["step"]
    return int(start) if start is not None else int(default)
