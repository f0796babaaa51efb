"""Where a mouth pose puts the lips of one face: target lip contours and the jaw drop.

Why absolute openings: the pose commands how open the mouth is (inner-lip gap in mouth widths), and
the source frame's own opening is subtracted, so an idle loop whose mouth hangs slightly open still
shuts fully for p/b/m and does not open further than asked on vowels.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .face_model import FaceModel
from .warp import EDGE_TRIM, jaw_offset

GAP_FULL = 0.36  # inner gap at jaw_open = 1 (mouth widths)
ROUND_OPEN = 0.05  # a pucker opens the centre a little
UPPER_RAISE = 0.09  # upper lip lift at upper_lip_raise = 1
UPPER_CLOSE_SHARE = 0.4  # share of a source opening the upper lip takes when the lips shut
JAW_SHARE = 0.8  # share of the lower lip's drop done by the jaw (the rest: the lip itself)
WIDTH_SPREAD = 0.22
MIN_WIDTH = 0.66  # narrower than this and the cheeks beside the corners would fold
ROUND_NARROW = 0.30
ROUND_NARROW_INNER = 0.16
ROUND_POUT = 0.10  # pushed-out lips look fuller: share of the lip thickness
CORNER_DROP = 0.25  # corners follow this share of the jaw drop
PRESS_THIN = 0.22  # pressed lips roll in: share of their thickness
TUCK_THIN = 0.45  # f/v: the lower lip tucks under the upper teeth
CLOSE_START, CLOSE_FULL = 0.15, 0.65  # a closure this strong starts / completes pressing the lips
PRESS_OVERLAP = 0.02  # shut lips press a little into each other (no seam of light between them)


@dataclass(frozen=True)
class LipTargets:
    upper: np.ndarray  # offsets (local) of the upper group's moving points
    lower: np.ndarray  # offsets (local) of the lower group's moving points, jaw motion excluded
    drop: float  # jaw drop at the lower lip centre (mouth widths, may be negative: closing)
    gap: float  # commanded inner gap at the centre
    inner_upper: np.ndarray  # destination inner lips (local), corner to corner
    inner_lower: np.ndarray
    tuck: float
    keep: float  # share of the source's own open mouth kept (0: the lips shut over it)


def _profile(x: np.ndarray, half: float) -> np.ndarray:
    return np.clip(1.0 - (x / max(half, 1e-3)) ** 2, 0.0, 1.0) ** 0.6


def tuck_of(jaw: float, raise_: float) -> float:
    """f/v: upper lip lifted while the jaw stays nearly shut -> the lower lip goes under the teeth."""
    return float(np.clip((raise_ - jaw) * 2.3 - 0.3, 0.0, 1.0))


def targets(face: FaceModel, slit_points: np.ndarray, params: np.ndarray, closed: float) -> LipTargets:
    jaw, width, rnd, raise_ = (float(v) for v in params)
    jaw, rnd, raise_ = max(0.0, jaw), max(0.0, rnd), max(0.0, raise_)
    # The lips are soft: once a closure is well under way they meet (the timeline's closure ramps over
    # a frame or two; a half-shut mouth over teeth would read as open).
    closed = float(np.clip((closed - CLOSE_START) / (CLOSE_FULL - CLOSE_START), 0.0, 1.0))
    g0 = face.source_gap
    gap = max(0.0, (GAP_FULL * jaw + ROUND_OPEN * rnd) * (1.0 - closed))
    iu, il, ou, ol = face.inner_upper, face.inner_lower, face.outer_upper, face.outer_lower
    half_i = max(float(np.abs(iu[:, 0]).max()), 0.2)
    half_o = face.half

    def moves(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Down-moves of the inner upper and lower lip at x so that the gap there is the commanded one."""
        prof = _profile(x, half_i)
        src_gap = np.maximum(np.interp(x, *_xy(il)) - np.interp(x, *_xy(iu)), 0.0)
        want = gap * prof
        up = -(UPPER_RAISE * raise_ + 0.3 * ROUND_OPEN * rnd) * prof
        up = up + UPPER_CLOSE_SHARE * np.maximum(src_gap - want, 0.0)
        return up, want - src_gap + up

    d_up0, d_low0 = moves(np.zeros(1))
    d_up, d_low = float(d_up0[0]), float(d_low0[0])
    drop = JAW_SHARE * d_low
    corner = CORNER_DROP * max(drop, 0.0)
    sx = max(MIN_WIDTH, 1.0 + WIDTH_SPREAD * width - ROUND_NARROW * rnd)
    sxi = sx - ROUND_NARROW_INNER * rnd
    tuck = tuck_of(jaw, raise_)
    pi_u, pi_l = _profile(iu[:, 0], half_i), _profile(il[:, 0], half_i)
    po_u, po_l = _profile(ou[:, 0], half_o), _profile(ol[:, 0], half_o)
    thick_u = max(0.02, float(np.interp(0.0, *_xy(iu)) - np.interp(0.0, *_xy(ou))))
    thick_l = max(0.02, float(np.interp(0.0, *_xy(ol)) - np.interp(0.0, *_xy(il))))

    mu_iu, _ = moves(iu[:, 0])
    _, ml_il = moves(il[:, 0])
    d_iu = np.stack([iu[:, 0] * sxi, iu[:, 1] + mu_iu + corner * (1 - pi_u)], axis=1)
    d_il = np.stack([il[:, 0] * sxi, il[:, 1] + ml_il + corner * (1 - pi_l)], axis=1)
    ratio = half_i / half_o  # an outer lip point moves with the inner lip at the same relative position
    mu_ou, _ = moves(ou[:, 0] * ratio)
    _, ml_ol = moves(ol[:, 0] * ratio)
    d_ou = np.stack([ou[:, 0] * sx, ou[:, 1] + 0.9 * mu_ou + (PRESS_THIN * thick_u * closed - ROUND_POUT * thick_u * rnd)
                     * po_u + corner * (1 - po_u)], axis=1)
    d_ol = np.stack([ol[:, 0] * sx, ol[:, 1] + ml_ol + (ROUND_POUT * thick_l * rnd - PRESS_THIN * thick_l * closed
                                                        - TUCK_THIN * thick_l * tuck) * po_l + corner * (1 - po_l)],
                    axis=1)
    keep = 1.0 if g0 <= 1e-3 else float(np.clip(gap / g0, 0.0, 1.0))
    if g0 > 1e-3:  # the trimmed seams of the inner edges (warp.EDGE_TRIM) still meet
        d_iu[:, 1] += (EDGE_TRIM + PRESS_OVERLAP) * (1.0 - keep) * pi_u
        d_il[:, 1] -= (EDGE_TRIM + PRESS_OVERLAP) * (1.0 - keep) * pi_l
    d_ou[[0, -1], 1] = ou[[0, -1], 1] + corner  # the outer corners, shared by both lips
    d_ol[[0, -1]] = d_ou[[0, -1]]
    d_il[[0, -1]] = d_iu[[0, -1]]
    sx_pts = slit_points[:, 0]
    up_at = np.interp(sx_pts, *_xy(iu))
    low_at = np.interp(sx_pts, *_xy(il))
    dst_up_at = np.interp(sx_pts * sxi, *_xy(d_iu))
    dst_low_at = np.interp(sx_pts * sxi, *_xy(d_il))
    slit_u = np.stack([sx_pts * sxi, dst_up_at + (slit_points[:, 1] - up_at) * keep], axis=1)
    slit_l = np.stack([sx_pts * sxi, dst_low_at - (low_at - slit_points[:, 1]) * keep], axis=1)

    upper_src = np.concatenate([ou, iu[1:-1], slit_points])
    upper_dst = np.concatenate([d_ou, d_iu[1:-1], slit_u])
    lower_src = np.concatenate([ol[1:-1], il[1:-1], slit_points, ol[[0, -1]], il[[0, -1]]])
    lower_dst = np.concatenate([d_ol[1:-1], d_il[1:-1], slit_l, d_ol[[0, -1]], d_il[[0, -1]]])
    lower_off = lower_dst - lower_src - jaw_offset(face, lower_src, drop)
    return LipTargets(upper_dst - upper_src, lower_off, drop, gap, d_iu, d_il, tuck, keep)


def _xy(pts: np.ndarray):
    order = np.argsort(pts[:, 0])
    return pts[order, 0], pts[order, 1]
