"""Wall-clock timing for the benchmarks: medians of repeated calls, compilation excluded."""
from __future__ import annotations

import statistics
import time

import jax


def median_time(fn, *args, repeats: int = 5) -> float:
    """Median wall time in seconds of ``fn(*args)`` over ``repeats`` calls after one warm-up
    call (which absorbs compilation); results are waited for with ``jax.block_until_ready``."""
    jax.block_until_ready(fn(*args))
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - start)
    return statistics.median(times)
