"""Turn command-line arguments into library configuration objects."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, replace
from typing import Any

from gda_core.datasets.imbalance import ImbalanceSpec, get_preset, with_overrides
from gda_core.errors import ConfigError
from gda_core.experiments import (
    BASELINE,
    SCALAR_METRICS,
    ClassifierConfig,
    CompareConfig,
    DataConfig,
)
from gda_core.oversampling import OVERSAMPLERS
from gda_core.oversampling.params import parse_params


def int_list(text: str) -> tuple[int, ...]:
    """``"0,1, 2"`` -> ``(0, 1, 2)``; also accepts ranges like ``"0-4"``."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        try:
            if "-" in part[1:]:
                lo, hi = part.split("-", 1)
                out.extend(range(int(lo), int(hi) + 1))
            else:
                out.append(int(part))
        except ValueError:
            raise ConfigError(f"expected integers like 0,1,2 or 0-4; got {text!r}") from None
    return tuple(out)


def parse_counts(text: str) -> dict[int, int | None]:
    """``"0=500,1=25,2=all"`` -> ``{0: 500, 1: 25, 2: None}``."""
    counts: dict[int, int | None] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = part.partition("=")
        if not sep:
            raise ConfigError(f"counts look like 0=500,1=25; got {part!r}")
        try:
            counts[int(key)] = None if value.strip().lower() == "all" else int(value)
        except ValueError:
            raise ConfigError(f"counts look like 0=500,1=25; got {part!r}") from None
    return counts


def parse_method_params(items: list[str], methods: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    """``["smote.k_neighbors=3"]`` -> ``{"smote": {"k_neighbors": 3}}`` (validated)."""
    raw: dict[str, dict[str, Any]] = {}
    for item in items:
        key, sep, value = item.partition("=")
        method, dot, name = key.partition(".")
        if not sep or not dot:
            raise ConfigError(f"--param looks like smote.k_neighbors=3; got {item!r}")
        if method not in OVERSAMPLERS:
            raise ConfigError(f"--param {item!r}: unknown method {method!r}")
        if method not in methods:
            raise ConfigError(f"--param {item!r}: {method} is not among --methods")
        raw.setdefault(method, {})[name] = value
    return {m: parse_params(OVERSAMPLERS[m].params, p) for m, p in raw.items()}


def imbalance_from_args(args: argparse.Namespace) -> ImbalanceSpec:
    chosen = [x for x in (args.preset, args.ratio, args.counts) if x is not None]
    if len(chosen) > 1:
        raise ConfigError("give only one of --preset, --ratio and --counts")
    overrides: dict[str, Any] = {}
    if args.test_per_class is not None:
        overrides["test_per_class"] = args.test_per_class
    if args.max_per_class is not None:
        overrides["max_per_class"] = args.max_per_class
    if args.hflip:
        overrides["hflip"] = True
    if args.preset is not None:
        return with_overrides(get_preset(args.preset), **overrides)
    if args.counts is not None:
        spec = ImbalanceSpec(counts=parse_counts(args.counts), name="counts")
        return with_overrides(spec, **overrides)
    if args.ratio is not None or args.minority is not None:
        spec = ImbalanceSpec(
            ratio=args.ratio if args.ratio is not None else 0.1,
            minority_classes=int_list(args.minority) if args.minority else (),
            majority_count=args.majority_count, test_per_class=30, name="ratio",
        )
        return with_overrides(spec, **overrides)
    if getattr(args, "dataset", None) in ("folder", "zip"):
        # the user's own images: the Data page's starting point (already imbalanced data
        # keeps every image; else ratio 0.1 for the smallest class)
        from gda_core.datasets import load_source, suggest_spec

        data = data_from_args(args)
        spec = suggest_spec(load_source(data.source, **data.load_kwargs()))
        return with_overrides(spec, **overrides)
    return with_overrides(CompareConfig().imbalance, **overrides)


def data_from_args(args: argparse.Namespace) -> DataConfig:
    return DataConfig(source=args.dataset, root=args.root, path=args.path,
                      image_size=args.image_size, color=args.color, download=args.download,
                      fit=getattr(args, "fit", None))


def parse_name_values(items: list[str]) -> dict[str, str]:
    """``["lr_d=2e-4", "loss=minimax"]`` -> ``{"lr_d": "2e-4", "loss": "minimax"}``."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--param looks like name=value; got {item!r}")
        out[name.strip()] = value.strip()
    return out


def config_from_args(args: argparse.Namespace) -> CompareConfig:
    methods = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    data = data_from_args(args)
    clf = ClassifierConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                           width=args.width, device=args.device, loss=args.loss,
                           focal_gamma=args.focal_gamma, architecture=args.architecture,
                           ensemble_size=args.ensemble_size,
                           fast=not getattr(args, "classifier_reference", False))
    sweep_method = getattr(args, "sweep_method", None)
    params_for = methods if sweep_method is None else (*methods, sweep_method)
    seeds = getattr(args, "seeds", None)
    config = CompareConfig(
        data=data, imbalance=imbalance_from_args(args), methods=methods,
        method_params=parse_method_params(args.param or [], params_for),
        seeds=int_list(seeds) if seeds is not None else (0,), classifier=clf,
        sample_quality=args.sample_quality,
        quality_cache_dir=None if args.quality_cache is None else str(args.quality_cache),
        protocol=getattr(args, "protocol", "auto"), folds=getattr(args, "folds", 5),
        primary_metric=getattr(args, "primary_metric", "f1_macro"),
    )
    config.validate()
    if seeds is None and config.protocol != "holdout":
        # no seeds given: two repeats when the data call for cross-validation
        from gda_core.datasets import load_source
        from gda_core.experiments.protocol import default_seeds

        splits = load_source(data.source, **data.load_kwargs())
        config = replace(config, seeds=default_seeds(config, splits))
    return config


def float_list(text: str) -> tuple[float, ...]:
    """``"0,0.5, 1"`` -> ``(0.0, 0.5, 1.0)``."""
    try:
        return tuple(float(p) for p in filter(None, (p.strip() for p in text.split(","))))
    except ValueError:
        raise ConfigError(f"expected numbers like 0,0.5,1,2,5; got {text!r}") from None


@dataclass(frozen=True)
class SweepArgs:
    """What ``compare --ratios`` sweeps."""

    method: str
    ratios: tuple[float, ...]
    metric: str


def sweep_from_args(args: argparse.Namespace, config: CompareConfig) -> SweepArgs:
    """The sweep asked for by ``--ratios``, ``--sweep-method`` and ``--sweep-metric``."""
    method = args.sweep_method
    if method is None:
        method = next((m for m in config.methods if m != BASELINE), None)
        if method is None:
            raise ConfigError("--ratios needs an oversampler: give --sweep-method or a "
                              "method besides baseline in --methods")
    if method not in OVERSAMPLERS:
        raise ConfigError(f"unknown sweep method {method!r}; choose from "
                          f"{', '.join(OVERSAMPLERS)}")
    if args.sweep_metric not in SCALAR_METRICS:
        raise ConfigError(f"unknown metric {args.sweep_metric!r}; choose from "
                          f"{', '.join(SCALAR_METRICS)}")
    return SweepArgs(method, float_list(args.ratios), args.sweep_metric)
