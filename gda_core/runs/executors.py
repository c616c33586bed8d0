"""Where the independent units of a job run: here, one after another, or on a Ray cluster.

A comparison is ``methods x seeds`` independent units and a ratio sweep one unit per seed;
an executor maps a unit function over them and hands each result back as soon as it is
ready, so the caller can store it (nothing finished is lost when the rest fails or is
stopped).

``local`` (the default) runs the units in this process, in order, with progress inside
each unit (GAN steps, classifier epochs).  ``ray`` submits every unit to a Ray cluster as
one task and collects them as they finish: ``address=None`` starts a
private Ray instance on this machine for the job (its own folder and token, bound to
127.0.0.1) and shuts it down after, ``"auto"`` or ``"ray://host:10001"`` /
``"host:6379"`` joins a running cluster, with its token when one is given
(:mod:`gda_core.runs.ray_session`).  The package is shipped
to the cluster's workers with the job (Ray ``runtime_env`` ``py_modules``); its
requirements must be installed there (``requirements-ray.txt``).

Same seeds, same numbers: a GAN's trained weights depend (in the last bits) on how many
threads torch uses, so a Ray task runs with as many torch threads as it reserves CPUs, and
by default reserves as many as torch uses here.  Fewer CPUs per task (``num_cpus=1``) run
more tasks at once, with numbers equal to a local run with that many threads.

A unit function is ``fn(shared, item, report) -> value``: ``shared`` is the same for every
unit (the loaded data; Ray puts it in its object store once), ``item`` says which unit,
``report(fraction, message)`` reports progress inside the unit (a no-op on Ray).  It
must be a module-level function so that Ray workers can import it.  A unit that raises
gives a :class:`UnitFailure` as its value; the others go on.

Examples
--------
>>> def square(shared, item, report):
...     return shared * item * item
>>> done = {}
>>> run_units(square, [1, 2, 3], shared=10, on_result=done.__setitem__)
True
>>> done
{1: 10, 2: 40, 3: 90}
"""

from __future__ import annotations

import importlib.util
import math
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gda_core.errors import ConfigError, GDAError
from gda_core.runs.ray_session import ray_session, read_token_file

EXECUTORS: dict[str, str] = {
    "local": "here, one unit after another (the default)",
    "ray": "on a Ray cluster, units in parallel (pip install -r requirements-ray.txt)",
}
"""Executor names and what they do."""

UnitFn = Callable[[Any, Any, Callable[[float, str], None]], Any]


class StopRequested(Exception):
    """Raised inside a unit (by a progress callback) when the user asked to stop.

    Deliberately not a :class:`~gda_core.errors.GDAError`: code that records a unit's
    failure and goes on must let it through.
    """


@dataclass(frozen=True)
class UnitFailure:
    """The value of a unit that raised: ``message`` for the user, ``detail`` the traceback."""

    message: str
    detail: str = ""


@dataclass(frozen=True)
class ExecutorConfig:
    """Which executor runs a job's units, and where.

    Parameters
    ----------
    kind : {"local", "ray"}
    address : str, optional
        Ray only: the cluster to join (``"auto"``, ``"host:6379"``,
        ``"ray://host:10001"``); None starts a private Ray instance on this machine.
    num_cpus : int, optional
        Ray only: CPUs reserved per unit, and the torch threads it uses.  None: as many as
        torch uses in this process, so that the numbers equal a local run's.
    token_file : str, optional
        Ray cluster only: a file holding the cluster's authentication token (the path is
        kept with the run, never the token); see :mod:`gda_core.runs.ray_session`.

    Examples
    --------
    >>> ExecutorConfig.from_dict(ExecutorConfig("ray", "auto", 2).to_dict())
    ExecutorConfig(kind='ray', address='auto', num_cpus=2, token_file=None)
    """

    kind: str = "local"
    address: str | None = None
    num_cpus: int | None = None
    token_file: str | None = None

    def validate(self) -> None:
        """Raise :class:`ConfigError` for an unknown executor or bad settings."""
        if self.kind not in EXECUTORS:
            raise ConfigError(f"unknown executor {self.kind!r}; choose from "
                              f"{', '.join(EXECUTORS)}")
        if self.address is not None and self.kind != "ray":
            raise ConfigError("a cluster address is only used with the ray executor")
        if self.num_cpus is not None and (isinstance(self.num_cpus, bool) or not isinstance(
                self.num_cpus, int) or self.num_cpus < 1):
            raise ConfigError(f"CPUs per unit must be a whole number of at least 1; got "
                              f"{self.num_cpus!r}")
        if self.num_cpus is not None and self.kind != "ray":
            raise ConfigError("CPUs per unit are only set for the ray executor")
        if self.token_file is not None and self.address is None:
            raise ConfigError("a Ray token file is only used to join a cluster: give its "
                              "address too (a private Ray instance makes its own token)")

    def check_available(self) -> None:
        """:meth:`validate`, and for Ray that it is installed (:class:`ConfigError` if not)."""
        self.validate()
        if self.kind == "ray" and importlib.util.find_spec("ray") is None:
            raise ConfigError("the ray executor needs Ray: pip install -r requirements-ray.txt "
                              "(or run on this machine)")
        if self.token_file is not None:
            read_token_file(self.token_file)  # unreadable or empty: say so before any work

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "address": self.address,
                             "num_cpus": self.num_cpus}
        if self.token_file is not None:
            d["token_file"] = self.token_file
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> ExecutorConfig:
        d = d or {}
        cpus = d.get("num_cpus")
        return cls(kind=str(d.get("kind", "local")), address=d.get("address"),
                   num_cpus=None if cpus is None else int(cpus),
                   token_file=d.get("token_file"))


def run_units(fn: UnitFn, items: Sequence[Any], *, shared: Any = None,
              on_result: Callable[[Any, Any], None],
              executor: ExecutorConfig | None = None,
              progress: Callable[[float, str], None] | None = None,
              should_stop: Callable[[], bool] | None = None,
              weights: Sequence[float] | None = None) -> bool:
    """Run ``fn(shared, item, report)`` for every item; hand each value to ``on_result``.

    Parameters
    ----------
    fn : callable
        A module-level unit function (see the module docstring).
    items : sequence
        The units, in the order the local executor runs them.
    shared : object
        Passed to every unit (Ray: put in the object store once).
    on_result : callable
        ``on_result(item, value)`` in the caller's thread as each unit finishes
        (``value`` is a :class:`UnitFailure` when the unit raised).
    executor : ExecutorConfig, optional
        Default: local.
    progress : callable, optional
        ``progress(fraction, message)`` of the whole job.
    should_stop : callable, optional
        Polled between units (and, locally, at every progress report inside one); when it
        returns True the units not yet finished are abandoned.
    weights : sequence of float, optional
        Each item's expected cost (e.g. predicted seconds): the job's fraction done is the
        finished items' weight, plus the running one's share of its own, over the total,
        so that a steady pace means a steady fraction (default: equal weights).

    Returns
    -------
    bool
        True when every unit finished, False when the run was stopped first.
    """
    executor = executor or ExecutorConfig()
    executor.validate()
    report = progress or (lambda fraction, message: None)
    stop = should_stop or (lambda: False)
    if executor.kind == "ray":
        return _run_on_ray(fn, list(items), shared, on_result, executor, report, stop,
                           unit_shares(len(items), weights))
    share = unit_shares(len(items), weights)
    before = [sum(share[:i]) for i in range(len(items))]
    for i, item in enumerate(items):
        if stop():
            return False

        def inner(fraction: float, message: str, i: int = i) -> None:
            report(before[i] + share[i] * min(max(fraction, 0.0), 1.0), message)
            if stop():
                raise StopRequested

        try:
            value = fn(shared, item, inner)
        except StopRequested:
            return False
        except Exception as exc:  # a bug or a fault in one unit: report it, go on
            value = UnitFailure(str(exc) if isinstance(exc, GDAError) else
                                f"{type(exc).__name__}: {exc}", traceback.format_exc())
        on_result(item, value)
    return True


def unit_shares(n: int, weights: Sequence[float] | None) -> list[float]:
    """Each of ``n`` units' share of the job: ``weights`` normalised (equal shares when
    absent, of the wrong length, or not all finite and positive).

    Examples
    --------
    >>> unit_shares(2, None), unit_shares(2, [1.0, 3.0]), unit_shares(2, [1.0, float("nan")])
    ([0.5, 0.5], [0.25, 0.75], [0.5, 0.5])
    """
    if (weights is None or len(weights) != n
            or not all(math.isfinite(w) and w > 0 for w in weights)):
        return [1.0 / max(n, 1)] * n
    total = float(sum(weights))
    return [float(w) / total for w in weights]


def _run_on_ray(fn: UnitFn, items: list[Any], shared: Any,
                on_result: Callable[[Any, Any], None], executor: ExecutorConfig,
                report: Callable[[float, str], None], stop: Callable[[], bool],
                share: list[float]) -> bool:
    ray = import_ray()
    if ray.is_initialized():  # the caller connected Ray itself: use that connection
        return _submit(ray, fn, items, shared, on_result, executor, report, stop, share)
    report(0.0, "starting Ray" if executor.address is None else
           f"connecting to the Ray cluster at {executor.address}")
    with ray_session(ray, executor.address, executor.token_file,
                     py_modules=[str(Path(__file__).resolve().parents[1])]):
        return _submit(ray, fn, items, shared, on_result, executor, report, stop, share)


def _submit(ray: Any, fn: UnitFn, items: list[Any], shared: Any,
            on_result: Callable[[Any, Any], None], executor: ExecutorConfig,
            report: Callable[[float, str], None], stop: Callable[[], bool],
            share: list[float]) -> bool:
    threads = _task_cpus(ray, executor.num_cpus)
    task = ray.remote(num_cpus=threads, max_retries=0)(_ray_unit)
    shared_ref = ray.put(shared)
    pending = {task.remote(fn, shared_ref, item, threads): (i, item)
               for i, item in enumerate(items)}
    done, fraction = 0, 0.0
    report(0.0, f"Ray: {len(items)} units submitted, {threads} CPU(s) each")
    while pending:
        if stop():
            _cancel(ray, pending)
            return False
        try:
            ready, _ = ray.wait(list(pending), num_returns=1, timeout=0.5)
        except BaseException:  # Ctrl-C: do not leave tasks running on a cluster
            _cancel(ray, pending)
            raise
        for ref in ready:
            i, item = pending.pop(ref)
            try:
                value = ray.get(ref)
            except Exception as exc:  # the worker died, or the task could not run
                value = UnitFailure(f"the Ray task failed: {_first_line(exc)}",
                                    traceback.format_exc())
            done, fraction = done + 1, fraction + share[i]
            on_result(item, value)
            report(min(fraction, 1.0), f"Ray: {done} of {len(items)} units finished")
    return True


def _cancel(ray: Any, pending: dict[Any, Any]) -> None:
    for ref in pending:
        try:
            ray.cancel(ref, force=True)
        except Exception:  # already finished or gone: nothing to cancel
            pass


def _ray_unit(fn: UnitFn, shared: Any, item: Any, threads: int) -> Any:
    """The Ray task: one unit, with torch using ``threads`` threads (the CPUs reserved)."""
    import torch

    torch.set_num_threads(threads)
    try:
        return fn(shared, item, lambda fraction, message: None)
    except Exception as exc:
        return UnitFailure(str(exc) if isinstance(exc, GDAError) else
                           f"{type(exc).__name__}: {exc}", traceback.format_exc())


def _task_cpus(ray: Any, wanted: int | None) -> int:
    """CPUs (and torch threads) per task: ``wanted``, else as many threads as torch uses
    here, at most the CPUs of the cluster's largest node (a task that no node can hold would
    wait forever)."""
    import torch

    largest = max((int(n.get("Resources", {}).get("CPU", 0)) for n in ray.nodes()
                   if n.get("Alive")), default=0)
    if wanted is not None:
        if largest and wanted > largest:
            raise ConfigError(f"no node of the Ray cluster has {wanted} CPUs (the largest "
                              f"has {largest}); ask for fewer CPUs per task")
        return wanted
    threads = max(1, torch.get_num_threads())
    return min(threads, largest) if largest else threads


def import_ray() -> Any:
    """The ``ray`` module, or a :class:`ConfigError` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ConfigError("the ray executor needs Ray: pip install -r requirements-ray.txt "
                          "(or use --executor local)") from None
    return ray


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
