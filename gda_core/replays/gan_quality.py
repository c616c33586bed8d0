"""Two GAN replays judged on the generated images (:mod:`gda_core.replays.evidence`):

- ``gan-contrast``: the AM study's contrast of a fully connected (MLP) GAN with a DCGAN,
  both trained on every image of one class (full-shot), at 128 x 128 in the study: the
  MLP GAN gives noise, the DCGAN recognisable images;
- ``gan-diversity``: DCGAN, MAD-GAN and a conditional GAN on three classes of MNIST or
  Fashion-MNIST.  The MAD-GAN source reports no numbers for this experiment, so its
  checks are our expectations (MAD-GAN's several generators are meant to cover more of
  the data), labelled as such, not published results.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from gda_core.datasets.transforms import resize_images
from gda_core.replays.base import (
    EXPECTATION,
    Check,
    Progress,
    ReplayOptions,
    ReplayResult,
    paper_gan_params,
)
from gda_core.replays.data import gan_data, make_judge
from gda_core.replays.evidence import (
    CLASS_ACCURACY,
    DIGIT_LIKE_SHARE,
    NOISE_FID_FRACTION,
    ImageEvidence,
    Judge,
    looks_like_data,
    no_structure,
)
from gda_core.synthesizers import SYNTHESIZERS
from gda_core.viz.grids import image_grid, png_bytes

CONTRAST_TITLE = "AM study: MLP GAN vs DCGAN, full-shot"
DIVERSITY_TITLE = "MAD-GAN vs DCGAN vs conditional GAN: FID, coverage and class accuracy"
CONTRAST_SOURCE = "AM study (its contrast of the MLP GAN with DCGAN at 128 x 128)"
_SIZE = {"smoke": 16, "quick": 32, "full": 128}
_STEPS = {"smoke": 20, "quick": 400, "full": 3000}
N_JUDGED = 500
"""Generated images judged per model and class (at most half the real images of it)."""

LEARNS_RULE = (f"matched: for every class, FID < {NOISE_FID_FRACTION:g} × the noise FID and "
               f"the CNN reads the intended class in ≥ {CLASS_ACCURACY:.0%} of the images")
RECOGNISABLE_RULE = (f"matched: FID < {NOISE_FID_FRACTION:g} × the noise FID and the CNN reads "
                     f"the class ('1') in ≥ {CLASS_ACCURACY:.0%} of the images")
NOISE_RULE = (f"matched: FID ≥ {NOISE_FID_FRACTION:g} × the noise FID, fewer than "
              f"{DIGIT_LIKE_SHARE:.0%} of the images read confidently as any class, and the "
              f"CNN reads the class ('1') in fewer than {CLASS_ACCURACY:.0%} of them")


def _train(name: str, X: np.ndarray, y: np.ndarray, classes: Sequence[int], steps: int,
           seed: int, progress: Progress, lo: float, hi: float, **params: Any):
    synth = SYNTHESIZERS[name](random_state=seed, epochs=1, min_steps=steps,
                               **{**paper_gan_params(name), **params})
    total = steps * (1 if synth.conditional else len(classes))
    count = [0]

    def on_step(event: dict) -> None:
        count[0] += 1
        progress(lo + (hi - lo) * min(1.0, count[0] / total), f"{synth.label}: step "
                 f"{count[0]} of {total}")

    return synth.fit(X, y, classes=classes, callback=on_step)


def _grid(images: np.ndarray) -> bytes:
    scale = max(1, 64 // images.shape[-1])
    return png_bytes(image_grid(images[:32], ncols=8, scale=scale))


# ------------------------------------------------------------------------ contrast
def run_contrast(options: ReplayOptions, progress: Progress) -> ReplayResult:
    """The MLP GAN and DCGAN on every image of digit 1, judged on their images."""
    t0 = time.perf_counter()
    data = gan_data(options, "mnist", limit=None)
    size, steps = _SIZE[options.scale], _STEPS[options.scale]
    X = data.images[data.labels == 1][:6000]
    X = resize_images(X, size)
    y = np.zeros(len(X), dtype=np.int64)
    progress(0.0, "preparing the judge (the project's CNN trained on the data)")
    judge = make_judge(data, size=size, seed=options.seed)
    rows, evs, samples = [], {}, {}
    for i, name in enumerate(("gan", "dcgan")):
        synth = _train(name, X, y, [0], steps, options.seed, progress, 0.1 + 0.45 * i,
                       0.1 + 0.45 * (i + 1))
        fake = synth.sample(N_JUDGED, 0)
        ev = judge.evidence(fake, 1, max_n=N_JUDGED, seed=options.seed)
        evs[name] = ev
        samples[synth.label] = _grid(fake)
        rows.append({"model": synth.label, **_evidence_row(ev)})
    ours = pd.DataFrame(rows)
    mlp, dc = (SYNTHESIZERS[n].label for n in ("gan", "dcgan"))
    published = pd.DataFrame([
        {"model": mlp, "published": "noise, even full-shot", "source": CONTRAST_SOURCE},
        {"model": dc, "published": "recognisable images", "source": CONTRAST_SOURCE}])
    noise, real = no_structure(evs["gan"]), looks_like_data(evs["dcgan"])
    checks = [
        Check(f"{mlp} gives noise, even full-shot", "noise, even full-shot", noise.text,
              noise.ok, rule=NOISE_RULE, source=CONTRAST_SOURCE),
        Check(f"{dc} gives recognisable images", "recognisable images", real.text, real.ok,
              rule=RECOGNISABLE_RULE, source=CONTRAST_SOURCE),
    ]
    notes = [f"Data: {data.description}, every training image of digit 1 ({len(X)}, "
             f"full-shot), resized to {size}x{size}; {steps} generator steps each. "
             + _CONTRAST_SCALE[options.scale],
             _evidence_note(data.held_out, "digit 1"), *data.notes]
    progress(1.0, "done")
    return ReplayResult("gan-contrast", CONTRAST_TITLE, published, ours, checks, notes,
                        time.perf_counter() - t0,
                        {"evidence": {k: v.to_dict() for k, v in evs.items()},
                         "samples": samples})


_CONTRAST_SCALE = {
    "smoke": "Smoke scale: 16x16, only to check that the replay runs (no verdicts).",
    "quick": "Quick scale: 32x32 instead of the study's 128x128 (an MLP GAN has far fewer "
             "pixels to get wrong there, so it may not give noise), 400 steps.",
    "full": "Full scale: 128x128 as in the study, 3,000 steps.",
}


# ----------------------------------------------------------------------- diversity
def diversity_checks(evidence: dict[str, dict[int, ImageEvidence]],
                     labels: dict[str, str]) -> list[Check]:
    """The expectations of the diversity replay, judged on each model's evidence.

    Parameters
    ----------
    evidence : dict
        Model name (``"dcgan"``, ``"madgan"``, ``"cgan"``) -> class -> evidence.
    labels : dict
        Model name -> display label.

    Returns
    -------
    list of Check
        Per model: it learns every class (:func:`looks_like_data`); then MAD-GAN against
        DCGAN on mean coverage and mean FID, judged only when both learned every class
        (not matched when MAD-GAN did not; no verdict when only DCGAN did not).

    Examples
    --------
    >>> good = ImageEvidence(490, 60.0, 55.0, 2200.0, (0.97, 0.03), 0.97, target=0,
    ...                      accuracy=0.97, coverage=0.8, coverage_real=0.9)
    >>> noise = ImageEvidence(490, 2200.0, 55.0, 2200.0, (0.9, 0.1), 0.2, target=0,
    ...                       accuracy=0.9, coverage=0.0, coverage_real=0.9)
    >>> names = {"dcgan": "DCGAN", "madgan": "MAD-GAN", "cgan": "cGAN"}
    >>> ev = {"dcgan": {0: good}, "madgan": {0: noise}, "cgan": {0: good}}
    >>> [c.verdict for c in diversity_checks(ev, names)]
    ['matched', 'not matched', 'matched', 'not matched', 'not matched']
    """
    learned: dict[str, bool] = {}
    checks = []
    for name, per_class in evidence.items():
        found = {c: looks_like_data(ev) for c, ev in per_class.items()}
        learned[name] = all(f.ok for f in found.values())
        text = " | ".join(f"{per_class[c].name(c)}: {f.text}" for c, f in found.items())
        checks.append(Check(f"{labels[name]} learns every class", "", text, learned[name],
                            rule=LEARNS_RULE, source=EXPECTATION))
    mad, dc = evidence["madgan"], evidence["dcgan"]
    cov = {n: float(np.mean([e.coverage for e in evidence[n].values()]))
           for n in ("madgan", "dcgan")}
    fids = {n: float(np.mean([e.fid for e in evidence[n].values()]))
            for n in ("madgan", "dcgan")}
    real_cov = float(np.mean([e.coverage_real for e in mad.values()]))
    real_fid = float(np.mean([e.fid_real for e in dc.values()]))
    for claim, key, values, better, ref in (
            ("covers at least as much of the real images as DCGAN (mean coverage)", "cov",
             cov, cov["madgan"] >= cov["dcgan"], f"real images: {real_cov:.2f}"),
            ("has an FID no worse than DCGAN's (mean over the classes)", "fid", fids,
             fids["madgan"] <= fids["dcgan"], f"real vs real: {real_fid:.1f}")):
        fmt = "{:.2f}" if key == "cov" else "{:.1f}"
        ours = (f"{fmt.format(values['madgan'])} vs {fmt.format(values['dcgan'])} ({ref})")
        rule = ("matched: both MAD-GAN and DCGAN learn every class (as above) and "
                + ("MAD-GAN's mean coverage ≥ DCGAN's" if key == "cov"
                   else "MAD-GAN's mean FID ≤ DCGAN's")
                + "; not matched when MAD-GAN does not learn every class")
        if not learned["madgan"]:
            check = Check(f"{labels['madgan']} {claim}", "", ours, False, rule, EXPECTATION)
        elif not learned["dcgan"]:
            check = Check(f"{labels['madgan']} {claim}", "", ours, None, rule, EXPECTATION,
                          f"{labels['dcgan']} did not learn every class, so there is "
                          "nothing to compare MAD-GAN with")
        else:
            check = Check(f"{labels['madgan']} {claim}", "", ours, bool(better), rule,
                          EXPECTATION)
        checks.append(check)
    return checks


def run_diversity(options: ReplayOptions, progress: Progress) -> ReplayResult:
    """DCGAN, MAD-GAN and a conditional GAN on classes 0, 1 and 2, judged per class."""
    t0 = time.perf_counter()
    source = options.dataset
    classes = [0, 1, 2]
    data = gan_data(options, source, classes=classes, limit=1500)
    X, y = data.images, data.labels
    steps = _STEPS[options.scale]
    progress(0.0, "preparing the judge (the project's CNN trained on the data)")
    judge = make_judge(data, seed=options.seed)
    names = ("dcgan", "madgan", "cgan")
    labels = {n: SYNTHESIZERS[n].label for n in names}
    rows, evidence, samples = [], {}, {}
    for i, name in enumerate(names):
        synth = _train(name, X, y, classes, steps, options.seed, progress,
                       0.1 + 0.3 * i, 0.1 + 0.3 * (i + 1))
        evidence[name] = _per_class(judge, synth, classes, options.seed)
        samples[labels[name]] = _grid(np.concatenate([synth.sample(8, c) for c in classes]))
        for c, ev in evidence[name].items():
            rows.append({"model": labels[name], "class": judge.class_names[c],
                         **_evidence_row(ev)})
    checks = diversity_checks(evidence, labels)
    published = pd.DataFrame(columns=["model", "published"])
    shown = ", ".join(judge.class_names[c] for c in classes)
    notes = [f"Data: {data.description}, classes {shown} ({len(X)} training images); "
             f"{steps} generator steps per model "
             + _DIVERSITY_SCALE[options.scale],
             "The MAD-GAN source reports no numbers for this experiment: every check here is "
             "our expectation (MAD-GAN's generators are pushed towards different modes to "
             "counter mode collapse), not a published result.",
             _evidence_note(data.held_out, "each class"),
             "Coverage (Naeem et al. 2020, k=5): share of the real images with a generated "
             "image among their 5 nearest real neighbours; noise and collapsed generators "
             "cover little.", *data.notes]
    progress(1.0, "done")
    return ReplayResult("gan-diversity", DIVERSITY_TITLE, published, pd.DataFrame(rows),
                        checks, notes, time.perf_counter() - t0,
                        {"evidence": {n: {str(c): e.to_dict() for c, e in per.items()}
                                      for n, per in evidence.items()},
                         "samples": samples})


_DIVERSITY_SCALE = {
    "smoke": "(smoke scale: only checks that the replay runs; no verdicts).",
    "quick": "(quick scale: a few minutes on a CPU; models this short may not have learned "
             "every class yet, which the checks then say).",
    "full": "(full scale).",
}


def _per_class(judge: Judge, synth: Any, classes: Sequence[int],
               seed: int) -> dict[int, ImageEvidence]:
    out = {}
    for c in classes:
        n_real = int(np.sum(judge.labels == c))
        fake = synth.sample(min(N_JUDGED, max(2, n_real // 2)), c)
        out[c] = judge.evidence(fake, c, max_n=N_JUDGED, seed=seed)
    return out


def _evidence_row(ev: ImageEvidence) -> dict[str, float]:
    return {"FID": ev.fid, "FID real vs real": ev.fid_real, "FID noise": ev.fid_noise,
            "read as the class": ev.accuracy, "coverage": ev.coverage,
            "coverage real": ev.coverage_real, "spread": ev.spread, "n": ev.n}


def _evidence_note(held_out: bool, what: str) -> str:
    against = "held-out test images" if held_out else "training images (no test split)"
    return (f"Evidence, per model and {what}: generated images against as many real "
            f"{against}, beside the FID of other real images (what a perfect generator gets "
            "at this count) and of uniform noise (what a generator that learned nothing "
            "gets); FID on the project's CNN trained on the data, which also reads the "
            "class of every image.")
