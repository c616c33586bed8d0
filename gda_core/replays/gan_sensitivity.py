"""Replay of the AM study's MNIST GAN sensitivity study: five settings of the discriminator
steps k, its learning rate and the loss, and the failure each one shows (or not), detected
by the same diagnostics as the Train page."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from gda_core.replays.base import (
    Check,
    Progress,
    ReplayOptions,
    ReplayResult,
    paper_gan_params,
)
from gda_core.replays.data import gan_images
from gda_core.synthesizers import SYNTHESIZERS
from gda_core.synthesizers.diagnostics import diagnose

#: (label, params, published outcome, warning code we expect or None)
SETTINGS = (
    ("k=1, lr=1e-4, minimax", {"d_steps": 1, "lr_d": 1e-4, "lr_g": 1e-4, "loss": "minimax"},
     "trains (digits appear)", None),
    ("k=2, lr_D=2e-4, minimax", {"d_steps": 2, "lr_d": 2e-4, "lr_g": 1e-4,
                                 "loss": "minimax"}, "trains", None),
    ("k=4, lr_D=2e-4, minimax", {"d_steps": 4, "lr_d": 2e-4, "lr_g": 1e-4,
                                 "loss": "minimax"}, "vanishing gradient",
     "vanishing-gradient"),
    ("k=1, non-saturating", {"d_steps": 1, "lr_d": 1e-4, "lr_g": 1e-4,
                             "loss": "non-saturating"}, "trains", None),
    ("k=4, lr_D=2e-4, non-saturating", {"d_steps": 4, "lr_d": 2e-4, "lr_g": 1e-4,
                                        "loss": "non-saturating"}, "mode collapse",
     "mode-collapse"),
)
TITLE = "AM study, MNIST GAN sensitivity: k, lr_D and the loss"
STEPS = {"smoke": 30, "quick": 600, "full": 3000}


def run(options: ReplayOptions, progress: Progress) -> ReplayResult:
    t0 = time.perf_counter()
    X, _, desc, notes = gan_images(options, "mnist", limit=6000)
    y = np.zeros(len(X), dtype=np.int64)  # one model on all digits
    steps = STEPS[options.scale]
    published, ours, checks, histories = [], [], [], {}
    for i, (label, params, outcome, expected) in enumerate(SETTINGS):
        def step_progress(event: dict, i: int = i, label: str = label) -> None:
            progress((i + event["step"] / steps) / len(SETTINGS), f"{label}: step "
                     f"{event['step']} of {steps}")

        synth = SYNTHESIZERS["dcgan"](random_state=options.seed, epochs=1, min_steps=steps,
                                      batch_size=64, **{**paper_gan_params("dcgan"), **params})
        synth.fit(X, y, classes=[0], callback=step_progress, diversity_every=10)
        history = synth.history_
        histories[label] = history
        found = diagnose(history)
        codes = [w.code for w in found]
        last = history[-max(1, len(history) // 10):]
        published.append({"setting": label, "published outcome": outcome})
        ours.append({
            "setting": label, "steps": len(history),
            "G grad (last 10%)": float(np.median([e["g_grad_norm"] for e in last])),
            "D(G(z)) (last 10%)": float(np.median([e["d_fake"] for e in last])),
            "diversity (last)": next((e["diversity"] for e in reversed(history)
                                      if "diversity" in e), float("nan")),
            "warnings": ", ".join(codes) or "none",
        })
        if expected is None:
            matched = not codes
            ours_text = "no warning" if matched else ", ".join(codes)
        else:
            matched = expected in codes
            ours_text = ", ".join(codes) or "no warning"
        checks.append(Check(f"{label}: {outcome}", outcome, ours_text, matched))
    progress(1.0, "done")
    notes = [f"Data: {desc}; {len(X)} images; DCGAN, batch 64, {steps} generator steps "
             f"per setting ({options.scale} scale; the study trained longer).",
             "Warnings come from gda_core.synthesizers.diagnostics, the same checks the "
             "Train page shows live.", *notes]
    return ReplayResult("gan-sensitivity", TITLE, pd.DataFrame(published), pd.DataFrame(ours),
                        checks, notes, time.perf_counter() - t0, {"histories": histories})
