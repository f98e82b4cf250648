"""Timing primitives: warm-up excluded, interleaved runs, medians.

Every library in a comparison is timed in the same process, in rounds: each round runs every library once
(the starting library rotates from round to round), so that a slow patch on a shared machine hits all sides
alike instead of one. A *run* is ``inner`` back-to-back calls (``inner`` chosen per library so that one run
lasts at least ``min_run_s``, like ``timeit``'s autorange) and yields the mean time per call; the result is
the median over runs. Calls made before the rounds (the warm-up, which pays any JIT compilation or cache
loading, and the calibration call) are never counted.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Timing:
    """Per-call times of one library in one comparison."""

    runs_s: list[float] = field(default_factory=list)  # mean seconds per call, one entry per run
    inner: int = 1  # calls per run

    @property
    def median_s(self) -> float:
        return statistics.median(self.runs_s)

    def as_dict(self) -> dict:
        return {"median_ms": self.median_s * 1e3, "runs_ms": [t * 1e3 for t in self.runs_s], "inner": self.inner}


def time_call(fn: Callable[[], object]) -> float:
    """Seconds taken by one call of ``fn``."""
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def calls_per_run(fn: Callable[[], object], min_run_s: float, limit: int = 1000) -> int:
    """How many back-to-back calls make a run of at least ``min_run_s`` (one timed calibration call)."""
    once = time_call(fn)
    if once >= min_run_s:
        return 1
    return int(min(limit, max(1, -(-min_run_s // max(once, 1e-7)))))


def run_once(fn: Callable[[], object], inner: int) -> float:
    """Mean seconds per call over ``inner`` back-to-back calls."""
    t0 = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - t0) / inner


def compare(fns: dict[str, Callable[[], object]], runs: int, min_run_s: float = 0.0) -> dict[str, Timing]:
    """Time already warmed-up callables against each other in interleaved rounds.

    Returns a :class:`Timing` per name, each with ``runs`` entries.
    """
    if runs < 1:
        raise ValueError(f"runs must be >= 1, got {runs}")
    names = list(fns)
    timings = {name: Timing(inner=calls_per_run(fns[name], min_run_s)) for name in names}
    for r in range(runs):
        for k in range(len(names)):
            name = names[(r + k) % len(names)]
            timings[name].runs_s.append(run_once(fns[name], timings[name].inner))
    return timings


def median(values: list[float]) -> float:
    return statistics.median(values)
