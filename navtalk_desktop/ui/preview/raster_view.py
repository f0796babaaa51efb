"""The raster preview: a QWidget that draws the frame with QPainter. Used wherever OpenGL cannot be had.

The numpy frame is wrapped in a QImage without a copy (pyqtgraph's RawImageWidget pattern) once per new
frame, and the array is kept alive as long as the image. On software GL (llvmpipe) this path is even the
faster one (docs/design-notes.md#gl-preview), so it is a full replacement, not a degraded mode.
"""

from __future__ import annotations

import time

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

from .view_common import BACKGROUND, RASTER, SharedViewState, as_rgb_frame, paint_overlays


class RasterPreviewView(SharedViewState, QWidget):
    backend = RASTER

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumSize(160, 120)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)  # we fill every pixel ourselves
        self.setAccessibleName("Live preview")
        self._frame: np.ndarray | None = None  # owns the memory the QImage points into
        self._image: QImage | None = None
        self._index = -1
        self._overlay = ""
        self._placeholder = "No loop loaded"
        self.paint_count = 0
        self.upload_count = 0
        self.last_paint_seconds = 0.0

    # --- the PreviewView interface ----------------------------------------------------------------
    def set_frame(self, frame: np.ndarray | None, index: int = -1) -> None:
        if frame is None:
            self._frame, self._image, self._index = None, None, -1
        else:
            frame = as_rgb_frame(frame)
            h, w = frame.shape[:2]
            self._frame, self._index = frame, int(index)
            self._image = QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888)
            self.upload_count += 1
        self.update()

    def grab_image(self) -> QImage:
        return self.grab().toImage()

    # --- painting ----------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802
        started = time.perf_counter()
        painter = QPainter(self)
        painter.fillRect(self.rect(), BACKGROUND)
        target = self.image_rect()
        if self._image is not None:
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, self._image)
        paint_overlays(painter, self.rect(), target, self._overlay, self._placeholder, self._image is not None)
        painter.end()
        self.paint_count += 1
        self.last_paint_seconds = time.perf_counter() - started
