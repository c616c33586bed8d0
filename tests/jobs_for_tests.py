"""A tiny job that the worker tests run (it ships with the tests, not the product).

Workers import a job as ``"module:function"`` with the repository root on their
``PYTHONPATH`` (:func:`gda_core.runs.worker.start_worker`), so this module is
``tests.jobs_for_tests`` to them (``tests/`` is a namespace package: it has no
``__init__.py``).  Start it with
``start_worker(root, run_id, "tests.jobs_for_tests:count_job")``.
"""

from __future__ import annotations

import io
import json
import math
import time
from typing import Any

from gda_core.errors import ConfigError, GDAError
from gda_core.runs.context import RunContext


def _int_setting(config: dict[str, Any], key: str, default: int | None,
                 minimum: int) -> int | None:
    value = config.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"count_job: '{key}' must be an integer >= {minimum}, got {value!r}")
    return value


def grid_png(step: int, tiles: int = 4, tile: int = 8) -> bytes:
    """A small grey-level PNG whose tiles change with ``step`` (stands in for samples)."""
    from PIL import Image, ImageDraw

    size = tiles * tile
    img = Image.new("L", (size, size))
    draw = ImageDraw.Draw(img)
    for i in range(tiles * tiles):
        x, y = (i % tiles) * tile, (i // tiles) * tile
        draw.rectangle([x, y, x + tile - 1, y + tile - 1], fill=(step * 16 + i * 8) % 256)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def count_job(ctx: RunContext) -> None:
    """Log ``{'step': k, 'value': k * scale}`` for ``k = 0 .. steps-1``.

    Settings (``ctx.config``)
    -------------------------
    steps : int, default 20
        Number of steps.
    grid_every : int, default 5
        Save a sample grid every this many steps and after the last (0: never).
    sleep : float, default 0
        Seconds to sleep per step.
    scale : float, default 1
        Multiplier of the logged value.
    raise_at : int, optional
        Raise at this step: a :class:`GDAError` or, with ``raise_type="runtime"``,
        a ``RuntimeError``.
    nan_at : int, optional
        From this step the value is NaN; the job logs it and then fails with a
        :class:`GDAError`, as a diverging training would.
    ignore_stop : bool, default False
        Never check ``ctx.should_stop()`` (to test forced stops).
    """
    cfg = ctx.config
    steps = _int_setting(cfg, "steps", 20, 1)
    grid_every = _int_setting(cfg, "grid_every", 5, 0)
    raise_at = _int_setting(cfg, "raise_at", None, 0)
    nan_at = _int_setting(cfg, "nan_at", None, 0)
    sleep = float(cfg.get("sleep", 0.0))
    scale = float(cfg.get("scale", 1.0))
    value = 0.0
    for step in range(steps):
        if not cfg.get("ignore_stop") and ctx.should_stop():
            return
        if raise_at is not None and step == raise_at:
            if cfg.get("raise_type") == "runtime":
                raise RuntimeError(f"count_job was told to crash at step {step}")
            raise GDAError(f"count_job was told to fail at step {step}")
        value = math.nan if nan_at is not None and step >= nan_at else step * scale
        ctx.log({"step": step, "value": value})
        if math.isnan(value):
            raise GDAError(f"the value became NaN at step {step} (training diverged)")
        if grid_every and (step % grid_every == 0 or step == steps - 1):
            ctx.save_grid(step, grid_png(step))
        ctx.progress((step + 1) / steps, {"last_value": value})
        if sleep:
            time.sleep(sleep)
    ctx.save_artifact("result", json.dumps({"steps": steps, "last_value": value}).encode(),
                      suffix=".json")
