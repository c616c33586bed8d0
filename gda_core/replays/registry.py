"""Replays by name (feeds the Replays page, ``python -m gda_core replay`` and the tests)."""

from __future__ import annotations

from gda_core.errors import ConfigError
from gda_core.replays import am_table2, gan_quality, gan_sensitivity, long_tail, pareto_study
from gda_core.replays.base import (
    NO_VERDICT_SMOKE,
    Progress,
    Replay,
    ReplayOptions,
    ReplayResult,
)

REPLAYS: dict[str, Replay] = {r.name: r for r in (
    Replay("am-table2", am_table2.TITLE, "AM study (3D-printing defects), Table 2",
           "Baseline, SMOTE, Borderline-SMOTE, ADASYN and DCGAN on 500 normal against 25 + 25 "
           "defect images; macro precision, recall and F1 over seeds.", am_table2.run,
           "your AM image folder (three class folders, normal first) or the built-in "
           "stand-in"),
    Replay("gan-sensitivity", gan_sensitivity.TITLE, "AM study, MNIST sensitivity analysis",
           "The study's fully connected GAN on the full MNIST training set with five "
           "settings of k, lr_D and the loss; which train, which show a vanishing gradient "
           "or mode collapse, judged on 1,000 generated digits each (FID beside real and "
           "noise, the project's CNN reading the digits) and the training diagnostics.",
           gan_sensitivity.run, "the MNIST folder (else digits stand in)"),
    Replay("gan-contrast", gan_quality.CONTRAST_TITLE, "AM study, MLP GAN vs DCGAN",
           "A vanilla MLP GAN and a DCGAN trained on every image of one class; are the "
           "MLP GAN's images noise and DCGAN's recognisable (FID beside real and noise, the "
           "project's CNN reading the class)?", gan_quality.run_contrast,
           "the MNIST folder (else digits stand in)"),
    Replay("gan-diversity", gan_quality.DIVERSITY_TITLE, "MAD-GAN (Ghosh et al. 2018)",
           "DCGAN, MAD-GAN and a conditional GAN on three classes; FID, coverage and class "
           "accuracy per class. The source reports no numbers for this experiment: the "
           "checks are our expectations.", gan_quality.run_diversity,
           "the MNIST or Fashion-MNIST folder (else digits stand in)"),
    Replay("pareto-study", pareto_study.TITLE, "Lee, Kim, Yang & Oh 2017 (dual response "
           "surfaces with MOGAs)", "NSGA-II, SPEA2, NPGA and the epsilon-constraint method "
           "on the printing and welding cases; M1' and Delta' per algorithm.",
           pareto_study.run, "built in (no data needed)"),
    Replay("lt-benchmark", long_tail.TITLE, "Dam et al. 2022 (latent-preserving GAN, ADSO / "
           "AMO), Table II", "Baseline CNN, SMOTE, DCGAN, conditional GAN, ADSO and AMO "
           "(three-player, Q as the classifier) on MNIST-LT and Fashion-MNIST-LT (imbalance "
           "factor 100); ACSA, macro F1, G-mean, P_maj, R_min over seeds with intervals.",
           long_tail.run, "the folder holding mnist/ and fashion-mnist/ (root)"),
)}


def run_replay(name: str, options: ReplayOptions | None = None,
               progress: Progress | None = None) -> ReplayResult:
    """Run a replay by name.

    The result records its scale.  At smoke scale no check has a verdict: each says
    :data:`~gda_core.replays.base.NO_VERDICT_SMOKE` (smoke numbers come from models trained
    for seconds, so they cannot support or refute a study's claim).

    Examples
    --------
    >>> r = run_replay("pareto-study", ReplayOptions(scale="smoke"))
    >>> r.name, r.scale, len(r.checks) > 0, {c.verdict for c in r.checks}
    ('pareto-study', 'smoke', True, {'no verdict'})
    """
    if name not in REPLAYS:
        raise ConfigError(f"unknown replay {name!r}; choose from {', '.join(REPLAYS)}")
    options = options or ReplayOptions()
    result = REPLAYS[name].run(options, progress or (lambda f, m: None))
    result.scale = options.scale
    if options.scale == "smoke":
        result = result.without_verdicts(NO_VERDICT_SMOKE)
    return result
