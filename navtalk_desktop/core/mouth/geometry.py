"""Mouth geometry from Face Mesh landmarks: the lip contours, a mouth-aligned frame, control points,
and how a MouthParams pose moves them.

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

# Displacements, in mouth widths, of a full-strength parameter.
JAW_DROP = 0.34  # lower lip drop at jaw_open = 1
CHIN_FOLLOW = 0.5  # share of the lip drop the skin under the lip follows
UPPER_RAISE = 0.07
ROUND_OPEN = 0.05  # a pucker opens the centre a little
WIDTH_SPREAD = 0.10  # lip_width = 1 widens the mouth by 10 %
ROUND_NARROW = 0.20  # lip_round = 1 narrows it by 20 % ...
ROUND_NARROW_INNER = 0.12  # ... and the opening a further 12 %, so it turns round
CORNER_DROP = 0.06
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


# Control point order: lips (outer, inner), then the chin row, then the fixed ring.
LIP_ORDER = tuple(_unique(OUTER_UPPER + OUTER_LOWER + INNER_UPPER + INNER_LOWER))
_ROLE = {}
for _i in OUTER_UPPER[1:-1]:
    _ROLE[_i] = "outer_upper"
for _i in OUTER_LOWER[1:-1]:
    _ROLE[_i] = "outer_lower"
for _i in INNER_UPPER[1:-1]:
    _ROLE[_i] = "inner_upper"
for _i in INNER_LOWER[1:-1]:
    _ROLE[_i] = "inner_lower"
for _i in (61, 291):
    _ROLE[_i] = "outer_corner"
for _i in (78, 308):
    _ROLE[_i] = "inner_corner"
ROLES = tuple(_ROLE[i] for i in LIP_ORDER)
_ROLE_IS = {r: np.array([role == r for role in ROLES]) for r in set(ROLES)}
_INNER = _ROLE_IS["inner_upper"] | _ROLE_IS["inner_lower"] | _ROLE_IS["inner_corner"]
_LOWER = _ROLE_IS["outer_lower"] | _ROLE_IS["inner_lower"]
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


def _index_of(indices) -> np.ndarray:
    pos = {idx: k for k, idx in enumerate(LIP_ORDER)}
    return np.array([pos[i] for i in indices])


_INNER_UPPER_IDX = _index_of(INNER_UPPER)
_INNER_LOWER_IDX = _index_of(INNER_LOWER)
_UPPER = _ROLE_IS["outer_upper"] | _ROLE_IS["inner_upper"]


def _profile(x: np.ndarray, half_width: float) -> np.ndarray:
    """1 at the mouth centre, 0 at the corners: lips open most in the middle."""
    return np.clip(1.0 - (x / max(half_width, 1e-6)) ** 2, 0.0, 1.0) ** 0.6


def deform(controls: MouthControls, params: np.ndarray, closed: float = 0.0) -> np.ndarray:
    """Destination control points (local) for a pose (jaw_open, lip_width, lip_round, upper_lip_raise).

    `closed` (0..1) then brings the inner lips together (p/b/m, silence) even when the loop's own
    mouth is open; both lips move by half the gap, keeping their thickness.
    """
    jaw, width, rnd, raise_ = (float(v) for v in params)
    jaw, rnd, raise_ = max(0.0, jaw), max(0.0, rnd), max(0.0, raise_)
    src = controls.local
    dst = src.copy()
    lips = src[:N_LIP]
    half = max(float(np.abs(lips[:, 0]).max()), 1e-3)
    sx = 1.0 + WIDTH_SPREAD * width - ROUND_NARROW * rnd
    sx_inner = sx - ROUND_NARROW_INNER * rnd
    drop = JAW_DROP * jaw
    x, y = lips[:, 0], lips[:, 1]
    prof = _profile(x, half)
    scale = np.where(_INNER, sx_inner, sx)
    dy = np.select(
        [_ROLE_IS["outer_corner"], _ROLE_IS["inner_corner"], _LOWER],
        [np.full_like(y, CORNER_DROP * jaw), np.full_like(y, CORNER_DROP * jaw + 0.1 * drop),
         (drop + ROUND_OPEN * rnd) * prof],
        default=-(UPPER_RAISE * raise_ + ROUND_OPEN * 0.6 * rnd) * prof,
    )
    dst[:N_LIP, 0] = x * scale
    dst[:N_LIP, 1] = y + dy
    if closed > 0.0:
        _close_lips(dst, min(1.0, float(closed)))
    chin = src[N_LIP:N_LIP + N_CHIN]
    chin_prof = _profile(chin[:, 0], half)
    dst[N_LIP:N_LIP + N_CHIN, 0] = chin[:, 0] * (1.0 + (sx - 1.0) * 0.3)
    dst[N_LIP:N_LIP + N_CHIN, 1] = chin[:, 1] + CHIN_FOLLOW * drop * chin_prof
    return dst


def _close_lips(dst: np.ndarray, closed: float) -> None:
    up, low = dst[_INNER_UPPER_IDX], dst[_INNER_LOWER_IDX]
    order_u, order_l = np.argsort(up[:, 0]), np.argsort(low[:, 0])
    x = dst[:N_LIP, 0]
    gap = np.maximum(0.0, np.interp(x, low[order_l, 0], low[order_l, 1]) - np.interp(x, up[order_u, 0], up[order_u, 1]))
    shift = 0.5 * closed * gap
    dst[:N_LIP, 1] += np.where(_UPPER, shift, 0.0) - np.where(_LOWER, shift, 0.0)


def inner_polygon_indices() -> np.ndarray:
    """Indices (into the control points) of the inner-lip loop: upper left->right, lower right->left."""
    pos = {idx: k for k, idx in enumerate(LIP_ORDER)}
    loop = list(INNER_UPPER) + list(INNER_LOWER[-2:0:-1])
    return np.array([pos[i] for i in loop])


def inner_upper_indices() -> np.ndarray:
    pos = {idx: k for k, idx in enumerate(LIP_ORDER)}
    return np.array([pos[i] for i in INNER_UPPER])


def inner_lower_indices() -> np.ndarray:
    pos = {idx: k for k, idx in enumerate(LIP_ORDER)}
    return np.array([pos[i] for i in INNER_LOWER])


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
