"""Study replays: each source study's experiment rerun at a CPU-friendly scale, with the
published numbers beside ours and what matched and what did not."""

from gda_core.replays.base import Check, Replay, ReplayOptions, ReplayResult
from gda_core.replays.registry import REPLAYS, run_replay

__all__ = ["REPLAYS", "Check", "Replay", "ReplayOptions", "ReplayResult", "run_replay"]
