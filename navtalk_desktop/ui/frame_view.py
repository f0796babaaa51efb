"""The frame at the playhead (or a still portrait), with the eye landmarks drawn on request."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..core.ear import LEFT_EYE, RIGHT_EYE


class FrameView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(200, 150)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("Frame view")
        self._frames: np.ndarray | None = None  # (n, h, w, 3) preview frames
        self._scale = 1.0  # preview px per source px
        self._still: QImage | None = None
        self._index = 0
        self._points: np.ndarray | None = None  # (n, 478, 2) source px
        self.show_landmarks = False
        self._caption = ""
        self._placeholder = "Open a portrait or a video (File ▸ Open, or drop it here)"
        self._image: QImage | None = None
        self._image_buffer: np.ndarray | None = None  # keeps the QImage's memory alive

    # --- content ------------------------------------------------------------------------------------------
    def clear(self, placeholder: str | None = None) -> None:
        self._frames, self._still, self._points, self._image = None, None, None, None
        self._caption = ""
        if placeholder is not None:
            self._placeholder = placeholder
        self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def set_still(self, path: str) -> bool:
        """Show a still image file (a portrait); False if Qt cannot read it."""
        reader = QImageReader(path)
        reader.setAutoTransform(True)  # honour EXIF orientation, as the pre-flight fix will
        image = reader.read()
        self.clear()
        if image.isNull():
            self._placeholder = "This image cannot be displayed"
            return False
        self._still = image
        self.update()
        return True

    def set_frames(self, frames: np.ndarray | None, scale: float = 1.0) -> None:
        self._frames, self._scale = frames, scale
        self._still = None
        self._set_index_image()
        self.update()

    def set_landmarks(self, points: np.ndarray | None) -> None:
        self._points = points
        self.update()

    def set_show_landmarks(self, show: bool) -> None:
        self.show_landmarks = show
        self.update()

    def set_index(self, index: int, caption: str = "") -> None:
        self._index = index
        self._caption = caption
        self._set_index_image()
        self.update()

    def current_image(self) -> QImage | None:
        return self._still if self._still is not None else self._image

    def _set_index_image(self) -> None:
        if self._frames is None or not len(self._frames):
            self._image = None
            return
        frame = np.ascontiguousarray(self._frames[max(0, min(self._index, len(self._frames) - 1))])
        h, w = frame.shape[:2]
        self._image_buffer = frame
        self._image = QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888)

    # --- painting -----------------------------------------------------------------------------------------
    def _target(self, image: QImage) -> QRectF:
        w, h = image.width(), image.height()
        scale = min(self.width() / w, self.height() / h)
        tw, th = w * scale, h * scale
        return QRectF((self.width() - tw) / 2, (self.height() - th) / 2, tw, th)

    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#15161a"))
        image = self.current_image()
        if image is None:
            p.setPen(QColor("#9aa0aa"))
            p.drawText(self.rect().adjusted(12, 12, -12, -12), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                       self._placeholder)
            p.end()
            return
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        target = self._target(image)
        p.drawImage(target, image)
        if self.show_landmarks and self._still is None:
            self._draw_eyes(p, target, image)
        if self._caption:
            p.setPen(QColor("#ffffff"))
            box = QRectF(target.left() + 6, target.bottom() - 24, target.width() - 12, 20)
            p.fillRect(box.adjusted(-4, 0, 4, 0), QColor(0, 0, 0, 130))
            p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, self._caption)
        p.end()

    def _draw_eyes(self, p: QPainter, target: QRectF, image: QImage) -> None:
        if self._points is None or not 0 <= self._index < len(self._points):
            return
        pts = self._points[self._index]
        if not np.isfinite(pts[0, 0]):
            return
        # source px -> preview px -> widget px
        k = self._scale * target.width() / image.width()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for eye, color in ((RIGHT_EYE, QColor("#5aa9ff")), (LEFT_EYE, QColor("#ffa64d"))):
            ring = [eye[0], eye[1], eye[2], eye[3], eye[4], eye[5], eye[0]]
            poly = QPolygonF([QPointF(target.left() + pts[i, 0] * k, target.top() + pts[i, 1] * k) for i in ring])
            p.setPen(QPen(color, 1.5))
            p.drawPolyline(poly)
            p.setBrush(color)
            for point in list(poly)[:-1]:
                p.drawEllipse(point, 2.2, 2.2)
            p.setBrush(Qt.BrushStyle.NoBrush)
