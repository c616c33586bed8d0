"""Time to first feedback: from starting a training run to its first progress event,
first logged step and first sample grid in the run store.

Three ways a run starts, each timed in fresh rounds:

* ``cli``   ``python -m gda_core train`` started as a user would (a fresh interpreter and
            run store); it checks the settings and data while a worker it started at
            once imports torch, then hands that worker the run;
* ``warm``  what the dashboard's Train button does: the run is created and handed to a
            worker that was started (and finished its imports) beforehand
            (:class:`gda_core.runs.StandbyWorkers`; the page keeps one ready);
* ``eager`` as ``warm``, but the next warm worker starts the moment the run is handed
            over (``respawn_delay=0``, as the dashboard did before: its imports then
            compete with the run's first steps); ``warm`` waits
            :data:`gda_core.runs.worker.RESPAWN_DELAY` seconds;
* ``cold``  the same run given to a newly started worker process (no standby), as the
            dashboard did before the warm workers;
* ``page``  the dashboard itself (``streamlit run app.py``) in headless Chromium: the
            Train page is opened and left 20 s (a user choosing settings; its warm
            worker imports meanwhile), then Train is clicked and the clock runs until the
            first sample grid is on the page (``Samples from fixed noise`` shown).  Needs
            Debian's ``chromium`` and Playwright (``requirements-dev.txt``).

The clock starts when the command starts (``cli``), when the run is created (``warm``,
``cold``: the page's Train press) or at the click (``page``); the script polls the store
every 20 ms (the page: Playwright waits on the page).  It prints
each time for every round and the medians, with the machine's load, which moves them.

    python bench/first_grid.py [--rounds 3] [--modes cli,warm,eager,cold,page] [--synthesizer dcgan]
                               [--dataset digits]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gda_core.experiments.config import DataConfig
from gda_core.experiments.train import JOB, RUN_KIND, TrainJobConfig
from gda_core.runs import RunStore, StandbyWorkers, start_worker, stop_run

STEPS = 200


def firsts(store: RunStore, run_id: str, t0: float, seen: dict[str, float]) -> None:
    """Record in ``seen`` the first time each kind of feedback is in the store."""
    run = store.get_run(run_id)
    now = time.perf_counter() - t0
    if run.summary and "progress" not in seen:
        seen["progress"] = now
    if "step" not in seen and store.last_seq(run_id) > 0:
        seen["step"] = now
    if "grid" not in seen and store.artifacts(run_id, "grid"):
        seen["grid"] = now


def worker_round(synthesizer: str, dataset: str, standby: StandbyWorkers | None) -> dict:
    """Seconds from creating the run (the Train press) to each first feedback."""
    with tempfile.TemporaryDirectory() as tmp:
        store = RunStore(Path(tmp) / "runs")
        config = TrainJobConfig(data=DataConfig(source=dataset), synthesizer=synthesizer,
                                params={"min_steps": STEPS})
        seen: dict[str, float] = {}
        t0 = time.perf_counter()
        run_id = store.create_run(RUN_KIND, config.to_dict(), name="first-grid bench")
        if standby is None:
            start_worker(store.root, run_id, JOB)
        else:
            standby.start(store.root, run_id, JOB)
        try:
            while len(seen) < 3 and time.perf_counter() - t0 < 300:
                firsts(store, run_id, t0, seen)
                time.sleep(0.02)
        finally:
            stop_run(store, run_id, timeout=2)
        return seen


def one_round(synthesizer: str, dataset: str) -> dict[str, float]:
    """Seconds from the command's start to each first feedback."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        cmd = [sys.executable, "-m", "gda_core", "train", "--dataset", dataset, "--synthesizer",
               synthesizer, "--runs-dir", str(runs), "--quiet", "--param",
               f"min_steps={STEPS}"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        seen: dict[str, float] = {}
        try:
            while len(seen) < 3 and time.perf_counter() - t0 < 300:
                if (runs / "runs.sqlite3").exists():
                    store = RunStore(runs)
                    runs_now = store.list_runs()
                    if runs_now:
                        firsts(store, runs_now[0].id, t0, seen)
                time.sleep(0.02)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            for record in RunStore(runs).list_runs() if runs.exists() else []:
                if record.pid:
                    try:
                        os.killpg(record.pid, 9)
                    except OSError:
                        pass
        return seen


def page_round(synthesizer: str) -> dict[str, float]:
    """Seconds from clicking Train on the dashboard to the first grid on the page."""
    import socket
    import urllib.request

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        env = {**os.environ, "GDA_RUNS_DIR": str(Path(tmp) / "runs"),
               "GDA_DATA_DIR": str(Path(tmp) / "data"), "PYTHONPATH": str(REPO)}
        server = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                        break
                except OSError:
                    time.sleep(0.2)
            with sync_playwright() as p:
                browser = p.chromium.launch(
                    executable_path="/usr/bin/chromium",
                    args=["--headless", "--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(300_000)
                page.goto(f"{url}/train")
                page.get_by_text("New training run").wait_for()
                if synthesizer != "dcgan":
                    sys.exit("--modes page trains the Train page's default (dcgan)")
                steps = page.get_by_role("spinbutton", name="min_steps")
                steps.fill(str(STEPS))
                steps.press("Tab")
                page.wait_for_timeout(20_000)  # the user chooses settings; the worker warms
                t0 = time.perf_counter()
                page.get_by_role("button", name="Train", exact=True).click()
                page.get_by_role("button", name="Stop").wait_for()
                stop = time.perf_counter() - t0
                page.get_by_text("Samples from fixed noise").first.wait_for()
                grid = time.perf_counter() - t0
                browser.close()
        finally:
            os.killpg(server.pid, 15)
            server.wait(30)
            for record in RunStore(Path(tmp) / "runs").list_runs():
                if record.pid:
                    try:
                        os.killpg(record.pid, 9)
                    except OSError:
                        pass
    return {"progress": stop, "grid": grid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="cli,warm,cold")
    parser.add_argument("--synthesizer", default="dcgan")
    parser.add_argument("--dataset", default="digits")
    args = parser.parse_args()
    modes = args.modes.split(",")
    print(f"{args.synthesizer} on {args.dataset}; load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}; {os.cpu_count()} CPUs")
    standby = StandbyWorkers(["gda_core.experiments.train"])
    eager = StandbyWorkers(["gda_core.experiments.train"], respawn_delay=0.0)
    results: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    for _ in range(args.rounds):  # modes interleaved: the machine's load drifts
        for mode in modes:
            if mode == "cli":
                results[mode].append(one_round(args.synthesizer, args.dataset))
            elif mode in ("warm", "eager"):
                pool = standby if mode == "warm" else eager
                # both pools' workers done importing (as on a page open for a while): a
                # worker still importing would slow whichever round runs beside it
                if not all(p.wait_ready(120) for p in (standby, eager)):
                    sys.exit("the warm worker did not get ready within 120 s")
                results[mode].append(worker_round(args.synthesizer, args.dataset, pool))
            elif mode == "cold":
                results[mode].append(worker_round(args.synthesizer, args.dataset, None))
            elif mode == "page":
                results[mode].append(page_round(args.synthesizer))
            else:
                sys.exit(f"unknown mode {mode!r}; choose from cli, warm, eager, cold, page")
    standby.close()
    eager.close()
    for mode in modes:
        print(f"{mode}:")
        for i, r in enumerate(results[mode], 1):
            print(f"  round {i}: " + ", ".join(f"first {k} {v:.2f} s" for k, v in r.items()))
        for key in ("progress", "step", "grid"):
            values = [r[key] for r in results[mode] if key in r]
            if values:
                print(f"  median time to the first {key}: {statistics.median(values):.2f} s")
    print(f"load average at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
