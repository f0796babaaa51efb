"""The open work of one studio window: source, analysis, loop plan, playhead, settings, undo stack.

Views observe it through `*_changed` signals (each view's `observe(document)`) and change it through its
methods; it knows no widgets, so the timeline, the frame view, the panels and the tests all see the same
state. Controllers set what tasks produce (a probe, an analysis, a plan) here, not in the views.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from ..core import blink_store
from ..core.errors import NavTalkError
from ..core.blink_edits import BlinkEdits
from ..core.loop_plan import LoopPlan
from ..core.project import ExportSettings, GenerationSettings, Project
from . import plan_edits
from .undo_commands import BlinkEditCommand, PlanEditCommand

if TYPE_CHECKING:  # the window opens before any heavy import: these are for the type checker only
    from ..core.analysis import AnalysisResult
    from ..core.media import VideoInfo

SourceKind = Literal["video", "image"]


class StudioDocument(QObject):
    source_changed = Signal()  # source path / kind changed (analysis and plan are cleared)
    video_info_changed = Signal(object)  # VideoInfo or None
    analysis_changed = Signal(object)  # AnalysisResult or None
    plan_changed = Signal(object)  # LoopPlan or None
    blinks_changed = Signal(object)  # the corrected AnalysisResult after a blink edit
    playhead_changed = Signal(int)  # frame index
    modified_changed = Signal(bool)  # unsaved changes exist
    project_path_changed = Signal(object)  # Path or None
    portrait_changed = Signal(object)  # Path of the portrait the source came from (or is), or None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_stack = QUndoStack(self)
        self.undo_stack.cleanChanged.connect(self._clean_changed)
        self.source_path: Path | None = None
        self.source_kind: SourceKind | None = None
        self.portrait_path: Path | None = None
        self.video_info: VideoInfo | None = None
        self.analysis: AnalysisResult | None = None
        self.plan: LoopPlan | None = None
        self.blink_edits: BlinkEdits = BlinkEdits()  # the artist's corrections; `analysis.events` has them applied
        self.playhead: int = 0
        self.export: ExportSettings = ExportSettings()
        self.generation: GenerationSettings = GenerationSettings()
        self.job_id: str = ""
        self.project_path: Path | None = None
        self._extra_modified = False
        self.lock_length: bool = True  # edge edits keep the loop's duration (the Lock length box)

    def _clean_changed(self, _clean: bool) -> None:
        self.modified_changed.emit(self.is_modified)

    # --- source and analysis -------------------------------------------------------------------------
    def set_portrait(self, path: Path | str | None) -> None:
        """The portrait the open video was generated from (or the open image itself)."""
        self.portrait_path = Path(path) if path else None
        self.portrait_changed.emit(self.portrait_path)

    def set_source(self, path: Path | str | None, kind: SourceKind | None, keep_portrait: bool = False) -> None:
        """A new source: everything derived from the old one goes, including the undo history.

        A video generated from the open portrait keeps it (`keep_portrait`); any other video drops it.
        """
        self.source_path = Path(path) if path else None
        self.source_kind = kind if path else None
        portrait = self.portrait_path
        if kind == "image":
            portrait = self.source_path
        elif not keep_portrait:
            portrait = None
            self.job_id = ""
        self.video_info = None
        self.analysis = None
        self.plan = None
        self.blink_edits = BlinkEdits()
        self.playhead = 0
        self.undo_stack.clear()
        self.source_changed.emit()
        self.set_portrait(portrait)
        self.video_info_changed.emit(None)
        self.analysis_changed.emit(None)
        self.plan_changed.emit(None)
        self.playhead_changed.emit(0)
        # Opening a file is not an edit: only the user's changes mark the project modified.
        self._extra_modified = False
        self.undo_stack.setClean()
        self.modified_changed.emit(self.is_modified)

    def set_video_info(self, info: VideoInfo | None) -> None:
        self.video_info = info
        self.video_info_changed.emit(info)

    def set_analysis(self, result: AnalysisResult | None, blink_edits: BlinkEdits | None = None) -> None:
        """A finished analysis, with the clip's corrections applied: `blink_edits` (from a project) or the
        ones stored for its content hash."""
        if result is not None:
            if blink_edits is None:
                blink_edits = blink_store.load_edits(blink_store.content_hash_of(result))
            self.blink_edits = blink_edits
            result = blink_store.corrected(result, blink_edits)
        self.analysis = result
        if result is not None and blink_edits.count:
            self._store_blink_edits()  # a project's corrections become the clip's stored ones
        if result is not None and self.video_info is None:
            self.set_video_info(result.info)
        self.analysis_changed.emit(result)

    @property
    def frame_count(self) -> int:
        if self.analysis is not None:
            return self.analysis.frame_count
        if self.video_info is not None:
            return int(self.video_info.frame_count)
        return 0

    @property
    def fps(self) -> float:
        return float(self.video_info.fps) if self.video_info is not None else 0.0

    def blink_apexes(self) -> list[int]:
        if self.analysis is None:
            return []
        return sorted(e.apex for e in self.analysis.events)

    # --- blink corrections -----------------------------------------------------------------------------------
    def set_blink_edits(self, edits: BlinkEdits, store: bool = True) -> None:
        """Apply corrections without an undo step (undo/redo, drag previews with `store` off)."""
        if self.analysis is None:
            return
        if edits != self.blink_edits:
            self.blink_edits = edits
            self.analysis = blink_store.corrected(self.analysis, edits)
            self.blinks_changed.emit(self.analysis)
        if store:
            self._store_blink_edits()

    def edit_blinks(self, edits: BlinkEdits, text: str) -> bool:
        """An undoable blink correction; returns False when nothing changed."""
        if self.analysis is None or edits == self.blink_edits:
            return False
        self.undo_stack.push(BlinkEditCommand(self, self.blink_edits, edits, text))
        return True

    def reset_blinks(self) -> bool:
        return self.edit_blinks(BlinkEdits(), "Reset blinks to detected")

    def _store_blink_edits(self) -> None:
        try:
            blink_store.save_edits(blink_store.content_hash_of(self.analysis) if self.analysis is not None
                                   else "", self.blink_edits)
        except (OSError, NavTalkError):  # the project still holds them; the store is a convenience
            pass

    # --- plan -----------------------------------------------------------------------------------------
    def set_plan(self, plan: LoopPlan | None) -> None:
        """Set the plan without recording an undo step (drag previews, undo/redo themselves)."""
        if plan == self.plan:
            return
        self.plan = plan
        self.plan_changed.emit(plan)

    def reset_plan(self, plan: LoopPlan | None) -> None:
        """A fresh starting plan (after analysis): not undoable, history starts here."""
        self.undo_stack.clear()
        self.set_plan(plan)

    def edit_plan(self, new: LoopPlan | None, text: str) -> bool:
        """An undoable edit; returns False when nothing changed."""
        if new is None or new == self.plan:
            return False
        self.undo_stack.push(PlanEditCommand(self, self.plan, new, text))
        return True

    def commit_drag(self, old: LoopPlan | None, new: LoopPlan | None, text: str) -> bool:
        """Record a finished drag: the plan already shows `new`; undo goes back to `old`."""
        if new is None or old == new:
            self.set_plan(old if new is None else new)
            return False
        self.undo_stack.push(PlanEditCommand(self, old, new, text))
        return True

    # --- playhead and keyboard edits ----------------------------------------------------------------------
    def set_playhead(self, frame: int) -> None:
        n = self.frame_count
        frame = max(0, min(int(frame), n - 1)) if n else 0
        if frame != self.playhead:
            self.playhead = frame
            self.playhead_changed.emit(frame)

    def step_playhead(self, delta: int) -> None:
        self.set_playhead(self.playhead + delta)

    def jump_to_blink(self, direction: int) -> bool:
        """Move the playhead to the next (direction > 0) or previous blink apex."""
        apexes = self.blink_apexes()
        targets = [a for a in apexes if a > self.playhead] if direction > 0 else \
            [a for a in apexes if a < self.playhead]
        if not targets:
            return False
        self.set_playhead(targets[0] if direction > 0 else targets[-1])
        return True

    def _edit_marker(self, marker: str, new: LoopPlan | None) -> bool:
        if new is None:
            return False
        return self.edit_plan(new, plan_edits.edit_text(marker, new))

    def set_window_start_here(self) -> bool:
        if self.plan is None:
            return False
        return self._edit_marker("start", plan_edits.move_window_start(self.plan, self.playhead, self.lock_length))

    def set_window_end_here(self) -> bool:
        if self.plan is None:
            return False
        return self._edit_marker("end", plan_edits.move_window_end(self.plan, self.playhead, self.lock_length))

    def set_loop_point_here(self) -> bool:
        if self.plan is None:
            return False
        return self._edit_marker("loop_point", plan_edits.move_loop_point(self.plan, self.playhead))

    # --- modified state and projects ----------------------------------------------------------------------
    @property
    def is_modified(self) -> bool:
        return self._extra_modified or not self.undo_stack.isClean()

    def mark_modified(self) -> None:
        if not self._extra_modified:
            self._extra_modified = True
            self.modified_changed.emit(self.is_modified)

    def mark_saved(self, path: Path | None = None) -> None:
        if path is not None and path != self.project_path:
            self.project_path = path
            self.project_path_changed.emit(path)
        self._extra_modified = False
        self.undo_stack.setClean()
        self.modified_changed.emit(self.is_modified)

    def to_project(self) -> Project:
        analysis_hash = analyser = ""
        if self.analysis is not None and getattr(self.analysis, "track", None) is not None:
            analysis_hash = self.analysis.track.content_hash
            from ..core.landmarks import LANDMARKER_VERSION  # light: numpy only

            analyser = LANDMARKER_VERSION
        source = str(self.source_path) if self.source_kind == "video" and self.source_path else ""
        return Project(source=source, portrait=str(self.portrait_path or ""), job_id=self.job_id,
                       analysis_hash=analysis_hash, analyser=analyser, plan=self.plan,
                       export=self.export, generation=self.generation, blink_edits=self.blink_edits)
