"""The Ray executor against a local Ray head that the tests start and stop.

The head has its own temporary folder and its own token (Ray's token authentication), and
the module runs in a home folder of its own, so that what a private Ray instance leaves in
``~/.ray`` would be seen (and a user's real home is never touched).

Skipped when Ray is not installed, unless GDA_REQUIRE_RAY=1 (set by .ci/run), where it
fails: CI must test the scale-out path.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gda_core.cli import main
from gda_core.runs.executors import ExecutorConfig, UnitFailure, run_units

pytestmark = [pytest.mark.ray, pytest.mark.slow]

try:
    import ray
except ImportError:  # pragma: no cover - depends on the install
    if os.environ.get("GDA_REQUIRE_RAY") == "1":
        pytest.fail("GDA_REQUIRE_RAY=1 but Ray is not installed (pip install -r "
                    "requirements-ray.txt)", pytrace=False)
    pytest.skip("Ray is not installed (pip install -r requirements-ray.txt)",
                allow_module_level=True)

RAY = str(Path(sys.executable).with_name("ray"))
TOKEN = "gda-test-" + secrets.token_hex(16)
AUTH_ENV = ("RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "RAY_AUTH_TOKEN_PATH", "RAY_ADDRESS",
            "RAY_gcs_server_port_wait_time_s")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Iterator[Path]:
    """A home folder of the module's own, with none of Ray's variables set."""
    path = tmp_path_factory.mktemp("home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HOME", str(path))
        for name in AUTH_ENV:
            mp.delenv(name, raising=False)
        yield path


@pytest.fixture(scope="module")
def head(home) -> Iterator[str]:
    """A Ray head on 127.0.0.1 with 2 CPUs, its own temporary folder and its own token
    (:data:`TOKEN`, in its environment only), stopped after the module's tests.

    ``ray start --block`` stays in the foreground: ending it stops this head and nothing
    else (``ray stop`` would stop every Ray instance on the machine)."""
    port = _free_port()
    temp = Path(tempfile.mkdtemp(prefix="gda-ray-test-", dir="/tmp"))
    proc = subprocess.Popen(
        [RAY, "start", "--head", "--block", "--num-cpus", "2", "--port", str(port),
         "--node-ip-address", "127.0.0.1", "--include-dashboard=false",
         "--disable-usage-stats", "--temp-dir", str(temp)],
        env={**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while not (temp / "ray_current_cluster").exists():  # written once the head is up
            assert proc.poll() is None, "the test's Ray head did not start"
            assert time.monotonic() < deadline, "the test's Ray head took over 180 s"
            time.sleep(0.2)
        yield f"127.0.0.1:{port}"
    finally:
        if ray.is_initialized():
            ray.shutdown()
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(temp, ignore_errors=True)


@pytest.fixture(scope="module")
def token_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("token") / "auth_token"
    path.write_text(TOKEN + "\n")
    return path


SMALL = ["compare", "--dataset", "digits", "--ratio", "0.2", "--minority", "3,8",
         "--majority-count", "60", "--test-per-class", "10", "--epochs", "2", "--width", "8",
         "--methods", "baseline,smote,dcgan", "--param", "smote.k_neighbors=3",
         "--param", "dcgan.epochs=1", "--param", "dcgan.min_steps=30",
         "--param", "dcgan.width=8", "--param", "dcgan.latent_dim=8",
         "--no-sample-quality", "--quiet"]
ONE = [*SMALL[:SMALL.index("--methods")], "--methods", "baseline", "--seeds", "0", "--quiet"]


def test_private_instance_leaves_no_token_and_clusters_are_joined_with_theirs(
        home, head, token_file, tmp_path):
    """A private instance (``--executor ray``), then the test's head joined by address with
    its token, in the same process and home: the private run leaves nothing in ``~/.ray``
    nor in the environment, a stale token there breaks nothing, and every run gives the
    local numbers."""
    local, private, joined = (tmp_path / f"{n}.json" for n in ("local", "private", "joined"))
    assert main([*SMALL, "--seeds", "0-1", "--json", str(local)]) == 0
    assert main([*SMALL, "--seeds", "0", "--json", str(private), "--executor", "ray"]) == 0
    assert not (home / ".ray" / "auth_token").exists()
    assert all(os.environ.get(name) is None for name in AUTH_ENV)
    (home / ".ray").mkdir(exist_ok=True)
    (home / ".ray" / "auth_token").write_text("stale-token-of-an-earlier-private-run")
    assert main([*SMALL, "--seeds", "0-1", "--json", str(joined), "--executor", "ray",
                 "--ray-address", head, "--ray-token-file", str(token_file)]) == 0
    a, p, b = (json.loads(f.read_text()) for f in (local, private, joined))
    assert [(r["method"], r["seed"]) for r in b["runs"]] == \
        [(m, s) for s in (0, 1) for m in ("baseline", "smote", "dcgan")]
    for x, y in zip(a["runs"], b["runs"], strict=True):
        assert x["error"] is None and y["error"] is None
        assert x["metrics"] == y["metrics"], (x["method"], x["seed"])
        assert x["confusion_matrix"] == y["confusion_matrix"]
        assert x["n_generated"] == y["n_generated"]
    assert a["synthetic_samples"] == b["synthetic_samples"]
    for x, y in zip(a["runs"][:3], p["runs"], strict=True):  # seed 0 on the private one
        assert y["error"] is None and x["metrics"] == y["metrics"], x["method"]


def test_a_missing_or_wrong_token_is_a_clear_error(head, tmp_path, capfd):
    started = time.monotonic()
    code = main([*ONE, "--executor", "ray", "--ray-address", head])
    assert time.monotonic() - started < 15  # said in seconds, not after Ray's 20 tries
    err = capfd.readouterr().err
    assert code == 2
    assert "sent no token" in err or "refused no token" in err, err
    assert "--ray-token-file" in err and "InvalidAuthToken" not in err, err
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-token")
    code = main([*ONE, "--executor", "ray", "--ray-address", head,
                 "--ray-token-file", str(wrong)])
    err = capfd.readouterr().err
    assert code == 2
    assert f"the token in {wrong}" in err and "ray get-auth-token" in err, err


def test_an_unreadable_token_file_is_refused_before_any_work(head, tmp_path, capsys):
    code = main([*ONE, "--executor", "ray", "--ray-address", head,
                 "--ray-token-file", str(tmp_path / "missing")])
    assert code == 2
    assert "could not read the Ray token file" in capsys.readouterr().err
    code = main([*ONE, "--executor", "ray", "--ray-token-file", str(tmp_path / "missing")])
    assert code == 2
    assert "only used to join a cluster" in capsys.readouterr().err


def _raises(shared, item, report):
    if item == "bad":
        raise RuntimeError("this unit is broken")
    if item == "dies":
        os._exit(3)  # the worker process dies
    return f"{shared}:{item}"


def test_a_failing_or_dying_unit_is_reported_and_the_others_go_on(head, token_file):
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # not importable there
    got = {}
    assert run_units(_raises, ["a", "bad", "dies", "b"], shared="x", on_result=got.__setitem__,
                     executor=ExecutorConfig("ray", head, token_file=str(token_file)))
    assert got["a"] == "x:a" and got["b"] == "x:b"
    assert isinstance(got["bad"], UnitFailure) and "this unit is broken" in got["bad"].message
    assert isinstance(got["dies"], UnitFailure) and "Ray task failed" in got["dies"].message


def test_an_unreachable_cluster_is_a_clear_error(capsys):
    port = _free_port()  # nothing listens there
    code = main([*ONE, "--executor", "ray", "--ray-address", f"127.0.0.1:{port}"])
    assert code == 2
    assert "could not start or reach Ray" in capsys.readouterr().err


def test_more_cpus_per_task_than_any_node_has_is_a_clear_error(head, token_file, capsys):
    code = main([*ONE, "--executor", "ray", "--ray-address", head, "--ray-cpus", "64",
                 "--ray-token-file", str(token_file)])
    assert code == 2
    assert "no node of the Ray cluster has 64 CPUs (the largest has 2)" in capsys.readouterr().err
