"""The Export panel: strategy, duration, format, quality and output; the plan, its seam and notes; Export/Cancel.

The plan box follows the document (`observe`): the plan and what it does to the corrected blinks. The seam
measurement and the warnings come from the loop controller, which measures them.

Strategy, format and quality names come from core/defaults.py, not core/export.py: that module pulls in
OpenCV through the seam metrics, and the window must open before any heavy import.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import (QComboBox, QDoubleSpinBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout,
                               QLabel, QLineEdit, QPushButton, QSizePolicy, QToolButton, QVBoxLayout, QWidget)

from superqt import QElidingLabel

from ..core.blink_rules import plan_notes
from ..core.defaults import FORMAT_NAMES, QUALITY_NAMES, Strategy
from ..core.project import ExportSettings
from . import plan_edits
from .tasks import add_task_controls

_STRATEGY_LABELS = {Strategy.AUTO: "Auto (best measured seam)", Strategy.PINGPONG: "Ping-pong",
                    Strategy.CROSSFADE: "Crossfade", Strategy.MORPH: "Morph (motion-compensated)"}
_FORMAT_LABELS = {"mp4": "MP4 (H.264)", "webm": "WebM (VP9)", "mov": "MOV (ProRes)", "gif": "GIF"}
_QUALITY_LABELS = {"high": "High", "medium": "Medium", "small": "Small file"}


def warning_color(palette: QPalette) -> str:
    """A red that reads on the panel's own background: the light red made for a dark theme is ~2:1 on the
    light grey of Qt's default palette (the seam warnings were barely legible in the screenshots)."""
    return "#ff8a8a" if palette.color(QPalette.ColorRole.Window).lightness() < 128 else "#b3261e"


STRATEGIES = tuple((s.value, _STRATEGY_LABELS[s]) for s in Strategy)
FORMATS = tuple((name, _FORMAT_LABELS[name]) for name in FORMAT_NAMES)
QUALITIES = tuple((name, _QUALITY_LABELS[name]) for name in QUALITY_NAMES)


def _combo(items) -> QComboBox:
    box = QComboBox()
    for value, label in items:
        box.addItem(label, value)
    return box


def _select(box: QComboBox, value: str) -> None:
    index = box.findData(value)
    if index >= 0:
        box.setCurrentIndex(index)


class ExportPanel(QWidget):
    strategy_changed = Signal(str)  # the user picked a strategy: re-plan
    duration_changed = Signal(float)  # the user set a duration: re-plan
    settings_changed = Signal()  # format, quality or output changed (project is modified)
    export_requested = Signal()
    cancel_requested = Signal()
    show_in_folder_requested = Signal(str)
    open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.strategy_box = _combo(STRATEGIES)
        self.strategy_box.setToolTip("Ping-pong plays forward then back; crossfade blends the end into the start; "
                                     "morph warps both along the motion first, so a moved head slides into "
                                     "place. Auto scores every window of all three and keeps the best seam.")
        self.duration_spin = QDoubleSpinBox()
        self.duration_spin.setRange(0.5, 30.0)
        self.duration_spin.setSingleStep(0.5)
        self.duration_spin.setDecimals(2)
        self.duration_spin.setSuffix(" s")
        self.duration_spin.setKeyboardTracking(False)
        self.format_box = _combo(FORMATS)
        self.quality_box = _combo(QUALITIES)
        out_row = QHBoxLayout()
        self.output_edit = QLineEdit()
        self.output_edit.setPlaceholderText("next to the source: <name>_loop.mp4")
        browse = QToolButton()
        browse.setText("…")
        browse.setToolTip("Choose where to save the loop")
        browse.clicked.connect(self._browse)
        out_row.addWidget(self.output_edit, 1)
        out_row.addWidget(browse)
        form.addRow("Strategy", self.strategy_box)
        form.addRow("Duration", self.duration_spin)
        form.addRow("Format", self.format_box)
        form.addRow("Quality", self.quality_box)
        form.addRow("Output", out_row)
        layout.addLayout(form)

        self.plan_box = QGroupBox("Loop plan")
        plan_layout = QVBoxLayout(self.plan_box)
        self.plan_label = QLabel("No loop yet: open a video.")
        self.plan_label.setWordWrap(True)
        self.seam_label = QLabel()
        self.seam_label.setWordWrap(True)
        self.warnings_label = QLabel()
        self.warnings_label.setWordWrap(True)
        self.warnings_label.setStyleSheet(f"color:{warning_color(self.palette())}")
        self.warnings_label.hide()
        plan_layout.addWidget(self.plan_label)
        plan_layout.addWidget(self.seam_label)
        self.blink_notes_label = QLabel()  # what the plan does to the corrected blinks (blink_rules.plan_notes)
        self.blink_notes_label.setWordWrap(True)
        self.blink_notes_label.hide()
        plan_layout.addWidget(self.blink_notes_label)
        plan_layout.addWidget(self.warnings_label)
        layout.addWidget(self.plan_box)

        self.export_button, self.cancel_button, self.progress_bar = add_task_controls(
            layout, "Export loop", self.export_requested, self.cancel_requested)
        self.export_button.setDefault(True)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        # a message with a long unbreakable word (a file name) wraps inside the dock instead of widening it
        self.status_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.status_label)

        self.result_box = QGroupBox("Last export")
        result_layout = QVBoxLayout(self.result_box)
        self.path_label = QElidingLabel()  # the saved file's full path, elided in the middle; whole in the tooltip
        self.path_label.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.verdict_label = QLabel()
        self.verdict_label.setWordWrap(True)
        # The measured numbers. Not in a QCollapsible: it fixes its content's height when it unfolds, so a
        # later, longer report or a narrower dock squashes the lines (the layout test caught it).
        self.result_label = QLabel()
        self.result_label.setWordWrap(True)
        result_layout.addWidget(self.path_label)
        result_layout.addWidget(self.verdict_label)
        result_layout.addWidget(self.result_label)
        row = QHBoxLayout()
        self.show_folder_button = QPushButton("Show in folder")
        self.open_button = QPushButton("Open")
        row.addWidget(self.show_folder_button)
        row.addWidget(self.open_button)
        result_layout.addLayout(row)
        self.show_folder_button.clicked.connect(lambda: self.show_in_folder_requested.emit(self._last_output))
        self.open_button.clicked.connect(lambda: self.open_requested.emit(self._last_output))
        layout.addWidget(self.result_box)
        self.result_box.hide()
        layout.addStretch(1)
        self._last_output = ""
        self._last_plan = None  # the plan of the last export (the result box speaks of it)
        self._updating = False
        self._warnings: list = []  # plan_warnings.PlanWarning, as last given

        self.strategy_box.activated.connect(lambda _i: self.strategy_changed.emit(self.strategy_box.currentData()))
        self.duration_spin.valueChanged.connect(self._duration_edited)
        self.format_box.currentIndexChanged.connect(self._format_changed)
        self.quality_box.currentIndexChanged.connect(lambda _i: self._emit_settings())
        self.output_edit.editingFinished.connect(self._emit_settings)
        self.set_can_export(False)

    # --- settings ---------------------------------------------------------------------------------------------
    def settings(self) -> ExportSettings:
        return ExportSettings(strategy=self.strategy_box.currentData(), duration=round(self.duration_spin.value(), 3),
                              format=self.format_box.currentData(), quality=self.quality_box.currentData(),
                              output=self.output_edit.text().strip())

    def set_settings(self, settings: ExportSettings) -> None:
        self._updating = True
        try:
            _select(self.strategy_box, settings.strategy)
            self.duration_spin.setValue(settings.duration)
            _select(self.format_box, settings.format)
            _select(self.quality_box, settings.quality)
            self.output_edit.setText(settings.output)
        finally:
            self._updating = False

    def output_path(self, source: Path | None) -> Path | None:
        """The chosen output, or `<source>_loop.<format>` next to the source."""
        text = self.output_edit.text().strip()
        suffix = "." + self.format_box.currentData()
        if text:
            path = Path(text).expanduser()
            return path if path.suffix.lower() == suffix else path.with_suffix(suffix)
        if source is None:
            return None
        return source.with_name(f"{source.stem}_loop{suffix}")

    def _duration_edited(self, value: float) -> None:
        if not self._updating:
            self.duration_changed.emit(float(value))

    def _format_changed(self, _index: int) -> None:
        text = self.output_edit.text().strip()
        if text:  # keep the chosen name, follow the format
            self.output_edit.setText(str(Path(text).with_suffix("." + self.format_box.currentData())))
        self._emit_settings()

    def _emit_settings(self) -> None:
        if not self._updating:
            self.settings_changed.emit()

    def _browse(self) -> None:
        fmt = self.format_box.currentData()
        start = self.output_edit.text() or str(Path.home() / f"loop.{fmt}")
        path, _ = QFileDialog.getSaveFileName(self, "Export loop as", start, f"{fmt.upper()} (*.{fmt})")
        if path:
            self.output_edit.setText(path)
            self._emit_settings()

    # --- plan and seam ------------------------------------------------------------------------------------------
    def observe(self, document) -> None:
        """Show `document`'s plan and its blink notes from now on, as either changes."""
        def notes(*_args) -> None:
            events = document.analysis.events if document.analysis is not None else []
            self.show_blink_notes(plan_notes(document.plan, events))

        document.plan_changed.connect(self.show_plan)
        for signal in (document.plan_changed, document.analysis_changed, document.blinks_changed):
            signal.connect(notes)

    def show_plan(self, plan) -> None:
        self.set_can_export(plan is not None)
        # The last export's verdict is about the plan it was made from: say so once the plan moves on.
        stale = self._last_plan is not None and plan != self._last_plan
        self.result_box.setTitle("Last export (of an earlier plan)" if stale else "Last export")
        if plan is None:
            self.plan_label.setText("No loop yet: open a video.")
            self.seam_label.clear()
            return
        self.plan_label.setText(plan_edits.describe(plan))
        self._updating = True
        try:
            self.duration_spin.setValue(round(plan.duration, 2))
        finally:
            self._updating = False
        self.seam_label.setText("Seam: measuring…")

    def show_seam(self, report) -> None:
        verdict = report.verdict()
        mark = "✓" if verdict == "seamless" else "⚠"
        warnings = getattr(report, "warnings", None) or []
        if warnings:  # each one is listed below (show_warnings), with the timeline's flags
            verdict = f"{len(warnings)} warning{'s' if len(warnings) > 1 else ''}, listed below"
        cos = "n/a" if report.seam_flow_cosine is None else f"{report.seam_flow_cosine:+.2f}"
        ghost = getattr(report, "ghost", None)
        ghost_text = "" if ghost is None else f", ghost {ghost:.2f} (0 = no double image)"
        self.seam_label.setText(f"Seam (predicted): {mark} {verdict}\nstep ratio {report.seam_step_ratio:.2f} "
                                f"(1 = like any other frame){ghost_text}, motion continuity {cos}")

    def show_blink_notes(self, notes: list[str]) -> None:
        self.blink_notes_label.setText("\n".join(f"⚠ {n[:1].upper()}{n[1:]}" for n in notes))
        self.blink_notes_label.setVisible(bool(notes))
        self._show_warnings()

    def show_warnings(self, warnings) -> None:
        """What sits inside the fade (a blink, strong motion): the same list the timeline flags."""
        self._warnings = list(warnings)
        self._show_warnings()

    def _show_warnings(self) -> None:
        # The notes already say "falls in the crossfade" for a blink in the faded tail (blink_rules): list
        # only what they do not say, so one blink is not warned about twice.
        said = self.blink_notes_label.text()
        shown = [w for w in self._warnings if not (w.kind == "blink_in_fade" and f"frame {w.frame} falls in" in said)]
        self.warnings_label.setText("\n".join(f"⚠ {w.message}" for w in shown))
        self.warnings_label.setVisible(bool(shown))

    def reset_for_source(self, keep_output: bool = False) -> None:
        """A new file: no previous export, no status, and (unless a project chose one) the default output."""
        if not keep_output:
            self.output_edit.clear()
        self._last_output = ""
        self._last_plan = None
        self.path_label.setText("")
        self.path_label.setToolTip("")
        self.result_label.clear()
        self.verdict_label.clear()
        self.result_box.hide()
        self.status_label.clear()
        self.show_warnings([])

    def show_seam_unavailable(self, text: str) -> None:
        self.seam_label.setText(f"Seam: {text}")

    # --- export run ------------------------------------------------------------------------------------------------
    def set_can_export(self, enabled: bool) -> None:
        self.export_button.setEnabled(enabled)

    def export_started(self, out: Path) -> None:
        self.export_button.hide()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        self.progress_bar.setValue(0)
        self.progress_bar.show()
        self.status_label.setText(f"Exporting {out.name}…")
        for w in (self.strategy_box, self.duration_spin, self.format_box, self.quality_box, self.output_edit):
            w.setEnabled(False)

    def export_progress(self, fraction: float, text: str) -> None:
        self.progress_bar.setValue(int(1000 * max(0.0, min(1.0, fraction))))
        if text:
            self.status_label.setText(text)

    def export_finished(self, result=None, message: str = "") -> None:
        self.export_button.show()
        self.cancel_button.hide()
        self.progress_bar.hide()
        for w in (self.strategy_box, self.duration_spin, self.format_box, self.quality_box, self.output_edit):
            w.setEnabled(True)
        self.status_label.setText(message)
        if result is not None:
            self._last_output = str(result.path)
            self._last_plan = result.plan
            self.result_box.setTitle("Last export")
            report = result.report
            verdict = report.verdict()
            mark = "✓" if verdict == "seamless" else "⚠"
            self.path_label.setText(str(result.path))
            self.path_label.setToolTip(str(result.path))
            self.verdict_label.setText(f"{mark} {verdict}")
            self.result_label.setText(report.summary())
            self.result_box.show()
