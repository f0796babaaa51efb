"""The numpy peak finder returns exactly what scipy.signal.find_peaks returns for blink-style searches."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import find_peaks as scipy_find_peaks

from navtalk_desktop.core.blinks import openness
from navtalk_desktop.core.peaks import find_peaks


def _curves():
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 3, 30, 150, 900):
        yield rng.normal(size=n)
        yield np.round(rng.normal(size=n), 1)  # plateaus and ties
    t = np.arange(600) / 30
    ear = 0.3 + 0.005 * rng.normal(size=t.size)
    for apex in (40, 44, 200, 350, 352, 590):
        ear[apex - 2:apex + 3] -= np.array([0.08, 0.18, 0.22, 0.18, 0.08])
    ear[300:306] = ear[300]  # a flat stretch
    yield -(ear / np.median(ear))


@pytest.mark.parametrize("kwargs", [
    dict(height=-0.65, prominence=0.3, wlen=31, distance=5),
    dict(height=-0.65, prominence=0.3, wlen=3, distance=1),
    dict(prominence=0.1, wlen=15),
    dict(height=0.0, distance=3.5),
    dict(prominence=0.05),
])
def test_same_peaks_and_bases_as_scipy(kwargs):
    for x in _curves():
        ours, props = find_peaks(x, **kwargs)
        theirs, sprops = scipy_find_peaks(x, **kwargs)
        assert ours.tolist() == theirs.tolist()
        for key in ("prominences", "left_bases", "right_bases"):
            if key in sprops:
                np.testing.assert_allclose(props[key], sprops[key])


def test_openness_matches_a_per_frame_percentile():
    rng = np.random.default_rng(3)
    fps = 30.0
    curve = 0.3 + 0.02 * rng.normal(size=400)
    curve[50:70] = np.nan
    curve[200:290] = np.nan  # longer than the +-1 s window: the baseline is NaN there, then filled
    half = int(round(fps))
    expected = np.empty(len(curve))
    for t in range(len(curve)):
        window = curve[max(0, t - half):t + half + 1]
        expected[t] = np.nanpercentile(window, 75) if np.any(~np.isnan(window)) else np.nan
    from navtalk_desktop.core.blinks import fill_short_gaps
    expected = curve / fill_short_gaps(expected, len(curve))
    np.testing.assert_allclose(openness(curve, fps), expected, equal_nan=True)
