"""Connect to Ray for one job, without leaving anything behind that breaks another instance.

Ray (2.5x and later) turns token authentication on for every cluster that ``ray.init()``
starts: the token is written to ``~/.ray/auth_token`` and ``RAY_AUTH_MODE=token`` is set in
the process's environment.  Left alone, that file makes every later ``ray start --head`` on
the machine demand it, while a driver that joins a cluster by its address never sends it,
so a user who once ran ``--executor ray`` could no longer reach another Ray instance.

:func:`ray_session` keeps each kind of connection to itself:

* **private instance** (``address=None``): a new Ray instance on this machine, bound to
  127.0.0.1, with its own temporary folder and a fresh random token that lives only in the
  environment of this process and its Ray processes (never on disk); the folder is removed
  and the environment restored when the job ends.
* **a cluster** (``"auto"``, ``"HOST:6379"``, ``"ray://HOST:10001"``): joined with the
  cluster's token when one is given, by ``token_file`` (``--ray-token-file``) or Ray's own
  ``RAY_AUTH_TOKEN`` / ``RAY_AUTH_TOKEN_PATH``; no token given, Ray's own rules apply (for
  ``"auto"``, ``~/.ray/auth_token`` when it exists).  A cluster that refuses the token, or
  asks for one that was not given, is a :class:`~gda_core.errors.GDAError` saying so.

Ray's own guidance on securing a cluster: https://docs.ray.io/en/latest/ray-security/
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import socket
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from gda_core.errors import ConfigError, GDAError

AUTH_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS",
            "RAY_gcs_server_port_wait_time_s")
"""Environment variables a connection sets for itself and restores afterwards."""

JOIN_RETRIES = 6
"""Seconds (one try each) Ray spends reaching a cluster whose port answers, instead of its
default 20: a cluster that answers but refuses the connection (most often a missing or
wrong token) is said after about 6 s."""

_AUTH_REFUSED = ("InvalidAuthToken", "Unauthenticated", "AuthenticationError")
"""What Ray's log says when a cluster refuses a driver's token (or its lack of one)."""

TOKEN_HELP = ("give the cluster's token with --ray-token-file PATH (on the head node, `ray "
              "get-auth-token` prints it) or set RAY_AUTH_TOKEN; see "
              "https://docs.ray.io/en/latest/ray-security/token-auth.html")
"""How to give a cluster's token, for messages."""


def read_token_file(path: str | os.PathLike[str]) -> str:
    """The authentication token stored in ``path`` (surrounding white space removed).

    Raises
    ------
    ConfigError
        When the file cannot be read or holds no token.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "token"
    >>> _ = p.write_text("abc123\\n")
    >>> read_token_file(p)
    'abc123'
    """
    try:
        token = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"could not read the Ray token file {str(path)!r}: "
                          f"{getattr(exc, 'strerror', None) or exc}") from None
    if not token or any(c.isspace() for c in token):
        raise ConfigError(f"the Ray token file {str(path)!r} holds no token (one line "
                          "without spaces, as `ray get-auth-token` prints it)")
    return token


@contextlib.contextmanager
def _environment(values: dict[str, str | None]) -> Iterator[None]:
    """Set (or, for None, remove) the :data:`AUTH_ENV` variables; restore them after, and
    make Ray reread them (its token and its settings are cached per process)."""
    saved = {name: os.environ.get(name) for name in AUTH_ENV}
    try:
        for name in AUTH_ENV:
            _put(name, values.get(name))
        _reload_ray_auth()
        yield
    finally:
        for name, value in saved.items():
            _put(name, value)
        _reload_ray_auth()


def _put(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def _reload_ray_auth() -> None:
    """Make Ray's cached settings and token follow the environment again."""
    try:
        from ray._raylet import AuthenticationTokenLoader, Config
    except ImportError:  # an older Ray without token authentication: nothing is cached
        return
    Config.initialize("")
    AuthenticationTokenLoader.instance().reset_cache()


@contextlib.contextmanager
def _stderr_to_file() -> Iterator[Callable[[], str]]:
    """Send file descriptor 2 (where Ray's C++ core logs) to a temporary file for the
    block; yields a function that reads what was written so far."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)

        def read() -> str:
            sys.stderr.flush()
            tmp.seek(0)
            return tmp.read().decode("utf-8", errors="replace")

        try:
            yield read
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)


def _auth_values(address: str | None, token_file: str | None) -> dict[str, str | None]:
    """The :data:`AUTH_ENV` values for a connection to ``address``."""
    if address is None:  # a private instance: its own random token, never on disk
        return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    values: dict[str, str | None] = {name: os.environ.get(name) for name in AUTH_ENV}
    values["RAY_ADDRESS"] = None  # the address asked for, not one from the environment
    if address != "auto":
        values["RAY_gcs_server_port_wait_time_s"] = (
            values["RAY_gcs_server_port_wait_time_s"] or str(JOIN_RETRIES))
    if token_file is not None:
        values.update(RAY_AUTH_MODE="token", RAY_AUTH_TOKEN=read_token_file(token_file),
                      RAY_AUTH_TOKEN_PATH=None)
    elif values["RAY_AUTH_TOKEN"] or values["RAY_AUTH_TOKEN_PATH"]:
        # A token given in Ray's own variables: joining by address, Ray would not send it.
        values["RAY_AUTH_MODE"] = values["RAY_AUTH_MODE"] or "token"
    return values


def token_source(address: str | None, token_file: str | None) -> str:
    """Where the token for a connection comes from, in words (for messages)."""
    if address is None:
        return "a token of its own"
    if token_file is not None:
        return f"the token in {token_file}"
    if os.environ.get("RAY_AUTH_TOKEN"):
        return "the token in RAY_AUTH_TOKEN"
    if os.environ.get("RAY_AUTH_TOKEN_PATH"):
        return f"the token in {os.environ['RAY_AUTH_TOKEN_PATH']} (RAY_AUTH_TOKEN_PATH)"
    return "no token"


def check_reachable(address: str | None, timeout: float = 10.0) -> None:
    """Fail fast when a ``host:port`` (or ``ray://host:port``) address does not answer
    (Ray itself waits a long time for a cluster that is not there)."""
    if address is None or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"a Ray address looks like auto, HOST:6379 or ray://HOST:10001; "
                          f"got {address!r}")
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise GDAError(f"could not start or reach Ray at {address}: nothing answers there "
                       f"({exc.strerror or exc}). Start the cluster (ray start --head) or "
                       "check the address.") from None


@contextlib.contextmanager
def ray_session(ray: Any, address: str | None, token_file: str | None = None, *,
                py_modules: list[str] | None = None) -> Iterator[None]:
    """Ray connected for the block: a private instance (``address=None``) or a cluster.

    Parameters
    ----------
    ray : module
        The imported ``ray`` package.
    address : str, optional
        The cluster to join; None starts a private instance (see the module docstring).
    token_file : str, optional
        A file holding the cluster's authentication token (joining a cluster only).
    py_modules : list of str, optional
        Local packages shipped to Ray's workers (``runtime_env``).

    Raises
    ------
    GDAError
        When Ray cannot start, the cluster does not answer, or it refuses the token.
    """
    if address is None and token_file is not None:
        raise ConfigError("a Ray token file is only used to join a cluster (--ray-address)")
    check_reachable(address)
    values = _auth_values(address, token_file)
    temp_dir = (tempfile.mkdtemp(prefix="gda-ray-", dir="/tmp" if os.path.isdir("/tmp")
                                 else None) if address is None else None)
    options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                               "configure_logging": False}
    if py_modules:
        options["runtime_env"] = {"py_modules": py_modules}
    if address is None:
        options.update(_temp_dir=temp_dir, _node_ip_address="127.0.0.1")
    try:
        with _environment(values):
            with _stderr_to_file() as logged:
                try:
                    ray.init(address=address, **options)
                except Exception as exc:  # ConnectionError, RuntimeError, ...
                    raise _init_error(exc, logged(), address, token_file,
                                      getattr(ray, "__version__", "?")) from None
            try:
                yield
            finally:
                ray.shutdown()
    finally:
        if temp_dir is not None:
            shutil.rmtree(temp_dir, ignore_errors=True)


def _init_error(exc: Exception, log: str, address: str | None,
                token_file: str | None, version: str) -> GDAError:
    """The message for a failed ``ray.init``: a refused token when Ray's log says so, or
    when a cluster whose port answers would not take the connection (Ray's log goes to a
    file after a process's first connection, so it cannot always be read)."""
    where = address or "local"
    source = token_source(address, token_file)
    if any(mark in log or mark in str(exc) for mark in _AUTH_REFUSED):
        return GDAError(f"could not start or reach Ray ({where}): the cluster refused "
                        f"{source} (Ray's token authentication: the token is missing or "
                        f"wrong). To join it, {TOKEN_HELP}.")
    if address not in (None, "auto") and isinstance(exc, ConnectionError):
        return GDAError(f"could not start or reach Ray ({where}): the cluster answers but "
                        f"did not take the connection, which sent {source}. A cluster with "
                        f"Ray's token authentication refuses a missing or wrong token: "
                        f"{TOKEN_HELP}. With the right token, check that the cluster runs "
                        f"Ray {version} as here.")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return GDAError(f"could not start or reach Ray ({where}): {first}")
