"""Keeps the preview panel in step with the studio window: the current loop plan plays in it (assembled
from the studio's decoded source frames, the frames the export will encode), then every loop the studio
exports; a new source clears it.

A plan change (a drag, an undo, a new strategy) rebuilds the preview after a short pause, so a drag does
not rebuild it at every pixel; loading waits until the panel's dock tab is actually on screen, so a
background tab costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDockWidget

from .. import plan_frames
from .loop_data import PreviewLoop, preview_loop_from

PLAN_DEBOUNCE_MS = 300


def plan_loop(document, loop_controller) -> PreviewLoop | None:
    """The current plan's output frames and landmarks, built from the studio's frames; None until both exist."""
    preview = getattr(loop_controller, "preview", None)
    plan, info, analysis = document.plan, document.video_info, document.analysis
    if preview is None or plan is None or info is None or len(preview.frames) != plan.source_frames:
        return None
    frames = plan_frames.assemble(preview.frames, plan)
    track = getattr(analysis, "track", None)
    loop_track = None
    if track is not None and track.frame_count == plan.source_frames:
        points = plan_frames.assemble_points(track.points, plan)
        loop_track = SimpleNamespace(points=points, frame_count=len(points))
    loop = preview_loop_from(frames, float(plan.fps), loop_track, (info.width, info.height), document.source_path)
    loop.plan = plan
    loop.label = f"the current plan ({plan.strategy}, frames {plan.first}–{plan.last})"
    return loop


def link_to_studio(panel, document, loop_controller) -> None:
    parent = panel.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    if parent is not None:
        panel.follow_dock(parent)
    timer = QTimer(panel)
    timer.setSingleShot(True)
    timer.setInterval(PLAN_DEBOUNCE_MS)

    def source_changed() -> None:
        timer.stop()
        waiting = document.source_kind == "video"
        panel.clear_loop("Analysing the video…" if waiting else "Open a video: its loop plays here")

    def load_plan(force: bool = False) -> None:
        playing = panel.loop.plan if panel.loop is not None else None
        if not force and playing is not None and playing == document.plan:
            return  # already playing this plan (the frames arrived, or an edit was undone and redone)
        if document.plan is not None and document.source_path is not None:
            panel.load_loop_when_shown(document.source_path, lambda: plan_loop(document, loop_controller),
                                       from_file=False)

    def exported(result) -> None:
        if result is not None:
            panel.load_loop_when_shown(Path(result.path))

    panel.plan_loop_requested.connect(lambda: load_plan(force=True))
    document.source_changed.connect(source_changed)
    document.plan_changed.connect(lambda _plan: timer.start())
    loop_controller.frames_ready.connect(lambda _frames: timer.start())
    timer.timeout.connect(lambda: load_plan())
    loop_controller.export_finished.connect(exported)
