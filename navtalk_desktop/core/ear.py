"""Eye Aspect Ratio (Soukupová & Čech 2016) from Face Mesh landmarks in pixel coordinates.

Pixel coordinates matter: on non-square frames, normalised coordinates scale EAR by w/h.
"""

from __future__ import annotations

import warnings

import numpy as np

# Canonical six points per eye (p1 corner, p2/p3 upper lid, p4 corner, p5/p6 lower lid under p3/p2).
# Named from the subject's point of view, as MediaPipe does.
RIGHT_EYE = (33, 160, 158, 133, 153, 144)
LEFT_EYE = (362, 385, 387, 263, 373, 380)


def eye_aspect_ratio(points: np.ndarray, eye: tuple[int, ...]) -> np.ndarray:
    """EAR per frame for one eye; `points` is (n, 478, 2). NaN where the face is missing."""
    p = points[:, list(eye), :].astype(np.float64)

    def dist(i: int, j: int) -> np.ndarray:
        return np.linalg.norm(p[:, i] - p[:, j], axis=1)

    width = dist(0, 3)
    with np.errstate(invalid="ignore", divide="ignore"):
        ear = (dist(1, 5) + dist(2, 4)) / (2.0 * width)
    ear[~np.isfinite(ear)] = np.nan
    return ear


def ear_curves(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(right, left, mean) EAR curves; the mean ignores an eye that is NaN."""
    right = eye_aspect_ratio(points, RIGHT_EYE)
    left = eye_aspect_ratio(points, LEFT_EYE)
    return right, left, mean_of_eyes(right, left)


def mean_of_eyes(right: np.ndarray, left: np.ndarray) -> np.ndarray:
    """Mean EAR of both eyes, using one eye where the other is missing, NaN where both are."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(np.vstack([right, left]), axis=0)
