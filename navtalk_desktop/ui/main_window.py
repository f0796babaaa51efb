"""The studio window: layout, menus, actions, drag and drop, projects and closing. Logic lives in controllers."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, Qt, QThreadPool, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QDockWidget, QFileDialog, QFrame, QMainWindow, QMessageBox, QScrollArea, QWidget

from .. import __version__
from ..core.errors import NavTalkError
from ..core.project import SUFFIX as PROJECT_SUFFIX
from ..core.atomic import ensure_not_source, remove_stale_partials
from ..core.project import load_project, save_project
from ..core.settings import Settings, load_settings, save_settings
from .blink_editor import BlinkEditor
from .blink_refit_dialog import RefitOffer
from .document import StudioDocument
from .editor_area import EditorArea
from .export_panel import ExportPanel
from .generate_controller import GenerateController
from .generate_panel import GeneratePanel
from .jobs_panel import JobsPanel
from .loop_controller import IMAGE_SUFFIXES, LoopController
from .playback import PlaybackController
from .source_panel import SourcePanel
from . import window_actions, window_settings
from .tasks import TaskRunner

log = logging.getLogger(__name__)

VIDEO_FILTER = "Videos (*.mp4 *.mov *.webm *.mkv *.avi *.m4v)"
IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in sorted(IMAGE_SUFFIXES)) + ")"
PROJECT_FILTER = f"NavTalk projects (*{PROJECT_SUFFIX} *.json)"
#: Pool threads: a generation waits minutes on Kling (idle), analysis and ffmpeg release the GIL; with the
#: default (one per core) a running generation would queue every export behind it on a 2-core machine.
MIN_POOL_THREADS = 8
DOCK_MIN_WIDTH = 280


class MainWindow(QMainWindow):
    shown = Signal()  # first time the window is on screen (start-up timing)

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__()
        self.settings = settings if settings is not None else load_settings()
        self.setWindowTitle("NavTalk Loop Studio")
        self.setAcceptDrops(True)
        self.resize(1280, 820)
        self.document = StudioDocument(self)
        pool = QThreadPool.globalInstance()
        pool.setMaxThreadCount(max(pool.maxThreadCount(), MIN_POOL_THREADS))
        self.runner = TaskRunner(self, pool)
        self._shown_once = False
        self._closing = False
        self.ask_to_save = self._ask_to_save  # replaceable in tests and scripted runs

        self._build_central()
        self._build_docks()
        self.loop = LoopController(self.document, self.runner, self.settings, self.source_panel,
                                   self.export_panel, self.timeline, self.frame_view, self)
        self.loop.confirm_overwrite = self._confirm_overwrite
        self.blink_editor = BlinkEditor(self.timeline, self.document, self)
        self.refit_offer = RefitOffer(self)
        self.loop.frames_ready.connect(self.seam_view.set_frames)
        self.timeline.playhead_requested.connect(lambda _f: self.playback.stop())  # a scrub or drag takes over
        self.playback.playing_changed.connect(lambda on: on or self.frame_view.show_playhead())  # caption back
        self.generate = GenerateController(self.document, self.runner, self.settings, self.generate_panel,
                                           self.jobs_panel,
                                           open_video=lambda p, keep: self.loop.open_path(p, keep_portrait=keep),
                                           image_fix=lambda: self.loop.image_fix, parent=self)
        self.generate.message.connect(self.show_message)
        self.generate.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.generate_panel.settings_requested.connect(self.open_settings)
        self.generate_panel.settings_changed.connect(self._generation_settings_changed)
        self.loop.message.connect(self.show_message)
        self.loop.status.connect(lambda text: self.statusBar().showMessage(text, 8000))
        self.source_panel.open_requested.connect(self.open_dialog)
        self.export_panel.settings_changed.connect(self._export_settings_changed)
        self.export_panel.show_in_folder_requested.connect(lambda p: self._open_url(Path(p).parent))
        self.export_panel.open_requested.connect(lambda p: self._open_url(Path(p)))
        self.document.modified_changed.connect(lambda _m: self._update_title())
        self.document.project_path_changed.connect(lambda _p: self._update_title())
        self.document.source_changed.connect(self._update_title)
        self._build_actions()
        from .preview.preview_panel import PreviewPanel  # the live preview: loop, lip-synced speech

        self.preview_panel = PreviewPanel(self.runner, self.settings)
        self.preview_dock = self.add_panel("Live Preview", self.preview_panel, tabify_with=self.export_dock)
        self.export_dock.raise_()
        self.preview_panel.attach_studio(self.document, self.loop)
        self.preview_panel.message.connect(self.show_message)
        self.export_panel.set_settings(window_settings.default_export_settings(self.settings))
        from ..core.project import GenerationSettings

        st = self.settings
        self.generate_panel.set_settings(GenerationSettings(model=st.default_model, mode=st.default_mode,
                                                            duration=st.default_duration, loop_tail=st.loop_tail))
        self.document.export = self.export_panel.settings()
        self.timeline.snap_to_apex = self.settings.snap_to_apex
        self.frame_view.set_show_landmarks(self.settings.show_landmarks)
        self._restore_geometry()
        self.statusBar().showMessage("Open a portrait or a video to begin (File ▸ Open, or drop a file here)")
        self._update_title()

    # --- layout ---------------------------------------------------------------------------------------------------
    def _build_central(self) -> None:
        self.editor = EditorArea(self.document)
        self.message_bar, self.frame_view = self.editor.message_bar, self.editor.frame_view
        self.timeline, self.seam_view = self.editor.timeline, self.editor.seam_view
        self.snap_check, self.landmarks_check = self.editor.snap_check, self.editor.landmarks_check
        self.playback = PlaybackController(self.document, parent=self)
        self.playback.output_frame_changed.connect(self._show_output_frame)
        self.setCentralWidget(self.editor)

    def _show_output_frame(self, _index: int, parts) -> None:
        """A played frame: the blend the export will encode, captioned with where the loop is."""
        self.frame_view.set_mix(parts, f"{self.frame_view.caption} · {self.playback.caption()}")

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(title.lower().replace(" ", "_") + "_dock")
        scroll = QScrollArea()  # a short dock scrolls instead of clipping its panel
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(widget)
        needed = widget.minimumSizeHint().width() + scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(min(needed, DOCK_MIN_WIDTH))  # readable, yet the window fits a laptop screen
        dock.setWidget(scroll)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        self.source_panel = SourcePanel()
        self.export_panel = ExportPanel()
        self.source_panel.observe(self.document)
        self.export_panel.observe(self.document)
        self.generate_panel = GeneratePanel()
        self.generate_panel.observe(self.document)
        self.jobs_panel = JobsPanel()
        self.source_dock = self._dock("Source", self.source_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.generate_dock = self._dock("Generate", self.generate_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.jobs_dock = self._dock("Jobs", self.jobs_panel, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.tabifyDockWidget(self.generate_dock, self.jobs_dock)
        self.generate_dock.raise_()
        self.export_dock = self._dock("Export", self.export_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.resizeDocks([self.source_dock, self.export_dock], [330, 330], Qt.Orientation.Horizontal)
        self.source_panel.content_changed.connect(self._fit_source_dock)

    def _fit_source_dock(self) -> None:
        """Give the Source dock the height its content needs (within reason); Generate/Jobs get the rest."""
        wanted = min(self.source_panel.sizeHint().height() + 30, int(self.height() * 0.55))
        self.resizeDocks([self.source_dock], [wanted], Qt.Orientation.Vertical)

    def add_panel(self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea,
                  tabify_with: QDockWidget | None = None) -> QDockWidget:
        """Add a feature panel as a dock (the generate and jobs panels, and later the live preview)."""
        dock = self._dock(title, widget, area)
        if tabify_with is not None:
            self.tabifyDockWidget(tabify_with, dock)
        self.actions.menus["view"].addAction(dock.toggleViewAction())
        return dock

    # --- actions and menus (declared in window_actions.py) ------------------------------------------------------------
    def _build_actions(self) -> None:
        self.actions = window_actions.build(self)
        a = self.actions
        self.editor.fill_tools(a["playback.play"], a["playback.play_seam"], a["playback.seam_view"], a["timeline.fit"])
        self.playback.playing_changed.connect(lambda on: a["playback.play"].setText("Pause" if on else "Play"))

    def set_snap(self, on: bool) -> None:
        """Markers and blink handles snap to blink apexes (the Timeline menu's toggle and the tool row's box)."""
        self.timeline.snap_to_apex = on
        self.settings.snap_to_apex = on

    def set_show_landmarks(self, on: bool) -> None:
        self.frame_view.set_show_landmarks(on)
        self.settings.show_landmarks = on

    # --- messages -------------------------------------------------------------------------------------------------
    def show_message(self, text: str, level: str = "error") -> None:
        self.message_bar.show_message(text, level)
        self.statusBar().showMessage(text.splitlines()[0], 10000)

    def show_about(self) -> None:
        QMessageBox.about(self, "NavTalk Loop Studio",
                          f"NavTalk Loop Studio {__version__}\nSeamless idle loops of a digital human: blink analysis, "
                          f"Kling generation, loop export.")

    # --- opening files --------------------------------------------------------------------------------------------
    def open_dialog(self) -> None:
        start = str(Path(self.settings.recent_files[0]).parent) if self.settings.recent_files else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Open a portrait or a video", start,
                                              f"Images and videos ({IMAGE_FILTER[8:-1]} {VIDEO_FILTER[8:-1]});;"
                                              f"{VIDEO_FILTER};;{IMAGE_FILTER};;All files (*)")
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> bool:
        path = Path(path)
        if path.name.endswith(PROJECT_SUFFIX):
            return self.open_project(path)
        if self.document.is_modified and self.document.source_path is not None and not self.ask_to_save():
            return False
        self.document.project_path = None
        self.fresh_state()
        opened = self.loop.open_path(path)
        if opened:
            self.timeline.setFocus()
        return opened

    def fresh_state(self) -> None:
        """A new file starts clean: no banner or status left from the previous one (the panels reset too)."""
        self.playback.stop()
        self.message_bar.hide()
        self.statusBar().clearMessage()

    def fill_recent_menu(self, menu) -> None:
        """File ▸ Open Recent, filled as it opens."""
        menu.clear()
        for path in self.settings.recent_files:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p))
        if not self.settings.recent_files:
            menu.addAction("(none)").setEnabled(False)

    def dragEnterEvent(self, event) -> None:  # noqa: N802
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        files = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if files:
            event.acceptProposedAction()
            self.open_path(files[0])

    def _open_url(self, path: Path) -> None:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            self.show_message(f"No application could open {path}; open it from your file manager.", "warning")

    def _confirm_overwrite(self, path: Path) -> bool:
        answer = QMessageBox.question(self, "Replace file?", f"{path.name} already exists. Replace it?")
        return answer == QMessageBox.StandardButton.Yes

    # --- projects -------------------------------------------------------------------------------------------------
    def open_project_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open project", str(Path.home()), PROJECT_FILTER)
        if path:
            self.open_project(Path(path))

    def open_project(self, path: Path) -> bool:
        if self.document.is_modified and self.document.source_path is not None and not self.ask_to_save():
            return False
        try:
            project = load_project(path)
        except NavTalkError as exc:
            self.show_message(f"{exc}.", "error")
            return False
        self.fresh_state()
        self.export_panel.set_settings(project.export)
        self.generate_panel.set_settings(project.generation)
        opened = True
        if project.source:
            opened = self.loop.open_path(project.source, plan=project.plan,
                                         blinks=(project.blink_edits, project.analysis_hash))
        elif project.portrait:
            opened = self.loop.open_path(project.portrait)
        self.document.export = project.export
        self.document.generation = project.generation
        self.document.job_id = project.job_id
        if project.portrait:
            self.document.set_portrait(project.portrait)
        self.document.mark_saved(path.resolve())
        self.settings.last_project = str(path.resolve())
        self.statusBar().showMessage(f"Opened project {path.name}", 5000)
        return opened

    def save_project(self) -> bool:
        if self.document.project_path is None:
            return self.save_project_as()
        return self._write_project(self.document.project_path)

    def save_project_as(self) -> bool:
        source = self.document.source_path
        start = source.with_name(source.stem + PROJECT_SUFFIX) if source else Path.home() / f"loop{PROJECT_SUFFIX}"
        path, _ = QFileDialog.getSaveFileName(self, "Save project", str(start), PROJECT_FILTER)
        if not path:
            return False
        if not path.endswith(PROJECT_SUFFIX) and not path.endswith(".json"):
            path += PROJECT_SUFFIX
        return self._write_project(Path(path))

    def _write_project(self, path: Path) -> bool:
        self.document.export = self.export_panel.settings()
        try:
            ensure_not_source(path, self.document.source_path, self.document.portrait_path, what="project file")
            save_project(self.document.to_project(), path)
        except (NavTalkError, OSError) as exc:
            self.show_message(f"The project could not be saved: {exc}. Choose another folder.", "error")
            return False
        self.document.mark_saved(path.resolve())
        self.settings.last_project = str(path.resolve())
        self.statusBar().showMessage(f"Saved {path.name}", 5000)
        return True

    def start_background(self) -> None:
        """After the window shows: list the jobs and resume unfinished generations."""
        self.generate.resume_unfinished()

    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        before = dataclasses.replace(self.settings)
        dialog = SettingsDialog(self.settings, self)
        if dialog.exec():
            self.generate.refresh_keys()
            self.generate_panel.demo_check.setChecked(self.settings.demo_mode)
            window_settings.apply_new_defaults(self, before)
            try:
                save_settings(self.settings)
            except (NavTalkError, OSError) as exc:
                self.show_message(f"Settings could not be saved: {exc}", "error")

    def _generation_settings_changed(self) -> None:
        self.document.generation = self.generate_panel.settings()

    def _export_settings_changed(self) -> None:
        self.document.export = self.export_panel.settings()
        self.document.mark_modified()

    def _update_title(self) -> None:
        name = self.document.project_path.name if self.document.project_path else (
            self.document.source_path.name if self.document.source_path else "")
        self.setWindowTitle(f"{name}[*] — NavTalk Loop Studio" if name else "NavTalk Loop Studio")
        self.setWindowModified(self.document.is_modified and self.document.source_path is not None)

    # --- closing --------------------------------------------------------------------------------------------------
    def _ask_to_save(self) -> bool:
        """Save / Discard / Cancel; True when it is fine to go on."""
        box = QMessageBox(QMessageBox.Icon.Question, "Unsaved changes",
                          "The project has unsaved changes. Save them?",
                          QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard
                          | QMessageBox.StandardButton.Cancel, self)
        answer = box.exec()
        if answer == QMessageBox.StandardButton.Save:
            return self.save_project()
        return answer == QMessageBox.StandardButton.Discard

    def closeEvent(self, event) -> None:  # noqa: N802
        if self.document.is_modified and self.document.source_path is not None and not self._closing:
            if not self.ask_to_save():
                event.ignore()
                return
        self._closing = True
        self.loop.shutdown()
        self.preview_panel.shutdown()  # its audio stream, timers and GL objects
        self.runner.shutdown()
        self.generate.shutdown()
        self._sweep_partials()
        window_settings.save_on_close(self)
        event.accept()
        super().closeEvent(event)

    def _sweep_partials(self) -> None:
        """Stale hidden partials of killed runs in the folders this session wrote to (docs/robustness.md)."""
        folders = {p.parent for p in (self.document.source_path, self.document.project_path,
                                      self.export_panel.output_path(self.document.source_path)) if p}
        for folder in folders:
            remove_stale_partials(folder)

    def _restore_geometry(self) -> None:
        if self.settings.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.settings.window_geometry.encode("ascii")))
        if self.settings.window_state:
            self.restoreState(QByteArray.fromBase64(self.settings.window_state.encode("ascii")))

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if not self._shown_once:
            self._shown_once = True
            if not self.settings.window_state:  # first run: panels wide enough to read
                self.resizeDocks([self.source_dock, self.export_dock], [340, 340], Qt.Orientation.Horizontal)
                self._fit_source_dock()
            QTimer.singleShot(0, self.shown.emit)
