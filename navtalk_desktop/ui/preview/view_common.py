"""What the GL and raster preview views share: their small interface, the fit-to-widget geometry and the overlays.

Why a shared module: the player, the panel and the tests talk to "a preview view" and must not care which
one the factory picked, so both implement `PreviewView` and draw their overlays with the same code.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np
from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter

BACKGROUND = QColor(24, 25, 28)


class PreviewBackend(StrEnum):
    """How the preview draws: `auto` lets the factory pick, `gl` (QOpenGLWidget) or `raster` (QPainter)."""

    AUTO = "auto"
    GL = "gl"
    RASTER = "raster"


GL = PreviewBackend.GL
RASTER = PreviewBackend.RASTER


@runtime_checkable
class PreviewView(Protocol):
    """The interface both views implement (they are QWidgets; `failed` exists on the GL view only)."""

    backend: str  # "gl" or "raster"
    paint_count: int  # paints since creation (tests, benchmark)
    upload_count: int  # frame changes turned into an image/texture (once per new frame, never per paint)
    last_paint_seconds: float  # CPU time of the last paint

    def set_frame(self, frame: np.ndarray | None, index: int = -1) -> None:
        """Show `frame` (h, w, 3) RGB uint8; the array is kept, not copied, until the next one arrives."""
        ...

    def set_overlay_text(self, text: str) -> None:
        """Text drawn over the top-left of the frame (the viseme name); "" for none."""
        ...

    def set_placeholder(self, text: str) -> None: ...

    def frame_index(self) -> int: ...

    def image_rect(self) -> QRect:
        """Where the frame is drawn, in widget coordinates (scaled to fit, centred)."""
        ...

    def grab_image(self) -> QImage:
        """What is on screen now, as an image of the widget's size."""
        ...


class SharedViewState:
    """The PreviewView methods both views implement alike (mixed in before the Qt widget base).

    The view keeps `_frame` (the RGB frame or None), `_index`, `_overlay` and `_placeholder`.
    """

    def set_overlay_text(self, text: str) -> None:
        if text != self._overlay:
            self._overlay = text
            self.update()

    def set_placeholder(self, text: str) -> None:
        self._placeholder = text
        self.update()

    def frame_index(self) -> int:
        return self._index

    def image_rect(self) -> QRect:
        if self._frame is None:
            return QRect()
        h, w = self._frame.shape[:2]
        return fit_rect(w, h, self.width(), self.height())


def as_rgb_frame(frame: np.ndarray) -> np.ndarray:
    """A C-contiguous (h, w, 3) uint8 array, or a clear error (a wrong array would crash the GPU upload)."""
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3 or frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"a preview frame must be (height, width, 3) uint8 RGB, not {frame.shape} {frame.dtype}")
    return np.ascontiguousarray(frame)


def fit_rect(frame_w: int, frame_h: int, area_w: int, area_h: int) -> QRect:
    """The largest rectangle of the frame's aspect ratio inside the area, centred (scale to fit)."""
    if frame_w <= 0 or frame_h <= 0 or area_w <= 0 or area_h <= 0:
        return QRect()
    scale = min(area_w / frame_w, area_h / frame_h)
    w, h = max(1, round(frame_w * scale)), max(1, round(frame_h * scale))
    return QRect((area_w - w) // 2, (area_h - h) // 2, w, h)


def paint_overlays(painter: QPainter, area: QRect, image_rect: QRect, overlay: str, placeholder: str,
                   has_frame: bool) -> None:
    """The viseme label over the frame, or the placeholder when there is no frame (after the image itself)."""
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    if not has_frame:
        painter.setPen(QColor(150, 155, 165))
        painter.drawText(QRectF(area), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, placeholder)
        return
    if not overlay:
        return
    font = QFont(painter.font())
    font.setPixelSize(max(12, min(28, image_rect.height() // 14)))
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    pad = 6
    box = QRectF(image_rect.left() + 8, image_rect.top() + 8,
                 metrics.horizontalAdvance(overlay) + 2 * pad, metrics.height() + pad)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 150))
    painter.drawRoundedRect(box, 4, 4)
    painter.setPen(QColor(255, 230, 120))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, overlay)
