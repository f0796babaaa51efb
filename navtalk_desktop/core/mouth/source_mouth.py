"""How much an idle loop's own mouth moves, and its quietest stretch: the renderer works from each
frame's own opening, but a loop that talks mixes its speech with the drawn one, so the studio and
the CLI warn about it and name a quieter window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .face_model import source_openings

TALKING_SPREAD = 0.12  # p95 - p5 of the inner gap (mouth widths) above which an idle clip "talks"


@dataclass(frozen=True)
class SourceMouth:
    """How much an idle loop's own mouth moves, and the quietest stretch of it."""

    openings: np.ndarray
    spread: float  # p95 - p5 of the inner gap
    talks: bool
    quiet_start: int  # first frame of the quietest window
    quiet_frames: int

    def warning(self, fps: float) -> str | None:
        if not self.talks:
            return None
        a, b = self.quiet_start / fps, (self.quiet_start + self.quiet_frames) / fps
        return (f"the idle clip talks: its own mouth opens and closes (spread {self.spread:.2f} mouth widths), "
                f"so the drawn speech mixes with it. Use a quieter clip, or the quietest window "
                f"{a:.1f}-{b:.1f} s of this one.")


def source_mouth(points: np.ndarray, fps: float, window_s: float = 2.0) -> SourceMouth:
    openings = source_openings(points)
    valid = openings[np.isfinite(openings)]
    if len(valid) < 2:
        return SourceMouth(openings, 0.0, False, 0, len(openings))
    spread = float(np.subtract(*np.percentile(valid, [95, 5])))
    n = len(openings)
    win = max(2, min(n, int(round(window_s * fps))))
    filled = np.where(np.isfinite(openings), openings, np.nanmax(valid))
    best, best_start = np.inf, 0
    for start in range(0, n - win + 1, max(1, win // 8)):
        seg = filled[start:start + win]
        score = float(seg.max() - seg.min() + seg.mean())
        if score < best:
            best, best_start = score, start
    return SourceMouth(openings, spread, spread > TALKING_SPREAD, best_start, win)
