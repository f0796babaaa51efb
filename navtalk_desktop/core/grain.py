"""How much of a clip's fine detail (grain, pores, lashes) a plain crossfade keeps in its middle frame.

Two frames whose grain is independent, mixed half and half, keep ~0.71 of its amplitude: a grainy still avatar
turns smooth for the length of every crossfade, a softening once a cycle (docs/seamless-loops.md, "Grain
through the transition"). The morph hands the grain over instead (morph.keep_grain). The seam measures work
on 160 px frames, where grain is gone, so the landmark pass measures it on two of the frames it decodes
anyway (at most 960 px on the long side: about the size a loop is watched at), a loop's length apart, as the
two ends a crossfade blends are (`probe_frames`).
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

GRAIN_SIGMA = 1.5  # px: finer than this is grain and fine texture (the detail a blend thins)
AGREE_SIGMA = 2.0  # px: the scale at which two frames must agree for their fine detail to count as grain
# Gray levels of the two frames' GRAIN_SIGMA-blurred difference, smoothed over AGREE_SIGMA: above it they
# differ at the coarse scale (a head that moved), which is the ghost measure's business, not the grain's.
AGREE_LEVEL = 4.0
AGREE_MIN_SHARE = 0.2  # where the frames agree over less of the picture than this, nothing is said
PROBE_START_S = 0.5  # the first probe frame: past a generated clip's first frame, which is the still portrait


def fine_detail(frame: np.ndarray) -> np.ndarray:
    """|frame - its GRAIN_SIGMA blur| per pixel: the detail a blend of unaligned grain thins."""
    frame = frame.astype(np.float32)
    return np.abs(frame - cv2.GaussianBlur(frame, (0, 0), GRAIN_SIGMA))


class BlendDetail(NamedTuple):
    """The fine detail a half-and-half mix of two frames keeps: `kept`, its share of the two frames' own, and
    `level`, theirs (mean gray levels), where the frames agree at the coarse scale."""

    kept: float
    level: float

    @property
    def lost(self) -> float:
        """Gray levels of fine detail the mix loses: what shows as a softening."""
        return self.level * (1.0 - self.kept)

    @property
    def thins(self) -> bool:
        """A visible softening: under THIN_KEPT of the detail kept, and at least THIN_LOST_LEVELS lost."""
        return self.kept < THIN_KEPT and self.lost >= THIN_LOST_LEVELS


# A softening shows where both hold (docs/seamless-loops.md, "Grain and the crossfade"): the demo face with
# grain added keeps 0.76 and loses 1.4 levels, d18 at 720 px with grain added 0.72 and 1.0; clips without
# strong grain lose 0.05-0.2 levels, even where a slight misalignment keeps only 0.82-0.92 (d18, the demo face,
# the 1080p animator face).
THIN_KEPT = 0.85
THIN_LOST_LEVELS = 0.5


def blend_keeps(a: np.ndarray, b: np.ndarray) -> BlendDetail | None:
    """The fine detail of the half-and-half mix of gray frames `a` and `b` against theirs, where the two agree
    at the coarse scale: kept ~1 where they share their detail, ~0.71 where it is independent grain; None where
    they agree over too little of the picture to tell."""
    a, b = a.astype(np.float32), b.astype(np.float32)
    coarse = cv2.GaussianBlur(a - b, (0, 0), GRAIN_SIGMA)
    agree = cv2.GaussianBlur(np.abs(coarse), (0, 0), AGREE_SIGMA) < AGREE_LEVEL
    if agree.mean() < AGREE_MIN_SHARE:
        return None
    ends = float((fine_detail(a)[agree].mean() + fine_detail(b)[agree].mean()) / 2)
    if ends <= 1e-6:
        return BlendDetail(1.0, 0.0)  # a flat picture: no detail to lose
    return BlendDetail(float(fine_detail((a + b) / 2)[agree].mean() / ends), ends)


def probe_frames(fps: float, frame_count: int, loop_s: float) -> tuple[int, int] | None:
    """Two frames `loop_s` apart (the ends a crossfade of a loop that long blends), the first PROBE_START_S in
    where the clip is long enough, else as late as fits; None for a clip of under two frames."""
    gap = max(1, int(round(loop_s * fps)))
    last = frame_count - 1
    if last < 1:
        return None
    first = min(int(round(PROBE_START_S * fps)), max(0, last - gap))
    return first, min(last, first + gap)
