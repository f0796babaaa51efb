"""A small face animator: a still portrait becomes a face video with natural blinks and idle motion.

Tests use it to make videos with known blink frames at any size and frame rate; the Kling simulator uses
it to answer generation requests offline. Lids are drawn over the Face Mesh eye contour with real skin
from above the eye, closing fast and opening slowly, as real eyelids do.
"""

from __future__ import annotations

import math
import subprocess
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from . import ffmpeg
from .atomic import atomic_output
from .cancel import CancelToken
from .errors import FFmpegError, InputError
from .landmarks import landmarks_of_image

# Face Mesh eye contours, corner to corner: (upper lid, lower lid), for the subject's right and left eye.
EYE_CONTOURS = (
    ((33, 246, 161, 160, 159, 158, 157, 173, 133), (33, 7, 163, 144, 145, 153, 154, 155, 133)),
    ((362, 398, 384, 385, 386, 387, 388, 466, 263), (362, 382, 381, 380, 374, 373, 390, 249, 263)),
)


@dataclass(frozen=True)
class AnimationSpec:
    width: int | None = None
    height: int | None = None
    fps: float | Fraction = 25.0
    duration: float = 4.0
    blink_times: Sequence[float] = (1.0,)
    motion: float = 1.0
    seed: int = 0
    close_s: float = 0.08
    hold_s: float = 0.0
    open_s: float = 0.16
    crf: int = 18


@dataclass
class AnimationTruth:
    """Ground truth of a rendered video: the frame where each blink is most closed."""

    apex_frames: list[int]
    fps: float
    frame_count: int
    width: int
    height: int
    closure: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))


def load_rgb(portrait: Path | str | np.ndarray) -> np.ndarray:
    if isinstance(portrait, np.ndarray):
        if portrait.ndim != 3 or portrait.shape[2] != 3:
            raise InputError("the portrait must be an RGB image")
        return np.ascontiguousarray(portrait.astype(np.uint8))
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(portrait)
    if not path.is_file():
        raise InputError(f"portrait not found: {path}")
    try:
        with Image.open(path) as img:
            img = ImageOps.exif_transpose(img)
            if img.mode in ("RGBA", "LA", "P"):
                background = Image.new("RGB", img.size, (255, 255, 255))
                rgba = img.convert("RGBA")
                background.paste(rgba, mask=rgba.split()[3])
                img = background
            return np.asarray(img.convert("RGB"))
    except (UnidentifiedImageError, OSError) as exc:
        raise InputError(f"cannot read the portrait image {path.name}: {exc}") from None


def fit_to_size(rgb: np.ndarray, width: int | None, height: int | None,
                focus: tuple[float, float] | None = None) -> np.ndarray:
    """Scale to cover the target size and crop around `focus` (x, y in the source; default the centre).

    With no size, keep the image (made even).
    """
    h, w = rgb.shape[:2]
    if width is None and height is None:
        return rgb[: h - h % 2, : w - w % 2]
    width = width or int(round(w * height / h))
    height = height or int(round(h * width / w))
    scale = max(width / w, height / h)
    resized = cv2.resize(rgb, (max(width, int(math.ceil(w * scale))), max(height, int(math.ceil(h * scale)))),
                         interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
    fx, fy = focus if focus is not None else (w / 2, h / 2)
    x0 = int(np.clip(round(fx * scale - width / 2), 0, resized.shape[1] - width))
    y0 = int(np.clip(round(fy * scale - height / 2), 0, resized.shape[0] - height))
    return np.ascontiguousarray(resized[y0 : y0 + height, x0 : x0 + width])


def _face_centre(rgb: np.ndarray) -> tuple[float, float] | None:
    points = landmarks_of_image(rgb)
    if points is None:
        return None
    return float(points[:, 0].mean()), float(points[:, 1].mean())


def closure_curve(n_frames: int, fps: float, spec: AnimationSpec) -> np.ndarray:
    """Lid closure 0..1 per frame: smoothstep down in close_s, hold, smoothstep up in open_s."""
    t = np.arange(n_frames) / fps
    closure = np.zeros(n_frames)
    for tb in spec.blink_times:
        start_hold, end_hold = tb - spec.hold_s / 2, tb + spec.hold_s / 2
        c = np.zeros(n_frames)
        closing = (t >= start_hold - spec.close_s) & (t < start_hold)
        x = (t[closing] - (start_hold - spec.close_s)) / spec.close_s
        c[closing] = x * x * (3 - 2 * x)
        c[(t >= start_hold) & (t <= end_hold)] = 1.0
        opening = (t > end_hold) & (t <= end_hold + spec.open_s)
        x = 1 - (t[opening] - end_hold) / spec.open_s
        c[opening] = x * x * (3 - 2 * x)
        closure = np.maximum(closure, c)
    return closure


class _EyeLid:
    """One eye's upper lid: the skin above the eye slides down over it, carrying the lash line along.

    This is what a real lid does, so the closed eye keeps real skin texture and a dark lash seam where
    the lids meet; Face Mesh reads it as closed.
    """

    def __init__(self, rgb: np.ndarray, upper: np.ndarray, lower: np.ndarray):
        upper = upper.astype(np.float32)
        lower = lower.astype(np.float32)
        eye_w = float(np.linalg.norm(upper[-1] - upper[0]))
        h, w = rgb.shape[:2]
        self.band = max(4.0, eye_w * 0.45)  # skin above the eye that slides down
        self.pad = max(1.0, eye_w * 0.05)  # the lash line below the upper contour
        self.lash = max(1, int(round(eye_w * 0.07)))  # thickness of the lash seam of a closed eye
        x_lo, x_hi = float(min(upper[:, 0].min(), lower[:, 0].min())), float(max(upper[:, 0].max(), lower[:, 0].max()))
        self.x0 = max(0, int(math.floor(x_lo)) - 2)
        self.x1 = min(w, int(math.ceil(x_hi)) + 3)
        self.y0 = max(0, int(math.floor(upper[:, 1].min() - self.band)) - 2)
        self.y1 = min(h, int(math.ceil(lower[:, 1].max() + eye_w * 0.15)) + 3)
        xs = np.arange(self.x0, self.x1, dtype=np.float32)
        up_order, lo_order = np.argsort(upper[:, 0]), np.argsort(lower[:, 0])
        self.top = np.interp(xs, upper[up_order, 0], upper[up_order, 1]).astype(np.float32)
        bottom = np.interp(xs, lower[lo_order, 0], lower[lo_order, 1]).astype(np.float32)
        inside = (xs >= x_lo) & (xs <= x_hi)
        # Travel of the lid edge per column: down to the lower contour (further reads as less closed).
        self.travel = np.where(inside, np.maximum(0.0, bottom - self.top), 0.0).astype(np.float32)
        self.map_x = np.tile(xs, (self.y1 - self.y0, 1))
        self.rows = np.arange(self.y0, self.y1, dtype=np.float32)[:, None]

    def draw(self, frame: np.ndarray, closure: float) -> None:
        if closure <= 0.01:
            return
        band_top = self.top - self.band
        src_bottom = self.top + self.pad
        dst_bottom = src_bottom + closure * self.travel
        rows = self.rows
        scale = (src_bottom - band_top) / np.maximum(dst_bottom - band_top, 1e-3)
        slid = band_top + (rows - band_top) * scale
        map_y = np.where((rows >= band_top) & (rows <= dst_bottom), slid, rows).astype(np.float32)
        roi = frame[self.y0 : self.y1, self.x0 : self.x1]
        warped = cv2.remap(frame, self.map_x, map_y, interpolation=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        # The lashes where the lids meet: a dark seam that darkens as the lid comes down.
        inside = self.travel > 0
        xs = self.map_x[0][inside] - self.x0
        ys = (self.top + self.pad + closure * self.travel)[inside] - self.y0
        seam = np.zeros(warped.shape[:2], np.float32)
        pts = np.round(np.stack([xs, ys], axis=1) * 4).astype(np.int32)
        cv2.polylines(seam, [pts], False, 1.0, thickness=self.lash, lineType=cv2.LINE_AA, shift=2)
        alpha = (cv2.GaussianBlur(seam, (0, 0), 0.6) * 0.85 * closure)[..., None]
        roi[:] = np.clip(warped * (1 - alpha) + np.array([40, 28, 24], np.float32) * alpha, 0, 255).astype(np.uint8)


def _idle_motion(i: int, fps: float, width: int, height: int, spec: AnimationSpec, phases: np.ndarray) -> np.ndarray:
    """A tiny, smooth head sway: translation, roll and a breath-like scale, all a fraction of the size."""
    t = i / fps
    amp = spec.motion
    dx = amp * 0.004 * width * math.sin(2 * math.pi * t / 3.7 + phases[0])
    dy = amp * 0.003 * height * math.sin(2 * math.pi * t / 4.3 + phases[1])
    angle = amp * 0.4 * math.sin(2 * math.pi * t / 5.1 + phases[2])
    scale = 1.0 + amp * 0.004 * math.sin(2 * math.pi * t / 3.1 + phases[3])
    matrix = cv2.getRotationMatrix2D((width / 2, height * 0.45), angle, scale)
    matrix[:, 2] += (dx, dy)
    return matrix


def render_face_video(
    portrait: Path | str | np.ndarray,
    out_path: Path | str,
    spec: AnimationSpec = AnimationSpec(),
    on_progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
) -> AnimationTruth:
    """Render the animated face to an H.264 MP4 (written atomically) and return the blink ground truth."""
    source = load_rgb(portrait)
    # Crop around the face, so a landscape frame from a portrait photo keeps the eyes in view.
    focus = _face_centre(source) if spec.width or spec.height else None
    still = fit_to_size(source, spec.width, spec.height, focus)
    height, width = still.shape[:2]
    if width < 16 or height < 16:
        raise InputError("the portrait is too small to animate")
    points = landmarks_of_image(still)
    if points is None:
        raise InputError("no face found in the portrait")
    eyes = points[[i for up, lo in EYE_CONTOURS for i in up + lo]]
    if (eyes < 0).any() or (eyes[:, 0] >= width).any() or (eyes[:, 1] >= height).any():
        raise InputError(f"the eyes fall outside a {width}x{height} frame of this portrait; choose another size")
    lids = [_EyeLid(still, points[list(up)], points[list(lo)]) for up, lo in EYE_CONTOURS]
    fps = Fraction(spec.fps).limit_denominator(1001)
    n_frames = int(round(spec.duration * float(fps)))
    closure = closure_curve(n_frames, float(fps), spec)
    apexes = []
    for tb in spec.blink_times:
        near = np.arange(max(0, int(tb * fps) - 3), min(n_frames, int(tb * fps) + 4))
        if len(near) and closure[near].max() > 0.5:
            apexes.append(int(near[np.argmax(closure[near])]))
    phases = np.random.default_rng(spec.seed).uniform(0, 2 * math.pi, 4)
    pix_fmt = "yuv420p" if width % 2 == 0 and height % 2 == 0 else "yuv444p"
    with atomic_output(Path(out_path), suffix=".mp4") as tmp:
        proc = ffmpeg.popen(
            ["-loglevel", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}",
             "-r", f"{fps.numerator}/{fps.denominator}", "-i", "-", "-c:v", "libx264", "-preset", "veryfast",
             "-crf", str(spec.crf), "-pix_fmt", pix_fmt, "-movflags", "+faststart", "-f", "mp4", str(tmp)],
            stdin=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        try:
            for i in range(n_frames):
                if cancel is not None and cancel.cancelled:
                    proc.kill()
                    cancel.raise_if_cancelled()
                frame = still.copy()
                for lid in lids:
                    lid.draw(frame, float(closure[i]))
                if spec.motion:
                    frame = cv2.warpAffine(frame, _idle_motion(i, float(fps), width, height, spec, phases),
                                           (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
                proc.stdin.write(frame.tobytes())
                if on_progress and i % 10 == 0:
                    on_progress(i / n_frames)
            proc.stdin.close()
            err = proc.stderr.read().decode(errors="replace")
            if proc.wait() != 0:
                raise FFmpegError(f"encoding the animated face failed: {err.strip()[-500:]}")
        except BrokenPipeError:
            err = proc.stderr.read().decode(errors="replace")
            proc.wait()
            raise FFmpegError(f"encoding the animated face failed: {err.strip()[-500:]}") from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    if on_progress:
        on_progress(1.0)
    return AnimationTruth(apex_frames=apexes, fps=float(fps), frame_count=n_frames, width=width, height=height,
                          closure=closure)
