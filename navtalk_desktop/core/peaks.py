"""Peak finding in numpy: `scipy.signal.find_peaks` for the arguments blink detection uses.

Importing scipy.signal costs about a second on this class of machine (it imports scipy.stats) while
the search itself takes microseconds, so a cold `analyze` paid more for the import than for the work.
This follows scipy's algorithm step by step (plateau midpoints, height, distance by priority, then
prominence with a window), and tests/test_peaks.py checks it returns what scipy returns.
"""

from __future__ import annotations

import math

import numpy as np


def _local_maxima(x: np.ndarray) -> np.ndarray:
    """Indices of local maxima; a flat peak gives its middle sample (left-biased), as scipy does."""
    peaks = []
    n = len(x)
    i = 1
    while i < n - 1:
        if x[i - 1] < x[i]:
            ahead = i + 1
            while ahead < n - 1 and x[ahead] == x[i]:
                ahead += 1
            if x[ahead] < x[i]:
                peaks.append((i + ahead - 1) // 2)
                i = ahead
        i += 1
    return np.asarray(peaks, dtype=np.intp)


def _keep_by_distance(peaks: np.ndarray, heights: np.ndarray, distance: float) -> np.ndarray:
    """Drop peaks closer than `distance` to a higher one, highest first."""
    gap = math.ceil(distance)
    keep = np.ones(len(peaks), bool)
    for j in np.argsort(heights)[::-1]:
        if not keep[j]:
            continue
        k = j - 1
        while k >= 0 and peaks[j] - peaks[k] < gap:
            keep[k] = False
            k -= 1
        k = j + 1
        while k < len(peaks) and peaks[k] - peaks[j] < gap:
            keep[k] = False
            k += 1
    return keep


def _prominences(x: np.ndarray, peaks: np.ndarray, wlen: int | None):
    n = len(x)
    half = math.ceil(wlen) // 2 if wlen is not None and wlen >= 2 else None
    prominences = np.empty(len(peaks))
    left_bases = np.empty(len(peaks), np.intp)
    right_bases = np.empty(len(peaks), np.intp)
    for k, peak in enumerate(peaks):
        lo, hi = (0, n - 1) if half is None else (max(peak - half, 0), min(peak + half, n - 1))
        left_bases[k] = right_bases[k] = peak
        left_min = right_min = x[peak]
        i = peak
        while lo <= i and x[i] <= x[peak]:
            if x[i] < left_min:
                left_min, left_bases[k] = x[i], i
            i -= 1
        i = peak
        while i <= hi and x[i] <= x[peak]:
            if x[i] < right_min:
                right_min, right_bases[k] = x[i], i
            i += 1
        prominences[k] = x[peak] - max(left_min, right_min)
    return prominences, left_bases, right_bases


def find_peaks(x, height: float | None = None, prominence: float | None = None, wlen: int | None = None,
               distance: float | None = None) -> tuple[np.ndarray, dict]:
    """Peaks of `x` with at least `height`, `prominence` (within `wlen` samples) and `distance` apart.

    Returns the indices and a dict with "prominences", "left_bases" and "right_bases" (when a
    prominence is asked for), like scipy.signal.find_peaks.
    """
    x = np.asarray(x, dtype=np.float64)
    peaks = _local_maxima(x)
    props: dict[str, np.ndarray] = {}
    if height is not None:
        peaks = peaks[x[peaks] >= height]
    if distance is not None and len(peaks):
        peaks = peaks[_keep_by_distance(peaks, x[peaks], distance)]
    if prominence is not None:
        prom, left, right = _prominences(x, peaks, wlen)
        keep = prom >= prominence
        peaks = peaks[keep]
        props = {"prominences": prom[keep], "left_bases": left[keep], "right_bases": right[keep]}
    return peaks, props
