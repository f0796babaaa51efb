"""The Generate panel: Kling model, mode, duration, prompt and loop tail; Generate/Cancel with progress.

Choices come from the capability map (core/kling/capabilities.py), so impossible combinations (a loop
tail on a model without end frames, a duration a model can't make) cannot be picked in the first place.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QPlainTextEdit,
                               QPushButton, QToolButton, QVBoxLayout, QWidget)

from ..core.kling.capabilities import MODELS, model_capabilities
from ..core.kling.prompts import DEFAULT_IDLE_PROMPT, MAX_PROMPT_CHARS
from ..core.project import GenerationSettings
from .tasks import add_task_controls


def _clock(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    return f"{seconds // 60}:{seconds % 60:02d}"


class GeneratePanel(QWidget):
    generate_requested = Signal()
    cancel_requested = Signal()
    settings_requested = Signal()  # open the settings dialog (keys)
    demo_mode_changed = Signal(bool)
    settings_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        self.keys_box = QGroupBox("Kling account")
        keys = QVBoxLayout(self.keys_box)
        self.keys_label = QLabel()
        self.keys_label.setWordWrap(True)
        row = QHBoxLayout()
        self.keys_button = QPushButton("Set keys…")
        self.keys_button.clicked.connect(self.settings_requested)
        self.demo_check = QCheckBox("Demo mode (local simulator, offline)")
        self.demo_check.setToolTip("Generate with a built-in Kling simulator: the whole flow works without keys "
                                   "or internet; the clip is a simple animation of the portrait.")
        self.demo_check.toggled.connect(self._demo_toggled)
        row.addWidget(self.keys_button)
        row.addStretch(1)
        keys.addWidget(self.keys_label)
        keys.addLayout(row)
        keys.addWidget(self.demo_check)
        layout.addWidget(self.keys_box)

        form = QFormLayout()
        self.model_box = QComboBox()
        for name in MODELS:
            self.model_box.addItem(name, name)
        self.mode_box = QComboBox()
        self.duration_box = QComboBox()
        self.tail_check = QCheckBox("Loop tail")  # short: the panel must fit a 280 px dock
        self.tail_check.setToolTip("Ask Kling to end the clip on its start frame (a loop tail), where the "
                                   "model supports it")
        form.addRow("Model", self.model_box)
        form.addRow("Mode", self.mode_box)
        form.addRow("Duration", self.duration_box)
        form.addRow("", self.tail_check)
        layout.addLayout(form)
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(QLabel("Prompt"))
        prompt_row.addStretch(1)
        reset = QToolButton()
        reset.setText("Default")
        reset.setToolTip("Restore the NavTalk idle-loop prompt")
        reset.clicked.connect(lambda: self.prompt_edit.setPlainText(DEFAULT_IDLE_PROMPT))
        prompt_row.addWidget(reset)
        layout.addLayout(prompt_row)
        self.prompt_edit = QPlainTextEdit(DEFAULT_IDLE_PROMPT)
        self.prompt_edit.setMinimumHeight(80)
        self.prompt_edit.setMaximumHeight(150)
        layout.addWidget(self.prompt_edit)
        self.prompt_count = QLabel()
        self.prompt_count.setStyleSheet("color:#8a8f99")
        layout.addWidget(self.prompt_count)

        self.generate_button, self.cancel_button, self.progress_bar = add_task_controls(
            layout, "Generate", self.generate_requested, self.cancel_requested)
        self.status_label = QLabel("Open a portrait to generate a clip from it.")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        layout.addStretch(1)

        self._has_keys = False
        self._has_portrait = False
        self._portrait_name: str | None = None
        self._running = False
        self.model_box.currentIndexChanged.connect(self._model_changed)
        self.mode_box.currentIndexChanged.connect(self._update_tail)
        self.duration_box.currentIndexChanged.connect(self._update_tail)
        self.tail_check.toggled.connect(lambda _on: self.settings_changed.emit())
        self.prompt_edit.textChanged.connect(self._prompt_changed)
        self._model_changed()
        self._prompt_changed()

    # --- choices ------------------------------------------------------------------------------------------------
    def _model_changed(self) -> None:
        caps = model_capabilities(self.model_box.currentData())
        mode, duration = self.mode_box.currentData(), self.duration_box.currentData()
        self.mode_box.blockSignals(True)
        self.duration_box.blockSignals(True)
        self.mode_box.clear()
        for m in caps.modes:
            self.mode_box.addItem({"std": "Standard", "pro": "Professional"}.get(m, m), m)
        self.mode_box.setEnabled(caps.takes_mode)
        self.mode_box.setToolTip("" if caps.takes_mode else f"{caps.name} does not take a mode")
        self.duration_box.clear()
        for d in caps.durations:
            self.duration_box.addItem(f"{d} s", d)
        for box, value in ((self.mode_box, mode), (self.duration_box, duration)):
            index = box.findData(value)
            if index >= 0:
                box.setCurrentIndex(index)
        self.mode_box.blockSignals(False)
        self.duration_box.blockSignals(False)
        self._update_tail()

    def _update_tail(self) -> None:
        caps = model_capabilities(self.model_box.currentData())
        mode, duration = self.mode_box.currentData(), self.duration_box.currentData()
        allowed = caps.supports_tail(mode, duration)
        self.tail_check.setEnabled(allowed)
        if not allowed:
            self.tail_check.setChecked(False)
            combos = ", ".join(f"{m} {d} s" for m, d in sorted(caps.tail_combos))
            self.tail_check.setToolTip(f"{caps.name} allows an end frame only for: {combos}" if combos else
                                       f"{caps.name} cannot take an end frame")
        else:
            self.tail_check.setToolTip("Send the portrait as the last frame too, so the clip ends where it starts")
        self.settings_changed.emit()

    def _prompt_changed(self) -> None:
        n = len(self.prompt_edit.toPlainText().strip())
        self.prompt_count.setText(f"{n} / {MAX_PROMPT_CHARS} characters")
        self.prompt_count.setStyleSheet("color:#e05050" if n > MAX_PROMPT_CHARS else "color:#8a8f99")
        self._update_enabled()

    def _demo_toggled(self, on: bool) -> None:
        self.demo_mode_changed.emit(on)
        self._update_enabled()

    def settings(self) -> GenerationSettings:
        prompt = self.prompt_edit.toPlainText().strip()
        return GenerationSettings(model=self.model_box.currentData(), mode=self.mode_box.currentData(),
                                  duration=self.duration_box.currentData(),
                                  prompt="" if prompt == DEFAULT_IDLE_PROMPT else prompt,
                                  loop_tail=self.tail_check.isChecked())

    def prompt(self) -> str:
        return self.prompt_edit.toPlainText().strip() or DEFAULT_IDLE_PROMPT

    def set_settings(self, s: GenerationSettings) -> None:
        index = self.model_box.findData(s.model)
        if index >= 0:
            self.model_box.setCurrentIndex(index)
        for box, value in ((self.mode_box, s.mode), (self.duration_box, s.duration)):
            index = box.findData(value)
            if index >= 0:
                box.setCurrentIndex(index)
        self.tail_check.setChecked(s.loop_tail and self.tail_check.isEnabled())
        self.prompt_edit.setPlainText(s.prompt or DEFAULT_IDLE_PROMPT)

    # --- state -------------------------------------------------------------------------------------------------
    def set_key_status(self, text: str, has_keys: bool) -> None:
        self._has_keys = has_keys
        self.keys_label.setText(text)
        self._update_enabled()

    def observe(self, document) -> None:
        """Name the document's portrait from now on (the one a Generate would send)."""
        document.portrait_changed.connect(lambda path: self.set_portrait(path.name if path else None))

    def set_portrait(self, name: str | None) -> None:
        changed = name != self._portrait_name
        self._portrait_name = name
        self._has_portrait = bool(name)
        if not self._running and changed:  # keep the last job's outcome while the portrait stays
            self.status_label.setText(f"Portrait: {name}." if name else
                                      "Open a portrait to generate a clip from it.")
        self._update_enabled()

    def _update_enabled(self) -> None:
        ready = (self._has_keys or self.demo_check.isChecked()) and self._has_portrait and not self._running
        ready = ready and len(self.prompt_edit.toPlainText().strip()) <= MAX_PROMPT_CHARS
        self.generate_button.setEnabled(ready)
        if not self._has_keys and not self.demo_check.isChecked():
            self.generate_button.setToolTip("Set your Kling keys, or switch on demo mode")
        elif not self._has_portrait:
            self.generate_button.setToolTip("Open a portrait image first")
        else:
            self.generate_button.setToolTip("Start a Kling image-to-video job")

    def generation_started(self, text: str = "Submitting…") -> None:
        self._running = True
        self.generate_button.hide()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.status_label.setText(text)
        self._update_enabled()

    def show_progress(self, progress) -> None:
        """A core GenerationProgress: stage, elapsed against the typical time, then download bytes."""
        self.progress_bar.setValue(int(1000 * progress.fraction))
        stage = progress.stage
        if stage in ("downloading", "verifying"):
            if progress.bytes_total:
                text = (f"Downloading {progress.bytes_done / 1e6:.1f} of {progress.bytes_total / 1e6:.1f} MB"
                        if stage == "downloading" else "Checking the downloaded video…")
            else:
                text = f"Downloading {progress.bytes_done / 1e6:.1f} MB…"
        elif stage in ("submitted", "processing"):
            left = progress.remaining_estimate
            estimate = f"about {_clock(left)} left" if left > 0 else "taking longer than usual"
            text = f"Kling is {stage} · {_clock(progress.elapsed)} elapsed · {estimate}"
            if progress.message:  # a backoff notice while polling
                text += f" · {progress.message}"
        else:
            text = progress.message or stage.capitalize() + "…"
        if progress.job_id is not None:
            text = f"Job {progress.job_id}: {text}"
        self.status_label.setText(text)

    def generation_finished(self, text: str) -> None:
        self._running = False
        self.generate_button.show()
        self.cancel_button.hide()
        self.progress_bar.hide()
        self.status_label.setText(text)
        self._update_enabled()
