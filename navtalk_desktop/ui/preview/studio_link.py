"""Keeps the preview panel in step with the studio window: the analysed source video plays in it, then
every loop the studio exports; a new source clears it.

The studio's own decoded frames are reused when they match the analysis (no second copy in memory);
loading waits until the panel's dock tab is actually on screen, so a background tab costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDockWidget

from .loop_data import PreviewLoop, preview_loop_from


def studio_frames(document, loop_controller, result) -> PreviewLoop | None:
    """The studio's decoded frames of the source with the analysis's landmarks, when both are there."""
    preview = getattr(loop_controller, "preview", None)
    info = document.video_info
    track = getattr(result, "track", None)
    if preview is None or info is None or track is None or len(preview.frames) != track.frame_count:
        return None
    return preview_loop_from(preview.frames, float(info.fps), track, (info.width, info.height),
                             document.source_path)


def link_to_studio(panel, document, loop_controller) -> None:
    parent = panel.parentWidget()
    while parent is not None and not isinstance(parent, QDockWidget):
        parent = parent.parentWidget()
    if parent is not None:
        panel.follow_dock(parent)

    def source_changed() -> None:
        waiting = document.source_kind == "video"
        panel.clear_loop("Analysing the video…" if waiting else "Open a video: its loop plays here")

    def analysed(result) -> None:
        if document.source_path is not None:
            panel.load_loop_when_shown(document.source_path,
                                       lambda: studio_frames(document, loop_controller, result))

    def exported(result) -> None:
        if result is not None:
            panel.load_loop_when_shown(Path(result.path))

    document.source_changed.connect(source_changed)
    loop_controller.analysis_finished.connect(analysed)
    loop_controller.export_finished.connect(exported)
