"""Weight-free talking mouth: the face's own lips and jaw moved by a landmark-anchored warp (warp.py),
the opened mouth's inside drawn behind them (inner_mouth.py).

Why a warp and not a painted mouth: the lips keep their own texture, colour and thickness; the jaw
and chin move with the opening, as in real speech. It follows the head because every loop frame uses
its own landmarks, and it is fast because the pose-independent work (face model, RBF systems, grids,
masks, colours) is cached per loop frame and per-pose work runs on a coarse grid; only the parting
line and the inside are computed at full resolution, in the small box around the lips. Pixels above
the nose base, and outside the jaw's region, are never written.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from . import inner_mouth, pose, warp
from .face_model import FaceModel, source_openings
from .params import MouthParams

_CACHE_FRAMES = 256


@dataclass
class _Frame:
    model: warp.WarpModel
    abs_x: np.ndarray  # (1, w) / (h, 1) absolute pixel coordinates of the ROI
    abs_y: np.ndarray
    abs_xy: np.ndarray  # (h, w, 2) the same, as one remap-ready map
    palette: inner_mouth.Palette | None = None
    source_teeth: np.ndarray | None = None  # (h, w) 0..1: where the source frame shows its own teeth


def _as_points(frames_landmarks) -> np.ndarray:
    points = getattr(frames_landmarks, "points", frames_landmarks)
    points = np.asarray(points, dtype=np.float32)
    if points.ndim == 2:
        points = points[None]
    if points.ndim != 3 or points.shape[1] < 468 or points.shape[2] != 2:
        raise ValueError("landmarks must be (n_frames, 478, 2) pixel coordinates")
    return points


class MouthRenderer:
    """Draws a mouth pose onto loop frames. `frames_landmarks`: a LandmarkTrack or (n, 478, 2) px array.

    Frame indices wrap around the loop. A frame without a face, or a REST pose, is returned unchanged.
    """

    def __init__(self, frames_landmarks) -> None:
        self.points = _as_points(frames_landmarks)
        self.frame_count = int(self.points.shape[0])
        self._cache: OrderedDict[int, _Frame | None] = OrderedDict()
        self._shape: tuple[int, int] | None = None
        # (x_min, y_min, x_max, y_max): the source coordinates the last drawn frame sampled (None: it read no
        # pixels). Why: talk_render converts only a crop of each frame to RGB and checks that it held them all.
        self.last_reach: tuple[float, float, float, float] | None = None

    def source_openings(self) -> np.ndarray:
        """How open the loop's own mouth is in every frame (inner gap / mouth width; NaN: no face)."""
        return source_openings(self.points)

    # ----- per-frame cache -----
    def frame_model(self, frame_index: int, shape: tuple[int, int]) -> _Frame | None:
        key = int(frame_index) % self.frame_count
        if self._shape != tuple(shape[:2]):
            self._cache.clear()
            self._shape = tuple(shape[:2])
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        entry = self._build(key, shape)
        self._cache[key] = entry
        if len(self._cache) > _CACHE_FRAMES:
            self._cache.popitem(last=False)
        return entry

    def _build(self, key: int, shape) -> _Frame | None:
        face = FaceModel.of(self.points[key])
        if face is None:
            return None
        model = warp.WarpModel.build(face, shape)
        if model is None:
            return None
        abs_x = (np.arange(model.w, dtype=np.float32) + model.x0)[None, :]
        abs_y = (np.arange(model.h, dtype=np.float32) + model.y0)[:, None]
        abs_xy = np.stack(np.broadcast_arrays(abs_x, abs_y), axis=-1).astype(np.float32)
        return _Frame(model, abs_x, abs_y, abs_xy)

    def geometry(self, frame_index: int, shape) -> warp.WarpModel | None:
        """This frame's warp model; its x0, y0, w, h box holds every pixel the mouth may change."""
        entry = self.frame_model(frame_index, shape)
        return None if entry is None else entry.model

    def region_box(self, frame_index: int, shape) -> tuple[int, int, int, int] | None:
        """(x0, y0, w, h) of the pixels this frame's mouth may change (None: no face)."""
        entry = self.frame_model(frame_index, shape)
        return None if entry is None else (entry.model.x0, entry.model.y0, entry.model.w, entry.model.h)

    def mouth_corners(self, frame_index: int, shape, mouth_params: MouthParams) -> np.ndarray | None:
        """(2, 2) pixels of the left (61) and right (291) mouth corners raised or dropped as this pose's
        warp moves them vertically (their spread along the mouth is left out: a patch draws its own)."""
        entry = self.frame_model(frame_index, shape)
        if entry is None:
            return None
        face = entry.model.face
        tg = pose.targets(face, entry.model.slit_points, mouth_params.as_array(), mouth_params.closed)
        corners = face.outer_upper[[0, -1]].copy()
        corners[:, 1] += tg.upper[[0, len(face.outer_upper) - 1], 1]
        return face.frame.to_global(corners)

    # ----- drawing -----
    def render(self, frame_rgb: np.ndarray, frame_index: int, mouth_params: MouthParams,
               inplace: bool = False) -> np.ndarray:
        """The frame with the mouth in `mouth_params`. Returns `frame_rgb` itself when nothing changes."""
        self.last_reach = None
        if mouth_params is None or mouth_params.is_rest:
            return frame_rgb
        entry = self.frame_model(frame_index, frame_rgb.shape[:2])
        if entry is None:
            return frame_rgb
        m = entry.model
        roi = self._render_roi(frame_rgb, entry, mouth_params)
        out = frame_rgb if inplace else frame_rgb.copy()
        region = out[m.y0:m.y0 + m.h, m.x0:m.x0 + m.w]
        cv2.copyTo(roi, m.write_mask, region)
        return out

    def _palette(self, frame: np.ndarray, entry: _Frame) -> inner_mouth.Palette:
        if entry.palette is None:
            m, face = entry.model, entry.model.face
            sub = frame[m.y0:m.y0 + m.h, m.x0:m.x0 + m.w]
            to_roi = lambda pts: np.round(face.frame.to_global(pts) - (m.x0, m.y0)).astype(np.int32)  # noqa: E731
            lips = np.zeros((m.h, m.w), np.uint8)
            cv2.fillPoly(lips, [to_roi(np.concatenate([face.outer_upper, face.outer_lower[::-1]]))], 1)
            cv2.fillPoly(lips, [to_roi(np.concatenate([face.inner_upper, face.inner_lower[::-1]]))], 0)
            skin = np.zeros((m.h, m.w), np.uint8)
            for s in (-1, 1):
                box = np.array([[s * (face.half + 0.12), -0.1], [s * (face.half + 0.4), -0.1],
                                [s * (face.half + 0.4), 0.25], [s * (face.half + 0.12), 0.25]])
                cv2.fillPoly(skin, [to_roi(box)], 1)
            entry.palette = inner_mouth.palette_of(sub, lips.astype(bool), skin.astype(bool))
            opening = np.zeros((m.h, m.w), np.uint8)
            cv2.fillPoly(opening, [to_roi(np.concatenate([face.inner_upper, face.inner_lower[::-1]]))], 255,
                         lineType=cv2.LINE_AA)
            entry.source_teeth = inner_mouth.teeth_mask(sub, opening, entry.palette)
        return entry.palette

    def _render_roi(self, frame: np.ndarray, entry: _Frame, params: MouthParams) -> np.ndarray:
        m = entry.model
        face = m.face
        tg = pose.targets(face, m.slit_points, params.as_array(), params.closed)
        hs, ws = m.grid_px.shape[:2]
        fade = m.fade.reshape(hs, ws, 1)
        d_up = warp.backward(m, m.upper, tg.upper, tg.keep) * fade
        b_low = warp.backward(m, m.lower, tg.lower, tg.keep) * fade
        jaw = np.stack([np.zeros_like(m.jaw_unit), tg.drop * m.jaw_unit], axis=1) * m.fade[:, None]
        d_low = warp.invert(m, jaw, m.grid_px + b_low) - m.grid_px
        # Which field a pixel takes: by the destination's parting line (soft beyond the corners) ...
        line_x, line_y, half_dst = _dst_parting_line(tg)
        r = m.to_local
        a_coarse = _soft_side(m.grid_local, line_x, line_y, half_dst, face.frame.width).reshape(hs, ws, 1)
        # Outside the lips' box the choice is soft (several grid cells wide), so the fields are blended on
        # the coarse grid and only the blend is upsampled, plane by plane (contiguous planes are fastest).
        blend = d_up + (d_low - d_up) * a_coarse
        map_x = _upsample(blend[..., 0], m.step, (0, 0, m.w, m.h)) + entry.abs_x
        map_y = _upsample(blend[..., 1], m.step, (0, 0, m.w, m.h)) + entry.abs_y
        box = self._lip_box(m, tg)
        cavity = None
        if box is not None:
            # ... and between the lips' corners by where its source lies, exactly (the parting line is sharp).
            bx0, by0, bx1, by1 = box
            xs = entry.abs_x[:, bx0:bx1] - np.float32(face.frame.origin[0])
            ys = entry.abs_y[by0:by1] - np.float32(face.frame.origin[1])
            pu, pv = _to_local(xs, ys, r)
            dux, duy, dlx, dly = (_upsample(f, m.step, box) for f in
                                  (d_up[..., 0], d_up[..., 1], d_low[..., 0], d_low[..., 1]))
            up_uv = _to_local(dux + xs, duy + ys, r)
            low_uv = _to_local(dlx + xs, dly + ys, r)
            keep = tg.keep
            lo = m.lower_side(low_uv, m.lower_edge, keep)
            up = 1.0 - m.lower_side(up_uv, m.upper_edge, keep)
            gate = np.clip((half_dst + 0.02 - np.abs(pu)) / 0.06, 0.0, 1.0)
            soft = _soft_side((pu, pv), line_x, line_y, half_dst, face.frame.width)
            exact = lo / np.maximum(lo + up, 1e-3)
            a = gate * exact + (1.0 - gate) * soft
            map_x[by0:by1, bx0:bx1] = dux + (dlx - dux) * a + entry.abs_x[:, bx0:bx1]
            map_y[by0:by1, bx0:bx1] = duy + (dly - duy) * a + entry.abs_y[by0:by1]
            cavity = (np.clip(1.0 - up - lo, 0.0, 1.0) * gate).astype(np.float32)
            if float(cavity.max()) < 0.02:
                cavity = None
        self.last_maps = (map_x, map_y, box)  # for tests: the backward map the frame was drawn with
        self.last_reach = (float(map_x.min()), float(map_y.min()), float(map_x.max()), float(map_y.max()))
        warped = cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        if cavity is not None:
            bx0, by0, bx1, by1 = box
            ys_c, xs_c = np.nonzero(cavity.max(axis=1) > 0.004)[0], np.nonzero(cavity.max(axis=0) > 0.004)[0]
            cy0, cy1, cx0, cx1 = ys_c[0], ys_c[-1] + 1, xs_c[0], xs_c[-1] + 1
            sub = warped[by0 + cy0:by0 + cy1, bx0 + cx0:bx0 + cx1].astype(np.float32)
            cut = (slice(cy0, cy1), slice(cx0, cx1))
            palette = self._palette(frame, entry)
            oy, ox = by0 + cy0, bx0 + cx0
            own = (frame[m.y0 + oy:m.y0 + oy + sub.shape[0], m.x0 + ox:m.x0 + ox + sub.shape[1]],
                   entry.source_teeth[oy:oy + sub.shape[0], ox:ox + sub.shape[1]])
            inner_mouth.draw(sub, cavity[cut], (pu[cut], pv[cut]), (low_uv[0][cut], low_uv[1][cut]), face, tg,
                             params, palette, 1.0 / face.frame.width, own)
            warped[by0 + cy0:by0 + cy1, bx0 + cx0:bx0 + cx1] = np.clip(sub + 0.5, 0, 255).astype(np.uint8)
        return warped

    @staticmethod
    def _lip_box(m: warp.WarpModel, tg: pose.LipTargets):
        """ROI pixel box around the source and destination lips (where the parting line can be)."""
        face = m.face
        pts = np.concatenate([face.inner_upper, face.inner_lower, tg.inner_upper, tg.inner_lower])
        lo = pts.min(axis=0) - (0.1, 0.1)
        hi = pts.max(axis=0) + (0.1, 0.1)
        corners = np.array([[lo[0], lo[1]], [hi[0], lo[1]], [lo[0], hi[1]], [hi[0], hi[1]]])
        g = face.frame.to_global(corners) - (m.x0, m.y0)
        x0, y0 = np.maximum(np.floor(g.min(axis=0)).astype(int), 0)
        x1, y1 = np.minimum(np.ceil(g.max(axis=0)).astype(int) + 1, (m.w, m.h))
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return int(x0), int(y0), int(x1), int(y1)


def _upsample(coarse: np.ndarray, step: int, box: tuple[int, int, int, int]) -> np.ndarray:
    """Bilinear upsampling of a coarse-grid plane (sample j at pixel j * step + (step - 1) / 2) at the ROI
    pixels of `box` (x0, y0, x1, y1): the same values as upsampling the whole grid, for the box's cost."""
    x0, y0, x1, y1 = box
    hs, ws = coarse.shape
    shift = (step - 1) / 2.0
    j0, i0 = max(0, int((x0 - shift) // step)), max(0, int((y0 - shift) // step))
    j1, i1 = min(ws, int((x1 - 1 - shift) // step) + 2), min(hs, int((y1 - 1 - shift) // step) + 2)
    sub = np.ascontiguousarray(coarse[i0:i1, j0:j1], dtype=np.float32)
    up = cv2.resize(sub, ((j1 - j0) * step, (i1 - i0) * step), interpolation=cv2.INTER_LINEAR)
    return up[y0 - i0 * step:y1 - i0 * step, x0 - j0 * step:x1 - j0 * step]


def _dst_parting_line(tg: pose.LipTargets):
    """The destination's parting line (midline of the target inner lips) and its inner half width."""
    up = tg.inner_upper[np.argsort(tg.inner_upper[:, 0])]
    xs = up[:, 0]
    low_y = np.interp(xs, *_sorted_xy(tg.inner_lower))
    return xs, (up[:, 1] + low_y) / 2.0, float(np.abs(xs).max())


def _sorted_xy(pts):
    o = np.argsort(pts[:, 0])
    return pts[o, 0], pts[o, 1]


def _soft_side(local: np.ndarray, line_x, line_y, half: float, width_px: float) -> np.ndarray:
    """0 above the destination parting line, 1 below; a pixel wide at the lips, wider in the cheeks."""
    u, v = local if isinstance(local, tuple) else (local[..., 0], local[..., 1])
    tau = np.minimum(0.6 / width_px + warp.TAU_OUTSIDE * np.maximum(np.abs(u) - half, 0.0), warp.TAU_MAX)
    t = np.clip(0.5 + (v - np.interp(u, line_x, line_y)) / (2.0 * tau), 0.0, 1.0)
    return (t * t * (3.0 - 2.0 * t)).astype(np.float32)


def _to_local(x: np.ndarray, y: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel offsets from the mouth origin -> local (u, v), without a slow stacked matmul."""
    return x * r[0, 0] + y * r[1, 0], x * r[0, 1] + y * r[1, 1]
