"""Helpers shared by the pages: session state, cached loading and error display.

Pages stay thin: every computation is a call into ``gda_core``; this module only adds
Streamlit caching and state.
"""

from __future__ import annotations

import io
import json
import os
import re
import runpy
from collections.abc import Callable
from pathlib import Path

import streamlit as st

from gda_core.datasets import DatasetSplits, ImbalanceSpec, default_cache_dir, load_source
from gda_core.datasets.uploads import UploadCache, skipped_entries
from gda_core.errors import GDAError
from gda_core.experiments import CompareConfig, DataConfig
from gda_core.experiments.compare import plan_units
from gda_core.experiments.estimate import (
    UnitCost,
    estimate_seconds,
    probe_costs,
    store_costs,
)
from gda_core.experiments.jobs import WORKER_PRELOAD
from gda_core.experiments.persist import list_comparisons
from gda_core.experiments.protocol import Protocol
from gda_core.oversampling.params import ParamSpec
from gda_core.runs import RunStore, StandbyWorkers, default_runs_dir
from gda_core.runs.store import lock_wait

APP = Path(__file__).resolve().parents[1] / "app.py"
SHELL_KEY = "_gda_shell"
DATA_KEY = "data_config"
PREFILL_KEY = "compare_prefill"  # {"methods": [...], "params": {method: {...}}, "note": str}
SPEC_KEY = "imbalance_spec"
SEED_KEY = "split_seed"
RESULT_KEY = "compare_result"


def ensure_shell() -> None:
    """Make sure this page runs inside ``app.py``'s navigation; call first in every page.

    With a ``pages/`` folder beside ``app.py``, Streamlit's legacy multipage mode handles
    the first run of a fresh server: a first request for a deep link such as ``/data``
    runs ``pages/data.py`` directly, so ``app.py`` (page config, top navigation) never
    runs.  Then this runs ``app.py``, whose ``st.navigation`` routes to the same page,
    and stops the direct run.

    Tried (2026-11-30, Streamlit 1.67): with the folder renamed (``views/``) a fresh
    server's first deep link runs ``app.py`` by itself, so neither this nor
    ``showSidebarNavigation = false`` would be needed.  The folder keeps the name the
    project's layout gives it (``pages/``), at the price of these three lines.
    """
    if st.session_state.get(SHELL_KEY):
        return
    runpy.run_path(str(APP), run_name="__main__")
    st.stop()


def data_dir() -> Path:
    """Folder for downloads and extracted uploads (``GDA_DATA_DIR``, default ``./data``)."""
    return Path(os.environ.get("GDA_DATA_DIR", "data")).resolve()


def current_data() -> tuple[DataConfig, ImbalanceSpec, int]:
    """The dataset and imbalance chosen on the Data page, or the built-in defaults."""
    default = CompareConfig()
    cfg = st.session_state.get(DATA_KEY, default.data)
    spec = st.session_state.get(SPEC_KEY, default.imbalance)
    return cfg, spec, int(st.session_state.get(SEED_KEY, 0))


@st.cache_data(show_spinner="Loading images…", max_entries=4)
def load_splits(source: str, root: str | None, path: str | None, image_size: int | None,
                color: str | None, download: bool, fit: str | None = None) -> DatasetSplits:
    """The source decoded, through the on-disk cache of :func:`default_cache_dir` (so a
    fresh server, or another session, does not decode the same images again)."""
    return load_source(source, root=root, path=path, image_size=image_size, color=color,
                       download=download, fit=fit, cache_dir=default_cache_dir())


def load_config(cfg: DataConfig) -> DatasetSplits:
    return load_splits(cfg.source, cfg.root, cfg.path, cfg.image_size, cfg.color, cfg.download,
                       cfg.fit)


@st.cache_data(show_spinner=False, max_entries=16)
def _plan(cfg: DataConfig, spec_json: str, protocol: str, folds: int
          ) -> tuple[Protocol | None, list[str], str]:
    """:func:`protocol_plan`'s work, cached per data, imbalance, protocol and folds."""
    spec = ImbalanceSpec.from_dict(json.loads(spec_json))
    config = CompareConfig(data=cfg, imbalance=spec, methods=("baseline",), seeds=(0,),
                           protocol=protocol, folds=folds)
    try:
        plan, pool, _ = plan_units(config, load_config(cfg))
    except GDAError as exc:
        return None, [], str(exc)
    return plan, list(pool.class_names), ""


def protocol_plan(cfg: DataConfig, spec: ImbalanceSpec, protocol: str, folds: int
                  ) -> tuple[Protocol | None, list[str]]:
    """The protocol a comparison of the chosen data would run, and the class names, shown
    before the run; ``(None, [])`` after showing why the data cannot give it."""
    plan, names, error = _plan(cfg, json.dumps(spec.to_dict(), sort_keys=True), protocol,
                               folds)
    if error:
        st.warning(plain(error), icon="⚠️")
    return plan, names


@st.cache_data(show_spinner=False, max_entries=4)
def _unit_costs(root: str, ids: tuple[tuple[str, str], ...]) -> list[UnitCost]:
    """What earlier comparisons' units cost (cached until the list of comparisons, or the
    status of one, changes)."""
    return store_costs(RunStore(root))


@st.cache_data(show_spinner="Timing a training step on this machine…", max_entries=16)
def _probed(config_json: str, shape: tuple[int, ...], per_class: tuple[int, ...],
            n_classes: int, missing: tuple[str, ...]) -> dict[str, float]:
    """:func:`probe_costs` of the methods no earlier unit tells about (seconds the first
    time on a machine, then read from its cache of timed steps)."""
    config = CompareConfig.from_dict(json.loads(config_json))
    try:
        return probe_costs(config, shape, list(per_class), n_classes, missing)
    except GDAError:
        return {}


def cost_estimate(store: RunStore, config: CompareConfig, plan: Protocol | None,
                  shape: tuple[int, ...]) -> str:
    """The comparison's time: from what units cost on this machine before, else from a
    training step timed here."""
    if plan is None or not plan.train_per_class:
        return ""
    ids = tuple((r.id, r.status) for r in list_comparisons(store, 20))
    costs = _unit_costs(str(store.root), ids) if ids else []
    keep = 1.0 - config.classifier.val_fraction
    n_real = int(sum(plan.train_per_class) * keep)
    n_balanced = int(len(plan.train_per_class) * max(plan.train_per_class) * keep)
    units = (plan.folds if plan.kind == "cv" else 1) * len(config.seeds)
    known = {c.method for c in costs if c.shape == tuple(shape)}
    missing = tuple(m for m in config.methods if m not in known)
    probed = (_probed(json.dumps(config.to_dict(), sort_keys=True), tuple(shape),
                      tuple(plan.train_per_class), len(plan.train_per_class), missing)
              if missing else {})
    return estimate_seconds(config.methods, units, n_real, n_balanced, shape,
                            costs, probed).text(units)


def upload_cache() -> UploadCache:
    """The cache of extracted uploads, ``<data folder>/uploads`` (``GDA_UPLOAD_CACHE_MB``
    megabytes at most, default 1024)."""
    mb = float(os.environ.get("GDA_UPLOAD_CACHE_MB", "1024"))
    return UploadCache(data_dir() / "uploads", max_bytes=int(mb * 1024**2))


def save_upload(name: str, payload: bytes) -> Path:
    """Extract an uploaded zip into the upload cache (once per content) and return it."""
    return upload_cache().add(name, payload)


def upload_report(path: str | None) -> list[str]:
    """Zip entries skipped at extraction for an extracted upload folder (else empty)."""
    return skipped_entries(path)


def bar_progress(bar) -> Callable[[float, str], None]:
    """A library ``progress(fraction, message)`` callback drawing on ``st.progress`` ``bar``."""
    return lambda fraction, message: bar.progress(min(max(float(fraction), 0.0), 1.0),
                                                  text=message)


def read_png(path: Path) -> tuple[bytes | None, str]:
    """The bytes of an image file the run store holds, checked by decoding it; or None and
    why it cannot be shown (deleted, unreadable, damaged)."""
    from PIL import Image

    name = Path(path).name
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None, f"the file {name} is missing (deleted?)"
    except OSError as exc:
        return None, f"the file {name} is unreadable ({exc.strerror or exc})"
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
    except Exception as exc:  # any decoding failure: not an image, truncated, bad chunks
        return None, f"the file {name} is damaged ({exc})"
    return data, ""


_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~:])")


def plain(text: object) -> str:
    r"""``text`` for Streamlit Markdown, shown as typed: class-folder names and messages that
    quote them are the user's, so ``**x**``, links, HTML and LaTeX must not render.

    Examples
    --------
    >>> plain("**bold** [x](http://a) $y$")
    '\\*\\*bold\\*\\* \\[x\\]\\(http\\://a\\) \\$y\\$'
    """
    return _MARKDOWN.sub(r"\\\1", str(text))


def display_scale(image_side: int, target: int = 48) -> int:
    """Integer upscaling so tiny images (8x8 digits) stay readable."""
    return max(1, target // max(1, image_side))


def get_store(stop: bool = True) -> RunStore | None:
    """The run store (``GDA_RUNS_DIR``, default ``./runs``), shared by all sessions.

    A store that cannot be used (damaged or locked database, read-only folder) is an error
    message saying what to do, then the page stops (``stop``) or None is returned.  It is
    checked on every call, so a store damaged while the app runs is noticed too.
    """
    root = str(default_runs_dir().resolve())
    try:
        store = _store(root)
        store.list_runs(limit=1)  # a cheap read: is the database still usable?
    except (GDAError, OSError) as exc:
        _store.clear()  # try again from scratch next time (the user may have fixed it)
        text = str(exc)
        if not text.startswith("the run store"):
            text = f"the run store cannot be used: {text}"
        st.error(plain(text[0].upper() + text[1:]), icon="🗄️")
        if stop:
            st.stop()
        return None
    return store


@st.cache_resource
def standby_workers() -> StandbyWorkers | None:
    """The server's standby worker (one for every session): a worker process that has
    imported torch and the jobs before Train / Run is pressed, so a run starts at once
    (``bench/first_grid.py``).  ``GDA_WARM_WORKER=0`` switches it off (runs then start a
    new process each, seconds slower)."""
    if os.environ.get("GDA_WARM_WORKER", "1").strip() == "0":
        return None
    standby = StandbyWorkers(WORKER_PRELOAD)
    standby.prepare()
    return standby


@st.cache_resource
def _store(root: str) -> RunStore:
    # a page waits for a locked database 10 s (workers: 60 s), then says it is locked
    return RunStore(root, busy_timeout=2.0, retry_for=lock_wait(10.0))


def param_widget(spec: ParamSpec, *, key: str, container=st, value: object = None) -> object:
    """One input widget for a declared parameter (number, checkbox or select box).

    ``value`` overrides the declared default (e.g. settings carried over from a run).
    """
    default = spec.default if value is None else spec.parse(value)
    if spec.kind == "int":
        return container.number_input(spec.name, int(spec.low), int(spec.high),
                                      int(default), help=spec.help, key=key)
    if spec.kind == "float":
        small = 0 < abs(float(spec.default)) < 0.01
        return container.number_input(spec.name, float(spec.low), float(spec.high),
                                      float(default), help=spec.help, key=key,
                                      format="%.1e" if small else "%.3f",
                                      step=float(spec.default) / 2 if small else 0.01)
    if spec.kind == "bool":
        return container.checkbox(spec.name, bool(default), help=spec.help, key=key)
    return container.selectbox(spec.name, spec.choices, index=spec.choices.index(default),
                               help=spec.help, key=key)


def param_widgets(specs: tuple[ParamSpec, ...], *, prefix: str, per_row: int = 4,
                  values: dict | None = None) -> dict:
    """Widgets for several parameters, ``per_row`` to a row; returns name -> value."""
    given = values or {}
    out = {}
    for start in range(0, len(specs), per_row):
        row = specs[start:start + per_row]
        cols = st.columns(per_row)
        for col, spec in zip(cols, row, strict=False):
            out[spec.name] = param_widget(spec, key=f"{prefix}-{spec.name}", container=col,
                                          value=given.get(spec.name))
    return out
