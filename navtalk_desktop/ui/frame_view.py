"""The frame at the playhead (or a still portrait), with the eye landmarks drawn on request.

It follows the document (`observe`): the playhead's frame and its caption, the landmarks of the analysis, the
portrait of an image source. It zooms (wheel or Ctrl+wheel around the cursor, +/− keys, 1 for 1:1, 0 to fit) and pans (drag), so
the eyes can be checked pixel for pixel. During playback it can show a blend of source frames (a
crossfade's tail), built from the frames already in memory.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..core.ear import LEFT_EYE, RIGHT_EYE
from . import plan_frames


MAX_ZOOM = 16.0  # times the fitted size
WHEEL_STEP = 1.25


class FrameView(QWidget):
    zoom_changed = Signal(float)  # zoom relative to the fitted size (1 = fit)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        self.zoom = 1.0
        self._pan = QPointF(0, 0)  # widget px the image is shifted by
        self._drag_from: QPointF | None = None
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
        self._document = None

    # --- the document ---------------------------------------------------------------------------------------
    def observe(self, document) -> None:
        """Show `document` from now on. The decoded frames are not in it: whoever decodes them sets them."""
        self._document = document
        document.source_changed.connect(self._source_changed)
        document.analysis_changed.connect(self._analysis_changed)
        for signal in (document.video_info_changed, document.blinks_changed, document.plan_changed,
                       document.playhead_changed):
            signal.connect(lambda *_: self.show_playhead())

    def _source_changed(self) -> None:
        doc = self._document
        if doc.source_kind == "image":
            self.set_still(str(doc.source_path))
        else:
            self.clear("Loading frames…" if doc.source_kind == "video" else None)

    def _analysis_changed(self, result) -> None:
        if result is not None and result.track is not None:
            self.set_landmarks(result.track.points)
        self.show_playhead()

    def show_playhead(self) -> None:
        """The document's playhead frame and its caption (again, once playback has shown blends)."""
        doc = self._document
        if doc is not None:
            frame = doc.playhead
            self.set_index(frame, playhead_caption(doc, frame) if doc.source_kind == "video" else "")

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

    @property
    def caption(self) -> str:
        return self._caption

    @property
    def index(self) -> int:
        return self._index

    def set_mix(self, parts, caption: str | None = None) -> None:
        """Show a weighted blend of source frames [(index, weight), ...] (one part: that frame)."""
        if self._frames is None or not len(self._frames):
            return
        self._set_image(plan_frames.blend(self._frames, parts))
        if caption is not None:
            self._caption = caption
        self.update()

    # --- zoom and pan -------------------------------------------------------------------------------------
    def fit_scale(self) -> float:
        """Widget px per image px when the whole frame fits (zoom 1)."""
        image = self.current_image()
        if image is None or image.width() == 0:
            return 1.0
        return min(self.width() / image.width(), self.height() / image.height())

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom relative to the fitted size, keeping the image point under `anchor` (widget px) in place."""
        zoom = max(1.0, min(MAX_ZOOM, zoom))
        anchor = anchor if anchor is not None else QPointF(self.width() / 2, self.height() / 2)
        image = self.current_image()
        if image is not None and zoom != self.zoom:
            before = self._target(image)
            u = (anchor.x() - before.left()) / before.width()
            v = (anchor.y() - before.top()) / before.height()
            self.zoom = zoom
            after = self._target(image)
            self._pan += QPointF(anchor.x() - (after.left() + u * after.width()),
                                 anchor.y() - (after.top() + v * after.height()))
        self.zoom = zoom
        if zoom == 1.0:
            self._pan = QPointF(0, 0)
        self._clamp_pan()
        self.zoom_changed.emit(self.zoom)
        self.update()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * WHEEL_STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / WHEEL_STEP)

    def zoom_to_fit(self) -> None:
        self.set_zoom(1.0)

    def zoom_actual_pixels(self) -> None:
        """1:1 — one pixel of the decoded frame per screen pixel."""
        self.set_zoom(1.0 / max(1e-6, self.fit_scale()))

    def pan_by(self, dx: float, dy: float) -> None:
        self._pan += QPointF(dx, dy)
        self._clamp_pan()
        self.update()

    def _clamp_pan(self) -> None:
        image = self.current_image()
        if image is None:
            return
        scale = self.fit_scale() * self.zoom
        w, h = image.width() * scale, image.height() * scale
        mx, my = max(0.0, (w - self.width()) / 2), max(0.0, (h - self.height()) / 2)
        self._pan = QPointF(max(-mx, min(mx, self._pan.x())), max(-my, min(my, self._pan.y())))

    def wheelEvent(self, event) -> None:  # noqa: N802 (Qt API)
        steps = event.angleDelta().y() / 120
        if steps and self.current_image() is not None:
            self.set_zoom(self.zoom * WHEEL_STEP ** steps, event.position())
            event.accept()

    def mousePressEvent(self, event) -> None:  # noqa: N802
        if event.button() == Qt.MouseButton.LeftButton and self.zoom > 1.0:
            self._drag_from = event.position()
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
            event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        if self._drag_from is not None:
            delta = event.position() - self._drag_from
            self._drag_from = event.position()
            self.pan_by(delta.x(), delta.y())

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if self._drag_from is not None:
            self._drag_from = None
            self.unsetCursor()

    def mouseDoubleClickEvent(self, event) -> None:  # noqa: N802
        self.zoom_to_fit()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._clamp_pan()

    def current_image(self) -> QImage | None:
        return self._still if self._still is not None else self._image

    def _set_index_image(self) -> None:
        if self._frames is None or not len(self._frames):
            self._image = None
            return
        self._set_image(self._frames[max(0, min(self._index, len(self._frames) - 1))])

    def _set_image(self, frame: np.ndarray) -> None:
        frame = np.ascontiguousarray(frame)
        h, w = frame.shape[:2]
        self._image_buffer = frame
        self._image = QImage(frame.data, w, h, 3 * w, QImage.Format.Format_RGB888)

    # --- painting -----------------------------------------------------------------------------------------
    def _target(self, image: QImage) -> QRectF:
        w, h = image.width(), image.height()
        scale = min(self.width() / w, self.height() / h) * self.zoom
        tw, th = w * scale, h * scale
        return QRectF((self.width() - tw) / 2 + self._pan.x(), (self.height() - th) / 2 + self._pan.y(), tw, th)

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
            shown = target.intersected(QRectF(self.rect()))
            box = QRectF(shown.left() + 6, shown.bottom() - 24, shown.width() - 12, 20)
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
            p.setPen(QPen(color, landmark_pen_width(poly)))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolyline(poly)


def landmark_pen_width(poly: QPolygonF) -> float:
    """A thin outline scaled to the eye on screen: 1/40 of its width, 0.75 to 2 px (never a blob)."""
    xs = [point.x() for point in poly]
    return max(0.75, min(2.0, (max(xs) - min(xs)) / 40)) if xs else 1.0


def playhead_caption(document, frame: int) -> str:
    """Where `frame` is: its time, the blink it falls in (apex or not), the loop marker it sits on."""
    fps = document.fps or 1.0
    caption = f"frame {frame} · {frame / fps:.2f} s"
    events = document.analysis.events if document.analysis is not None else []
    for event in events:
        if event.start <= frame <= event.end:
            name = (f"one eye: {event.eye}" if event.kind == "one_eye" else
                    event.kind.replace("_", " ") + ("" if event.both_eyes else f" ({event.eye} eye)"))
            caption += f" · {name} apex" if frame == event.apex else f" · {name}"
    plan = document.plan
    if plan is not None:
        names = [name for name, at in (("loop start", plan.first), ("loop point", plan.loop_point),
                                       ("loop end", plan.last)) if frame == at]
        caption += "".join(f" · {name}" for name in names)
    return caption
