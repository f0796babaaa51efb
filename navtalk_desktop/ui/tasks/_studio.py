"""The studio's background jobs as plain functions of a TaskContext: no widgets, heavy imports inside.

Each `*_task(...)` returns the function a TaskRunner runs on the pool. MediaPipe, OpenCV, SciPy and FFmpeg
are only imported here, inside the functions, so opening the window never waits for them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np

from ._runner import TaskContext

PREVIEW_MAX_WIDTH = 640
PREVIEW_BUDGET_BYTES = 256 * 1024 * 1024  # all preview frames of a clip stay in memory for scrubbing


@dataclass
class PreviewFrames:
    """Every frame of the source, downscaled for the frame view; `scale` = preview px per source px."""

    frames: np.ndarray  # (n, h, w, 3) uint8 RGB
    scale: float


def probe_task(path: Path) -> Callable[[TaskContext], Any]:
    def run(ctx: TaskContext):
        from ...core import media

        ctx.progress(-1, f"Reading {path.name}…")
        return media.probe(path)

    return run


def analysis_task(path: Path, use_cache: bool = True, info=None) -> Callable[[TaskContext], Any]:
    """Blink analysis; `info` is the probe the studio already made (the file is not probed twice)."""
    def run(ctx: TaskContext):
        from ...core.analysis import analyze_video

        ctx.progress(0.0, f"Analysing blinks in {path.name}…")
        return analyze_video(path, on_progress=lambda f: ctx.progress(f, f"Analysing blinks… {f:.0%}"),
                             cancel=ctx.cancel, use_cache=use_cache, info=info)

    return run


def preview_frames_task(path: Path, info) -> Callable[[TaskContext], PreviewFrames]:
    def run(ctx: TaskContext) -> PreviewFrames:
        from ...core import media

        width = min(info.width, PREVIEW_MAX_WIDTH)
        per_frame = width * (info.height * width / info.width) * 3
        if per_frame * info.frame_count > PREVIEW_BUDGET_BYTES:
            width = int((PREVIEW_BUDGET_BYTES / info.frame_count / 3 * info.width / info.height) ** 0.5)
        width = max(64, width - width % 2)
        frames = []
        for i, frame in enumerate(media.iter_frames(path, info, scale_width=width, cancel=ctx.cancel)):
            frames.append(frame)
            ctx.progress((i + 1) / info.frame_count, "Loading frames…")
        if not frames:
            from ...core.errors import InputError

            raise InputError(f"no frames could be decoded from {path.name}")
        stack = np.stack(frames)
        return PreviewFrames(stack, stack.shape[2] / info.width)

    return run


def seam_frames_task(path: Path, info) -> Callable[[TaskContext], np.ndarray]:
    """Small gray frames of the whole source, decoded once so every plan can be scored in memory."""
    def run(ctx: TaskContext) -> np.ndarray:
        from ...core.seam import source_frames_small

        ctx.progress(-1, "Preparing seam metrics…")
        return source_frames_small(path, info)

    return run


def predict_seam_task(path: Path, plan, gray_frames: np.ndarray | None, analysis=None) -> Callable[[TaskContext], Any]:
    """The plan's seam report from the source frames; with the analysis it also warns of blinks in the fade."""
    def run(ctx: TaskContext):
        from ...core.seam import SeamContext, predict_plan_metrics

        ctx.raise_if_cancelled()
        context = SeamContext.from_analysis(analysis) if analysis is not None else None
        return predict_plan_metrics(path, plan, frames=gray_frames, context=context)

    return run


def auto_plan_task(analysis, path: Path, strategy: str, duration: float,
                   loop_point: int | None = None) -> Callable[[TaskContext], Any]:
    """The starting plan: the best measured seam around the clean blinks (or a plain plan around a frame)."""
    def run(ctx: TaskContext):
        from ...core.pipeline import LoopRequest, choose

        ctx.progress(-1, "Choosing the loop…")
        choice = choose(analysis, path, LoopRequest(strategy=strategy, loop_point=loop_point, duration=duration,
                                                    fallback=True))
        ctx.raise_if_cancelled()
        return choice.plan, choice.explanation, choice.fallback

    return run


def export_task(source: Path, plan, out: Path, fmt: str, quality: str, info=None,
                source_hash: str | None = None, analysis=None, source_frames=None,
                predicted=None) -> Callable[[TaskContext], Any]:
    """The export; `info` and `source_hash` come from the analysis (no second probe or hash), and the
    analysis and the small gray frames in memory feed the seam report (face region, blinks, prediction;
    `predicted`: the plan's prediction already shown, made from those frames)."""
    def run(ctx: TaskContext):
        from ...core.export import export_loop
        from ...core.seam import SeamContext

        ctx.progress(0.0, f"Exporting {out.name}…")
        context = SeamContext.from_analysis(analysis) if analysis is not None else None
        return export_loop(source, plan, out, fmt=fmt, quality=quality,
                           on_progress=lambda f: ctx.progress(f, f"Exporting {out.name}… {f:.0%}"),
                           cancel=ctx.cancel, info=info, source_hash=source_hash, context=context,
                           source_frames=source_frames, predicted=predicted)

    return run


def preflight_task(path: Path, fix: bool = False) -> Callable[[TaskContext], Any]:
    """An image's check against Kling's upload rules: (PreparedImage or None, problem text, fixable)."""
    def run(ctx: TaskContext):
        from ...core.kling.errors import ImagePreflightError
        from ...core.kling.preflight import prepare_image

        try:
            return prepare_image(path, fix=fix), "", False
        except ImagePreflightError as exc:
            return None, str(exc), bool(getattr(exc, "fixable", False))

    return run
