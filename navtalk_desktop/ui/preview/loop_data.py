"""A loop made ready for the live preview: its frames decoded into memory once, and its mouth renderer.

Runs in a background task (no Qt here). Frames are held at up to 1280 px wide within a memory budget,
so a long 1080p source still fits; the landmark track (from the analysis cache) is scaled to the
decoded size so the mouth lands where the preview shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ...core.cancel import CancelToken
from ...core.errors import InputError

MAX_WIDTH = 1280
BUDGET_BYTES = 384 * 1024 * 1024


@dataclass
class PreviewLoop:
    frames: np.ndarray  # (n, h, w, 3) uint8 RGB
    fps: float
    renderer: object | None  # MouthRenderer / PatchMouthRenderer on the decoded size; None without a face
    path: Path | None = None
    source_size: tuple[int, int] = (0, 0)
    note: str = ""  # shown to the user (e.g. no face: the mouth cannot move)
    label: str = ""  # what is playing, when it is not a file ("the current plan …")
    plan: object | None = None  # the LoopPlan these frames were assembled from (None: a file)

    @property
    def frame_count(self) -> int:
        return int(self.frames.shape[0])


def decode_width(width: int, height: int, frame_count: int, max_width: int = MAX_WIDTH,
                 budget: int = BUDGET_BYTES) -> int:
    """The width to decode at: at most `max_width`, and all frames within `budget` bytes; even."""
    target = min(width, max_width)
    per_frame = target * (height * target / width) * 3
    if per_frame * max(1, frame_count) > budget:
        target = int((budget / max(1, frame_count) / 3 * width / height) ** 0.5)
    target = max(64, min(width, target))
    return target - target % 2


def scaled_points(points: np.ndarray, scale_x: float, scale_y: float) -> np.ndarray:
    return (np.asarray(points, np.float32) * np.array([scale_x, scale_y], np.float32)).astype(np.float32)


def make_renderer(points: np.ndarray, patches: Path | None = None):
    """The generated mouth, or the user's PNG patch set; None when no frame has a face."""
    if points.shape[0] == 0 or np.isnan(points[:, 0, 0]).all():
        return None
    if patches is not None:
        from ...core.mouth.patches import PatchLibrary, PatchMouthRenderer

        return PatchMouthRenderer(points, PatchLibrary.load(patches))
    from ...core.mouth.renderer import MouthRenderer

    return MouthRenderer(points)


def preview_loop_from(frames: np.ndarray, fps: float, track, source_size: tuple[int, int],
                      path: Path | None = None, patches: Path | None = None) -> PreviewLoop:
    """A PreviewLoop from frames already in memory (e.g. the studio's own) and the source's landmark track."""
    if frames.ndim != 4 or frames.shape[0] == 0:
        raise InputError("the loop has no frames to preview")
    w, h = source_size
    renderer, note = None, ""
    if track is not None and track.frame_count:
        points = scaled_points(track.points, frames.shape[2] / w, frames.shape[1] / h)
        renderer = make_renderer(points, patches)
    if renderer is None:
        note = "no face was found in this loop, so its mouth cannot move"
    elif track.frame_count != frames.shape[0]:
        note = (f"the landmarks cover {track.frame_count} frames and the loop has {frames.shape[0]}; "
                "the mouth may be placed a little off")
    else:
        from ...core.mouth.source_mouth import source_mouth

        note = source_mouth(track.points, float(fps)).warning(float(fps)) or ""
    return PreviewLoop(frames, float(fps), renderer, path, (w, h), note)


def load_preview_loop(path: Path | str, patches: Path | None = None,
                      on_progress: Callable[[float], None] | None = None,
                      cancel: CancelToken | None = None) -> PreviewLoop:
    """Probe, decode every frame into memory, and get the landmarks (cached) of the loop at `path`."""
    from ...core import media
    from ...core.landmarks import load_or_compute_landmarks

    path = Path(path)
    info = media.probe(path)
    width = decode_width(info.width, info.height, info.frame_count)
    frames = []
    total = max(1, info.frame_count)
    for i, frame in enumerate(media.iter_frames(path, info, scale_width=width if width < info.width else None,
                                                cancel=cancel)):
        frames.append(frame)
        if on_progress and i % 5 == 0:
            on_progress(0.5 * min(1.0, (i + 1) / total))
    if not frames:
        raise InputError(f"no frames could be decoded from {path.name}")
    track = load_or_compute_landmarks(path, info, cancel=cancel,
                                      on_progress=(lambda f: on_progress(0.5 + 0.5 * f)) if on_progress else None)
    return preview_loop_from(np.stack(frames), float(info.fps), track, (info.width, info.height), path, patches)


def with_mouth(loop: PreviewLoop, patches: Path | None) -> PreviewLoop:
    """The same loop drawing the user's PNG patch set (`patches`), or the generated mouth (None).

    Raises InputError for a folder that is not a valid patch set (docs/mouth-patches.md). A loop without a
    face keeps no renderer either way.
    """
    if loop.renderer is None:
        return loop
    from dataclasses import replace

    return replace(loop, renderer=make_renderer(loop.renderer.points, patches))
