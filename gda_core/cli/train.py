"""``python -m gda_core train``: a synthesizer trained by the same worker as the dashboard."""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from gda_core.cli.args import (
    data_from_args,
    imbalance_from_args,
    int_list,
    parse_name_values,
)
from gda_core.datasets import load_source, make_imbalanced
from gda_core.experiments.train import JOB, RUN_KIND, TrainJobConfig
from gda_core.oversampling.params import parse_params
from gda_core.runs import (
    RunStore,
    WarmWorker,
    default_runs_dir,
    reap_orphans,
    start_worker,
    stop_run,
)


def config_from_train_args(args: argparse.Namespace) -> TrainJobConfig:
    """Build and validate a :class:`TrainJobConfig`; the data is loaded once to fail early."""
    from gda_core.oversampling.registry import SYNTHESIZERS

    raw: dict[str, Any] = parse_name_values(args.param or [])
    if args.epochs is not None:
        raw["epochs"] = args.epochs
    if args.synthesizer not in SYNTHESIZERS:
        from gda_core.errors import ConfigError

        raise ConfigError(f"unknown synthesizer {args.synthesizer!r}; choose from "
                          f"{', '.join(SYNTHESIZERS)}")
    config = TrainJobConfig(
        data=data_from_args(args), imbalance=imbalance_from_args(args),
        synthesizer=args.synthesizer,
        params=parse_params(SYNTHESIZERS[args.synthesizer].params, raw),
        classes=int_list(args.classes) if args.classes else None,
        seed=args.seed, sample_every=args.sample_every, quality_every=args.quality_every,
    )
    config.validate()
    splits = load_source(config.data.source, **config.data.load_kwargs())
    data = make_imbalanced(splits, config.imbalance, random_state=config.split_seed)
    if config.classes is not None:
        bad = [c for c in config.classes if not 0 <= c < len(data.class_names)]
        if bad:
            from gda_core.errors import ConfigError

            raise ConfigError(f"class {bad[0]} does not exist; the imbalanced data has "
                              f"classes 0..{len(data.class_names) - 1}")
    return config


def _line(event: dict[str, Any], fraction: float) -> str:
    cls = f" class {event['class']}" if event.get("class") is not None else ""
    return (f"[{'#' * int(fraction * 30):<30}] {fraction:5.0%}{cls} step {event['step']}"
            f"/{event.get('total_steps', '?')}  D {event['d_loss']:.3f}  G "
            f"{event['g_loss']:.3f}  D(x) {event['d_real']:.2f}  D(G(z)) "
            f"{event['d_fake']:.2f}  |grad G| {event['g_grad_norm']:.3g}")


def train_dry_run(args: argparse.Namespace) -> int:
    """Print how long the training the arguments describe would take here; train nothing."""
    from gda_core.experiments.train import training_cost

    config = config_from_train_args(args)
    cost = training_cost(config)
    print(f"{config.synthesizer} on {config.data.source}: {cost.text()}")
    return 0


def train(args: argparse.Namespace, *, warm: WarmWorker | None = None) -> int:
    """Create a run, start its worker, print progress until it ends; Ctrl-C stops it.

    ``warm``: a worker started in advance, handed the run (see
    :class:`~gda_core.runs.WarmWorker`).
    """
    config = config_from_train_args(args)
    store = RunStore(args.runs_dir or default_runs_dir())
    run_id = store.create_run(RUN_KIND, config.to_dict(),
                              name=f"{config.synthesizer} · {config.data.source} (CLI)")
    start_worker(store.root, run_id, JOB, warm=warm)
    say = (lambda *a: None) if args.quiet else (lambda *a: print(*a, file=sys.stderr,
                                                                 flush=True))
    say(f"run {run_id} started; store {store.root}")
    seq, printed, last_print = 0, 0, 0.0
    last: dict[str, Any] | None = None
    try:
        while True:
            run = store.get_run(run_id)
            new = store.events(run_id, after_seq=seq)
            if new:
                seq, last = new[-1]["seq"], new[-1]
            if last is not None and printed != seq and (
                    time.monotonic() - last_print > 2 or run.is_terminal):
                say(_line(last, run.progress or 0.0))
                printed, last_print = seq, time.monotonic()
            if run.is_terminal:
                break
            reap_orphans(store)
            time.sleep(0.5)
    except KeyboardInterrupt:
        say("stopping…")
        stop_run(store, run_id)
    run = store.get_run(run_id)
    summary = run.summary or {}
    for w in summary.get("warnings", []):
        print(f"warning ({w['code']}, step {w['step']}): {w['message']}")
    checkpoint = store.latest_artifact(run_id, "checkpoint")
    grid = store.latest_artifact(run_id, "grid")
    predicted = summary.get("predicted_s")
    print(f"run {run_id}: {run.status}" + (f" – {run.error}" if run.error else "")
          + (f" in {run.seconds:.0f} s" if run.seconds else "")
          + (f" (predicted before it started: {float(predicted):.0f} s)"
             if predicted is not None and run.seconds else ""))
    if checkpoint:
        print(f"checkpoint: {checkpoint}")
    if grid:
        print(f"last sample grid: {grid}")
    if args.json is None:
        return 0 if run.status in ("finished", "stopped") else 2
    text = json.dumps({
        "run": run_id, "status": run.status, "error": run.error,
        "seconds": run.seconds, "config": run.config, "summary": summary,
        "last_event": store.events(run_id, after_seq=max(0, seq - 1))[-1:] or None,
        "checkpoint": str(checkpoint) if checkpoint else None,
        "grid": str(grid) if grid else None,
    }, indent=1, default=str)
    try:
        args.json.write_text(text, encoding="utf-8")
    except OSError as exc:
        print(f"error: could not write {args.json}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {args.json}")
    return 0 if run.status in ("finished", "stopped") else 2
