"""Replay of the AM study's MNIST GAN sensitivity analysis (its supplementary section C):
five settings of the discriminator steps k, its learning rate and the loss, and what each
one does to a fully connected GAN trained on MNIST.

Protocol.  The study trained a fully connected GAN on the full MNIST training set (60,000
images) and reports, per setting, whether it trained, showed a vanishing gradient or
collapsed.  The replay trains the project's fully connected GAN (synthesizer ``"gan"``:
G maps a 64-d z through 128 and 256 units with batch norm to 784 pixels, D maps 784 pixels
through 256 and 128 units with LeakyReLU(0.2) to one logit) on every MNIST training image
with the study's k, lr_D, lr_G and loss.  What the study's text does not give us (layer
widths, batch size, Adam's betas, epochs) is ours: batch 64, betas (0.5, 0.999),
:data:`STEPS` generator steps.

Verdicts come from the images (:mod:`gda_core.replays.evidence`): 1,000 images of each
setting against 1,000 held-out MNIST test images, beside the FID of 1,000 other test
images and of 1,000 noise images, and read by the project's CNN trained on MNIST.  A
warning of the training diagnostics is part of the evidence only for the vanishing
gradient, which is a statement about the gradient itself.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pandas as pd

from gda_core.replays.base import (
    Check,
    Progress,
    ReplayOptions,
    ReplayResult,
    paper_gan_params,
)
from gda_core.replays.data import gan_data, make_judge
from gda_core.replays.evidence import (
    CLASS_PRESENT_SHARE,
    CLASSES_SEEN_FRACTION,
    COLLAPSE_DUP_SHARE,
    COLLAPSE_SPREAD,
    COLLAPSE_TOP_SHARE,
    DIGIT_LIKE_SHARE,
    NOISE_FID_FRACTION,
    ImageEvidence,
    collapsed,
    looks_like_data,
    no_structure,
)
from gda_core.synthesizers import SYNTHESIZERS
from gda_core.synthesizers.diagnostics import VANISHING_D_FAKE, VANISHING_GRAD_RATIO, diagnose
from gda_core.viz.grids import image_grid, png_bytes

SOURCE = "AM study, supplementary section C (MNIST sensitivity analysis)"
TRAINS, VANISHES, COLLAPSES = "trains", "vanishing gradient", "mode collapse"
#: (label, the study's settings, its reported outcome)
SETTINGS: tuple[tuple[str, dict[str, Any], str], ...] = (
    ("k=1, lr=1e-4, minimax", {"d_steps": 1, "lr_d": 1e-4, "lr_g": 1e-4, "loss": "minimax"},
     TRAINS),
    ("k=2, lr_D=2e-4, minimax", {"d_steps": 2, "lr_d": 2e-4, "lr_g": 1e-4,
                                 "loss": "minimax"}, TRAINS),
    ("k=4, lr_D=2e-4, minimax", {"d_steps": 4, "lr_d": 2e-4, "lr_g": 1e-4,
                                 "loss": "minimax"}, VANISHES),
    ("k=1, non-saturating", {"d_steps": 1, "lr_d": 1e-4, "lr_g": 1e-4,
                             "loss": "non-saturating"}, TRAINS),
    ("k=4, lr_D=2e-4, non-saturating", {"d_steps": 4, "lr_d": 2e-4, "lr_g": 1e-4,
                                        "loss": "non-saturating"}, COLLAPSES),
)
TITLE = "AM study, MNIST GAN sensitivity: k, lr_D and the loss (fully connected GAN)"
STEPS = {"smoke": 30, "quick": 6000, "full": 18760}
"""Generator steps per setting (batch 64: 938 steps are one pass over MNIST; full = 20)."""
SYNTH = "gan"
BATCH = 64
DIVERSITY_RECORDS = 30
"""Diversity measurements per setting (each costs about a second on a CPU; the mode-collapse
diagnostic needs a few)."""
N_JUDGED = 1000
"""Generated images judged per setting (against as many held-out real ones)."""

RULES = {
    TRAINS: (f"matched: the images look like MNIST digits: FID < {NOISE_FID_FRACTION:g} × "
             f"the noise FID, and at least {CLASSES_SEEN_FRACTION:.0%} of the 10 digits are "
             f"each read by the CNN in ≥ {CLASS_PRESENT_SHARE:.0%} of the images"),
    VANISHES: ("matched: the diagnostics warn 'vanishing-gradient' (G's gradient norm below "
               f"{VANISHING_GRAD_RATIO:.0%} of its peak while D(G(z)) < {VANISHING_D_FAKE:g}) "
               f"and the images show no digits: FID ≥ {NOISE_FID_FRACTION:g} × the noise FID "
               f"and fewer than {DIGIT_LIKE_SHARE:.0%} read confidently as any digit"),
    COLLAPSES: (f"matched: recognisable digits (≥ {DIGIT_LIKE_SHARE:.0%} read confidently) "
                f"but few of them: one digit takes ≥ {COLLAPSE_TOP_SHARE:.0%}, or "
                f"≥ {COLLAPSE_DUP_SHARE:.0%} are near-copies of another image, or they vary "
                f"< {COLLAPSE_SPREAD:g}× as much as real digits"),
}
"""How each reported outcome is judged (shown beside every check)."""


def judge_setting(outcome: str, ev: ImageEvidence, codes: list[str]) -> tuple[bool, str]:
    """The verdict on one setting's reported ``outcome`` and the evidence in words.

    Parameters
    ----------
    outcome : {"trains", "vanishing gradient", "mode collapse"}
        What the study reports for the setting.
    ev : ImageEvidence
        The setting's generated images, measured.
    codes : list of str
        Warning codes of the training diagnostics.

    Returns
    -------
    (bool, str)
        Matched or not, and the evidence against the thresholds of :data:`RULES`.

    Examples
    --------
    >>> noise = ImageEvidence(1000, 2200.0, 13.0, 2200.0, (0.96,) + (0.0044,) * 9, 0.27,
    ...                       noise_share=1.0)
    >>> [judge_setting(o, noise, ["vanishing-gradient"])[0] for o in (TRAINS, VANISHES,
    ...                                                               COLLAPSES)]
    [False, True, False]
    >>> judge_setting(VANISHES, noise, [])[0]          # the gradient did not vanish
    False
    """
    warned = "warnings: " + (", ".join(codes) or "none")
    if outcome == TRAINS:
        found = looks_like_data(ev)
    elif outcome == VANISHES:
        found = no_structure(ev)
        vanished = "vanishing-gradient" in codes
        return found.ok and vanished, f"{found.text}; {warned}"
    elif outcome == COLLAPSES:
        found = collapsed(ev)
    else:
        raise ValueError(f"unknown outcome {outcome!r}")
    return found.ok, f"{found.text}; {warned}"


def run(options: ReplayOptions, progress: Progress) -> ReplayResult:
    """Train the fully connected GAN with each of the study's five settings and judge the
    images (see the module docstring)."""
    t0 = time.perf_counter()
    data = gan_data(options, "mnist", limit=None)
    X = data.images
    y = np.zeros(len(X), dtype=np.int64)  # one model on all digits
    steps = STEPS[options.scale]
    progress(0.0, "preparing the judge (the project's CNN trained on MNIST)")
    judge = make_judge(data, seed=options.seed)
    published, ours, checks = [], [], []
    histories, evidence, samples = {}, {}, {}
    for i, (label, params, outcome) in enumerate(SETTINGS):
        def step_progress(event: dict, i: int = i, label: str = label) -> bool:
            progress((i + min(event["step"], steps) / steps) / len(SETTINGS),
                     f"{label}: step {event['step']} of {steps}")
            return event["step"] < steps  # the study's data is one epoch or more

        synth = SYNTHESIZERS[SYNTH](random_state=options.seed, epochs=1, min_steps=steps,
                                    batch_size=BATCH, **{**paper_gan_params(SYNTH), **params})
        synth.fit(X, y, classes=[0], callback=step_progress,
                  diversity_every=max(10, steps // DIVERSITY_RECORDS))
        history = synth.history_
        histories[label] = history
        codes = [w.code for w in diagnose(history)]
        fake = synth.sample(N_JUDGED, 0)
        ev = judge.evidence(fake, None, seed=options.seed)
        evidence[label] = ev.to_dict()
        samples[label] = png_bytes(image_grid(fake[:64], ncols=8, scale=2))
        matched, text = judge_setting(outcome, ev, codes)
        last = history[-max(1, len(history) // 10):]
        published.append({"setting": label, "published outcome": outcome, "source": SOURCE})
        ours.append({
            "setting": label, "steps": len(history),
            "FID": ev.fid, "FID real vs real": ev.fid_real, "FID noise": ev.fid_noise,
            "digits seen": ev.classes_seen, "top digit share": ev.top_share,
            "read confidently": ev.confident, "spread": ev.spread,
            "G grad (last 10%)": float(np.median([e["g_grad_norm"] for e in last])),
            "D(G(z)) (last 10%)": float(np.median([e["d_fake"] for e in last])),
            "warnings": ", ".join(codes) or "none",
        })
        checks.append(Check(f"{label}: {outcome}", outcome, text, matched,
                            rule=RULES[outcome], source=SOURCE))
    progress(1.0, "done")
    epochs = steps * BATCH / max(1, len(X))
    notes = [
        f"Data: {data.description}, all {len(X)} training images (the study: the full MNIST "
        f"training set). Model: the fully connected GAN ('{SYNTH}'), batch {BATCH}, Adam "
        f"betas (0.5, 0.999), {steps} generator steps per setting (about {epochs:.1f} "
        f"passes over the data); {_SCALE_NOTE[options.scale]}",
        f"Evidence: {N_JUDGED} generated images per setting against as many real "
        + ("MNIST test images (never trained on)" if data.held_out else "training images")
        + ", beside the FID of other real images (what a perfect generator gets at this "
        "count) and of uniform noise (what a generator that learned nothing gets); FID on "
        "the project's CNN trained on MNIST, which also reads the digits.",
        "The layer widths, batch size, Adam betas and number of epochs are ours: the study's "
        "values for them are not known here. The diagnostics warnings are those the Train "
        "page shows live.", *data.notes]
    return ReplayResult("gan-sensitivity", TITLE, pd.DataFrame(published), pd.DataFrame(ours),
                        checks, notes, time.perf_counter() - t0,
                        {"histories": histories, "evidence": evidence, "samples": samples})


_SCALE_NOTE = {
    "smoke": "smoke scale: 30 steps, only to check that the replay runs (no verdicts).",
    "quick": "quick scale: 6,000 steps (about 6 passes over MNIST; an estimated 20-30 "
             "minutes on 2 CPU cores) where the study trained longer; every other setting as "
             "above. At 3,000 steps the k=1 digits were still half-way between noise and data "
             "(FID about 0.5 x the noise FID), too early to judge.",
    "full": "full scale: 18,760 steps (20 passes over MNIST).",
}
