"""The Ray executor against a local Ray head that the tests start and stop.

Skipped when Ray is not installed, unless GDA_REQUIRE_RAY=1 (set by .ci/run), where it
fails: CI must test the scale-out path.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def head() -> Iterator[str]:
    """A Ray head on 127.0.0.1 with 2 CPUs, stopped after the module's tests."""
    port = _free_port()
    subprocess.run([RAY, "start", "--head", "--num-cpus", "2", "--port", str(port),
                    "--node-ip-address", "127.0.0.1", "--include-dashboard=false",
                    "--disable-usage-stats"], check=True, capture_output=True, timeout=180)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([RAY, "stop", "--force"], capture_output=True, timeout=120)


SMALL = ["compare", "--dataset", "digits", "--ratio", "0.2", "--minority", "3,8",
         "--majority-count", "60", "--test-per-class", "10", "--epochs", "2", "--width", "8",
         "--methods", "baseline,smote,dcgan", "--param", "smote.k_neighbors=3",
         "--param", "dcgan.epochs=1", "--param", "dcgan.min_steps=30",
         "--param", "dcgan.width=8", "--param", "dcgan.latent_dim=8",
         "--seeds", "0-2", "--no-sample-quality", "--quiet"]


def test_cli_ray_executor_gives_the_local_numbers(head, tmp_path, capsys):
    local, on_ray = tmp_path / "local.json", tmp_path / "ray.json"
    assert main([*SMALL, "--json", str(local)]) == 0
    assert main([*SMALL, "--json", str(on_ray), "--executor", "ray",
                 "--ray-address", head]) == 0
    a, b = json.loads(local.read_text()), json.loads(on_ray.read_text())
    assert [(r["method"], r["seed"]) for r in b["runs"]] == \
        [(m, s) for s in (0, 1, 2) for m in ("baseline", "smote", "dcgan")]
    for x, y in zip(a["runs"], b["runs"], strict=True):
        assert x["error"] is None and y["error"] is None
        assert x["metrics"] == y["metrics"], (x["method"], x["seed"])
        assert x["confusion_matrix"] == y["confusion_matrix"]
        assert x["n_generated"] == y["n_generated"]
    assert a["synthetic_samples"] == b["synthetic_samples"]


def _raises(shared, item, report):
    if item == "bad":
        raise RuntimeError("this unit is broken")
    if item == "dies":
        os._exit(3)  # the worker process dies
    return f"{shared}:{item}"


def test_a_failing_or_dying_unit_is_reported_and_the_others_go_on(head):
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # not importable there
    got = {}
    assert run_units(_raises, ["a", "bad", "dies", "b"], shared="x", on_result=got.__setitem__,
                     executor=ExecutorConfig("ray", head))
    assert got["a"] == "x:a" and got["b"] == "x:b"
    assert isinstance(got["bad"], UnitFailure) and "this unit is broken" in got["bad"].message
    assert isinstance(got["dies"], UnitFailure) and "Ray task failed" in got["dies"].message


def test_an_unreachable_cluster_is_a_clear_error(capsys):
    port = _free_port()  # nothing listens there
    code = main([*SMALL[:SMALL.index("--methods")], "--methods", "baseline", "--seeds", "0",
                 "--quiet", "--executor", "ray", "--ray-address", f"127.0.0.1:{port}"])
    assert code == 2
    assert "could not start or reach Ray" in capsys.readouterr().err


def test_more_cpus_per_task_than_any_node_has_is_a_clear_error(head, capsys):
    code = main([*SMALL[:SMALL.index("--methods")], "--methods", "baseline", "--seeds", "0",
                 "--quiet", "--executor", "ray", "--ray-address", head, "--ray-cpus", "64"])
    assert code == 2
    assert "no node of the Ray cluster has 64 CPUs (the largest has 2)" in capsys.readouterr().err
