"""The studio's live preview panel: the loop playing in a GL (or raster) view, and a text box to make it talk.

Offline speech (espeak-ng) is prepared in a background task of the studio's TaskRunner (synthesis,
phonemes, visemes); the finished utterance reaches the GUI thread, where the player starts it. Online
speech (edge-tts) is streamed instead (streamed_speech.py): its chunks arrive on the Qt loop through qasync
and the avatar starts talking while the rest is still being synthesised; if the service cannot be reached
before anything is heard, the offline engine speaks instead. Both take the runner's speech lane: a newer
Speak, or Stop, supersedes a preparation or stream still running and the runner drops its result, so no
stale utterance starts late.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QCheckBox, QFileDialog, QHBoxLayout, QLabel, QPlainTextEdit, QPushButton,
                               QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from ...core.settings import Settings
from ..fitted_label import FittedLabel
from ..flow_row import FlowRow
from ..tasks import SPEECH_LANE, TaskError, TaskRunner, loop_task, speech_task
from .loop_data import PreviewLoop, with_mouth
from .mouth_menu import make_mouth_button, use_patches
from .player import LoopPlayer
from .view_factory import create_preview_view, create_raster_fallback
from .voice_picker import VoicePicker

log = logging.getLogger(__name__)

VIDEO_FILTER = "Videos (*.mp4 *.mov *.webm *.mkv *.avi *.m4v);;All files (*)"


class PreviewPanel(QWidget):
    message = Signal(str, str)  # text, level ("error", "warning", "info"): for the window's message bar
    loop_loaded = Signal(object)  # PreviewLoop now playing
    utterance_started = Signal(object)  # Utterance now speaking
    view_replaced = Signal(object)  # the GL view failed; the raster view that replaced it
    plan_loop_requested = Signal()  # the user wants the studio's current plan back (after playing a file)

    def __init__(self, runner: TaskRunner | None = None, settings: Settings | None = None,
                 parent: QWidget | None = None, session=None) -> None:
        super().__init__(parent)
        self.runner = runner if runner is not None else TaskRunner(self)
        self.settings = settings
        self.loop: PreviewLoop | None = None
        self.patches: Path | None = None  # the user's PNG mouth patch folder; None = the generated mouth
        self._stream = None  # StreamedSpeech of the online utterance being streamed
        self._last_note = ""
        self._pending_source: tuple | None = None  # (path, frames provider, from_file) until on screen
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
        self.update_buttons()

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

        transport_row = FlowRow()  # wraps onto a second row in a narrow dock instead of cutting its tools off
        transport = transport_row.flow
        self.play_button = QToolButton()
        self.play_button.setText("Pause")  # as wide as its longer label, so the flow row never squeezes it
        self.play_button.setMinimumWidth(self.play_button.sizeHint().width())
        self.play_button.setText("Play")
        self.play_button.setToolTip("Play or pause the loop")
        self.play_button.clicked.connect(lambda: self.player.toggle_play())
        self.loop_check = QCheckBox("Loop")
        self.loop_check.setChecked(True)
        self.loop_check.toggled.connect(lambda on: self.player.set_looping(on))
        self.counter_label = QLabel("–")
        self.counter_label.setMinimumWidth(self.counter_label.fontMetrics().horizontalAdvance("Frame 0000 / 0000"))
        self.plan_button = QToolButton()
        self.plan_button.setText("Plan")
        self.plan_button.setToolTip("Play the studio's current loop plan (what Export will write)")
        self.plan_button.clicked.connect(self.plan_loop_requested)
        self.open_button = QToolButton()
        self.open_button.setText("Open…")
        self.open_button.setToolTip("Preview another loop file")
        self.open_button.clicked.connect(self._open_dialog)
        transport.addWidget(self.play_button)
        transport.addWidget(self.loop_check)
        transport.addWidget(self.counter_label)
        self.mouth_button = make_mouth_button(self)
        transport.addWidget(self.mouth_button)
        transport.addWidget(self.plan_button)
        transport.addWidget(self.open_button)
        layout.addWidget(transport_row)

        self.text_edit = QPlainTextEdit()
        self.text_edit.setPlaceholderText("Type what the avatar should say…")
        self.text_edit.setFixedHeight(64)
        self.text_edit.textChanged.connect(self.update_buttons)
        layout.addWidget(self.text_edit)

        self.voices = VoicePicker()
        self.engine_combo, self.voice_combo = self.voices.engine_combo, self.voices.voice_combo
        layout.addWidget(self.voices)

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

        self.status_label = FittedLabel(getattr(self.view, "backend_reason", ""))
        self.status_label.setWordWrap(True)
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)  # never widens
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setStyleSheet("color:#8a8f99")
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        # A fixed height: a longer message must not shrink the video mid-playback.
        self.status_label.setFixedHeight(self.status_label.fontMetrics().lineSpacing() * 3 + 4)
        layout.addWidget(self.status_label)

    # --- engines and voices -------------------------------------------------------------------------------
    @property
    def engine(self) -> str:
        return self.voices.engine

    @property
    def voice(self) -> str | None:
        return self.voices.voice

    def use_patches(self, folder: Path | None) -> bool:
        """Draw the mouth from a PNG patch folder (None: the generated mouth); False if the folder is invalid."""
        return use_patches(self, folder)

    def select_voice(self, engine: str, voice: str | None = None) -> None:
        """Pick the engine (and voice) programmatically (tests, scripted previews)."""
        self.voices.select(engine, voice)

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
        self.view.set_placeholder(f"Loading {path.name}…")
        self._status(f"Loading {path.name}…")
        # The lane: a newer load (or set_loop) supersedes this one, whose late result is dropped.
        self.runner.start("preview-loop", loop_task(path, patches if patches is not None else self.patches),
                          on_success=self._loop_ready, on_failure=lambda err: self._loop_failed(path, err),
                          lane="preview-loop")

    def set_loop(self, loop: PreviewLoop) -> None:
        self.runner.supersede("preview-loop")
        self._loop_ready(loop)

    def _loop_ready(self, loop: PreviewLoop) -> None:
        if self.patches is not None and loop.renderer is not None and not hasattr(loop.renderer, "library"):
            loop = with_mouth(loop, self.patches)  # e.g. the studio's frames arrive with the generated mouth
        self.loop = loop
        visible = self.on_screen()
        self.player.set_loop(loop.frames, loop.fps, loop.renderer, play=visible)
        self._resume_on_show = not visible  # a hidden panel starts playing when it is shown
        name = loop.label or (loop.path.name if loop.path else "loop")
        h, w = loop.frames.shape[1:3]
        text = f"{name}: {loop.frame_count} frames at {loop.fps:g} fps, shown at {w}×{h}"
        self._status(text + (f". Note: {loop.note}" if loop.note else ""), "warning" if loop.note else "info")
        if loop.note and loop.note != self._last_note:  # said once in the window's message bar, in full
            self.message.emit(f"Live Preview: {loop.note}", "warning")
        self._last_note = loop.note
        self.update_buttons()
        self.loop_loaded.emit(loop)

    def _loop_failed(self, path: Path, error: TaskError) -> None:
        self.player.clear(f"{path.name} cannot be previewed")
        self._status(f"{path.name} cannot be previewed: {error.message}", "error")
        self.update_buttons()

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
        self._stream = None
        engine, voice = self.engine, self.voice
        self._status(f"Preparing speech ({engine})…")
        self.stop_button.setEnabled(True)
        if engine == "edge":
            from .streamed_speech import speak_online

            self._stream = speak_online(self, text, voice)  # takes the speech lane: what was in it is dropped
            return True
        self.speak_offline(text, engine, voice)
        return True

    def speak_offline(self, text: str, engine: str, voice: str | None, notice: str = "") -> None:
        """Prepare the utterance in the runner's speech lane (a newer one, or Stop, drops its result)."""
        def ready(utterance) -> None:
            if notice:
                utterance.notice = notice
            self.start_utterance(utterance)

        self.runner.start("preview-speech", speech_task(text, engine, voice, self.voices.voice_for("espeak")),
                          on_success=ready, on_failure=self.speech_failed,
                          on_finished=lambda: QTimer.singleShot(0, self.update_buttons), lane=SPEECH_LANE)

    def start_utterance(self, utterance, open_ended: bool = False) -> None:
        """A prepared (or first streamed) utterance: speak it and say how it is timed."""
        screen = self.screen()
        if screen is not None:
            self.player.session.set_display_refresh(screen.refreshRate())
        self.player.speak(utterance, open_ended=open_ended)
        session = self.player.session
        said = "Speaking while the rest streams in" if open_ended else f"Speaking {utterance.duration:.1f} s"
        parts = [f"{said} ({utterance.speech.engine} {utterance.speech.voice})",
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

    def speech_failed(self, error: TaskError) -> None:
        text = error.message if error.expected else f"Speech failed: {error.message}"
        self._status(text, "error")
        self.message.emit(text, "error")
        self.update_buttons()

    def stop(self) -> None:
        """Stop speaking now (and drop a preparation or stream still running); the loop keeps playing."""
        self.runner.supersede(SPEECH_LANE)
        self._stream = None
        self.player.stop_speaking()
        self.update_buttons()

    def _speech_finished(self) -> None:
        self.update_buttons()
        if self.on_screen():
            self._status("Done speaking.")

    # --- state display ------------------------------------------------------------------------------------
    def _frame_changed(self, index: int, count: int) -> None:
        self.counter_label.setText(f"Frame {index + 1} / {count}" if count else "–")

    def _playing_changed(self, playing: bool) -> None:
        self.play_button.setText("Pause" if playing else "Play")

    def update_buttons(self) -> None:
        has_loop = self.loop is not None
        self.speak_button.setEnabled(has_loop and bool(self.text_edit.toPlainText().strip()))
        self.play_button.setEnabled(has_loop)
        preparing = bool(self.runner.running("preview-speech")) or (self._stream is not None and self._stream.running)
        self.stop_button.setEnabled(preparing or (self.player.speaking if hasattr(self, "player") else False))

    def _status(self, text: str, level: str = "info") -> None:
        colour = {"error": "#d9534f", "warning": "#c98a1b"}.get(level, "#8a8f99")
        self.status_label.setStyleSheet(f"color:{colour}")
        self.status_label.set_full_text(text)

    # --- the studio ------------------------------------------------------------------------------------------
    def attach_studio(self, document, loop_controller) -> None:
        """Follow the studio: its analysed source video plays here, then each loop it exports."""
        from .studio_link import link_to_studio

        link_to_studio(self, document, loop_controller)

    def clear_loop(self, placeholder: str) -> None:
        """No loop any more (a new source opened): stop, and say what comes next."""
        self._pending_source = None
        self.runner.supersede("preview-loop")  # a loop still loading for the old source is dropped
        self.stop()
        self.loop = None
        self.player.clear(placeholder)
        self.update_buttons()

    def load_loop_when_shown(self, path: Path, frames_provider=None, from_file: bool = True) -> None:
        """Load `path` now if the panel is on screen, else when it first is (a background tab costs nothing).

        `frames_provider()` may return a ready PreviewLoop (frames already in memory) to skip decoding;
        when it returns None and not `from_file`, nothing is decoded (the frames are still coming).
        """
        self._pending_source = (Path(path), frames_provider, from_file)
        if self.on_screen():
            QTimer.singleShot(0, self._load_pending)

    def _load_pending(self) -> None:
        if self._pending_source is None:
            return
        path, provider, from_file = self._pending_source
        self._pending_source = None
        loop = provider() if provider is not None else None
        if loop is not None:
            self.set_loop(loop)
        elif from_file:
            self.load_loop(path)

    # --- visibility ---------------------------------------------------------------------------------------------
    def follow_dock(self, dock) -> None:
        """Inside a QDockWidget: its visibilityChanged says when its tab is really on screen."""
        self._dock = dock
        self._dock_shown = False
        dock.visibilityChanged.connect(self._dock_visibility_changed)

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
        QTimer.singleShot(0, self.voices.load_voices)
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
