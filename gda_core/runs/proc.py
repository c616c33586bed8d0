"""Is a worker process still alive?  Tells a live worker from a zombie or a reused pid."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path


def _proc_stat(pid: int) -> list[str] | None:
    """Fields 3.. of ``/proc/<pid>/stat`` (state first), or ``None`` if unreadable."""
    try:
        text = Path(f"/proc/{int(pid)}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may contain spaces.
    return text[text.rfind(")") + 2:].split()


def process_start_time(pid: int) -> int | None:
    """Start time of a process in clock ticks since boot (Linux), else ``None``."""
    fields = _proc_stat(pid)
    if fields is None or len(fields) < 20:
        return None
    return int(fields[19])


def pid_alive(pid: int | None, start_time: int | None = None) -> bool:
    """Whether process ``pid`` exists, is not a zombie and (if given) started at ``start_time``.

    ``start_time`` (from :func:`process_start_time` when the worker was launched) guards
    against the pid having been reused by another process after the worker died.
    """
    if pid is None or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, but belongs to another user
    fields = _proc_stat(pid)
    if fields is None:
        return not Path("/proc/self/stat").exists()  # no procfs: trust kill(0)
    if fields[0] in ("Z", "X"):
        return False
    return start_time is None or int(fields[19]) == start_time


def send_signal(pid: int, sig: int, *, group: bool = False) -> bool:
    """Send ``sig`` to ``pid`` (or to its process group if it leads one); False if gone."""
    try:
        if group and os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except ProcessLookupError:
        return False
    return True


def kill_hard(pid: int) -> None:
    """SIGKILL a worker and any children in its process group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        send_signal(pid, signal.SIGKILL, group=True)
