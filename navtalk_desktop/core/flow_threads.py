"""A thread per core (at most four) for OpenCV's optical flow, which releases the GIL while it works.

Planning measures a few dozen flows per candidate window (seam.measure_frames) and a morph candidate two
dense flows per transition frame (morph.transition); one after another they were most of planning's time.
On two cores, two such threads halve it (docs/performance.md, "Planning's and the report's fixed costs").
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_inside = threading.local()  # set on the pool's own threads: a task that maps again runs in place


def _worker_start() -> None:
    _inside.active = True


def flow_pool() -> ThreadPoolExecutor:
    """The flow threads themselves, for callers that submit flows as their frames arrive (seam.StreamedFrames)."""
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max(1, min(4, os.cpu_count() or 1)), thread_name_prefix="flow",
                                       initializer=_worker_start)
        return _pool


def map_flows(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """[fn(x) for x in items], on the flow threads when there is more than one item (in order; the first
    error is raised here). From a flow thread itself it runs in place, so a task never waits on its own pool."""
    items = list(items)
    if len(items) < 2 or getattr(_inside, "active", False):
        return [fn(x) for x in items]
    return list(flow_pool().map(fn, items))
