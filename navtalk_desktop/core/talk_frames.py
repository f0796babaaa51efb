"""Frames for the talking render (talk_render.py): the loop decoded once and replayed, and the mouth
drawn on planar I420 frames by converting only the mouth's crop to RGB and back.

Why: at 1080p the mouth changes about 4 % of the frame, yet converting every frame to RGB for the
renderer and back to YUV for the encoder, and piping twice the bytes, cost more than drawing the
mouth (docs/mouth-comparison.md, speed). Pixels the mouth leaves alone stay the decoder's own YUV,
bit for bit; where it draws, the colours go through OpenCV's BT.601 conversion both ways, the same
matrix FFmpeg applies to untagged video.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from . import media
from .cancel import CancelToken
from .errors import InputError

LOOP_MEMORY_BYTES = 512 << 20  # decoded loop frames kept for replay up to this much (4 s of 1080p I420: 311 MB)
CROP_MARGIN = 2  # pixels around the mouth's region also converted (bilinear sampling reads one beyond)


def loop_frames(path: Path, info: media.VideoInfo, n_out: int, *, yuv420: bool,
                cancel: CancelToken | None = None) -> Iterator[tuple[int, np.ndarray]]:
    """(loop frame index, frame) for n_out output frames, the loop repeated. The first pass is decoded and
    kept (up to LOOP_MEMORY_BYTES) and replayed; a longer loop is decoded again for every pass."""
    kept: list[np.ndarray] | None = []
    kept_bytes = 0
    written = 0
    first = True
    while written < n_out:
        if kept and not first:
            source = enumerate(kept)
        else:
            source = enumerate(media.iter_frames(path, info, yuv420=yuv420, cancel=cancel))
        produced = 0
        for index, frame in source:
            if written >= n_out:
                break
            if first and kept is not None:
                kept.append(frame)
                kept_bytes += frame.nbytes
                if kept_bytes > LOOP_MEMORY_BYTES:
                    kept = None
            yield index, frame
            written += 1
            produced += 1
        first = False
        if produced == 0:
            raise InputError(f"no frames could be decoded from the loop: {path}")


class I420Painter:
    """Draws `renderer`'s mouth on (h * 3 / 2, w) I420 frames of one size (both even)."""

    def __init__(self, renderer, width: int, height: int) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"I420 needs an even frame size, not {width}x{height}")
        self.renderer = renderer
        self.width, self.height = width, height
        self.rgb = np.zeros((height, width, 3), np.uint8)  # per frame only the crop around the mouth is valid
        self.full_conversions = 0  # frames whose warp reached beyond the crop (the whole frame was converted)

    def paint(self, yuv: np.ndarray, frame_index: int, params) -> np.ndarray:
        """The frame with the mouth drawn: `yuv` itself when nothing changes, else a new array."""
        if params is None or params.is_rest:
            return yuv
        shape = (self.height, self.width)
        region = _region(self.renderer, frame_index, shape)
        if region is None:
            return yuv
        crop = _even_box(region, CROP_MARGIN, shape)
        box = _even_box(region, 0, shape)
        _to_rgb(yuv, shape, crop, self.rgb)
        before = _take(self.rgb, box).copy()
        out = self.renderer.render(self.rgb, frame_index, params, inplace=True)
        if not _inside(getattr(self.renderer, "last_reach", None), crop, shape):
            # The warp sampled beyond the crop: convert the whole frame and draw again (exact, rare).
            self.full_conversions += 1
            crop = (0, 0, self.width, self.height)
            _to_rgb(yuv, shape, crop, self.rgb)
            before = _take(self.rgb, box).copy()
            out = self.renderer.render(self.rgb, frame_index, params, inplace=True)
        if out is not self.rgb:  # a renderer that ignores inplace
            self.rgb[...] = out
        after = _take(self.rgb, box)
        d = cv2.absdiff(after, before)
        changed = (d[..., 0] | d[..., 1] | d[..., 2]) != 0  # not .any(axis=2): 10x slower on a 3-wide axis
        if not changed.any():
            return yuv
        return _paste(yuv, shape, box, rgb_to_i420(np.ascontiguousarray(after)), changed)


def _region(renderer, frame_index: int, shape) -> tuple[int, int, int, int] | None:
    """(x0, y0, x1, y1) of what the renderer may change; the whole frame for one that does not say."""
    region_box = getattr(renderer, "region_box", None)
    if region_box is None:
        return 0, 0, shape[1], shape[0]
    box = region_box(frame_index, shape)
    if box is None:
        return None
    x0, y0, w, h = box
    return x0, y0, x0 + w, y0 + h


def _even_box(box, margin: int, shape) -> tuple[int, int, int, int]:
    """`box` grown by `margin`, clamped to the frame, with even edges (a chroma sample covers 2x2 pixels)."""
    x0, y0, x1, y1 = box
    x0, y0 = max(0, (x0 - margin) // 2 * 2), max(0, (y0 - margin) // 2 * 2)
    x1, y1 = min(shape[1], -(-(x1 + margin) // 2) * 2), min(shape[0], -(-(y1 + margin) // 2) * 2)
    return int(x0), int(y0), int(x1), int(y1)


def _inside(reach, crop, shape) -> bool:
    """Whether bilinear samples at source coordinates within `reach` (None: nothing read) read only pixels
    of `crop`. Clamped as BORDER_REPLICATE clamps them to the frame; 0.05 px of slack for OpenCV's
    fixed-point coordinates (1/32 px)."""
    if reach is None:
        return True
    if not all(math.isfinite(r) for r in reach):
        return False
    x_min, y_min, x_max, y_max = reach
    x0, y0, x1, y1 = crop
    h, w = shape
    lo_x, hi_x = (min(max(v, 0), w - 1) for v in (math.floor(x_min - 0.05), math.floor(x_max + 0.05) + 1))
    lo_y, hi_y = (min(max(v, 0), h - 1) for v in (math.floor(y_min - 0.05), math.floor(y_max + 0.05) + 1))
    return x0 <= lo_x and hi_x < x1 and y0 <= lo_y and hi_y < y1


def _planes(yuv: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    h, w = shape
    flat = yuv.reshape(-1)
    n = h * w
    return (flat[:n].reshape(h, w), flat[n:n + n // 4].reshape(h // 2, w // 2),
            flat[n + n // 4:n + n // 2].reshape(h // 2, w // 2))


def _take(image: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1]


def _crop_i420(yuv: np.ndarray, shape, box) -> np.ndarray:
    """The (h * 3 / 2, w) I420 image of an even-edged box of the frame."""
    x0, y0, x1, y1 = box
    y, u, v = _planes(yuv, shape)
    c = (slice(y0 // 2, y1 // 2), slice(x0 // 2, x1 // 2))
    parts = (y[y0:y1, x0:x1].ravel(), u[c].ravel(), v[c].ravel())
    return np.concatenate(parts).reshape((y1 - y0) * 3 // 2, x1 - x0)


def _to_rgb(yuv: np.ndarray, shape, box, rgb: np.ndarray) -> None:
    x0, y0, x1, y1 = box
    rgb[y0:y1, x0:x1] = cv2.cvtColor(_crop_i420(yuv, shape, box), cv2.COLOR_YUV2RGB_I420)


def rgb_to_i420(rgb: np.ndarray) -> np.ndarray:
    """(h * 3 / 2, w) I420 of an even-sized RGB image, each chroma sample the mean of its 2x2 pixels (as
    FFmpeg's encoder input conversion does). Why not OpenCV's RGB2YUV_I420 alone: it takes the chroma of
    the top-left pixel only, which aliases along the lips' and teeth's edges."""
    h, w = rgb.shape[:2]
    out = cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
    mean = cv2.resize(rgb, (w // 2, h // 2), interpolation=cv2.INTER_AREA)  # an exact 2x2 box mean
    spread = cv2.resize(mean, (w, h), interpolation=cv2.INTER_NEAREST)
    out[h:] = cv2.cvtColor(spread, cv2.COLOR_RGB2YUV_I420)[h:]
    return out


def _paste(yuv: np.ndarray, shape, box, crop_yuv: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """A copy of `yuv` with the box's changed pixels (and the chroma of each 2x2 block holding one) from
    `crop_yuv`; every other sample stays as decoded."""
    x0, y0, x1, y1 = box
    out = yuv.copy()
    y, u, v = _planes(out, shape)
    ny, nu, nv = _planes(crop_yuv, (y1 - y0, x1 - x0))
    np.copyto(y[y0:y1, x0:x1], ny, where=changed)
    blocks = changed[0::2, 0::2] | changed[0::2, 1::2] | changed[1::2, 0::2] | changed[1::2, 1::2]
    c = (slice(y0 // 2, y1 // 2), slice(x0 // 2, x1 // 2))
    np.copyto(u[c], nu, where=blocks)
    np.copyto(v[c], nv, where=blocks)
    return out
