"""Weight-free mouth rendering: the frame's own lips, moved by a piecewise-affine warp of the mouth
region, the opening filled with a dark gradient and a hint of teeth, blended with a feathered mask.

Why this design: no generative model is needed, it follows the head because each frame uses its
own landmarks, and it is fast (a few ms at 720p) because all work happens in a small region of
interest whose per-frame geometry (control points, triangles, feather mask) is cached. Pixels
outside the fixed ring around the lips are never written.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay

from .geometry import (
    N_LIP, MouthControls, controls_of, deform, inner_lower_indices, inner_polygon_indices,
    inner_upper_indices,
)
from .params import MouthParams

FEATHER_PX_PER_WIDTH = 0.08  # feather width of the region's edge, in mouth widths
TEETH_COLOR = np.array([222.0, 216.0, 204.0])
DEEP_MOUTH = np.array([22.0, 6.0, 8.0])
_CACHE_FRAMES = 256
COARSE_MAP_ABOVE_PX = 40_000  # regions larger than this (about a 1080p face) use a half-resolution warp map


@dataclass
class _FrameGeometry:
    controls: MouthControls
    triangles: np.ndarray  # (T, 3) indices into the control points
    src_global: np.ndarray  # (N, 2) px
    x0: int
    y0: int
    w: int
    h: int
    feather: np.ndarray  # (h, w) float32 in 0..1, exactly 0 outside the ring
    inside: np.ndarray  # (h, w) bool: the ring polygon
    inside_u8: np.ndarray  # the same as a 0/1 mask for cv2.copyTo
    lip_color: np.ndarray | None = None


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
        self._cache: OrderedDict[int, _FrameGeometry | None] = OrderedDict()
        self._inner = inner_polygon_indices()
        self._inner_upper = inner_upper_indices()
        self._inner_lower = inner_lower_indices()

    # ----- per-frame geometry (cached) -----
    def geometry(self, frame_index: int, shape: tuple[int, int]) -> _FrameGeometry | None:
        key = int(frame_index) % self.frame_count
        if key in self._cache:
            self._cache.move_to_end(key)
            geo = self._cache[key]
            if geo is None or (geo.x0 + geo.w <= shape[1] and geo.y0 + geo.h <= shape[0]):
                return geo
        geo = self._build(key, shape)
        self._cache[key] = geo
        if len(self._cache) > _CACHE_FRAMES:
            self._cache.popitem(last=False)
        return geo

    def _build(self, key: int, shape: tuple[int, int]) -> _FrameGeometry | None:
        controls = controls_of(self.points[key])
        if controls is None:
            return None
        frame = controls.frame
        src_global = frame.to_global(controls.local)
        ring = src_global[-len(controls.ring):]
        x0, y0 = np.floor(ring.min(axis=0)).astype(int) - 1
        x1, y1 = np.ceil(ring.max(axis=0)).astype(int) + 2
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(shape[1], x1), min(shape[0], y1)
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        w, h = x1 - x0, y1 - y0
        # Triangulate with the inner lips pulled apart, so no triangle spans a lip when the mouth opens.
        template = deform(controls, np.array([0.8, 0.0, 0.0, 0.5]))
        triangles = Delaunay(template).simplices.astype(np.int32)
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [np.round((ring - (x0, y0)) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        feather_px = max(1.0, FEATHER_PX_PER_WIDTH * frame.width)
        dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
        feather = np.clip(dist / feather_px, 0.0, 1.0).astype(np.float32)
        feather[inside == 0] = 0.0
        return _FrameGeometry(controls, triangles, src_global, int(x0), int(y0), int(w), int(h), feather,
                              inside.astype(bool), inside)

    # ----- drawing -----
    def render(self, frame_rgb: np.ndarray, frame_index: int, mouth_params: MouthParams,
               inplace: bool = False) -> np.ndarray:
        """The frame with the mouth in `mouth_params`. Returns `frame_rgb` itself when nothing changes."""
        if mouth_params is None or mouth_params.is_rest:
            return frame_rgb
        geo = self.geometry(frame_index, frame_rgb.shape[:2])
        if geo is None:
            return frame_rgb
        out = frame_rgb if inplace else frame_rgb.copy()
        roi = self._render_roi(frame_rgb, geo, mouth_params)
        region = out[geo.y0:geo.y0 + geo.h, geo.x0:geo.x0 + geo.w]
        cv2.copyTo(roi, geo.inside_u8, region)  # writes into the view: only pixels inside the ring
        return out

    def _render_roi(self, frame: np.ndarray, geo: _FrameGeometry, params: MouthParams) -> np.ndarray:
        frame_geo = geo.controls.frame
        dst_local = deform(geo.controls, params.as_array(), params.closed)
        dst = frame_geo.to_global(dst_local) - (geo.x0, geo.y0)
        src = geo.src_global
        warped = self._warp(frame, geo, src, dst)
        orig = frame[geo.y0:geo.y0 + geo.h, geo.x0:geo.x0 + geo.w].astype(np.float32)
        result = warped.astype(np.float32)
        self._fill_inner_mouth(result, frame, geo, dst, dst_local, params)
        result -= orig
        result *= geo.feather[..., None]
        result += orig + 0.5
        np.clip(result, 0, 255, out=result)
        return result.astype(np.uint8)

    def _warp(self, frame: np.ndarray, geo: _FrameGeometry, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
        """Piecewise-affine warp of the region: each destination pixel looks up its source position.

        Large regions (1080p) compute the lookup on a half-resolution grid and interpolate it: the
        warp is continuous and smooth, so the result is the same to a fraction of a pixel.
        """
        tris = geo.triangles
        step = 2 if geo.w * geo.h > COARSE_MAP_ABOVE_PX else 1
        centre = (step - 1) / 2.0  # coarse sample c sits at fine coordinate step * c + centre
        hs, ws = -(-geo.h // step), -(-geo.w // step)
        labels = np.zeros((hs, ws), np.uint16)
        dst_fixed = np.round((dst - centre) / step * 16).astype(np.int32)
        for t, tri in enumerate(tris):
            cv2.fillConvexPoly(labels, dst_fixed[tri], t + 1, lineType=cv2.LINE_8, shift=4)
        # Affine maps destination -> source for every triangle at once, in closed form (no LAPACK call
        # per frame: batched solves are slow when BLAS threads compete). Collapsed triangles (closed
        # lips) cover no pixels and keep a zero map.
        p = dst[tris]  # (T, 3, 2)
        q = src[tris] - (geo.x0, geo.y0)
        x1, y1, x2, y2, x3, y3 = (p[:, 0, 0], p[:, 0, 1], p[:, 1, 0], p[:, 1, 1], p[:, 2, 0], p[:, 2, 1])
        det = x1 * (y2 - y3) + x2 * (y3 - y1) + x3 * (y1 - y2)
        ok = np.abs(det) > 1e-6
        inv_det = np.where(ok, 1.0 / np.where(ok, det, 1.0), 0.0)
        # Rows of the inverse of [[x1, y1, 1], [x2, y2, 1], [x3, y3, 1]] (adjugate / det).
        inv = np.stack([
            np.stack([y2 - y3, y3 - y1, y1 - y2], axis=1),
            np.stack([x3 - x2, x1 - x3, x2 - x1], axis=1),
            np.stack([x2 * y3 - x3 * y2, x3 * y1 - x1 * y3, x1 * y2 - x2 * y1], axis=1),
        ], axis=1) * inv_det[:, None, None]  # (T, 3, 3)
        affine = np.zeros((len(tris) + 1, 3, 2), np.float64)
        affine[1:] = np.einsum("tij,tjk->tik", inv, q)
        affine = affine.astype(np.float32)
        xs = (np.arange(ws, dtype=np.float32) * step + centre)[None, :]  # broadcast, no full grids
        ys = (np.arange(hs, dtype=np.float32) * step + centre)[:, None]
        coeff = affine.reshape(len(affine), 6)[labels]  # (h, w, 6): per-pixel affine of its triangle
        # Displacement from the identity; zero outside the triangles (label 0 has a zero affine).
        inside = (labels > 0).astype(np.float32)
        dx = coeff[..., 0] * xs + coeff[..., 2] * ys + coeff[..., 4] - xs * inside
        dy = coeff[..., 1] * xs + coeff[..., 3] * ys + coeff[..., 5] - ys * inside
        if step > 1:  # interpolate the displacement (smooth, zero away from the lips)
            size = (ws * step, hs * step)
            dx = cv2.resize(dx, size, interpolation=cv2.INTER_LINEAR)[:geo.h, :geo.w]
            dy = cv2.resize(dy, size, interpolation=cv2.INTER_LINEAR)[:geo.h, :geo.w]
        map_x = dx + (np.arange(geo.w, dtype=np.float32) + geo.x0)[None, :]
        map_y = dy + (np.arange(geo.h, dtype=np.float32) + geo.y0)[:, None]
        return cv2.remap(frame, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)

    def _lip_color(self, frame: np.ndarray, geo: _FrameGeometry) -> np.ndarray:
        """Mean colour of the lips themselves (outer contour minus the opening), for the mouth fill."""
        if geo.lip_color is None:
            outer_idx = [k for k in range(N_LIP) if k not in set(self._inner.tolist())]
            mask = np.zeros(frame.shape[:2], np.uint8)
            outer = np.round(geo.src_global[outer_idx]).astype(np.int32)
            cv2.fillConvexPoly(mask, cv2.convexHull(outer), 1)
            cv2.fillPoly(mask, [np.round(geo.src_global[self._inner]).astype(np.int32)], 0)
            pixels = frame[mask.astype(bool)]
            geo.lip_color = pixels.reshape(-1, 3).mean(axis=0) if len(pixels) else np.array([150.0, 80.0, 80.0])
        return geo.lip_color

    def _fill_inner_mouth(self, result: np.ndarray, frame: np.ndarray, geo: _FrameGeometry, dst: np.ndarray,
                          dst_local: np.ndarray, params: MouthParams) -> None:
        """Dark gradient inside the opened inner lips, upper teeth showing a little when open.

        All work happens in the opening's own bounding box, a fraction of the region.
        """
        width = geo.controls.frame.width
        upper = dst_local[self._inner_upper]
        lower = dst_local[self._inner_lower]
        opening = float(np.max(lower[:, 1] - np.interp(lower[:, 0], upper[:, 0], upper[:, 1])))
        if opening * width < 1.0:
            return
        poly_roi = dst[self._inner]
        bx0, by0 = np.maximum(np.floor(poly_roi.min(axis=0)).astype(int) - 2, 0)
        bx1, by1 = np.minimum(np.ceil(poly_roi.max(axis=0)).astype(int) + 3, (geo.w, geo.h))
        if bx1 - bx0 < 2 or by1 - by0 < 2:
            return
        h, w = by1 - by0, bx1 - bx0
        offset = np.array([bx0, by0], np.float64)
        mask = np.zeros((h, w), np.uint8)
        cv2.fillPoly(mask, [np.round((poly_roi - offset) * 16).astype(np.int32)], 255, lineType=cv2.LINE_AA, shift=4)
        if not mask.any():
            return
        open_px = opening * width
        alpha = mask.astype(np.float32) * (1.0 / 255.0)
        depth = cv2.distanceTransform((mask > 127).astype(np.uint8), cv2.DIST_L2, 3)
        g = np.clip(depth * (1.0 / max(1.0, 0.3 * open_px)), 0.0, 1.0)[..., None]
        lip = self._lip_color(frame, geo).astype(np.float32)
        edge = lip * np.array([0.5, 0.3, 0.3], np.float32)  # dark, redder than the lips
        fill = edge * (1.0 - g) + DEEP_MOUTH.astype(np.float32) * g
        # A darker red tongue rises from the lower lip when the mouth is well open.
        tongue_amount = float(np.clip((opening - 0.12) / 0.2, 0.0, 0.6))
        if tongue_amount > 0:
            band = np.zeros_like(mask)
            cv2.fillPoly(band, [np.round((self._lower_band(dst, open_px) - offset) * 16).astype(np.int32)], 255,
                         lineType=cv2.LINE_AA, shift=4)
            sigma = max(1.0, 0.1 * open_px)
            t = cv2.GaussianBlur(band, (0, 0), sigma).astype(np.float32) * (tongue_amount / 255.0) * alpha
            t = t[..., None]
            fill = fill * (1.0 - t) + (lip * 0.55) * t
        # Teeth: a soft band under the upper inner lip, limited to the middle of the mouth.
        visible = float(np.clip((opening - 0.03) / 0.08, 0.0, 1.0)) * (0.75 + 0.25 * params.upper_lip_raise)
        if visible > 0.01:
            f = geo.controls.frame
            gx = (np.arange(w, dtype=np.float32) + np.float32(bx0 + geo.x0 - f.origin[0]))[None, :]
            gy = (np.arange(h, dtype=np.float32) + np.float32(by0 + geo.y0 - f.origin[1]))[:, None]
            u = (gx * np.float32(f.ex[0]) + gy * np.float32(f.ex[1])) * np.float32(1.0 / width)
            v = (gx * np.float32(f.ey[0]) + gy * np.float32(f.ey[1])) * np.float32(1.0 / width)
            below = v - np.interp(u, upper[:, 0], upper[:, 1]).astype(np.float32)
            band_h = np.float32(min(0.12, 0.4 * opening))
            half = np.float32(0.65 * float(np.max(np.abs(upper[:, 0]))))
            top = np.clip(1.0 - below / band_h, 0.0, 1.0)
            teeth = (np.clip((band_h - below) / (0.35 * band_h), 0.0, 1.0) * (below >= -0.02)
                     * np.clip((half - np.abs(u)) * 10.0, 0.0, 1.0) * np.float32(visible * 0.95))[..., None]
            # Teeth darken towards the corners and their lower edge (they sit in shadow).
            shade = TEETH_COLOR.astype(np.float32) * (
                0.7 + 0.3 * np.clip(1.0 - np.abs(u) / max(half, 1e-3), 0.0, 1.0) * top ** 0.3)[..., None]
            fill = fill * (1.0 - teeth) + shade * teeth
        a = alpha[..., None]
        sub = result[by0:by1, bx0:bx1]
        sub *= 1.0 - a
        sub += fill * a

    def _lower_band(self, dst: np.ndarray, height_px: float) -> np.ndarray:
        """The lower third of the opening: inner lower lip, shifted up by a third of the opening."""
        lower = dst[self._inner_lower]
        up = lower - np.array([0.0, 0.35 * height_px])
        return np.concatenate([lower, up[::-1]])
