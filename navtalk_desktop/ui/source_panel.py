"""The Source panel: what is open, its facts (video) or its pre-flight result (portrait), and the analysis."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QGroupBox, QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget)
from superqt import QElidingLabel


def _facts_html(rows: list[tuple[str, str]]) -> str:
    cells = "".join(f"<tr><td style='color:#8a8f99;padding-right:8px'>{html.escape(k)}</td>"
                    f"<td>{html.escape(v)}</td></tr>" for k, v in rows)
    return f"<table>{cells}</table>"


class SourcePanel(QWidget):
    open_requested = Signal()
    fix_requested = Signal()  # convert the portrait so Kling accepts it
    cancel_analysis_requested = Signal()
    content_changed = Signal()  # the panel's height needs may have changed

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._blink_summary: tuple | None = None  # (blinks, clean, best apex) the panel last showed
        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.name_label = QElidingLabel("Nothing open")  # a long name is elided; the full path is its tooltip
        self.name_label.setElideMode(Qt.TextElideMode.ElideMiddle)
        self.name_label.setStyleSheet("font-weight:600")
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open a portrait image or a video (or drop a file on the window)")
        self.open_button.clicked.connect(self.open_requested)
        top.addWidget(self.name_label, 1)
        top.addWidget(self.open_button)
        layout.addLayout(top)

        self.facts_label = QLabel("Open a portrait to generate a clip from it, or a video to loop it.")
        self.facts_label.setWordWrap(True)
        layout.addWidget(self.facts_label)

        self.preflight_box = QGroupBox("Kling pre-flight")
        pre = QVBoxLayout(self.preflight_box)
        self.preflight_label = QLabel()
        self.preflight_label.setWordWrap(True)
        self.fix_button = QPushButton("Fix it for me")
        self.fix_button.setToolTip("Convert the image (format, rotation, transparency, size) so Kling accepts it; "
                                   "every change is listed")
        self.fix_button.clicked.connect(self.fix_requested)
        pre.addWidget(self.preflight_label)
        pre.addWidget(self.fix_button)
        layout.addWidget(self.preflight_box)
        self.preflight_box.hide()

        self.analysis_box = QGroupBox("Blink analysis")
        ana = QVBoxLayout(self.analysis_box)
        row = QHBoxLayout()
        self.analysis_bar = QProgressBar()
        self.analysis_bar.setRange(0, 1000)
        self.analysis_bar.setTextVisible(False)
        self.analysis_cancel = QPushButton("Cancel")
        self.analysis_cancel.clicked.connect(self.cancel_analysis_requested)
        row.addWidget(self.analysis_bar, 1)
        row.addWidget(self.analysis_cancel)
        ana.addLayout(row)
        self.analysis_label = QLabel()
        self.analysis_label.setWordWrap(True)
        ana.addWidget(self.analysis_label)
        layout.addWidget(self.analysis_box)
        self.analysis_box.hide()
        layout.addStretch(1)

    # --- the document -----------------------------------------------------------------------------------------
    def observe(self, document) -> None:
        """Show `document`'s source, its probe and its (corrected) blinks from now on.

        What the tasks report (progress, a failed read, the portrait's pre-flight) still comes from outside.
        """
        document.source_changed.connect(lambda: self._source_changed(document))
        document.video_info_changed.connect(lambda info: info is not None and self.show_video_info(info))
        document.analysis_changed.connect(self._analysis_changed)
        document.blinks_changed.connect(self._blinks_changed)

    def _source_changed(self, document) -> None:
        if document.source_kind == "image":
            self.show_image(document.source_path)
        elif document.source_kind == "video":
            self.show_video(document.source_path)
        else:
            self.show_nothing()

    def _analysis_changed(self, result) -> None:
        self._blink_summary = None
        if result is not None:
            self._blinks_changed(result)

    def _blinks_changed(self, analysis) -> None:
        best = analysis.best_blink()
        summary = (len(analysis.events), len(analysis.clean_events()), best.apex if best else None)
        if summary != self._blink_summary:  # not on every pixel of a handle drag: the dock would re-fit
            self._blink_summary = summary
            self.show_analysis(analysis)

    # --- states ---------------------------------------------------------------------------------------------
    def _show_name(self, path: Path | None) -> None:
        self.name_label.setText(path.name if path else "Nothing open")
        self.name_label.setToolTip(str(path) if path else "")

    def show_nothing(self) -> None:
        self._show_name(None)
        self.facts_label.setText("Open a portrait to generate a clip from it, or a video to loop it.")
        self.preflight_box.hide()
        self.analysis_box.hide()
        self.content_changed.emit()

    def show_image(self, path: Path) -> None:
        self._show_name(path)
        self.facts_label.setText("Portrait image: checking it against Kling's upload rules…")
        self.preflight_box.show()
        self.preflight_label.setText("Checking…")
        self.fix_button.hide()
        self.analysis_box.hide()
        self.content_changed.emit()

    def show_preflight(self, prepared, problem: str, fixable: bool) -> None:
        """The check's verdict, with the fix offered when the problem can be repaired."""
        if prepared is not None:
            rows = [("size", f"{prepared.width}×{prepared.height} px"), ("format", prepared.format),
                    ("upload", f"{len(prepared.data) / 1024:.0f} KB")]
            self.facts_label.setText(_facts_html(rows))
            lines = ["✓ Ready for Kling."]
            if prepared.changes:
                lines = ["✓ Ready for Kling after these changes (the original file is untouched):"]
                lines += [f"• {c}" for c in prepared.changes]
            lines += [f"ℹ {n}" for n in prepared.notes]
            self.preflight_label.setText("\n".join(lines))
            self.fix_button.hide()
        else:
            problem = problem.rstrip(".") + "."
            if fixable:
                problem += "\nThe app can convert it for you."
            self.facts_label.setText("Portrait image")
            self.preflight_label.setText(f"⚠ {problem}")
            self.fix_button.setVisible(fixable)
        self.content_changed.emit()

    def show_video(self, path: Path) -> None:
        self._show_name(path)
        self.facts_label.setText("Reading the video…")
        self.preflight_box.hide()
        self.analysis_box.show()
        self.analysis_bar.setValue(0)
        self.analysis_label.setText("Waiting…")
        self.analysis_cancel.setEnabled(True)
        self.analysis_bar.show()
        self.analysis_cancel.show()
        self.content_changed.emit()

    def show_video_info(self, info) -> None:
        rows = [("size", f"{info.width}×{info.height} px"), ("frame rate", f"{float(info.fps):g} fps"),
                ("frames", str(info.frame_count)), ("duration", f"{info.duration:.2f} s"),
                ("codec", info.codec + (" + audio" if info.has_audio else ""))]
        if info.rotation:
            rows.append(("rotation", f"{info.rotation}°"))
        self.facts_label.setText(_facts_html(rows))
        self.content_changed.emit()

    def set_analysis_progress(self, fraction: float, text: str) -> None:
        self.analysis_box.show()
        if fraction < 0:
            self.analysis_bar.setRange(0, 0)  # busy indicator
        else:
            self.analysis_bar.setRange(0, 1000)
            self.analysis_bar.setValue(int(1000 * min(1.0, fraction)))
        self.analysis_label.setText(text)

    def show_analysis(self, result) -> None:
        self.analysis_bar.setRange(0, 1000)
        self.analysis_bar.setValue(1000)
        self.analysis_cancel.setEnabled(False)
        clean = len(result.clean_events())
        blinks = len(result.events)
        lines = [f"{blinks} blink{'s' if blinks != 1 else ''} found ({clean} clean), "
                 f"face in {result.face_fraction:.0%} of frames."]
        best = result.best_blink()
        if best is not None:
            lines.append(f"Most confident blink: frame {best.apex} ({best.apex / result.fps:.2f} s).")
        lines += [f"Note: {m}" for m in result.messages]
        self.analysis_label.setText("\n".join(lines))
        self.analysis_bar.hide()
        self.analysis_cancel.hide()
        self.content_changed.emit()

    def show_source_failed(self, text: str) -> None:
        """The file could not be read: say so where "Reading the video…" stood."""
        self.facts_label.setText("This file could not be read as a video.")
        self.analysis_bar.hide()
        self.analysis_cancel.hide()
        self.show_analysis_stopped(text)

    def show_analysis_stopped(self, text: str) -> None:
        self.analysis_bar.setRange(0, 1000)
        self.analysis_bar.setValue(0)
        self.analysis_cancel.setEnabled(False)
        self.analysis_label.setText(text)
        self.content_changed.emit()
