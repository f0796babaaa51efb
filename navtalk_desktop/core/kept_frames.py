"""The small gray frames planning and the seam prediction measure on: the analysis' own, else decoded.

The landmark pass can keep every frame gray at seam.METRIC_WIDTH from its own decode (analyze_video(
keep_small_frames=True), docs/performance.md); planning and the export use those instead of decoding the
source a second time.
"""

from __future__ import annotations

import numpy as np

from . import media
from .analysis import AnalysisResult
from .seam import metric_width, source_frames_small


def kept_small_frames(analysis: AnalysisResult) -> np.ndarray | None:
    """Every source frame gray at METRIC_WIDTH as the analysis kept them, or None when it kept none (or
    not all of them)."""
    info = analysis.info
    kept = analysis.track.small_frames if analysis.track is not None else None
    width, height = media.scaled_size(info.width, info.height, metric_width(info.width))
    return kept if kept is not None and kept.shape == (info.frame_count, height, width) else None


def small_frames(analysis: AnalysisResult, source) -> np.ndarray:
    """Every source frame gray at METRIC_WIDTH: the analysis' own (kept_small_frames), else decoded now."""
    kept = kept_small_frames(analysis)
    return kept if kept is not None else source_frames_small(source, analysis.info)
