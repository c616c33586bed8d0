"""Train several models at once, each in its own process (``n_jobs`` of per-class GANs).

On a CPU a small GAN's step is a string of short operations that two torch threads share
poorly, so two models trained side by side in one-thread processes get through more steps
per second than the same models trained one after the other with two threads each (see the
README's *Benchmarks*).  :func:`run_in_processes` runs one task per model in processes
started with ``spawn`` (a fresh interpreter: no OpenMP thread pool or CUDA state carried
over from the parent), at most ``workers`` at a time, each with ``threads`` torch threads.

A task is ``target(payload, send, should_stop) -> value``: ``send(body)`` passes a message
to the parent, where ``on_message(index, body)`` handles it in arrival order (returning
``False`` asks every task to stop: ``should_stop()`` turns True there and no further task
starts); the task's return value comes back once it ends.  Each process writes to a pipe
of its own, so one that dies (killed, out of memory) is an end of file there, at once and
even mid-message.  A task that raises, or a process that dies, fails the whole call with a
:class:`~gda_core.errors.GDAError` once the other tasks have stopped; an exception raised by
``on_message`` (a stop request, Ctrl-C) kills every process and propagates.  A process
whose parent is gone stops at its next ``should_stop()``.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import traceback
from collections.abc import Callable, Sequence
from multiprocessing import connection
from typing import Any

from gda_core.errors import GDAError

Send = Callable[[Any], None]
Task = Callable[[Any, Send, Callable[[], bool]], Any]

_POLL_S = 0.2


def run_in_processes(target: Task, payloads: Sequence[Any], *, workers: int, threads: int,
                     on_message: Callable[[int, Any], bool | None],
                     describe: Callable[[int], str] = lambda i: f"task {i}") -> list[Any]:
    """Run ``target`` on every payload in worker processes; return their values in order.

    Parameters
    ----------
    target : callable
        A module-level function (it is pickled by reference):
        ``target(payload, send, should_stop) -> value``.
    payloads : sequence
        One per task, picklable; tasks start in this order.
    workers : int
        Processes at a time (at least 1).
    threads : int
        torch threads in each process.
    on_message : callable
        ``on_message(index, body)`` in this thread for each message a task sends;
        ``False`` asks all tasks to stop.
    describe : callable
        ``describe(index)``: how an error message names a task (e.g. ``"class 3"``).

    Returns
    -------
    list
        Each task's value; None for tasks never started because of a stop.

    Raises
    ------
    GDAError
        A task raised or its process died (after the other tasks stopped).
    """
    context = multiprocessing.get_context("spawn")
    stop = context.Event()
    results: list[Any] = [None] * len(payloads)
    running: dict[int, tuple[Any, Any]] = {}  # index -> (process, its pipe's reading end)
    failure: str | None = None
    started = 0
    try:
        while True:
            while (started < len(payloads) and len(running) < max(1, workers)
                   and not stop.is_set()):
                reader, writer = context.Pipe(duplex=False)
                process = context.Process(
                    target=_run_task, daemon=True, name=f"gda-{describe(started)}",
                    args=(target, payloads[started], threads, writer, stop, os.getpid()))
                try:
                    process.start()
                except OSError as exc:
                    reader.close()
                    raise GDAError(f"could not start a process to train "
                                   f"{describe(started)}: {exc}") from None
                finally:
                    writer.close()  # the worker's copy is the only one: its end is our EOF
                running[started] = (process, reader)
                started += 1
            if not running:
                break
            by_reader = {reader: index for index, (_, reader) in running.items()}
            for reader in connection.wait(list(by_reader), timeout=_POLL_S):
                index = by_reader[reader]
                try:
                    kind, body = reader.recv()
                except (EOFError, OSError):  # gone without its value: killed, out of memory
                    process = _end(*running.pop(index))
                    failure = failure or (f"the process training {describe(index)} ended "
                                          f"without a result ({_exit_text(process.exitcode)})")
                    stop.set()
                    continue
                if kind == "message":
                    if failure is None and on_message(index, body) is False:
                        stop.set()
                    continue
                _end(*running.pop(index))
                if kind == "value":
                    results[index] = body
                else:
                    failure = failure or f"training {describe(index)} failed: {body}"
                    stop.set()
    finally:  # only left running by an exception from on_message: end them now
        stop.set()
        for process, reader in running.values():
            if process.is_alive():
                process.kill()
            _end(process, reader)
    if failure is not None:
        raise GDAError(failure)
    return results


def _run_task(target: Task, payload: Any, threads: int, writer: Any, stop: Any,
              parent: int) -> None:
    """A worker process: ``target`` with ``threads`` torch threads; its messages, then its
    value or error, go down ``writer`` as ``(kind, body)``."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which ends us
    import torch

    torch.set_num_threads(max(1, int(threads)))

    lost = [False]  # the parent is gone (its end of the pipe closed)

    def send(body: Any) -> None:
        try:
            writer.send(("message", body))
        except OSError:
            lost[0] = True

    def should_stop() -> bool:
        return lost[0] or stop.is_set() or os.getppid() != parent

    try:
        last: tuple[str, Any] = ("value", target(payload, send, should_stop))
    except GDAError as exc:
        last = ("error", str(exc))
    except BaseException as exc:  # report it: the parent only sees what we send
        traceback.print_exc()  # the details go to the log (a worker's stderr)
        last = ("error", f"{type(exc).__name__}: {exc}")
    with contextlib.suppress(OSError):  # the parent may be gone
        writer.send(last)
    writer.close()


def _end(process: Any, reader: Any, timeout: float = 10.0) -> Any:
    """Close our end of a worker's pipe and wait for it to exit (killed if it hangs);
    returns the process."""
    reader.close()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
    return process


def _exit_text(code: int | None) -> str:
    """``exit code 3``, ``killed by SIGKILL (out of memory?)``."""
    if code is None or code >= 0:
        return f"exit code {code}"
    with contextlib.suppress(ValueError):
        name = signal.Signals(-code).name
        return f"killed by {name}" + (" (out of memory?)" if name == "SIGKILL" else "")
    return f"killed by signal {-code}"
