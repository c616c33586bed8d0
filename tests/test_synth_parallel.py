"""Per-class GAN models trained at once in worker processes (``n_jobs``).

Each model trains in a process of its own with an equal share of the torch threads, so a
fit with ``n_jobs=2`` on 2 threads must give exactly what training the models one after
another with 1 thread gives: the same weights, history, samples and callbacks.
"""

from __future__ import annotations

import contextlib
import math
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from conftest import children_of, running
from conftest_synth import fast_params, tiny_xy
from synth_for_tests import POISONED_CLASS_SIZE, BrokenDCGAN, DivergingDCGAN, DyingDCGAN

from gda_core.errors import ConfigError, GDAError
from gda_core.synthesizers import SYNTHESIZERS

PER_CLASS = [name for name, cls in SYNTHESIZERS.items()
             if any(p.name == "n_jobs" for p in cls.params)]


@pytest.fixture
def threads():
    """Set torch's thread count for one test, then put it back."""
    before = torch.get_num_threads()
    yield torch.set_num_threads
    torch.set_num_threads(before)


def fit_recording(synth: Any, X: np.ndarray, y: np.ndarray,
                  stop_after: int | None = None) -> tuple[list, list]:
    """Fit with a callback and ``on_samples`` that record what they get; the callback
    asks to stop after ``stop_after`` events."""
    events: list[dict] = []
    shown: list[tuple[Any, int, np.ndarray]] = []

    def callback(event: dict) -> bool:
        events.append(event)
        return stop_after is None or len(events) < stop_after

    def on_samples(step: int, images: np.ndarray) -> None:
        shown.append((synth.history_[-1].get("class"), step, images))

    synth.fit(X, y, callback=callback, on_samples=on_samples, sample_every=4)
    return events, shown


def without_time(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "seconds"} for e in history]


def test_the_per_class_synthesizers_have_n_jobs_and_the_conditional_ones_do_not():
    assert set(PER_CLASS) >= {"gan", "dcgan", "madgan"}
    assert all(not SYNTHESIZERS[name].conditional for name in PER_CLASS)
    assert "cgan" not in PER_CLASS


@pytest.mark.parametrize("name", ["dcgan", "madgan"])
def test_two_processes_give_what_one_thread_gives_in_turn(name, threads):
    X, y = tiny_xy()
    params = fast_params(name, epochs=3)
    threads(2)  # each of the two processes gets one thread
    together = SYNTHESIZERS[name](random_state=0, n_jobs=2, **params)
    events2, shown2 = fit_recording(together, X, y)
    threads(1)
    in_turn = SYNTHESIZERS[name](random_state=0, n_jobs=1, **params)
    events1, shown1 = fit_recording(in_turn, X, y)

    assert together.workers_ == 2 and in_turn.workers_ == 1
    assert together.classes_ == in_turn.classes_ == [1, 2]
    assert without_time(together.history_) == without_time(in_turn.history_)
    assert [e["class"] for e in together.history_] == sorted(e["class"]
                                                             for e in together.history_)
    for c in (1, 2):  # the same steps reached the callback, each model's in order
        assert (without_time([e for e in events2 if e["class"] == c])
                == without_time([e for e in events1 if e["class"] == c]))
        assert ([(s, i.tobytes()) for k, s, i in shown2 if k == c]
                == [(s, i.tobytes()) for k, s, i in shown1 if k == c])
    assert len(shown2) == len(shown1) and len(events2) == len(events1)
    np.testing.assert_array_equal(together.sample(16, [1] * 8 + [2] * 8),
                                  in_turn.sample(16, [1] * 8 + [2] * 8))
    for c in (1, 2):
        for a, b in zip(together._nets[c][1].state_dict().values(),
                        in_turn._nets[c][1].state_dict().values(), strict=True):
            assert torch.equal(a, b)
    assert together.real_diversity_ == in_turn.real_diversity_
    assert not multiprocessing.active_children()


def test_a_stop_ends_every_model_in_progress_and_starts_no_other(threads):
    X, y = tiny_xy(counts=(24, 10, 8, 9))
    threads(2)
    synth = SYNTHESIZERS["dcgan"](random_state=0, n_jobs=2,
                                  **fast_params("dcgan", epochs=1, min_steps=400))
    events, _ = fit_recording(synth, X, y, stop_after=6)
    assert synth.stopped_early_ and len(events) >= 6
    assert synth.classes_ == [1, 2]  # class 3 never started
    steps = {c: max(e["step"] for e in synth.history_ if e["class"] == c) for c in (1, 2)}
    assert all(s < 400 for s in steps.values()), steps
    assert synth.sample(4, 1).shape == (4, 1, 8, 8)  # what they learnt is kept
    assert not multiprocessing.active_children()


def test_a_diverging_model_stops_the_others_and_raises_with_every_history_kept(threads):
    X, y = tiny_xy(counts=(24, 10, POISONED_CLASS_SIZE))
    threads(2)
    synth = DivergingDCGAN(random_state=0, n_jobs=2,
                           **fast_params("dcgan", epochs=1, min_steps=2000))
    with pytest.raises(GDAError, match=r"training diverged: .* for class 2; lower the "
                                       r"learning rates"):
        synth.fit(X, y)
    last = [e for e in synth.history_ if e["class"] == 2][-1]
    assert not all(math.isfinite(last[k]) for k in ("d_loss", "g_loss"))
    other = [e for e in synth.history_ if e["class"] == 1]
    assert other and other[-1]["step"] < 2000  # stopped, not trained to the end
    classes = [e["class"] for e in synth.history_]
    assert classes == sorted(classes)
    with pytest.raises(GDAError, match="not trained yet"):  # no half-trained model left
        synth.sample(2, 1)
    assert not multiprocessing.active_children()


def test_a_killed_worker_process_is_a_clear_error_and_the_others_stop(threads):
    X, y = tiny_xy()
    threads(2)
    synth = DyingDCGAN(random_state=0, n_jobs=2,
                       **fast_params("dcgan", epochs=1, min_steps=100_000))
    start = time.monotonic()
    with pytest.raises(GDAError, match=r"^the process training DCGAN's model of class 1 "
                                       r"ended without a result \(killed by SIGKILL"):
        synth.fit(X, y)
    # noticed while class 2's worker kept sending steps (for minutes, were it not stopped)
    assert time.monotonic() - start < 60
    assert {e["class"] for e in synth.history_} == {1, 2}
    with pytest.raises(GDAError, match="not trained yet"):
        synth.sample(2, 1)
    assert not multiprocessing.active_children()


def test_an_error_in_a_worker_is_one_line_naming_the_class(threads):
    X, y = tiny_xy()
    threads(2)
    synth = BrokenDCGAN(random_state=0, n_jobs=2, **fast_params("dcgan", epochs=3))
    with pytest.raises(GDAError) as raised:
        synth.fit(X, y)
    assert re.fullmatch(r"training DCGAN's model of class \d failed: RuntimeError: a bug in "
                        r"the worker", str(raised.value))
    assert not multiprocessing.active_children()


def test_pretraining_then_the_classes_at_once(threads):
    X, y = tiny_xy()
    threads(2)
    synth = SYNTHESIZERS["dcgan"](random_state=0, n_jobs=2, pretrain="all", pretrain_steps=5,
                                  **fast_params("dcgan", epochs=3))
    synth.fit(X, y)
    phases = [e.get("phase", e.get("class")) for e in synth.history_]
    assert phases == ["pretrain"] * 5 + [1] * 3 + [2] * 3
    assert synth.classes_ == [1, 2] and synth.workers_ == 2
    assert synth.sample(4, 2).shape == (4, 1, 8, 8)


def test_an_exception_from_the_callback_ends_the_processes_and_propagates(threads):
    class Stop(Exception):
        pass

    def callback(event: dict) -> None:
        raise Stop

    X, y = tiny_xy()
    threads(2)
    synth = SYNTHESIZERS["dcgan"](random_state=0, n_jobs=2,
                                  **fast_params("dcgan", epochs=1, min_steps=5000))
    with pytest.raises(Stop):
        synth.fit(X, y, callback=callback)
    assert not multiprocessing.active_children()
    with pytest.raises(GDAError, match="not trained yet"):
        synth.sample(2, 1)


def test_one_class_or_n_jobs_1_trains_here():
    X, y = tiny_xy(counts=(24, 10))
    synth = SYNTHESIZERS["dcgan"](random_state=0, n_jobs=4, **fast_params("dcgan"))
    synth.fit(X, y)
    assert synth.workers_ == 1 and synth.classes_ == [1]


@pytest.mark.parametrize("bad", [0, -1, 65, 1.5, "two"])
def test_n_jobs_is_checked_at_fit(bad):
    X, y = tiny_xy()
    with pytest.raises(ConfigError, match="n_jobs"):
        SYNTHESIZERS["dcgan"](n_jobs=bad, **fast_params("dcgan")).fit(X, y)


WORKER_PARENT = textwrap.dedent("""
    import sys
    import numpy as np
    sys.path[:0] = [{tests!r}, {root!r}]
    from conftest_synth import fast_params, tiny_xy
    from gda_core.synthesizers import DCGAN
    if __name__ == "__main__":
        X, y = tiny_xy()
        DCGAN(n_jobs=2, **fast_params("dcgan", epochs=1, min_steps=100_000)).fit(
            X, y, callback=lambda e: print(e["class"], e["step"], flush=True))
""")


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc")
def test_worker_processes_end_when_their_parent_is_killed(tmp_path):
    tests = str(Path(__file__).resolve().parent)
    script = tmp_path / "parent.py"
    script.write_text(WORKER_PARENT.format(tests=tests, root=str(Path(tests).parent)))
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
    workers: set[int] = set()
    try:
        seen: set[str] = set()
        assert parent.stdout is not None
        while len(seen) < 2:  # both classes' models are training
            line = parent.stdout.readline()
            assert line, "the parent ended before both models trained"
            seen.add(line.split()[0])
        workers = children_of(parent.pid)  # the two workers (and spawn's resource tracker)
        assert len(workers) >= 2
        os.kill(parent.pid, signal.SIGKILL)  # the parent alone, not its process group
        parent.wait()
        deadline = time.monotonic() + 30
        alive = set(workers)
        while alive and time.monotonic() < deadline:
            alive = {p for p in alive if running(p)}
            time.sleep(0.2)
        assert not alive, f"worker processes {alive} outlived their parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()
        for pid in workers:  # whatever outlived the parent (a failed test) goes now
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
