"""The seam view: the loop's last frame beside its first, as an onion skin, or as their difference.

Those two frames meet at every wrap; a jump the eye would catch at playback speed is plain to see here.
It observes the document (plan_changed) and shows frames built in memory from the studio's decoded
frames (plan_frames), so it updates as the loop point or an edge is dragged.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QButtonGroup, QLabel, QRadioButton, QSizePolicy, QVBoxLayout, QWidget

from . import plan_frames
from .flow_row import FlowRow

MODES = (("side", "Side by side"), ("onion", "Onion skin 50 %"), ("difference", "Difference"))


def _qimage(frame: np.ndarray) -> tuple[QImage, np.ndarray]:
    frame = np.ascontiguousarray(frame)
    h, w = frame.shape[:2]
    return QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888), frame


class SeamCanvas(QWidget):
    """Paints one or two frames, fitted and centred, each with a caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.panels: list[tuple[QImage, str]] = []
        self._buffers: list[np.ndarray] = []
        self.placeholder = "The seam view needs a loop plan and the video's frames"

    def show_frames(self, panels: list[tuple[np.ndarray, str]]) -> None:
        self.panels, self._buffers = [], []
        for frame, caption in panels:
            image, buffer = _qimage(frame)
            self.panels.append((image, caption))
            self._buffers.append(buffer)
        self.update()

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#15161a"))
        if not self.panels:
            p.setPen(QColor("#9aa0aa"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.placeholder)
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        cell_w = self.width() / len(self.panels)
        for i, (image, caption) in enumerate(self.panels):
            cell = QRectF(i * cell_w + 2, 2, cell_w - 4, self.height() - 4)
            scale = min(cell.width() / image.width(), cell.height() / image.height())
            w, h = image.width() * scale, image.height() * scale
            target = QRectF(cell.center().x() - w / 2, cell.center().y() - h / 2, w, h)
            p.drawImage(target, image)
            box = QRectF(target.left(), target.bottom() - 22, target.width(), 22)
            p.fillRect(box, QColor(0, 0, 0, 150))
            p.setPen(QColor("#ffffff"))
            p.drawText(box.adjusted(6, 0, -6, 0), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, caption)
        p.end()


class SeamView(QWidget):
    mode_changed = Signal(str)

    def __init__(self, document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Seam view")
        self.doc = document
        self._frames: np.ndarray | None = None
        self.mode = "side"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row_widget = FlowRow()  # wraps in a narrow window
        row = row_widget.flow
        self.buttons = QButtonGroup(self)
        for value, label in MODES:
            button = QRadioButton(label)
            button.setProperty("mode", value)
            button.setChecked(value == self.mode)
            self.buttons.addButton(button)
            row.addWidget(button)
        self.buttons.buttonClicked.connect(lambda b: self.set_mode(b.property("mode")))
        self.metric_label = QLabel()
        row.addWidget(self.metric_label)
        layout.addWidget(row_widget)
        self.canvas = SeamCanvas()
        layout.addWidget(self.canvas, 1)
        document.plan_changed.connect(lambda _p: self.refresh())
        document.source_changed.connect(lambda: self.set_frames(None))

    def set_frames(self, frames: np.ndarray | None) -> None:
        self._frames = frames
        self.refresh()

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        for button in self.buttons.buttons():
            button.setChecked(button.property("mode") == mode)
        self.refresh()
        self.mode_changed.emit(mode)

    def refresh(self) -> None:
        plan = self.doc.plan
        if plan is None or self._frames is None or not self.isVisible():
            if plan is None or self._frames is None:
                self.canvas.show_frames([])
                self.metric_label.clear()
            return
        last, first = plan_frames.seam_pair(self._frames, plan)
        n = plan.output_frames
        step = float(np.abs(last.astype(np.int16) - first.astype(np.int16)).mean())
        self.metric_label.setText(f"mean |last − first|: {step:.1f} levels")
        tail = f"last frame ({n} of {n})"
        if self.mode == "side":
            self.canvas.show_frames([(last, tail), (first, f"first frame (1 of {n})")])
        elif self.mode == "onion":
            self.canvas.show_frames([(plan_frames.onion(last, first), f"{tail} + first frame at 50 %")])
        else:
            self.canvas.show_frames([(plan_frames.difference(last, first), "|last − first| ×4 (black = identical)")])

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh()
