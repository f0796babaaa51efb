"""The mouth/jaw warp: the face's own pixels moved by two smooth fields anchored on the landmarks.

Why two fields: the lips part, so the motion is not continuous across the parting line. The upper
field moves the upper lip (raise, spread, round, press); the lower field is the jaw, a rotation of
the lower face about the jaw joints (in front of the ears, at mouth-corner height), plus the lower
lip's own motion. Each field is a normalised Gaussian blend of control-point offsets
(lip contours, the parting line; zero at anchors on the nose base, the cheeks and the chin), so it
fades smoothly into the cheeks; the jaw fades out under the chin into the neck, so that boundary
stays continuous. A destination pixel takes its source from the field whose source side of the
parting line it lands on; where neither claims it, the mouth is open (the cavity, drawn by
inner_mouth). Fields live on a coarse grid (about 1/24 mouth width), cached per loop frame; only the
sharp parting line is resolved at full resolution, in the small box around the lips.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .face_model import FaceModel

SIGMA = 0.11  # kernel width, mouth widths
CORRECTIONS = 3
EDGE_TRIM = 0.035  # mouth widths of a lip's inner edge given up when the lips shut over an open mouth
FAR_WEIGHT = 0.05  # beyond about 2.5 SIGMA from every control point the offsets fade to zero
GRID_PER_WIDTH = 24.0
TAU_OUTSIDE = 1.2  # parting-line softness growth beyond the mouth corners (per mouth width)
TAU_MAX = 0.3
CORNER_FOLLOW = 0.25  # share of the jaw's drop the mouth corners take
CHIN_SHARE = 0.8  # the chin follows this share of the jaw's motion at the lower lip
LIFT_SPREAD = 0.28  # how far (mouth widths) beyond the lips the cheeks still follow the corners


def _smoothstep(t: np.ndarray) -> np.ndarray:
    t = np.clip(t, 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


@dataclass(frozen=True)
class Group:
    """One field's control points (local): the moving ones (lip contours, parting line) then anchors."""

    points: np.ndarray  # (N, 2) source positions
    n_moving: int
    slit: slice  # the parting-line points among the moving ones (weighted by how much open mouth is kept)


def _kernel(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a, b = np.asarray(a, np.float32), np.asarray(b, np.float32)
    d2 = np.square(a[:, None, 0] - b[None, :, 0]) + np.square(a[:, None, 1] - b[None, :, 1])
    return np.exp(d2 * np.float32(-1.0 / (2.0 * SIGMA * SIGMA)))


def local_to_px(offsets: np.ndarray, to_px: np.ndarray) -> np.ndarray:
    """(n, 2) local offsets -> pixel offsets. Why not `@`: a BLAS call per frame stalls when its
    threads compete for the cores (the preview and the encoder run beside it); this is two FMAs."""
    return np.stack([offsets[:, 0] * to_px[0, 0] + offsets[:, 1] * to_px[1, 0],
                     offsets[:, 0] * to_px[0, 1] + offsets[:, 1] * to_px[1, 1]], axis=1)


@dataclass
class WarpModel:
    """Everything about one loop frame's warp that does not depend on the pose."""

    face: FaceModel
    x0: int
    y0: int
    w: int
    h: int
    step: int
    grid_px: np.ndarray  # (hs, ws, 2) ROI pixel coordinates of the coarse grid
    grid_x: np.ndarray  # (ws,) and (hs,): the grid's columns and rows (ROI pixels)
    grid_y: np.ndarray
    origin_roi: np.ndarray  # (2,) the mouth frame's origin in ROI pixels
    grid_local: np.ndarray  # (hs*ws, 2)
    upper: Group
    lower: Group
    jaw_unit: np.ndarray  # (hs*ws,) jaw displacement along the face's down axis for a unit drop
    fade: np.ndarray  # (hs*ws,) 0 at and above the nose base, 1 a little below it
    slit_points: np.ndarray  # (S, 2) local, x of the parting-line control points
    write_mask: np.ndarray  # (h, w) uint8: ROI pixels below the nose base (the only ones ever written)
    to_px: np.ndarray  # (2, 2): local offset (rows) -> pixel offset
    to_local: np.ndarray  # (2, 2): pixel offset -> local offset

    @classmethod
    def build(cls, face: FaceModel, shape: tuple[int, int]) -> "WarpModel | None":
        box = face.roi(shape)
        if box is None:
            return None
        x0, y0, x1, y1 = box
        w, h = x1 - x0, y1 - y0
        fr = face.frame
        step = max(1, int(round(fr.width / GRID_PER_WIDTH)))
        hs, ws = -(-h // step), -(-w // step)
        # Coarse sample j sits at pixel (j + 0.5) * step - 0.5: cv2.resize then upsamples exactly onto it.
        gy, gx = np.mgrid[0:hs, 0:ws].astype(np.float32) * step + np.float32((step - 1) / 2.0)
        grid_px = np.stack([gx, gy], axis=-1)
        to_px = np.stack([fr.ex, fr.ey]) * fr.width  # local (dx, dy) @ to_px = pixel offset
        to_local = to_px.T / (fr.width * fr.width)  # to_px is a rotation times the width (no LAPACK call)
        grid_local = local_to_px(grid_px.reshape(-1, 2) + (x0, y0) - fr.origin, to_local)
        slit_x = np.linspace(face.slit_x[1], face.slit_x[-2], 7)
        slit_points = np.stack([slit_x, face.slit_at(slit_x)], axis=1)
        side = face.half + 0.42
        cheeks = np.array([[s * side, y] for s in (-1, 1) for y in (-0.28, -0.05, 0.2, 0.45)])
        nose = np.stack([np.linspace(-0.55, 0.55, 5), np.full(5, face.nose_y + 0.02)], axis=1)
        upper_moving = np.concatenate([face.outer_upper, face.inner_upper[1:-1], slit_points])
        lower_moving = np.concatenate([face.outer_lower[1:-1], face.inner_lower[1:-1], slit_points,
                                       face.outer_lower[[0, -1]], face.inner_lower[[0, -1]]])
        chin = np.stack([face.chin_x, face.chin_y], axis=1)
        chin = chin[np.abs(chin[:, 0]) < face.half + 0.3]
        n_up, n_low = len(face.outer_upper) + len(face.inner_upper) - 2, 2 * (len(face.outer_lower) - 2)
        upper = Group(np.concatenate([upper_moving, nose, cheeks]), len(upper_moving),
                      slice(n_up, n_up + len(slit_points)))
        lower = Group(np.concatenate([lower_moving, cheeks, chin]), len(lower_moving),
                      slice(n_low, n_low + len(slit_points)))
        u, v = grid_local[:, 0], grid_local[:, 1]
        jaw_unit = _jaw_profile(face, u, v)
        lip_top = float(face.outer_upper[:, 1].min())
        fade = _smoothstep((v - face.nose_y - 0.02) / max(0.04, 0.7 * (lip_top - face.nose_y)))
        fade *= np.clip((face.pivot_x - np.abs(u)) / 0.25, 0.0, 1.0)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        v_full = (xx + x0 - fr.origin[0]) * fr.ey[0] + (yy + y0 - fr.origin[1]) * fr.ey[1]
        write_mask = (v_full / fr.width > face.nose_y).astype(np.uint8)
        return cls(face, x0, y0, w, h, step, grid_px, np.ascontiguousarray(gx[0]), np.ascontiguousarray(gy[:, 0]),
                   (fr.origin - (x0, y0)).astype(np.float32), grid_local, upper, lower, jaw_unit.astype(np.float32),
                   fade.astype(np.float32), slit_points, write_mask, to_px.astype(np.float32),
                   to_local.astype(np.float32))

    # ----- membership: which side of a parting line a source point is on -----
    def lower_side(self, local: np.ndarray, edge: np.ndarray | None = None, keep: float = 1.0) -> np.ndarray:
        """0 above the parting line, 1 below; sharp between the lips' inner corners, soft in the cheeks.

        `edge` (a lip's inner contour y at slit_x) with `keep` < 1 moves the line from the source's
        parting line towards that lip: the part of the source's open mouth beyond it is given up.
        """
        face = self.face
        u, v = local if isinstance(local, tuple) else (local[..., 0], local[..., 1])
        beyond = np.maximum(np.abs(u) - self.inner_half, 0.0)
        tau = np.minimum(0.6 / face.frame.width + TAU_OUTSIDE * beyond, TAU_MAX)
        if edge is None or keep >= 1.0:
            line_y = face.slit_y
        else:  # given up: the source's open mouth, and a thin seam of the lip's edge that shows teeth
            trim = np.sign(edge - face.slit_y) * EDGE_TRIM * (1.0 - keep)
            line_y = face.slit_y + (edge - face.slit_y) * (1.0 - keep) + trim
        line = np.interp(u, face.slit_x, line_y)
        return _smoothstep(0.5 + (v - line) / (2.0 * tau))

    @property
    def inner_half(self) -> float:
        return float(np.abs(self.face.slit_x).max())

    @property
    def upper_edge(self) -> np.ndarray:
        iu = self.face.inner_upper
        o = np.argsort(iu[:, 0])
        return np.interp(self.face.slit_x, iu[o, 0], iu[o, 1])

    @property
    def lower_edge(self) -> np.ndarray:
        il = self.face.inner_lower
        o = np.argsort(il[:, 0])
        return np.interp(self.face.slit_x, il[o, 0], il[o, 1])


def _jaw_profile(face: FaceModel, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Down-axis displacement per unit of jaw drop at the lower lip: 1 at the lower lip, CHIN_SHARE on
    the chin (a rotation about joints behind and above it), fading to 0 under the chin (the neck) and
    towards the pivots (the jaw joints barely move)."""
    slit = face.slit_at(np.clip(u, face.slit_x[0], face.slit_x[-1]))
    chin = face.chin_at(u)
    span = np.maximum(chin - slit, 0.2)
    t = (v - slit) / span
    inside = 1.0 - (1.0 - CHIN_SHARE) * _smoothstep(t)
    # Near the parting line the lower lip's corners stay with the upper lip's (the skin there stretches);
    # deeper down, the jaw moves as one piece.
    corner = CORNER_FOLLOW + (1.0 - CORNER_FOLLOW) * np.clip(1.0 - (u / face.half) ** 2, 0.0, 1.0) ** 0.6
    inside = inside * (corner + (1.0 - corner) * _smoothstep(t / 0.6))
    below = CHIN_SHARE * (1.0 - _smoothstep((v - chin) / (face.bottom_y - float(face.chin_y.max()))))
    prof = np.where(v <= chin, inside, below)
    lat = np.clip(1.0 - (u / face.pivot_x) ** 2, 0.0, 1.0)
    return prof * lat


def backward(model: "WarpModel", group: Group, offsets_local: np.ndarray, keep: float) -> np.ndarray:
    """(hs, ws, 2) pixel backward offsets on the grid (destination -> source) of a group moved by `offsets_local`.

    A normalised Gaussian blend, in destination space, of each moving point's way back to its source
    (anchors: zero), so no inversion is needed even where the lips squeeze an open mouth shut. A few
    residual corrections bring it close to the points' own values. Why not an exact RBF solve: lip
    contours, parting line and corners lie close together and an interpolating solve overshoots and
    folds between them; a blend never does. The parting-line points weigh `keep`: when the lips shut
    over an open source mouth, its inside is given up.

    Why separable: the mouth frame is a rotation and a scale of the pixel grid, so the Gaussian of the
    local distance is exp(-dx²) * exp(-dy²) over the grid's pixel rows and columns, and the blend over
    the whole grid is one small matrix product instead of a kernel per grid point and control point.
    """
    dst = group.points.copy()
    dst[:group.n_moving] += offsets_local
    weights = np.ones(len(dst), np.float32)
    weights[group.slit] = max(keep, 1e-3)
    kp = _kernel(dst[:group.n_moving], dst) * weights
    at_points = kp / (kp.sum(axis=1, keepdims=True) + FAR_WEIGHT)
    coeff = np.zeros((len(dst), 2), np.float32)
    coeff[:group.n_moving] = -np.asarray(offsets_local, np.float32)
    target = coeff[:group.n_moving].copy()
    for _ in range(CORRECTIONS):
        coeff[:group.n_moving] += target - at_points @ coeff
    coeff_px = local_to_px(coeff, model.to_px) * weights[:, None]
    dst_px = local_to_px(dst.astype(np.float32), model.to_px) + model.origin_roi
    scale = np.float32(-1.0 / (2.0 * (SIGMA * model.face.frame.width) ** 2))
    ex = np.exp(np.square(model.grid_x[:, None] - dst_px[None, :, 0]) * scale)  # (ws, N)
    ey = np.exp(np.square(model.grid_y[:, None] - dst_px[None, :, 1]) * scale)  # (hs, N)
    ws = len(model.grid_x)
    cols = np.concatenate([ex * coeff_px[:, 0], ex * coeff_px[:, 1], ex * weights], axis=0).T  # (N, 3 ws)
    sums = _small_matmul(ey, np.ascontiguousarray(cols))
    denom = sums[:, 2 * ws:] + np.float32(FAR_WEIGHT)
    return np.stack([sums[:, :ws] / denom, sums[:, ws:2 * ws] / denom], axis=-1)


_SINGLE_THREAD_MACS = 200_000  # below OpenBLAS' threading threshold: a threaded call stalls on a busy machine


def _small_matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in row chunks small enough that BLAS runs them on the calling thread."""
    rows = max(1, _SINGLE_THREAD_MACS // max(1, b.shape[0] * b.shape[1]))
    if a.shape[0] <= rows:
        return a @ b
    return np.concatenate([a[i:i + rows] @ b for i in range(0, a.shape[0], rows)], axis=0)


def jaw_offset(face: FaceModel, local: np.ndarray, drop: float) -> np.ndarray:
    """Jaw displacement (local) at source points for a jaw drop `drop` at the lower lip."""
    out = np.zeros_like(local)
    out[:, 1] = drop * _jaw_profile(face, local[:, 0], local[:, 1])
    return out


def invert(model: WarpModel, field_local: np.ndarray, start: np.ndarray | None = None,
           iterations: int = 3) -> np.ndarray:
    """Backward map (ROI pixels, (hs, ws, 2)) of the smooth forward field x -> x + field(x) (the jaw),
    applied to `start` (default: the grid itself): fixed-point iterations, which converge because the
    jaw's field changes slowly across the face."""
    hs, ws = model.grid_px.shape[:2]
    disp = local_to_px(field_local, model.to_px).reshape(hs, ws, 2).astype(np.float32)
    start = model.grid_px if start is None else start
    x = start - disp
    inv_step = 1.0 / model.step
    shift = (model.step - 1) / 2.0
    for _ in range(iterations - 1):
        gx = (x[..., 0] - shift) * inv_step
        gy = (x[..., 1] - shift) * inv_step
        d = cv2.remap(disp, gx, gy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        x = start - d
    return x
