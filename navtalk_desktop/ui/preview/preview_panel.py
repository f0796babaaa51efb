"""The studio's live preview panel: the loop playing in a GL (or raster) view, and a text box to make it talk.

Speech is prepared in a background task of the studio's TaskRunner (synthesis, phonemes, visemes); only
the finished utterance reaches the GUI thread, where the player starts it. edge-tts is asyncio code: it
runs inside that worker (EdgeTtsEngine.synthesize drives its own event loop there) rather than on the Qt
loop through qasync — one concurrency model for every background job (qt-architecture.md §5), and a slow
network can never stall painting. A newer Speak, or Stop, supersedes a preparation still running: its
result is dropped (a generation counter), so no stale utterance can start late.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QFormLayout, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from ...core.settings import Settings
from ..workers import TaskError, TaskRunner
from .loop_data import PreviewLoop, load_preview_loop, preview_loop_from
from .player import LoopPlayer
from .view_factory import create_preview_view, create_raster_fallback

log = logging.getLogger(__name__)

ENGINES = (("espeak", "espeak-ng (offline)"), ("edge", "edge-tts (online)"))
VIDEO_FILTER = "Videos (*.mp4 *.mov *.webm *.mkv *.avi *.m4v);;All files (*)"


def speech_task(text: str, engine: str, voice: str | None, offline_voice: str | None = None):
    """Prepare the utterance; when the online engine cannot be reached, speak offline and say so."""
    def run(ctx):
        from ...core.speech.edge_engine import TtsNetworkError
        from ...core.speech.utterance import prepare_utterance

        ctx.progress(-1, "Preparing speech…")
        try:
            return prepare_utterance(text, engine, voice, cancel=ctx.cancel)
        except TtsNetworkError as exc:
            if engine != "edge":
                raise
            utterance = prepare_utterance(text, "espeak", offline_voice, cancel=ctx.cancel)
            utterance.notice = f"online voices unavailable ({exc}); spoken with espeak-ng offline instead"
            return utterance

    return run


def loop_task(path: Path, patches: Path | None = None):
    def run(ctx):
        return load_preview_loop(path, patches, on_progress=lambda f: ctx.progress(f, f"Loading {path.name}…"),
                                 cancel=ctx.cancel)

    return run


class PreviewPanel(QWidget):
    message = Signal(str, str)  # text, level ("error", "warning", "info"): for the window's message bar
    loop_loaded = Signal(object)  # PreviewLoop now playing
    utterance_started = Signal(object)  # Utterance now speaking
    view_replaced = Signal(object)  # the GL view failed; the raster view that replaced it

    def __init__(self, runner: TaskRunner | None = None, settings: Settings | None = None,
                 parent: QWidget | None = None, session=None) -> None:
        super().__init__(parent)
        self.runner = runner if runner is not None else TaskRunner(self)
        self.settings = settings
        self.loop: PreviewLoop | None = None
        self._voice_choice: dict[str, str] = {}
        self._voices_loaded: set[str] = set()
        self._speech_generation = 0
        self._loop_generation = 0
        self._pending_source: tuple[Path, object] | None = None  # (path, studio-frames provider) until shown
        self._resume_on_show = False
        self._dock = None  # the QDockWidget holding the panel in the studio (its tab may be in the background)
        self._dock_shown = True
        self._build()
        self.player = LoopPlayer(self.view, session=session, parent=self)
        self.player.frame_changed.connect(self._frame_changed)
        self.player.playing_changed.connect(self._playing_changed)
        self.player.speech_started.connect(lambda: self.stop_button.setEnabled(True))
        self.player.speech_finished.connect(self._speech_finished)
        self.player.error.connect(lambda text: self._status(text, "warning"))
        self._connect_view(self.view)
        self._update_buttons()

    # --- layout ----------------------------------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.view = create_preview_view(self.settings)
        self.view.set_placeholder("Open a video: its loop plays here")
        self.view_box = QVBoxLayout()
        self.view_box.setContentsMargins(0, 0, 0, 0)
        self.view_box.addWidget(self.view)
        layout.addLayout(self.view_box, 1)

        transport = QHBoxLayout()
        self.play_button = QToolButton()
        self.play_button.setText("Play")
        self.play_button.setToolTip("Play or pause the loop (Space in the preview)")
        self.play_button.clicked.connect(lambda: self.player.toggle_play())
        self.loop_check = QCheckBox("Loop")
        self.loop_check.setChecked(True)
        self.loop_check.toggled.connect(lambda on: self.player.set_looping(on))
        self.counter_label = QLabel("–")
        self.counter_label.setMinimumWidth(90)
        self.open_button = QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setToolTip("Preview another loop file")
        self.open_button.clicked.connect(self._open_dialog)
        transport.addWidget(self.play_button)
        transport.addWidget(self.loop_check)
        transport.addWidget(self.counter_label)
        transport.addStretch(1)
        transport.addWidget(self.open_button)
        layout.addLayout(transport)

        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText("Type what the avatar should say…")
        self.text_edit.setFixedHeight(64)
        self.text_edit.textChanged.connect(self._update_buttons)
        layout.addWidget(self.text_edit)

        voices = QFormLayout()  # one row each: the panel must fit a narrow dock
        voices.setContentsMargins(0, 0, 0, 0)
        self.engine_combo = QComboBox()
        for name, label in ENGINES:
            self.engine_combo.addItem(label, name)
        self.voice_combo = QComboBox()
        for combo in (self.engine_combo, self.voice_combo):
            combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        voices.addRow("Engine", self.engine_combo)
        voices.addRow("Voice", self.voice_combo)
        layout.addLayout(voices)
        self.engine_combo.setCurrentIndex(self.engine_combo.findData(self._default_engine()))
        self.engine_combo.currentIndexChanged.connect(lambda _i: self._engine_changed())
        self.voice_combo.currentIndexChanged.connect(self._voice_changed)
        self._fill_voices(full=False)

        actions = QHBoxLayout()
        self.speak_button = QPushButton("Speak")
        self.speak_button.setDefault(True)
        self.speak_button.clicked.connect(lambda: self.speak())
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.viseme_check = QCheckBox("Show viseme")
        self.viseme_check.setToolTip("Write the current mouth shape's name over the frame")
        self.viseme_check.toggled.connect(lambda on: self.player.set_show_viseme(on))
        actions.addWidget(self.speak_button)
        actions.addWidget(self.stop_button)
        actions.addStretch(1)
        actions.addWidget(self.viseme_check)
        layout.addLayout(actions)

        self.status_label = QLabel(getattr(self.view, "backend_reason", ""))
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setStyleSheet("color:#8a8f99")
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # A fixed height: a longer message must not shrink the video mid-playback.
        self.status_label.setFixedHeight(self.status_label.fontMetrics().lineSpacing() * 3 + 4)
        layout.addWidget(self.status_label)

    @staticmethod
    def _default_engine() -> str:
        from ...core.speech.engines import ENGINE_NAMES, network_available

        import os

        forced = os.environ.get("NAVTALK_TTS_ENGINE", "").strip().lower().replace("-ng", "").replace("-tts", "")
        if forced in ENGINE_NAMES:
            return forced
        return "edge" if network_available() else "espeak"

    # --- engines and voices -------------------------------------------------------------------------------
    @property
    def engine(self) -> str:
        return self.engine_combo.currentData()

    @property
    def voice(self) -> str | None:
        return self.voice_combo.currentData() or None

    def _engine_changed(self) -> None:
        self._fill_voices(full=True)

    def _fill_voices(self, full: bool) -> None:
        """The engine's voices, English first. `full=False` (while the window starts) lists only "Default
        voice" and imports no engine: edge-tts pulls in asyncio and espeak loads its library."""
        name = self.engine
        chosen = self._voice_choice.get(name, "")
        voices = []
        if full:
            from ...core.speech.engines import engine_by_name

            try:
                engine = engine_by_name(name)
                chosen = chosen or engine.default_voice
                voices = engine.voices()
                self._voices_loaded.add(name)
            except Exception as exc:  # noqa: BLE001 - a voice list must not break the panel
                log.warning("could not list %s voices: %s", name, exc)
        voices.sort(key=lambda v: (not v.language.startswith("en"), v.name.lower()))
        self.voice_combo.blockSignals(True)
        self.voice_combo.clear()
        if not chosen:
            self.voice_combo.addItem("Default voice", "")
        elif not any(v.id == chosen for v in voices):
            self.voice_combo.addItem(f"{chosen} (default)", chosen)
        for v in voices:
            self.voice_combo.addItem(f"{v.name} — {v.id}", v.id)
        self.voice_combo.setCurrentIndex(max(0, self.voice_combo.findData(chosen)))
        self.voice_combo.blockSignals(False)

    def _voice_changed(self, _index: int) -> None:
        if self.voice:
            self._voice_choice[self.engine] = self.voice

    def select_voice(self, engine: str, voice: str | None = None) -> None:
        """Pick the engine (and voice) programmatically (tests, scripted previews)."""
        self.engine_combo.setCurrentIndex(self.engine_combo.findData(engine))
        if engine not in self._voices_loaded:
            self._fill_voices(full=True)
        if voice:
            if self.voice_combo.findData(voice) < 0:
                self.voice_combo.addItem(voice, voice)
            self.voice_combo.setCurrentIndex(self.voice_combo.findData(voice))

    # --- the view -------------------------------------------------------------------------------------------
    def _connect_view(self, view) -> None:
        failed = getattr(view, "failed", None)
        if failed is not None:
            failed.connect(self._gl_failed)

    def _gl_failed(self, reason: str) -> None:
        """OpenGL did not start after all: swap in the raster view (remembered for the next launch)."""
        old = self.view
        self.view = create_raster_fallback(self.settings, reason)
        self.view_box.replaceWidget(old, self.view)
        old.hide()
        old.deleteLater()
        self.player.set_view(self.view)
        self._status(self.view.backend_reason, "warning")
        self.view_replaced.emit(self.view)

    # --- loops ------------------------------------------------------------------------------------------------
    def load_loop(self, path: Path | str, patches: Path | None = None) -> None:
        """Decode `path` into memory and get its landmarks in the background, then play it."""
        path = Path(path)
        self._loop_generation += 1
        generation = self._loop_generation
        for handle in self.runner.running("preview-loop"):
            handle.cancel()
        self.view.set_placeholder(f"Loading {path.name}…")
        self._status(f"Loading {path.name}…")
        self.runner.start("preview-loop", loop_task(path, patches),
                          on_success=lambda loop, g=generation: self._loop_ready(g, loop),
                          on_failure=lambda err, g=generation: self._loop_failed(g, path, err))

    def set_loop(self, loop: PreviewLoop) -> None:
        self._loop_generation += 1
        self._loop_ready(self._loop_generation, loop)

    def _loop_ready(self, generation: int, loop: PreviewLoop) -> None:
        if generation != self._loop_generation:
            return
        self.loop = loop
        visible = self.on_screen()
        self.player.set_loop(loop.frames, loop.fps, loop.renderer, play=visible)
        self._resume_on_show = not visible  # a hidden panel starts playing when it is shown
        name = loop.path.name if loop.path else "loop"
        h, w = loop.frames.shape[1:3]
        text = f"{name}: {loop.frame_count} frames at {loop.fps:g} fps, shown at {w}×{h}"
        self._status(text + (f". Note: {loop.note}" if loop.note else ""), "warning" if loop.note else "info")
        self._update_buttons()
        self.loop_loaded.emit(loop)

    def _loop_failed(self, generation: int, path: Path, error: TaskError) -> None:
        if generation != self._loop_generation:
            return
        self.player.clear(f"{path.name} cannot be previewed")
        self._status(f"{path.name} cannot be previewed: {error.message}", "error")
        self._update_buttons()

    def _open_dialog(self) -> None:
        start = str(self.loop.path.parent) if self.loop and self.loop.path else str(Path.home())
        path, _ = QFileDialog.getOpenFileName(self, "Preview a loop", start, VIDEO_FILTER)
        if path:
            self.load_loop(path)

    # --- speech ----------------------------------------------------------------------------------------------
    def speak(self, text: str | None = None) -> bool:
        """Prepare `text` (default: the text box) in the background and speak it over the loop.

        Replaces whatever is being said or prepared. False when there is nothing to say or no loop yet.
        """
        text = self.text_edit.toPlainText() if text is None else text
        if not text.strip():
            self._status("Type something for the avatar to say.", "warning")
            return False
        if self.loop is None:
            self._status("Open a loop first: the preview needs a face to speak with.", "warning")
            return False
        self._speech_generation += 1
        generation = self._speech_generation
        for handle in self.runner.running("preview-speech"):
            handle.cancel()
        engine, voice = self.engine, self.voice
        self._status(f"Preparing speech ({engine})…")
        self.stop_button.setEnabled(True)
        self.runner.start("preview-speech", speech_task(text, engine, voice, self._voice_choice.get("espeak")),
                          on_success=lambda utt, g=generation: self._speech_ready(g, utt),
                          on_failure=lambda err, g=generation: self._speech_failed(g, err),
                          on_finished=lambda: QTimer.singleShot(0, self._update_buttons))
        return True

    def _speech_ready(self, generation: int, utterance) -> None:
        if generation != self._speech_generation:
            return  # superseded by a newer Speak or a Stop while it was being prepared
        screen = self.screen()
        if screen is not None:
            self.player.session.set_display_refresh(screen.refreshRate())
        self.player.speak(utterance)
        session = self.player.session
        parts = [f"Speaking {utterance.duration:.1f} s ({utterance.speech.engine} {utterance.speech.voice})",
                 f"mouth timed by the {session.clock_description}"]
        if not self.player.has_mouth:
            parts.append("this loop has no face, so only the sound plays")
        level = "info"
        if utterance.notice:
            parts.append(utterance.notice)
            level = "warning"
        if utterance.unknown_phonemes:
            parts.append("no viseme for " + ", ".join(sorted(set(utterance.unknown_phonemes))))
        self._status("; ".join(parts) + ".", level)
        self.utterance_started.emit(utterance)

    def _speech_failed(self, generation: int, error: TaskError) -> None:
        if generation != self._speech_generation:
            return
        text = error.message if error.expected else f"Speech failed: {error.message}"
        self._status(text, "error")
        self.message.emit(text, "error")
        self._update_buttons()

    def stop(self) -> None:
        """Stop speaking now (and drop a preparation still running); the loop keeps playing."""
        self._speech_generation += 1
        for handle in self.runner.running("preview-speech"):
            handle.cancel()
        self.player.stop_speaking()
        self._update_buttons()

    def _speech_finished(self) -> None:
        self._update_buttons()
        if self.on_screen():
            self._status("Done speaking.")

    # --- state display ------------------------------------------------------------------------------------
    def _frame_changed(self, index: int, count: int) -> None:
        self.counter_label.setText(f"Frame {index + 1} / {count}" if count else "–")

    def _playing_changed(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")

    def _update_buttons(self) -> None:
        has_loop = self.loop is not None
        self.speak_button.setEnabled(has_loop and bool(self.text_edit.toPlainText().strip()))
        self.play_button.setEnabled(has_loop)
        preparing = bool(self.runner.running("preview-speech"))
        self.stop_button.setEnabled(preparing or (self.player.speaking if hasattr(self, "player") else False))

    def _status(self, text: str, level: str = "info") -> None:
        colour = {"error": "#d9534f", "warning": "#c98a1b"}.get(level, "#8a8f99")
        self.status_label.setStyleSheet(f"color:{colour}")
        self.status_label.setText(text)
        self.status_label.setToolTip(text)

    # --- the studio ------------------------------------------------------------------------------------------
    def attach_studio(self, document, loop_controller) -> None:
        """Follow the studio: its analysed source video plays here, then each loop it exports."""
        from PySide6.QtWidgets import QDockWidget

        parent = self.parentWidget()
        while parent is not None and not isinstance(parent, QDockWidget):
            parent = parent.parentWidget()
        if parent is not None:
            self._dock = parent
            self._dock_shown = False  # told by visibilityChanged when its tab is on screen
            parent.visibilityChanged.connect(self._dock_visibility_changed)
        document.source_changed.connect(lambda: self._studio_source_changed(document))
        def analysed(result) -> None:
            self._show_source(document.source_path, lambda: self._studio_frames(document, loop_controller, result))

        loop_controller.analysis_finished.connect(analysed)
        loop_controller.export_finished.connect(
            lambda result: result is not None and self._show_source(Path(result.path), None))

    def _studio_source_changed(self, document) -> None:
        self._pending_source = None
        self._loop_generation += 1
        self.stop()
        self.loop = None
        waiting = document.source_kind == "video"
        self.player.clear("Analysing the video…" if waiting else "Open a video: its loop plays here")
        self._update_buttons()

    @staticmethod
    def _studio_frames(document, loop_controller, result) -> PreviewLoop | None:
        """The studio's own decoded frames of the source, when they are there (no second decode)."""
        preview = getattr(loop_controller, "preview", None)
        info = document.video_info
        track = getattr(result, "track", None)
        if preview is None or info is None or track is None or len(preview.frames) != track.frame_count:
            return None
        return preview_loop_from(preview.frames, float(info.fps), track, (info.width, info.height),
                                 document.source_path)

    def _show_source(self, path: Path | None, studio_frames) -> None:
        """Load now if the panel is on screen; else when it is first shown (a hidden tab costs nothing)."""
        if path is None:
            return
        self._pending_source = (Path(path), studio_frames)
        if self.on_screen():
            QTimer.singleShot(0, self._load_pending)

    def _load_pending(self) -> None:
        if self._pending_source is None:
            return
        path, studio_frames = self._pending_source
        self._pending_source = None
        loop = studio_frames() if studio_frames is not None else None
        if loop is not None:
            self.set_loop(loop)
        else:
            self.load_loop(path)

    # --- visibility ---------------------------------------------------------------------------------------------
    def on_screen(self) -> bool:
        """Shown, and (in a tabbed dock) the current tab: Qt keeps other tabs 'visible' but parked off-screen."""
        return self.isVisible() and (self._dock is None or self._dock_shown)

    def _dock_visibility_changed(self, shown: bool) -> None:
        self._dock_shown = shown
        self._screen_changed()

    def _screen_changed(self) -> None:
        """Off screen (closed dock, other tab, window closing): stop talking and painting; back on: go on."""
        if not self.on_screen():
            if self.player.speaking:
                self.stop()
            if self.player.is_playing:
                self._resume_on_show = True
                self.player.pause()
            return
        if self.engine not in self._voices_loaded:
            QTimer.singleShot(0, lambda: self._fill_voices(full=True))
        if self._resume_on_show:
            self._resume_on_show = False
            self.player.play()
        if self._pending_source is not None:
            QTimer.singleShot(0, self._load_pending)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._screen_changed()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self._screen_changed()

    def shutdown(self) -> None:
        """Stop audio, timers and tasks of the panel (the window is closing)."""
        self.stop()
        for handle in self.runner.running("preview-loop"):
            handle.cancel()
        self.player.close()
        release = getattr(self.view, "release_gl", None)
        if release is not None:
            release()
