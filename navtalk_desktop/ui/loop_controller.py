"""Glue between the document, the panels and the background tasks for the loop workflow.

Open a source → probe → analyse (and decode preview frames) → starting plan → seam prediction on every
plan change → export. Every source task runs in its own TaskRunner lane, and opening a source supersedes
them all, so results of tasks started for an earlier source are dropped: opening a new file while the old
one is still analysing is safe.

What a task produces goes into the document (source, probe, analysis, plan, playhead), and the views show
it by observing the document. The controller tells the views only what the document does not hold: a
task's progress or failure, the portrait's pre-flight, the decoded frames, the seam it measured and the
warnings drawn from it (and from the last export's report), and the export run.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.atomic import ensure_not_source
from ..core.errors import NavTalkError, OutputError
from ..core.settings import Settings
from . import plan_warnings, tasks
from .document import StudioDocument
from .error_words import worded
from .export_panel import ExportPanel
from .frame_view import FrameView
from .source_panel import SourcePanel
from .timeline import TimelineWidget
from .tasks import TaskError, TaskRunner

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff", ".heic", ".heif", ".avif"}
SEAM_DEBOUNCE_MS = 150
SOURCE_TASKS = ("probe", "analysis", "frames", "seam-frames", "auto-plan", "seam", "preflight")


class LoopController(QObject):
    message = Signal(str, str)  # text, level: "error", "warning" or "info"
    status = Signal(str)  # a transient status-bar line
    analysis_finished = Signal(object)  # AnalysisResult
    plan_ready = Signal(object)  # the starting plan of a new source
    export_finished = Signal(object)  # ExportResult, or None when cancelled / failed
    seam_predicted = Signal(object)  # SeamReport of the current plan
    frames_ready = Signal(object)  # the source's decoded preview frames (n, h, w, 3), in memory

    def __init__(self, document: StudioDocument, runner: TaskRunner, settings: Settings, source_panel: SourcePanel,
                 export_panel: ExportPanel, timeline: TimelineWidget, frame_view: FrameView,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.doc, self.runner, self.settings = document, runner, settings
        self.source_panel, self.export_panel = source_panel, export_panel
        self.timeline, self.frame_view = timeline, frame_view
        self.preview = None  # tasks.PreviewFrames
        self.gray_frames = None  # small gray frames for seam prediction
        self.pending_plan = None  # a plan from a project, applied once the analysis is there
        self.pending_blinks = None  # (BlinkEdits, content hash) from a project, applied with the analysis
        self.last_export = None
        self.seam_report = None  # SeamReport of the current plan, once predicted
        self.image_fix = False
        self.confirm_overwrite: Callable[[Path], bool] = lambda _p: True
        self._export_handle = None
        self._seam_timer = QTimer(self)
        self._seam_timer.setSingleShot(True)
        self._seam_timer.setInterval(SEAM_DEBOUNCE_MS)
        self._seam_timer.timeout.connect(self._predict_seam)

        document.plan_changed.connect(self._plan_changed)
        document.blinks_changed.connect(lambda _analysis: self._show_warnings())  # the views redraw themselves
        timeline.playhead_requested.connect(document.set_playhead)
        timeline.plan_dragged.connect(document.set_plan)
        timeline.plan_edit_requested.connect(document.commit_drag)
        source_panel.cancel_analysis_requested.connect(self.cancel_analysis)
        source_panel.fix_requested.connect(self.fix_image)
        export_panel.strategy_changed.connect(lambda s: self.replan(f"Change strategy to {s}"))
        export_panel.duration_changed.connect(lambda d: self.replan(f"Change loop duration to {d:.2f} s"))
        export_panel.export_requested.connect(self.export)
        export_panel.cancel_requested.connect(self.cancel_export)

    # --- opening -----------------------------------------------------------------------------------------------
    def open_path(self, path: Path | str, plan=None, keep_portrait: bool = False, blinks=None) -> bool:
        """Open a file; `plan` and `blinks` ((BlinkEdits, content hash)) come from a project."""
        path = Path(path).expanduser()
        if not path.exists():
            self.message.emit(f"File not found: {path}. It may have been moved or deleted; open it again from "
                              f"its new place.", "error")
            return False
        if path.is_dir():
            self.message.emit(f"{path} is a folder; choose an image or video file inside it.", "error")
            return False
        self._cancel_source_tasks()
        self.preview, self.gray_frames, self.pending_plan = None, None, plan
        self.pending_blinks = blinks
        self.seam_report, self.last_export = None, None
        self.export_panel.reset_for_source(keep_output=plan is not None)  # a project keeps its chosen output
        self.image_fix = False  # the user accepted converting the portrait for upload
        if path.suffix.lower() in IMAGE_SUFFIXES:
            self._open_image(path)
        else:
            self._open_video(path, keep_portrait)
        self.settings.add_recent(path)
        return True

    def _start(self, name: str, fn, on_success, **callbacks):
        """Start a source task in its lane: a newer one of the same name, or a new source, supersedes it."""
        return self.runner.start(name, fn, on_success=on_success, lane=name,
                                 on_failure=callbacks.get("on_failure", self._task_failed),
                                 on_progress=callbacks.get("on_progress"),
                                 on_cancelled=callbacks.get("on_cancelled"))

    def _cancel_source_tasks(self) -> None:
        """Cancel every task of the open source and drop whatever it still delivers."""
        for name in SOURCE_TASKS:
            self.runner.supersede(name)

    def _open_image(self, path: Path) -> None:
        self.doc.set_source(path, "image")
        self._start("preflight", tasks.preflight_task(path), self._preflight_done)
        self.status.emit(f"Opened portrait {path.name}")

    def _preflight_done(self, outcome) -> None:
        prepared, problem, fixable = outcome
        self.source_panel.show_preflight(prepared, problem, fixable)
        if problem:
            self.status.emit("The portrait needs attention before Kling accepts it")

    def fix_image(self) -> None:
        """Accept the offered fix: the upload becomes a converted copy (the original stays untouched)."""
        path = self.doc.source_path
        if path is None or self.doc.source_kind != "image":
            return
        self._start("preflight", tasks.preflight_task(path, fix=True), self._fix_done)

    def _fix_done(self, outcome) -> None:
        prepared, problem, fixable = outcome
        self.source_panel.show_preflight(prepared, problem, fixable)
        if prepared is not None:
            self.image_fix = True
            self.status.emit("The portrait will be converted before upload")

    def _open_video(self, path: Path, keep_portrait: bool = False) -> None:
        self.doc.set_source(path, "video", keep_portrait=keep_portrait)
        self.status.emit(f"Opening {path.name}…")
        self._start("probe", tasks.probe_task(path), self._probed, on_failure=self._source_failed)

    def _probed(self, info) -> None:
        path = self.doc.source_path
        self.doc.set_video_info(info)
        self._start("analysis", tasks.analysis_task(path, info=info), self._analysed,
                    on_progress=self.source_panel.set_analysis_progress, on_failure=self._analysis_failed,
                    on_cancelled=lambda: self._analysis_stopped("Analysis cancelled. Reopen the video to analyse it."))
        self._start("frames", tasks.preview_frames_task(path, info), self._frames_loaded)
        self._start("seam-frames", tasks.seam_frames_task(path, info), self._gray_frames_loaded)

    def _source_failed(self, error: TaskError) -> None:
        self.source_panel.show_source_failed(error.message)
        self.frame_view.clear("This file cannot be opened")
        self.timeline.set_message("No video")
        self._task_failed(error)

    def _frames_loaded(self, preview) -> None:
        self.preview = preview
        self.frame_view.set_frames(preview.frames, preview.scale)
        self.frames_ready.emit(preview.frames)

    def _gray_frames_loaded(self, frames) -> None:
        self.gray_frames = frames
        if self.doc.plan is not None:
            self._seam_timer.start()

    def cancel_analysis(self) -> None:
        for handle in self.runner.running("analysis"):
            handle.cancel()

    def _analysis_stopped(self, text: str) -> None:
        self.source_panel.show_analysis_stopped(text)
        self.timeline.set_message(text)

    def _analysis_failed(self, error: TaskError) -> None:
        self._analysis_stopped(f"Analysis failed: {error.message}")
        self._task_failed(error)

    def _analysed(self, result) -> None:
        edits, self.pending_blinks = self._project_blinks(result), None
        self.doc.set_analysis(result, edits)
        result = self.doc.analysis  # the corrected set from here on
        self.analysis_finished.emit(result)
        plan, self.pending_plan = self.pending_plan, None
        if plan is not None and plan.source_frames == result.frame_count:
            self._use_starting_plan(plan, "Loop plan restored from the project")
            return
        if plan is not None:
            self.message.emit("The project's loop plan does not fit this video any more (its frame count "
                              "changed); a new loop was chosen.", "warning")
        settings = self.export_panel.settings()
        path = self.doc.source_path
        self._start("auto-plan", tasks.auto_plan_task(result, path, settings.strategy, settings.duration),
                    lambda outcome: self._use_starting_plan(*outcome))

    def _project_blinks(self, result):
        if self.pending_blinks is None:
            return None
        edits, content_hash = self.pending_blinks
        actual = result.track.content_hash if result.track is not None else ""
        if edits.count and content_hash and actual and content_hash != actual:
            self.message.emit("The project's blink corrections were made on a different version of this video; "
                              "they were not applied.", "warning")
            return None
        return edits

    def _use_starting_plan(self, plan, explanation: str, warning: bool = False) -> None:
        self.doc.reset_plan(plan)
        self.doc.set_playhead(plan.loop_point)
        if warning:
            self.message.emit(explanation[:1].upper() + explanation[1:], "warning")
        self.status.emit(explanation.splitlines()[0] if explanation else "Loop ready")
        self.plan_ready.emit(plan)

    # --- plan ----------------------------------------------------------------------------------------------------
    def _plan_changed(self, plan) -> None:
        self.seam_report = None
        self._show_warnings()
        if plan is not None:
            self._seam_timer.start()

    def replan_from_blinks(self) -> None:
        """A new automatic loop around the corrected blinks (undoable), as when the clip was opened."""
        analysis, path = self.doc.analysis, self.doc.source_path
        if analysis is None or path is None:
            return
        settings = self.export_panel.settings()
        self._start("auto-plan", tasks.auto_plan_task(analysis, path, settings.strategy, settings.duration),
                    lambda outcome: self.doc.edit_plan(outcome[0], "Automatic loop from the corrected blinks"))

    def _show_warnings(self) -> None:
        events = self.doc.analysis.events if self.doc.analysis is not None else []
        exported = self.last_export
        measured = exported.report if exported is not None and exported.plan == self.doc.plan else None
        warnings = plan_warnings.plan_warnings(self.doc.plan, events, self.seam_report, measured)
        self.timeline.set_warnings(warnings)
        self.export_panel.show_warnings(warnings)

    def _predict_seam(self) -> None:
        plan, path = self.doc.plan, self.doc.source_path
        if plan is None or path is None:
            return
        if self.gray_frames is None:
            self.export_panel.show_seam_unavailable("measuring once the frames are loaded…")
            return
        def done(report, wanted=plan):
            if self.doc.plan == wanted:
                self.seam_report = report
                self.export_panel.show_seam(report)
                self._show_warnings()
                self.seam_predicted.emit(report)

        self._start("seam", tasks.predict_seam_task(path, plan, self.gray_frames, self.doc.analysis), done,
                    on_failure=lambda e: self.export_panel.show_seam_unavailable(e.message))

    def replan(self, text: str) -> None:
        """Rebuild the plan around the current loop point with the panel's strategy and duration (undoable)."""
        plan, analysis = self.doc.plan, self.doc.analysis
        settings = self.export_panel.settings()
        self.doc.export = settings
        self.doc.mark_modified()
        if plan is None or analysis is None:
            return
        if settings.strategy == "auto":
            self._start("auto-plan", tasks.auto_plan_task(analysis, self.doc.source_path, "auto", settings.duration,
                                                          loop_point=plan.loop_point),
                        lambda outcome: self.doc.edit_plan(outcome[0], text))
            return
        from ..core.loop_plan import make_plan

        try:
            new = make_plan(settings.strategy, plan.fps, plan.source_frames, plan.loop_point,
                            duration=settings.duration)
        except NavTalkError as exc:
            self.message.emit(f"{worded(exc)}.", "warning")
            self.export_panel.show_plan(plan)
            return
        self.doc.edit_plan(new, text)

    # --- export -------------------------------------------------------------------------------------------------------
    def export(self, out: Path | None = None) -> bool:
        plan, source = self.doc.plan, self.doc.source_path
        if plan is None or source is None or self.doc.source_kind != "video":
            self.message.emit("Nothing to export yet: open a video and wait for its loop plan.", "warning")
            return False
        if self.runner.running("export"):
            return False
        out = Path(out) if out else self.export_panel.output_path(source)
        try:  # before "Replace it?": replacing the source video is never an option
            from ..core.export import sidecar_path_for

            ensure_not_source(out, source, self.doc.portrait_path)
            ensure_not_source(sidecar_path_for(out), source, self.doc.portrait_path, what="sidecar")
        except OutputError as exc:
            self.message.emit(f"Cannot export there: {worded(exc)}.", "error")
            return False
        if out.exists() and not self.confirm_overwrite(out):
            return False
        settings = self.export_panel.settings()
        self.doc.export = settings
        self.export_panel.export_started(out)
        self.status.emit(f"Exporting {out.name}…")
        self._export_handle = self.runner.start(
            "export", tasks.export_task(source, plan, out, settings.format, settings.quality,
                                        **self._analysed_source(source)),
            on_success=self._exported, on_failure=self._export_failed, on_progress=self.export_panel.export_progress,
            on_cancelled=self._export_cancelled)
        return True

    def _analysed_source(self, source: Path) -> dict:
        """The probe and hash the analysis of `source` already made, so the export repeats neither."""
        analysis = self.doc.analysis
        if analysis is None or Path(analysis.info.path) != Path(source):
            return {}
        # The current plan's prediction was made from these frames and this analysis: the export reuses it.
        return {"info": analysis.info, "source_hash": analysis.content_hash or None, "analysis": analysis,
                "source_frames": self.gray_frames,
                "predicted": self.seam_report if self.gray_frames is not None else None}

    def cancel_export(self) -> None:
        for handle in self.runner.running("export"):
            handle.cancel()
        self.export_panel.cancel_button.setEnabled(False)

    def _exported(self, result) -> None:
        self.last_export = result
        self.export_panel.export_finished(result, "Saved: see Last export below.")
        self._show_warnings()  # what the file itself shows (a keyframe pulse) joins the plan's warnings
        self.status.emit(f"Exported {Path(result.path).name}: {result.report.verdict()}")
        self.export_finished.emit(result)

    def _export_cancelled(self) -> None:
        self.export_panel.export_finished(None, "Export cancelled; nothing was written.")
        self.status.emit("Export cancelled")
        self.export_finished.emit(None)

    def _export_failed(self, error: TaskError) -> None:
        self.export_panel.export_finished(None, f"Export failed: {error.message}")
        self._task_failed(error)
        self.export_finished.emit(None)

    def shutdown(self) -> None:
        """The window is closing: no more seam predictions; the runner cancels the rest."""
        self._seam_timer.stop()
        self._cancel_source_tasks()  # results still queued for the old source are dropped

    # --- errors ---------------------------------------------------------------------------------------------------
    def _task_failed(self, error: TaskError) -> None:
        log.warning("task failed: %s", error.details if not error.expected else error.message)
        text = error.message if error.expected else (
            f"Something went wrong: {error.message}. Details are in the log; please report it.")
        self.message.emit(text, "error")
