"""A loop plan's output frames built in memory from decoded source frames (no Qt, no decoding).

The same recipe as the export (`LoopPlan.output_sources`: each output frame is a weighted sum of source
frames), applied to the studio's preview frames: the editor's playback, the seam view and the Live
Preview show the frames the export will encode, before anything is encoded.
"""

from __future__ import annotations

import numpy as np


def blend(frames: np.ndarray, parts) -> np.ndarray:
    """One output frame: [(source index, weight), ...] mixed from `frames` (one part: that frame itself)."""
    n = len(frames)
    if len(parts) == 1:
        return frames[max(0, min(int(parts[0][0]), n - 1))]
    acc = sum(frames[max(0, min(int(i), n - 1))].astype(np.float32) * w for i, w in parts)
    return np.clip(acc + 0.5, 0, 255).astype(np.uint8)


def assemble(frames: np.ndarray, plan) -> np.ndarray:
    """Every output frame of `plan`, in loop order: (output_frames, h, w, 3) — the seam metrics' recipe."""
    from ..core.seam import assemble as assemble_plan  # OpenCV: loaded only once a plan is previewed

    return assemble_plan(plan, frames)


def assemble_points(points: np.ndarray, plan) -> np.ndarray:
    """The landmark track of the loop: each output frame's points blended like its pixels (NaN stays NaN)."""
    out = []
    for parts in plan.output_sources():
        out.append(sum(points[int(i)].astype(np.float32) * w for i, w in parts))
    return np.stack(out).astype(np.float32)


def seam_pair(frames: np.ndarray, plan) -> tuple[np.ndarray, np.ndarray]:
    """The loop's last output frame and its first: the two frames that meet at the wrap."""
    sources = plan.output_sources()
    return blend(frames, sources[-1]), blend(frames, sources[0])


def difference(a: np.ndarray, b: np.ndarray, gain: float = 4.0) -> np.ndarray:
    """|a − b| amplified, so a small jump at the seam shows as bright pixels on black."""
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).astype(np.float32) * gain
    return np.clip(diff, 0, 255).astype(np.uint8)


def onion(a: np.ndarray, b: np.ndarray, alpha: float = 0.5) -> np.ndarray:
    """`b` over `a` at `alpha` opacity: a face that moves at the seam shows doubled."""
    return np.clip(a.astype(np.float32) * (1 - alpha) + b.astype(np.float32) * alpha + 0.5, 0, 255).astype(np.uint8)
