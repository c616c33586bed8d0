"""The fast path of a model, chosen by measuring it on the machine at hand.

Whether bfloat16 autocast or the channels_last layout makes a training step faster
depends on the CPU (or GPU), the model and the image size, and no flag tells it: PyTorch
reports bfloat16 as supported on CPUs that only emulate it, where a DCGAN step at 64x64x3
was 1.47x *slower* under bfloat16 autocast than in float32 (a 2-core Xeon with AVX-512F
and no AVX512-BF16 / AMX), while on CPUs with native bfloat16 it is faster.  So on first use
a model's candidate paths (:data:`PATHS`) are timed for a few steps on the shapes at hand
and the fastest is kept, per machine and shape, in a small JSON file
(:func:`default_cache_file`); later fits read it.  float32 NCHW, the reference, is kept
unless another path beats it by :data:`MARGIN`, so the fast path is never measurably
slower than plain float32.

``$GDA_FAST_PATH`` pins a path by name for every model (e.g. ``float32`` on a machine
whose timings are too noisy to trust); ``$GDA_FAST_PATH_FILE`` names the cache file
(``off``: measure every time, keep nothing).
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path as FilePath
from typing import Any

import torch

from gda_core.errors import ConfigError

FORCE_ENV = "GDA_FAST_PATH"
"""Environment variable pinning one path (a key of :data:`PATHS`) for every model."""
CACHE_ENV = "GDA_FAST_PATH_FILE"
"""Environment variable naming the cache file (``off``: keep nothing)."""
MARGIN = 0.05
"""A path other than float32 NCHW is chosen only when at least 5 % faster than it."""
BUDGET_S = 2.0
"""About how long the timing of one model's candidates may take (a step of every path
runs at least twice, once to warm up and once timed, whatever the budget)."""
MAX_TIMED = 5
"""At most this many timed steps per path; the fastest of them is the path's time."""


@dataclass(frozen=True)
class Path:
    """One way to run a model: autocast dtype (None: float32) and memory layout.

    Examples
    --------
    >>> PATHS["bf16+channels_last"].memory_format
    torch.channels_last
    >>> PATHS["float32"].dtype is None
    True
    """

    name: str
    dtype: torch.dtype | None
    channels_last: bool

    @property
    def memory_format(self) -> torch.memory_format:
        """``torch.channels_last`` or ``torch.contiguous_format`` (NCHW)."""
        return torch.channels_last if self.channels_last else torch.contiguous_format


PATHS: dict[str, Path] = {
    "float32": Path("float32", None, False),
    "float32+channels_last": Path("float32+channels_last", None, True),
    "bf16": Path("bf16", torch.bfloat16, False),
    "bf16+channels_last": Path("bf16+channels_last", torch.bfloat16, True),
}
"""The candidate paths, the reference (float32 NCHW) first."""
REFERENCE = PATHS["float32"]


@dataclass(frozen=True)
class PathChoice:
    """The path a model runs on and how it was chosen.

    ``source``: ``"measured"`` (timed now), ``"cache"`` (timed before on this machine),
    ``"reference"`` (``fast=False``), ``"forced"`` (``$GDA_FAST_PATH``) or ``"single"``
    (only float32 is possible, e.g. a GPU without bfloat16 and no layout to choose).
    ``times_ms``: each candidate's time per step when measured (now or before).
    """

    path: Path
    source: str
    times_ms: dict[str, float] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """What a run's record keeps: the path's name, how it was chosen, the timings.

        Examples
        --------
        >>> PathChoice(REFERENCE, "reference").record()
        {'path': 'float32', 'source': 'reference', 'times_ms': {}}
        """
        return {"path": self.path.name, "source": self.source,
                "times_ms": {k: round(v, 3) for k, v in self.times_ms.items()}}

    def describe(self) -> str:
        """One line for a log or a page.

        Examples
        --------
        >>> PathChoice(PATHS["bf16"], "measured", {"float32": 10.0, "bf16": 5.0}).describe()
        'bf16 (measured here: float32 10.0 ms, bf16 5.0 ms per step)'
        """
        if not self.times_ms:
            return f"{self.path.name} ({self.source})"
        times = ", ".join(f"{k} {v:.1f} ms" for k, v in self.times_ms.items())
        where = "measured here" if self.source == "measured" else "measured before"
        return f"{self.path.name} ({where}: {times} per step)"


def choice_from_record(record: dict[str, Any] | None) -> PathChoice:
    """The :class:`PathChoice` a record (:meth:`PathChoice.record`) names; float32 for
    ``None`` or an unknown name (files written before the path was recorded).

    Examples
    --------
    >>> choice_from_record({"path": "bf16", "source": "cache"}).path.dtype
    torch.bfloat16
    >>> choice_from_record(None).path.name
    'float32'
    """
    if not record or record.get("path") not in PATHS:
        return PathChoice(REFERENCE, "reference")
    return PathChoice(PATHS[record["path"]], str(record.get("source", "cache")),
                      {str(k): float(v) for k, v in dict(record.get("times_ms", {})).items()})


def candidates(device: str) -> tuple[Path, ...]:
    """The paths worth timing on ``device`` (``"cpu"`` or ``"cuda"``): all four on a CPU
    (autocast emulates bfloat16 where the CPU lacks it, so it runs, only slower) and on a
    GPU with bfloat16; float32 in both layouts on a GPU without it.

    Examples
    --------
    >>> [p.name for p in candidates("cpu")]
    ['float32', 'float32+channels_last', 'bf16', 'bf16+channels_last']
    """
    if device == "cuda" and not torch.cuda.is_bf16_supported():
        return (PATHS["float32"], PATHS["float32+channels_last"])
    return tuple(PATHS.values())


def machine_key(device: str) -> str:
    """What the timings depend on besides the model: the processor (CPU model name, or
    the GPU's name) and torch's version.

    Not the thread count: a model's path is the same whether it trains alone or in a
    worker beside others, so that ``n_jobs`` never changes a result.

    Examples
    --------
    >>> machine_key("cpu").startswith("cpu:")
    True
    """
    if device == "cuda":
        chip = torch.cuda.get_device_name()
    else:
        chip = cpu_model()
    return f"{device}:{chip}|torch {torch.__version__}"


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo`` on Linux, else :func:`platform.processor`).

    Examples
    --------
    >>> isinstance(cpu_model(), str)
    True
    """
    with contextlib.suppress(OSError):
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine() or "unknown CPU"


def default_cache_file() -> FilePath | None:
    """The file the chosen paths are kept in: ``$GDA_FAST_PATH_FILE`` (``off``: none),
    else ``gda-workbench/fastpath.json`` in the user's cache folder (``$XDG_CACHE_HOME``
    or ``~/.cache``).  Nothing is created here.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"GDA_FAST_PATH_FILE": "off"}):
    ...     default_cache_file() is None
    True
    """
    env = os.environ.get(CACHE_ENV, "").strip()
    if env.lower() == "off":
        return None
    if env:
        return FilePath(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    try:
        base = FilePath(xdg) if xdg and FilePath(xdg).is_absolute() else FilePath.home() / ".cache"
    except RuntimeError:  # no home folder
        return None
    return base / "gda-workbench" / "fastpath.json"


class PathCache:
    """The chosen paths of earlier fits, in one JSON file keyed by machine and model.

    A missing, unreadable or damaged file reads as empty; a folder that cannot be written
    keeps nothing (the next fit measures again).  Neither is an error: the cache only
    saves the seconds of a measurement.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> cache = PathCache(pathlib.Path(tempfile.mkdtemp()) / "fastpath.json")
    >>> cache.get("k") is None
    True
    >>> cache.put("k", PathChoice(PATHS["bf16"], "measured", {"float32": 2.0, "bf16": 1.0}))
    >>> cache.get("k").path.name, cache.get("k").source
    ('bf16', 'cache')
    """

    def __init__(self, file: FilePath | None) -> None:
        self.file = file

    def _read(self) -> dict[str, Any]:
        if self.file is None:
            return {}
        try:
            data = json.loads(self.file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, key: str) -> PathChoice | None:
        """The choice kept for ``key``, or None."""
        entry = self._read().get(key)
        if not isinstance(entry, dict) or entry.get("path") not in PATHS:
            return None
        try:
            return replace_source(choice_from_record(entry), "cache")
        except (TypeError, ValueError):
            return None

    def put(self, key: str, choice: PathChoice) -> None:
        """Keep ``choice`` for ``key`` (silently nothing where the file cannot be written)."""
        if self.file is None:
            return
        data = self._read()
        data[key] = {**choice.record(),
                     "measured_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        tmp = self.file.with_name(f".{self.file.name}.{os.getpid()}.tmp")
        try:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.file)
        except OSError as exc:
            logging.getLogger(__name__).info("fast path not kept in %s: %s", self.file, exc)
            with contextlib.suppress(OSError):
                tmp.unlink()


def replace_source(choice: PathChoice, source: str) -> PathChoice:
    """``choice`` said to come from ``source``."""
    return PathChoice(choice.path, source, dict(choice.times_ms))


Probe = Callable[[Path], Callable[[], None]]
"""``probe(path)`` prepares copies of a model on ``path`` and returns one training step
(forward, backward, update) on a batch of the shape the fit will use."""


def time_paths(probe: Probe, paths: tuple[Path, ...], *, device: str,
               budget_s: float = BUDGET_S) -> dict[str, float]:
    """Milliseconds per step of each path (the fastest of up to :data:`MAX_TIMED` timed
    steps after one warm-up step), paths taken in turn.

    A path whose step fails (an operation without a bfloat16 kernel, say) is left out.

    Examples
    --------
    >>> net = torch.nn.Linear(4, 1)
    >>> def probe(path):
    ...     def step():
    ...         net(torch.ones(2, 4)).sum().backward()
    ...     return step
    >>> sorted(time_paths(probe, (PATHS["float32"],), device="cpu", budget_s=0.01))
    ['float32']
    """
    share = budget_s / max(len(paths), 1)
    times: dict[str, float] = {}
    for path in paths:
        try:
            step = probe(path)
            step()  # warm-up: first-call allocations and kernel choice
            _sync(device)
            best, spent, n = math.inf, 0.0, 0
            while n < 1 or (n < MAX_TIMED and spent < share):
                t0 = time.perf_counter()
                step()
                _sync(device)
                dt = time.perf_counter() - t0
                best, spent, n = min(best, dt), spent + dt, n + 1
        except (RuntimeError, NotImplementedError) as exc:
            logging.getLogger(__name__).info("fast path %s not usable: %s", path.name, exc)
            continue
        times[path.name] = best * 1000.0
    return times


def pick(times_ms: dict[str, float], margin: float = MARGIN) -> Path:
    """The fastest path of ``times_ms``, float32 NCHW unless beaten by ``margin``.

    Examples
    --------
    >>> pick({"float32": 100.0, "bf16": 97.0}).name   # 3 % faster: not worth it
    'float32'
    >>> pick({"float32": 100.0, "bf16": 60.0, "bf16+channels_last": 70.0}).name
    'bf16'
    >>> pick({"float32": 544.0, "bf16+channels_last": 800.0}).name
    'float32'
    """
    ref = times_ms.get(REFERENCE.name, math.inf)
    name = min(times_ms, key=times_ms.__getitem__, default=REFERENCE.name)
    if name != REFERENCE.name and not times_ms[name] < (1.0 - margin) * ref:
        name = REFERENCE.name
    return PATHS[name]


def choose_path(model_key: str, probe: Probe, *, device: str, fast: bool,
                cache: PathCache | None = None, budget_s: float = BUDGET_S) -> PathChoice:
    """The path a model of ``model_key`` trains on, on this machine.

    Parameters
    ----------
    model_key : str
        The model and the shapes that decide its speed (kind, widths, image shape, batch).
    probe : callable
        See :data:`Probe`; called only when the path is measured.
    device : {"cpu", "cuda"}
    fast : bool
        ``False``: the float32 NCHW reference, nothing measured.
    cache : PathCache, optional
        Where choices are kept; default the file of :func:`default_cache_file`.
    budget_s : float
        About how long a measurement may take.

    Raises
    ------
    ConfigError
        ``$GDA_FAST_PATH`` names no path of :data:`PATHS`.

    Examples
    --------
    >>> choose_path("m", lambda p: None, device="cpu", fast=False).record()["path"]
    'float32'
    """
    if not fast:
        return PathChoice(REFERENCE, "reference")
    forced = os.environ.get(FORCE_ENV, "").strip()
    if forced:
        if forced not in PATHS:
            raise ConfigError(f"${FORCE_ENV} must be one of {', '.join(PATHS)}; got {forced!r}")
        return PathChoice(PATHS[forced], "forced")
    paths = candidates(device)
    if len(paths) == 1:
        return PathChoice(paths[0], "single")
    cache = PathCache(default_cache_file()) if cache is None else cache
    key = f"{machine_key(device)}|{model_key}"
    kept = cache.get(key)
    if kept is not None:
        return kept
    # the probe's dropout and initialisations draw from the global generators: restored
    # after, so that a fit gives the same result whether its path was measured or read
    with torch.random.fork_rng(devices=[torch.cuda.current_device()] if device == "cuda"
                               else []):
        times = time_paths(probe, paths, device=device, budget_s=budget_s)
    choice = PathChoice(pick(times), "measured", times)
    if times:
        cache.put(key, choice)
    return choice


def _sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()
