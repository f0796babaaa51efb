"""Curves for the timeline as few points as the pixels need, and QPolygonF built from numpy in one copy.

A 10-minute clip has 18 000 frames per curve; painted point by point through Python that stalls the
GUI thread (bench/bench_timeline_paint.py). Qt-only helpers, no widget state.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtGui import QPolygonF

try:  # imported once: an import statement per polygon cost more than filling it
    import shiboken6
except ImportError:  # pragma: no cover - PySide6 always ships it
    shiboken6 = None


def visible_runs(values: np.ndarray, start: float, end: float, px_width: float) -> list[tuple[np.ndarray, np.ndarray]]:
    """(frames, values) of each finite run in the view [start, end); where a run has more than two frames
    per pixel column, only the min and max of each column (the curve looks the same)."""
    lo = max(0, int(math.floor(start)) - 1)
    hi = min(len(values), int(math.ceil(end)) + 1)
    frames = np.arange(lo, hi)
    vals = values[lo:hi]
    finite = np.isfinite(vals)
    runs: list[tuple[np.ndarray, np.ndarray]] = []
    if not finite.any():
        return runs
    # split into runs of finite values (NaN = no face: a gap in the line)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
    for run_start, run_end in zip(edges[::2], edges[1::2]):
        f = frames[run_start:run_end]
        v = vals[run_start:run_end]
        cols = int(len(f) * px_width / max(1e-9, end - start))  # pixel columns this run covers
        if len(f) > 2 * cols > 0:
            bins = np.unique(np.linspace(0, len(f), cols + 1).astype(int)[:-1])
            mins, maxs = np.minimum.reduceat(v, bins), np.maximum.reduceat(v, bins)
            f = np.repeat(f[bins], 2)
            v = np.column_stack([mins, maxs]).ravel()
        runs.append((f, v))
    return runs


def polygon(xs: np.ndarray, ys: np.ndarray) -> QPolygonF:
    """A QPolygonF filled from numpy in one copy (the way pyqtgraph does it), not point by point."""
    poly = QPolygonF()
    poly.resize(len(xs))
    try:
        if shiboken6 is None:
            raise ImportError
        buffer = shiboken6.VoidPtr(poly.data(), 16 * len(xs), True)
        view = np.frombuffer(buffer, dtype=np.float64).reshape(-1, 2)
        view[:, 0], view[:, 1] = xs, ys
    except (ImportError, TypeError, ValueError):  # a binding without writable buffers: the slow way
        poly = QPolygonF([QPointF(float(x), float(y)) for x, y in zip(xs, ys)])
    return poly


def pieces(xs: np.ndarray, ys: np.ndarray, segments: int) -> list[QPolygonF]:
    """The polyline through (xs, ys) as consecutive polylines of at most `segments` segments, each sharing
    its first point with the previous one's last (the line stays joined)."""
    n = len(xs)
    if n <= segments + 1:
        return [polygon(xs, ys)]
    return [polygon(xs[i:i + segments + 1], ys[i:i + segments + 1]) for i in range(0, n - 1, segments)]
