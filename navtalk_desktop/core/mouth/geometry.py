"""Mouth geometry from Face Mesh landmarks: the lip contours, a mouth-aligned frame, and the ring of
control points around the lips that bounds a patch set's region (patches.py).

Why a mouth-aligned frame: every displacement is expressed in mouth widths along the mouth's own
axes, so the same pose fits any face size and follows head tilt and motion frame by frame.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# FACEMESH_LIPS, corner to corner.
OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIP_INDICES = tuple(sorted(set(OUTER_UPPER + OUTER_LOWER + INNER_UPPER + INNER_LOWER)))
LEFT_CORNER, RIGHT_CORNER = 61, 291
INNER_TOP, INNER_BOTTOM = 13, 14

CHIN_ROW_DEPTH = 0.30  # the row of control points under the lower lip

# The warped region around the lips (mouth widths beyond the lips' bounding box). Outside it no
# pixel ever changes; REGION_MARGIN bounds it for callers and tests.
RING_SIDE = 0.35
RING_TOP = 0.18
RING_BOTTOM = 0.75
RING_POINTS = 28
REGION_MARGIN = 0.8


@dataclass(frozen=True)
class MouthFrame:
    """Origin between the lip corners, x along the mouth (towards landmark 291), y down the face."""

    origin: np.ndarray
    ex: np.ndarray
    ey: np.ndarray
    width: float

    @classmethod
    def of(cls, points: np.ndarray) -> "MouthFrame | None":
        left, right = points[LEFT_CORNER].astype(np.float64), points[RIGHT_CORNER].astype(np.float64)
        axis = right - left
        width = float(np.hypot(*axis))
        if not np.isfinite(width) or width < 4.0:
            return None
        ex = axis / width
        return cls(origin=(left + right) / 2.0, ex=ex, ey=np.array([-ex[1], ex[0]]), width=width)

    def to_local(self, pts: np.ndarray) -> np.ndarray:
        d = np.asarray(pts, np.float64) - self.origin
        return np.stack([d @ self.ex, d @ self.ey], axis=-1) / self.width

    def to_global(self, local: np.ndarray) -> np.ndarray:
        local = np.asarray(local, np.float64) * self.width
        return self.origin + local[..., :1] * self.ex + local[..., 1:2] * self.ey


def _unique(seq):
    seen, out = set(), []
    for i in seq:
        if i not in seen:
            seen.add(i)
            out.append(i)
    return out


# Control point order: lips (outer, inner), then a row under the lower lip, then the fixed ring.
LIP_ORDER = tuple(_unique(OUTER_UPPER + OUTER_LOWER + INNER_UPPER + INNER_LOWER))
N_LIP = len(LIP_ORDER)
CHIN_SOURCES = OUTER_LOWER[1:-1]
N_CHIN = len(CHIN_SOURCES)


@dataclass(frozen=True)
class MouthControls:
    """Source control points of one frame, in mouth-local coordinates (first N_LIP are the lips)."""

    frame: MouthFrame
    local: np.ndarray  # (N_LIP + N_CHIN + RING_POINTS, 2)

    @property
    def ring(self) -> np.ndarray:
        return self.local[N_LIP + N_CHIN:]


def controls_of(points: np.ndarray) -> MouthControls | None:
    """Control points for a frame's (478, 2) landmarks; None when there is no usable face."""
    if points is None or not np.all(np.isfinite(points[list(LIP_INDICES)])):
        return None
    frame = MouthFrame.of(points)
    if frame is None:
        return None
    lips = frame.to_local(points[list(LIP_ORDER)])
    chin = frame.to_local(points[list(CHIN_SOURCES)]) + np.array([0.0, CHIN_ROW_DEPTH])
    return MouthControls(frame, np.concatenate([lips, chin, ring_of(lips)]))


def ring_of(lips_local: np.ndarray) -> np.ndarray:
    """The fixed boundary: two half-ellipses around the lips' box, deeper below (the jaw moves down)."""
    x0, y0 = lips_local.min(axis=0)
    x1, y1 = lips_local.max(axis=0)
    cx = (x0 + x1) / 2.0
    cy = (y0 + y1) / 2.0
    ax = (x1 - x0) / 2.0 + RING_SIDE
    top, bottom = cy - (y0 - RING_TOP), (y1 + RING_BOTTOM) - cy
    angles = np.linspace(0.0, 2 * np.pi, RING_POINTS, endpoint=False)
    ys = np.where(np.sin(angles) > 0, bottom, top) * np.sin(angles)
    return np.stack([cx + ax * np.cos(angles), cy + ys], axis=1)


def region_mask(points: np.ndarray, shape: tuple[int, int], margin: float = REGION_MARGIN) -> np.ndarray | None:
    """Boolean (h, w) mask of everything the renderer may change for these landmarks: the lips'
    convex hull dilated by `margin` mouth widths. None when the frame has no usable face."""
    import cv2

    frame = MouthFrame.of(points) if np.all(np.isfinite(points[list(LIP_INDICES)])) else None
    if frame is None:
        return None
    hull = cv2.convexHull(points[list(LIP_INDICES)].astype(np.float32)).reshape(-1, 2)
    inside = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, np.round(hull).astype(np.int32), 1)
    dist = cv2.distanceTransform(1 - inside, cv2.DIST_L2, 5)
    return dist <= margin * frame.width
