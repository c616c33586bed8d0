"""Study replays: each source study's experiment rerun at a CPU-friendly scale, with the
published numbers beside ours and what matched and what did not."""

from gda_core.replays.base import (
    EXPECTATION,
    NO_VERDICT_SMOKE,
    Check,
    Replay,
    ReplayOptions,
    ReplayResult,
)
from gda_core.replays.registry import REPLAYS, run_replay

__all__ = ["EXPECTATION", "NO_VERDICT_SMOKE", "REPLAYS", "Check", "Replay", "ReplayOptions",
           "ReplayResult", "run_replay"]
