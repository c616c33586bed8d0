"""Shared fixtures: small synthetic datasets and the path to ../shared/data."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from gda_core.datasets.base import DatasetSplits, ImageDataset

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"

# Keep torch to the two cores of the CI machine and quiet.
os.environ.setdefault("OMP_NUM_THREADS", "2")
# AppTest, workers and pytest share the cores: the product's OpenMP waiting (a 10 us spin,
# see gda_core/_compat/threads.py), which the workers and servers started here inherit
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GOMP_SPINCOUNT", "1000")
# The fast paths the models measure (gda_core.fastpath) are kept in a file of this session,
# not in the user's ~/.cache: set here, before any test or doctest, removed at the end.
FAST_PATH_FILE = Path(tempfile.gettempdir()) / f"gda-test-fastpath-{os.getpid()}.json"
os.environ.setdefault("GDA_FAST_PATH_FILE", str(FAST_PATH_FILE))


def pytest_sessionfinish(session, exitstatus) -> None:
    FAST_PATH_FILE.unlink(missing_ok=True)

# Property tests: derandomised (the same examples every run) in CI, random locally.
settings.register_profile("ci", derandomize=True, max_examples=60, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", max_examples=40, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def shared_path(name: str) -> Path:
    """``../shared/data/<name>``, or skip the test with a reason when it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"../shared/data/{name} is absent (test data lives outside the product)")
    return path


def synthetic_dataset(counts: dict[int, int], *, size: int = 4, channels: int = 1,
                      seed: int = 0) -> ImageDataset:
    """Random uint8 images with the given number per class (classes 0..max)."""
    rng = np.random.default_rng(seed)
    n_classes = max(counts) + 1
    labels = np.concatenate([np.full(n, c) for c, n in sorted(counts.items())])
    images = rng.integers(0, 256, (len(labels), channels, size, size), dtype=np.uint8)
    # Make classes distinguishable: shift each class's brightness.
    images = (images // 4 + (labels * (192 // n_classes))[:, None, None, None]).astype(np.uint8)
    return ImageDataset(images, labels, tuple(f"c{i}" for i in range(n_classes)),
                        {"name": "synthetic"})


@pytest.fixture(scope="session", autouse=True)
def decoded_cache_dir(tmp_path_factory) -> Iterator[Path]:
    """The decoded-dataset cache of the whole session (``GDA_CACHE_DIR``), so that no test,
    server or worker writes into the real ``~/.cache``; set before any other fixture."""
    folder = tmp_path_factory.mktemp("decoded-cache")
    saved = os.environ.get("GDA_CACHE_DIR")
    os.environ["GDA_CACHE_DIR"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("GDA_CACHE_DIR", None)
    else:
        os.environ["GDA_CACHE_DIR"] = saved


@pytest.fixture(autouse=True)
def _decoded_cache_env(decoded_cache_dir: Path, monkeypatch) -> None:
    """Each test starts with ``GDA_CACHE_DIR`` at the session's cache, and what it changes
    (``--no-data-cache`` sets it to ``off``) is undone after it."""
    monkeypatch.setenv("GDA_CACHE_DIR", str(decoded_cache_dir))


@pytest.fixture(scope="session")
def digits_splits() -> DatasetSplits:
    from gda_core.datasets.digits import load_digits_splits

    return load_digits_splits()


@pytest.fixture
def imbalanced_xy() -> tuple[np.ndarray, np.ndarray]:
    """60 majority images against two minority classes of 8 and 6 (8x8, one channel)."""
    ds = synthetic_dataset({0: 60, 1: 8, 2: 6}, size=8)
    return ds.images, ds.labels


def finish_job(at, key: str = "compare_job", timeout: float = 300.0):
    """Wait for the background job an AppTest page started (its run id is in
    ``at.session_state[key]``) to end, then rerun the page so it shows the result; the
    run's record is returned.  The run store is the one the page uses (``GDA_RUNS_DIR``).
    """
    from gda_core.runs import RunStore, default_runs_dir, wait_for_run

    assert not at.exception, at.exception
    assert key in at.session_state, [e.value for e in at.error]
    run_id = at.session_state[key]
    record = wait_for_run(RunStore(default_runs_dir()), run_id, timeout=timeout)
    at.run()
    return record


def shown(markdown: str) -> str:
    """What Markdown source shows once rendered, as far as the tests care: backslash
    escapes (``k\\_neighbors``, the pages escape user text) are dropped."""
    import re

    return re.sub(r"\\(.)", r"\1", str(markdown))


@pytest.fixture
def store(tmp_path: Path):
    """A run store in a temporary folder; no worker it started outlives the test."""
    from gda_core.runs import RunStore
    from gda_core.runs.proc import kill_hard, pid_alive

    runs = RunStore(tmp_path / "runs")
    yield runs
    for record in runs.list_runs(limit=None):
        if record.pid not in (None, os.getpid()) and pid_alive(record.pid, record.pid_start):
            kill_hard(record.pid)


def wait_until(predicate, timeout: float = 120.0, poll: float = 0.05) -> None:
    """Poll ``predicate`` until it is true; AssertionError after ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(poll)


# ------------------------------------------------- read-only folders, even when run as root
_CAPS_THAT_IGNORE_PERMISSIONS = (1, 2, 3)
"""CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER: what lets root write a read-only folder."""


def _drop_permission_override() -> None:  # pragma: no cover - runs in the child
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for cap in _CAPS_THAT_IGNORE_PERMISSIONS:
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP: gone after exec
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def unprivileged() -> dict:
    """``subprocess`` keyword arguments that start a child for which file permissions hold.

    Root ignores them, so when the tests run as root (CI) the child keeps uid 0 but loses
    the capabilities that override permissions: a folder made :func:`read_only` is then
    read-only to it, as it is to any user.  Nothing changes for other users.
    """
    if os.geteuid() != 0:
        return {}
    return {"preexec_fn": _drop_permission_override}


def read_only(path: Path) -> None:
    """Take write permission away from ``path`` (a file or a folder); an
    :func:`unprivileged` child cannot write there (undo with ``chmod``)."""
    path.chmod(0o555 if path.is_dir() else 0o444)


def writable_again(root: Path) -> None:
    """Give write permission back under ``root`` (so pytest can remove its temp folders)."""
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o755)


def children_of(pid: int) -> set[int]:
    """Child processes of ``pid`` (Linux ``/proc``; none elsewhere)."""
    found: set[int] = set()
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found |= {int(c) for c in task.read_text().split()}
        except OSError:  # the task ended meanwhile
            pass
    return found


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie (Linux ``/proc``)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rfind(")") + 2] not in "ZX"


NUMERICAL_MODULES = frozenset({
    "test_sample_quality", "test_quality_gate", "test_metrics", "test_metrics_paper",
    "test_metrics_stats", "test_properties", "test_synth_diagnostics",
    "test_drso_algorithms", "test_drso_constraints", "test_drso_epsilon",
    "test_drso_explorer", "test_drso_fits", "test_drso_indicators", "test_drso_multi",
    "test_drso_npga", "test_drso_paper", "test_drso_study", "test_drso_surfaces",
})
"""Modules whose results hang on floating-point kernels (distances, fits, fronts): the
``numerical`` marker, which ``make test`` runs a second time with lower CPU kernels forced
(``make test-kernels``), so that a result that depends on the CPU is caught here."""


def pytest_collection_modifyitems(config, items) -> None:
    for item in items:
        module = getattr(item, "module", None)  # doctests have none
        if module is not None and module.__name__.rpartition(".")[2] in NUMERICAL_MODULES:
            item.add_marker(pytest.mark.numerical)


def import_reference(name: str) -> Any:
    """A reference implementation the tests check the product against, installed by
    ``make`` into ``<venv>/reference`` rather than among the environment's packages (some
    ship stray top-level modules, e.g. baycomp's ``tests``).  Skipped when absent, except
    in CI (``CI`` set), where it must be there."""
    import importlib.util
    import sys

    folder = Path(sys.prefix) / "reference" / name
    if not (folder / "__init__.py").is_file():
        message = (f"the reference implementation {name!r} is not installed in "
                   f"{folder.parent} (make test installs it)")
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, folder / "__init__.py", submodule_search_locations=[str(folder)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]
