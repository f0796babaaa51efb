"""User mouth patches: one RGBA PNG per viseme, placed on each frame by the lip corners.

Why: some avatars (stylised, cartoon) look better with hand-drawn mouths than with a warp of the
photo. The format is documented in docs/mouth-patches.md; missing visemes fall back to a related
one, and `sil.png` is the one required image.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ..errors import InputError
from ..speech.visemes import VISEMES
from .geometry import LEFT_CORNER, RIGHT_CORNER, controls_of
from .params import MouthParams
from .renderer import MouthRenderer, _as_points

# Where the mouth corners sit on a patch canvas, as fractions of its width and height (default).
DEFAULT_LEFT_CORNER = (0.25, 0.5)
DEFAULT_RIGHT_CORNER = (0.75, 0.5)
MANIFEST = "patches.json"

# A viseme without its own image borrows the nearest-looking one; every chain ends at "sil".
FALLBACK = {
    "aa": "ah", "ae": "aa", "ah": "eh", "ao": "ow", "eh": "ih", "er": "ah", "ih": "iy", "iy": "sz",
    "ow": "uw", "uw": "w", "w": "pbm", "pbm": "sil", "fv": "tdn", "th": "tdn", "tdn": "sz", "kg": "tdn",
    "sz": "sil", "shch": "sz", "r": "er", "l": "tdn", "h": "ah",
}


@dataclass
class PatchLibrary:
    images: dict[str, np.ndarray]  # viseme -> (h, w, 4) float32 premultiplied RGBA, 0..1
    left: tuple[float, float]  # pixel position of the left/right mouth corner on every patch
    right: tuple[float, float]
    folder: Path | None = None

    @classmethod
    def load(cls, folder: Path | str) -> "PatchLibrary":
        folder = Path(folder)
        if not folder.is_dir():
            raise InputError(f"mouth patch folder not found: {folder}")
        unknown = sorted(p.stem for p in folder.glob("*.png") if p.stem not in VISEMES)
        if unknown:
            raise InputError(f"unknown viseme name(s) in {folder}: {', '.join(unknown)}; "
                             f"expected file names: {', '.join(v + '.png' for v in VISEMES)}")
        images: dict[str, np.ndarray] = {}
        size = None
        for viseme in VISEMES:
            path = folder / f"{viseme}.png"
            if not path.exists():
                continue
            raw = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if raw is None:
                raise InputError(f"not a readable PNG image: {path}")
            if raw.ndim != 3 or raw.shape[2] != 4:
                raise InputError(f"{path.name} has no transparency: mouth patches must be RGBA PNGs")
            if size is not None and raw.shape[:2] != size:
                raise InputError(f"{path.name} is {raw.shape[1]}x{raw.shape[0]} but the other patches are "
                                 f"{size[1]}x{size[0]}: all patches must share one canvas size")
            size = raw.shape[:2]
            rgba = cv2.cvtColor(raw, cv2.COLOR_BGRA2RGBA).astype(np.float32) / (65535.0 if raw.dtype == np.uint16 else 255.0)
            rgba[..., :3] *= rgba[..., 3:4]
            images[viseme] = rgba
        if "sil" not in images:
            raise InputError(f"{folder} needs at least sil.png (the closed mouth); see docs/mouth-patches.md")
        h, w = size
        left = (DEFAULT_LEFT_CORNER[0] * w, DEFAULT_LEFT_CORNER[1] * h)
        right = (DEFAULT_RIGHT_CORNER[0] * w, DEFAULT_RIGHT_CORNER[1] * h)
        manifest = folder / MANIFEST
        if manifest.exists():
            try:
                data = json.loads(manifest.read_text(encoding="utf-8"))
                left = tuple(float(v) for v in data.get("left_corner", left))
                right = tuple(float(v) for v in data.get("right_corner", right))
            except (ValueError, TypeError) as exc:
                raise InputError(f"{manifest} is not valid: {exc}") from exc
            if len(left) != 2 or len(right) != 2 or left == right:
                raise InputError(f"{manifest}: left_corner and right_corner must be two different [x, y] points")
        return cls(images, left, right, folder)

    def image_for(self, viseme: str) -> np.ndarray:
        seen = set()
        while viseme not in self.images:
            seen.add(viseme)
            viseme = FALLBACK.get(viseme, "sil")
            if viseme in seen:
                viseme = "sil"
        return self.images[viseme]

    def blend(self, weights: dict[str, float]) -> np.ndarray:
        total = sum(max(0.0, w) for w in weights.values())
        if total <= 1e-6:
            return self.images["sil"]
        out = None
        for viseme, weight in weights.items():
            if weight <= 0:
                continue
            img = self.image_for(viseme) * (weight / total)
            out = img if out is None else out + img
        return out


def _similarity(src_a, src_b, dst_a, dst_b) -> np.ndarray:
    """2x3 matrix mapping segment a-b (patch corners) onto the frame's corners: scale, rotate, move."""
    s = complex(*src_b) - complex(*src_a)
    d = complex(*dst_b) - complex(*dst_a)
    z = d / s
    t = complex(*dst_a) - z * complex(*src_a)
    return np.array([[z.real, -z.imag, t.real], [z.imag, z.real, t.imag]], np.float64)


class PatchMouthRenderer:
    """Same interface as MouthRenderer, drawing the user's patches on the same mesh: the frame is first
    warped as for the generated mouth (the jaw drops, the chin and lower lip follow), then the patch is
    drawn inside the mouth region, placed on the warped mouth corners. Outside the region the frame is
    exactly the generated warp's (nothing above the nose base changes)."""

    def __init__(self, frames_landmarks, library: PatchLibrary) -> None:
        self.points = _as_points(frames_landmarks)
        self.mesh = MouthRenderer(self.points)
        self.frame_count = int(self.points.shape[0])
        self.library = library
        self._regions: dict[tuple[int, tuple[int, int]], _Region | None] = {}

    def geometry(self, frame_index: int, shape: tuple[int, int]) -> "_Region | None":
        key = (int(frame_index) % self.frame_count, tuple(shape[:2]))
        if key not in self._regions:
            if len(self._regions) > 256:
                self._regions.clear()
            self._regions[key] = _Region.of(self.points[key[0]], shape)
        return self._regions[key]

    def region_box(self, frame_index: int, shape: tuple[int, int]) -> tuple[int, int, int, int] | None:
        """(x0, y0, w, h) of the pixels a patch frame may change or read: the jaw's region and the patch's."""
        boxes = [b for b in (self.mesh.region_box(frame_index, shape), self.geometry(frame_index, shape))
                 if b is not None]
        boxes = [b if isinstance(b, tuple) else (b.x0, b.y0, b.w, b.h) for b in boxes]
        if not boxes:
            return None
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        x1, y1 = max(b[0] + b[2] for b in boxes), max(b[1] + b[3] for b in boxes)
        return x0, y0, x1 - x0, y1 - y0

    @property
    def last_reach(self) -> tuple[float, float, float, float] | None:
        """The source coordinates the last frame's jaw warp sampled (MouthRenderer.last_reach)."""
        return self.mesh.last_reach

    def render(self, frame_rgb: np.ndarray, frame_index: int, mouth_params: MouthParams,
               inplace: bool = False) -> np.ndarray:
        self.mesh.last_reach = None
        if mouth_params is None or mouth_params.is_rest:
            return frame_rgb
        geo = self.geometry(frame_index, frame_rgb.shape[:2])
        if geo is None:
            return frame_rgb
        weights = dict(mouth_params.weights) or {mouth_params.viseme: 1.0}
        patch = self.library.blend(weights)
        pts = self.points[int(frame_index) % self.frame_count]
        corners = self.mesh.mouth_corners(frame_index, frame_rgb.shape[:2], mouth_params)
        left, right = (pts[LEFT_CORNER], pts[RIGHT_CORNER]) if corners is None else corners
        matrix = _similarity(self.library.left, self.library.right, left, right)
        matrix[:, 2] -= (geo.x0, geo.y0)
        placed = cv2.warpAffine(patch, matrix, (geo.w, geo.h), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
        alpha = placed[..., 3:4] * geo.feather[..., None]
        colour = placed[..., :3] * geo.feather[..., None] * 255.0
        out = self.mesh.render(frame_rgb, frame_index, mouth_params, inplace=inplace)  # the jaw, as generated
        if out is frame_rgb and not inplace:
            out = frame_rgb.copy()
        region = out[geo.y0:geo.y0 + geo.h, geo.x0:geo.x0 + geo.w]
        blended = np.clip(region.astype(np.float32) * (1.0 - alpha) + colour + 0.5, 0, 255).astype(np.uint8)
        np.copyto(region, blended, where=geo.inside[..., None] & (alpha > 0))
        return out


FEATHER_PER_WIDTH = 0.08  # feather of the patch region's edge, in mouth widths


@dataclass
class _Region:
    """The feathered ring around the lips a patch may cover (the generated mouth's lip controls)."""

    x0: int
    y0: int
    w: int
    h: int
    feather: np.ndarray  # (h, w) float32 0..1, exactly 0 outside the ring
    inside: np.ndarray  # (h, w) bool

    @classmethod
    def of(cls, points: np.ndarray, shape) -> "_Region | None":
        controls = controls_of(points)
        if controls is None:
            return None
        frame = controls.frame
        ring = frame.to_global(controls.ring)
        x0, y0 = np.maximum(np.floor(ring.min(axis=0)).astype(int) - 1, 0)
        x1, y1 = np.minimum(np.ceil(ring.max(axis=0)).astype(int) + 2, (shape[1], shape[0]))
        if x1 - x0 < 4 or y1 - y0 < 4:
            return None
        w, h = int(x1 - x0), int(y1 - y0)
        inside = np.zeros((h, w), np.uint8)
        cv2.fillPoly(inside, [np.round((ring - (x0, y0)) * 16).astype(np.int32)], 1, lineType=cv2.LINE_8, shift=4)
        dist = cv2.distanceTransform(inside, cv2.DIST_L2, 3)
        feather = np.clip(dist / max(1.0, FEATHER_PER_WIDTH * frame.width), 0.0, 1.0).astype(np.float32)
        feather[inside == 0] = 0.0
        return cls(int(x0), int(y0), w, h, feather, inside.astype(bool))
