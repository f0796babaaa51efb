"""Per-frame face model for the talking mouth, built once per loop frame from its Face Mesh landmarks.

Everything is in the mouth-aligned frame (geometry.MouthFrame: x along the mouth, y down the face, in
mouth widths), so the same numbers fit any face size and follow head tilt. The model holds what the
warp needs: the source lips and the slit between them, how open the source mouth already is, the
nose-base line (nothing above it may change), the chin contour and the jaw pivots.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .geometry import (
    INNER_LOWER, INNER_UPPER, LEFT_CORNER, LIP_INDICES, OUTER_LOWER, OUTER_UPPER, RIGHT_CORNER, MouthFrame,
)

NOSE_BASE = (2, 98, 327, 97, 326)  # subnasale and the alar bases
CHIN_CONTOUR = (58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288)
PIVOT_SIDES = (132, 361)  # face contour in front of the ears, near mouth height (jaw joints' projection)
CHEEK_SIDES = (93, 323)
NECK_MARGIN = 0.45  # mouth widths under the chin over which the jaw's motion fades out into the neck
MIN_PIVOT = 0.9  # a pivot is at least this far (mouth widths) beside the mouth centre


def inner_gap(points: np.ndarray) -> float:
    """How open a mouth is: inner-lip distance (landmarks 13-14) over mouth width (61-291)."""
    width = float(np.linalg.norm(points[LEFT_CORNER] - points[RIGHT_CORNER]))
    return float(np.linalg.norm(points[13] - points[14]) / width) if width > 0 else 0.0


@dataclass(frozen=True)
class FaceModel:
    frame: MouthFrame
    outer_upper: np.ndarray  # (11, 2) local, corner to corner
    outer_lower: np.ndarray
    inner_upper: np.ndarray
    inner_lower: np.ndarray
    slit_x: np.ndarray  # the source's lip parting line (midline between the inner lips), sorted by x
    slit_y: np.ndarray
    source_gap: float  # how open the source mouth is (inner gap at the centre, mouth widths)
    half: float  # half the mouth width in local units (about 0.5)
    nose_y: float  # the nose-base line: every pixel with local y <= nose_y stays as it is
    chin_x: np.ndarray  # chin contour, sorted by x
    chin_y: np.ndarray
    pivot_x: float  # |x| of the jaw pivots (both sides), local
    pivot_y: float
    bottom_y: float  # lowest local y the warp reaches (chin + neck margin)

    @classmethod
    def of(cls, points: np.ndarray) -> "FaceModel | None":
        needed = list(LIP_INDICES) + list(NOSE_BASE) + list(CHIN_CONTOUR) + list(PIVOT_SIDES) + list(CHEEK_SIDES)
        if points is None or points.shape[0] < 468 or not np.all(np.isfinite(points[needed])):
            return None
        frame = MouthFrame.of(points)
        if frame is None:
            return None
        loc = lambda idx: frame.to_local(points[list(idx)])  # noqa: E731
        ou, ol, iu, il = loc(OUTER_UPPER), loc(OUTER_LOWER), loc(INNER_UPPER), loc(INNER_LOWER)
        order = np.argsort(iu[:, 0])
        xs = iu[order, 0]
        low_y = np.interp(xs, *_sorted(il))
        up_y = iu[order, 1]
        low_y = np.maximum(low_y, up_y)
        slit_y = (up_y + low_y) / 2.0
        gap = float(max(0.0, np.interp(0.0, xs, low_y - up_y)))
        nose_y = float(loc(NOSE_BASE)[:, 1].max())
        chin = loc(CHIN_CONTOUR)
        co = np.argsort(chin[:, 0])
        piv = loc(PIVOT_SIDES)
        pivot_x = float(max(MIN_PIVOT, np.abs(piv[:, 0]).mean()))
        cheeks = loc(CHEEK_SIDES)
        pivot_x = float(max(pivot_x, 0.9 * np.abs(cheeks[:, 0]).mean()))
        half = float(max(np.abs(ou[:, 0]).max(), 0.3))
        if not (nose_y < min(ou[:, 1].min(), -0.05)) or chin[:, 1].max() <= il[:, 1].max():
            return None  # landmarks out of order: not a usable face
        return cls(frame, ou, ol, iu, il, xs, slit_y, gap, half, nose_y, chin[co, 0], chin[co, 1], pivot_x,
                   float(piv[:, 1].mean()), float(chin[:, 1].max() + NECK_MARGIN))

    def slit_at(self, x: np.ndarray) -> np.ndarray:
        return np.interp(x, self.slit_x, self.slit_y)

    def chin_at(self, x: np.ndarray) -> np.ndarray:
        return np.interp(x, self.chin_x, self.chin_y)

    def roi(self, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
        """Pixel box (x0, y0, x1, y1) holding every pixel the warp may move."""
        corners = np.array([[-self.pivot_x, self.nose_y], [self.pivot_x, self.nose_y],
                            [-self.pivot_x, self.bottom_y], [self.pivot_x, self.bottom_y]])
        g = self.frame.to_global(corners)
        x0, y0 = np.floor(g.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(g.max(axis=0)).astype(int) + 2
        x0, y0, x1, y1 = max(0, x0), max(0, y0), min(shape[1], x1), min(shape[0], y1)
        if x1 - x0 < 8 or y1 - y0 < 8:
            return None
        return int(x0), int(y0), int(x1), int(y1)


def _sorted(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(pts[:, 0])
    return pts[order, 0], pts[order, 1]


def source_openings(points: np.ndarray) -> np.ndarray:
    """Inner gap of every loop frame (NaN without a face): the state the renderer starts from."""
    out = np.full(len(points), np.nan)
    for i, p in enumerate(points):
        if np.all(np.isfinite(p[[13, 14, LEFT_CORNER, RIGHT_CORNER]])):
            out[i] = inner_gap(p)
    return out
