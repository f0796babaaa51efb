"""Analyse → plan → export: the one sequence every front end runs (`export`, `make-loop`, `demo`, the studio).

Each stage is a function so the studio can run them as separate background tasks, with the artist's edits
in between; `make_loop` chains them for the headless commands. The probe and content hash found by the
analysis travel through planning and export, so a source is read for them once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from . import defaults
from .cancel import CancelToken

Progress = Callable[[float], None]


@dataclass
class LoopRequest:
    """What the user asked for; None leaves the choice to the planner."""

    strategy: str = defaults.EXPORT_STRATEGY.value
    duration: float = defaults.LOOP_DURATION_S
    loop_point: int | None = None  # a source frame, or:
    loop_at_s: float | None = None  # a time in the source (becomes a frame once the frame rate is known)
    before: float | None = None
    after: float | None = None
    crossfade: float | None = None  # None: defaults.CROSSFADE_S, shorter where that one warns (auto_loop)
    fmt: str | None = None  # None: from the output's suffix
    quality: str = defaults.EXPORT_QUALITY
    keyframes: str = "auto"  # "all": all-intra (core/export.py KEYFRAMES)
    blinks_file: Path | None = None  # a corrected blink list (`analyze --json` output) to plan around
    fallback: bool = False  # no clean blink: plan around the most closed eyes instead of refusing
    extra: dict = field(default_factory=dict)  # more facts for the sidecar (e.g. the Kling job)


@dataclass
class LoopOutcome:
    analysis: object  # AnalysisResult, with the corrected blinks
    choice: object  # PlanChoice: the plan and why
    export: object  # ExportResult
    notes: list[str]  # what the user should read besides the result (corrections used, VFR)


def analyse(video: Path, request: LoopRequest | None = None, on_progress: Progress | None = None,
            cancel: CancelToken | None = None, notes: list[str] | None = None, **known):
    """The clip's analysis with the blinks the plan must use: a blink-list file, else the stored corrections.

    `known` passes a probe (`info=`) or `content_hash=` the caller already has, or keep_small_frames=True
    (make_loop: planning and the export's seam prediction then measure on the analysis' own decode instead of
    decoding the source again).
    """
    from . import blink_store
    from .analysis import analyze_video

    request = request or LoopRequest()
    notes = notes if notes is not None else []
    analysis = analyze_video(video, on_progress=on_progress, cancel=cancel, **known)
    if analysis.info.vfr:
        notes.append(analysis.info.vfr_note())
    if request.blinks_file is not None:
        analysis = blink_store.read_blink_list(request.blinks_file, analysis)
        notes.append(f"blinks: {len(analysis.events)} from {request.blinks_file}")
        return analysis
    corrected = blink_store.with_stored_corrections(analysis)
    if corrected.edits is not None and corrected.edits.count:
        notes.append(f"blinks: {corrected.edits.count} stored correction(s) applied")
    return corrected


def choose(analysis, video: Path, request: LoopRequest | None = None):
    """The plan (PlanChoice): measured candidates of the requested strategy, or of all of them for auto."""
    from .auto_loop import plan_loop

    request = request or LoopRequest()
    loop_point = request.loop_point
    if loop_point is None and request.loop_at_s is not None:
        at = request.loop_at_s * float(analysis.info.fps)
        loop_point = int(round(at))
        if loop_point >= analysis.frame_count > at:  # a time in the last frame rounds past it: that frame
            loop_point = analysis.frame_count - 1
    return plan_loop(analysis, video, strategy=request.strategy, loop_point=loop_point,
                     duration=request.duration, before=request.before, after=request.after,
                     crossfade=request.crossfade, fallback=request.fallback)


def export(video: Path, plan, out: Path, analysis, request: LoopRequest | None = None,
           on_progress: Progress | None = None, cancel: CancelToken | None = None, predicted=None):
    """The loop file and its sidecar, reusing the analysis' probe and content hash (and `predicted`, the
    planner's prediction for this plan: PlanChoice.prediction)."""
    from .export import export_loop
    from .kept_frames import kept_small_frames
    from .seam import SeamContext

    request = request or LoopRequest()
    return export_loop(video, plan, out, fmt=request.fmt, quality=request.quality, on_progress=on_progress,
                       cancel=cancel, info=analysis.info, source_hash=analysis.content_hash,
                       extra=request.extra or None, context=SeamContext.from_analysis(analysis),
                       source_frames=kept_small_frames(analysis), keyframes=request.keyframes, predicted=predicted)


def make_loop(video: Path, out: Path, request: LoopRequest | None = None,
              progress: Callable[[str], Progress | None] = lambda stage: None,
              on_plan: Callable[[object, list[str]], None] | None = None,
              cancel: CancelToken | None = None) -> LoopOutcome:
    """All three stages; `progress(stage)` gives each stage's progress callback, `on_plan` hears the
    choice (and the notes so far) before the encode starts."""
    request = request or LoopRequest()
    notes: list[str] = []
    analysis = analyse(video, request, progress("analysing"), cancel, notes, keep_small_frames=True)
    choice = choose(analysis, video, request)
    if on_plan is not None:
        on_plan(choice, notes)
    result = export(video, choice.plan, out, analysis, request, progress("exporting"), cancel, choice.prediction)
    if analysis.track is not None:
        analysis.track.small_frames = None  # for planning and the seam prediction alone (10 minutes: ~800 MB)
    return LoopOutcome(analysis, choice, result, notes)
