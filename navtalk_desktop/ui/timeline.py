"""The EAR timeline: curves of both eyes and their mean, blink events, loop window, loop point, playhead.

A plain QPainter widget (qt-architecture.md §2: faster and simpler than a plot library here). It shows
the document's state and reports what the user does: `playhead_requested` while scrubbing,
`plan_dragged` for the live plan during a drag and `plan_edit_requested` once the drag is released (one
undo step per drag). The wheel zooms around the cursor; Shift+wheel (or a horizontal wheel) pans.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from ..core.loop_plan import BLENDED, LoopPlan
from . import plan_edits

TOP = 36  # px above the plot: legend, plan label and marker handles
BOTTOM = 22  # px below: the time ruler
SIDE = 8
GRAB_PX = 6  # how close the pointer must be to grab a marker
SNAP_PX = 8  # how close a drag must come to a blink apex to snap to it
MIN_VISIBLE_FRAMES = 10

COLORS = {
    "background": QColor("#1d1f24"),
    "plot": QColor("#24272e"),
    "grid": QColor("#3c414d"),
    "text": QColor("#c9ccd3"),
    "right": QColor("#5aa9ff"),
    "left": QColor("#ffa64d"),
    "mean": QColor("#f2f2f2"),
    "blink": QColor(255, 214, 10),
    "window": QColor(64, 160, 255),
    "crossfade": QColor(160, 120, 255),
    "loop_point": QColor("#3ddc84"),
    "playhead": QColor("#ff4d4d"),
}

HIT_ORDER = ("loop_point", "start", "end")


class TimelineWidget(QWidget):
    playhead_requested = Signal(int)  # frame the user scrubbed to
    plan_dragged = Signal(object)  # LoopPlan shown live during a drag
    plan_edit_requested = Signal(object, object, str)  # plan before the drag, after it, undo text

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setMinimumSize(400, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setAccessibleName("EAR timeline")
        self._curves: dict[str, np.ndarray] = {}
        self._events: list = []
        self._plan: LoopPlan | None = None
        self._playhead = 0
        self._frames = 0
        self._fps = 0.0
        self._view = (0.0, 1.0)  # visible frame range [start, end)
        self._y_max = 0.4
        self.snap_to_apex = True
        self._drag: str | None = None  # "loop_point", "start", "end", "playhead"
        self._drag_start_plan: LoopPlan | None = None
        self._grab_offset = 0.0
        self._message = "Open a video to see its blink curve"

    # --- data ---------------------------------------------------------------------------------------------
    def set_analysis(self, result) -> None:
        if result is None:
            self._curves, self._events = {}, []
            self._message = "Analysing…" if self._frames else "Open a video to see its blink curve"
        else:
            self._curves = {"right": np.asarray(result.ear_right, float), "left": np.asarray(result.ear_left, float),
                            "mean": np.asarray(result.ear_mean, float)}
            self._events = list(result.events)
            self.set_length(result.frame_count, float(result.info.fps))
            finite = np.concatenate([c[np.isfinite(c)] for c in self._curves.values()] or [np.zeros(1)])
            self._y_max = max(0.2, float(np.percentile(finite, 99.5)) * 1.25) if finite.size else 0.4
        self.update()

    def set_length(self, frames: int, fps: float) -> None:
        if frames != self._frames:
            self._frames = frames
            self._view = (0.0, float(max(frames, 1)))
        self._fps = fps
        if not self._curves:
            self._message = "Analysing…" if frames else "Open a video to see its blink curve"
        self.update()

    def set_message(self, text: str) -> None:
        self._message = text
        self.update()

    def set_plan(self, plan: LoopPlan | None) -> None:
        self._plan = plan
        self.update()

    def set_playhead(self, frame: int) -> None:
        self._playhead = frame
        if self._frames:
            start, end = self._view
            if not start <= frame < end:  # keep the playhead visible when stepping with the keyboard
                width = end - start
                start = min(max(0.0, frame - width / 2), max(0.0, self._frames - width))
                self._view = (start, start + width)
        self.update()

    @property
    def view_range(self) -> tuple[float, float]:
        return self._view

    def set_view_range(self, start: float, end: float) -> None:
        total = float(max(self._frames, 1))
        width = min(max(end - start, min(MIN_VISIBLE_FRAMES, total)), total)
        start = min(max(0.0, start), total - width)
        self._view = (start, start + width)
        self.update()

    # --- geometry ---------------------------------------------------------------------------------------------
    def plot_rect(self) -> QRectF:
        return QRectF(SIDE, TOP, max(1, self.width() - 2 * SIDE), max(1, self.height() - TOP - BOTTOM))

    def frame_to_x(self, frame: float) -> float:
        rect = self.plot_rect()
        start, end = self._view
        return rect.left() + (frame + 0.5 - start) / (end - start) * rect.width()

    def x_to_frame(self, x: float) -> float:
        rect = self.plot_rect()
        start, end = self._view
        return start + (x - rect.left()) / rect.width() * (end - start) - 0.5

    def _y(self, value: float) -> float:
        rect = self.plot_rect()
        return rect.bottom() - min(value, self._y_max) / self._y_max * rect.height()

    def marker_frames(self) -> dict[str, int]:
        if self._plan is None:
            return {}
        return {"loop_point": self._plan.loop_point, "start": self._plan.first, "end": self._plan.last}

    def _hit(self, x: float) -> str | None:
        best, best_d = None, GRAB_PX + 1.0
        for name in HIT_ORDER:
            frame = self.marker_frames().get(name)
            if frame is None:
                continue
            edge = {"start": -0.5, "end": 0.5}.get(name, 0.0)  # edges sit on the region's border
            d = min(abs(self.frame_to_x(frame + edge) - x), abs(self.frame_to_x(frame) - x))
            if d < best_d:
                best, best_d = name, d
        return best

    def _snapped_frame(self, x: float, offset: float = 0.0) -> int:
        frame = self.x_to_frame(x) - offset
        candidates = [e.apex for e in self._events] if self.snap_to_apex else []
        px_per_frame = self.plot_rect().width() / max(1e-9, self._view[1] - self._view[0])
        frame = plan_edits.snap_frame(frame, candidates, SNAP_PX / px_per_frame)
        return max(0, min(frame, self._frames - 1))

    # --- mouse and wheel ---------------------------------------------------------------------------------------
    def mousePressEvent(self, event) -> None:  # noqa: N802 (Qt API)
        if not self._frames:
            return
        x = event.position().x()
        if event.button() == Qt.MouseButton.RightButton and self._drag in HIT_ORDER:
            self._cancel_drag()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            return
        hit = self._hit(x)
        if hit is not None:
            # Drag relative to where the marker was grabbed, so grabbing it off-centre does not jump it.
            self._drag, self._drag_start_plan = hit, self._plan
            self._grab_offset = self.x_to_frame(x) - self.marker_frames()[hit]
        else:
            self._drag = "playhead"
            self.playhead_requested.emit(self._snapped_frame(x))
        event.accept()

    def mouseMoveEvent(self, event) -> None:  # noqa: N802
        x = event.position().x()
        if self._drag is None:
            hit = self._hit(x) if self._frames else None
            self.setCursor(Qt.CursorShape.SizeHorCursor if hit else Qt.CursorShape.ArrowCursor)
            return
        if self._drag == "playhead":
            self.playhead_requested.emit(self._snapped_frame(x))
            return
        frame = self._snapped_frame(x, self._grab_offset)
        base = self._drag_start_plan
        edit = {"loop_point": plan_edits.move_loop_point, "start": plan_edits.move_window_start,
                "end": plan_edits.move_window_end}[self._drag]
        new = edit(base, frame) if base is not None else None
        if new is not None and new != self._plan:
            self.plan_dragged.emit(new)

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._drag is None:
            return
        drag, self._drag = self._drag, None
        if drag in HIT_ORDER:
            text = {"loop_point": "Move loop point", "start": "Move loop start", "end": "Move loop end"}[drag]
            self.plan_edit_requested.emit(self._drag_start_plan, self._plan, text)
            self._drag_start_plan = None

    def _cancel_drag(self) -> None:
        if self._drag in HIT_ORDER and self._drag_start_plan is not None:
            self.plan_dragged.emit(self._drag_start_plan)
        self._drag, self._drag_start_plan = None, None

    def keyPressEvent(self, event) -> None:  # noqa: N802
        if event.key() == Qt.Key.Key_Escape and self._drag is not None:
            self._cancel_drag()
            return
        super().keyPressEvent(event)

    def wheelEvent(self, event) -> None:  # noqa: N802
        if not self._frames:
            return
        delta = event.angleDelta()
        start, end = self._view
        width = end - start
        pan = delta.x() if delta.x() else (delta.y() if event.modifiers() & Qt.KeyboardModifier.ShiftModifier else 0)
        if pan:
            self.set_view_range(start - pan / 120 * width * 0.1, end - pan / 120 * width * 0.1)
        elif delta.y():
            factor = 0.8 ** (delta.y() / 120)
            anchor = self.x_to_frame(event.position().x()) + 0.5
            new_width = width * factor
            new_start = anchor - (anchor - start) * factor
            self.set_view_range(new_start, new_start + new_width)
        event.accept()

    def zoom_to_fit(self) -> None:
        self.set_view_range(0.0, float(self._frames))

    # --- painting -----------------------------------------------------------------------------------------------
    def paintEvent(self, _event) -> None:  # noqa: N802
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.fillRect(self.rect(), COLORS["background"])
        rect = self.plot_rect()
        p.fillRect(rect, COLORS["plot"])
        if not self._frames:
            self._draw_message(p, rect)
            p.end()
            return
        p.setClipRect(rect.adjusted(0, -TOP, 0, 0))
        self._draw_grid(p, rect)
        self._draw_plan_region(p, rect)
        self._draw_events(p, rect)
        self._draw_curves(p, rect)
        if not self._curves:
            self._draw_message(p, rect)
        self._draw_markers(p, rect)
        p.setClipping(False)
        self._draw_ruler(p, rect)
        self._draw_legend(p, rect)
        if self.hasFocus():
            p.setPen(QPen(COLORS["window"], 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    def _draw_message(self, p: QPainter, rect: QRectF) -> None:
        p.setPen(COLORS["text"])
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._message)

    def _draw_grid(self, p: QPainter, rect: QRectF) -> None:
        p.setPen(QPen(COLORS["grid"], 1, Qt.PenStyle.DotLine))
        step = 0.1 if self._y_max <= 0.6 else 0.2
        value = step
        while value < self._y_max:
            y = self._y(value)
            p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
            p.drawText(QPointF(rect.left() + 3, y - 2), f"{value:.1f}")
            value += step

    def _span(self, first: float, last: float, rect: QRectF) -> QRectF:
        x0, x1 = self.frame_to_x(first - 0.5), self.frame_to_x(last + 0.5)
        return QRectF(x0, rect.top(), x1 - x0, rect.height())

    def _draw_plan_region(self, p: QPainter, rect: QRectF) -> None:
        plan = self._plan
        if plan is None:
            return
        if plan.strategy in BLENDED:
            fade = QColor(COLORS["crossfade"])
            fade.setAlpha(45)
            k = plan.crossfade_frames
            p.fillRect(self._span(plan.first - k, plan.first - 1, rect), fade)
            p.fillRect(self._span(plan.last + 1, plan.last + k, rect), fade)
        fill = QColor(COLORS["window"])
        fill.setAlpha(50)
        p.fillRect(self._span(plan.first, plan.last, rect), fill)

    def _draw_events(self, p: QPainter, rect: QRectF) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        p.setFont(font)
        for event in self._events:
            color = QColor(COLORS["blink"])
            color.setAlpha(int(30 + 90 * max(0.0, min(1.0, event.confidence))))
            span = self._span(event.start, event.end, rect)
            p.fillRect(span, color)
            x = self.frame_to_x(event.apex)
            p.setPen(QPen(COLORS["blink"], 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            p.setPen(COLORS["blink"])
            kind = {"blink": "", "long_closure": "closure "}.get(event.kind, event.kind.replace("_", " ") + " ")
            label = f"{kind}{event.confidence:.2f}"
            p.drawText(QPointF(x + 3, rect.top() + 12), label)
        p.setFont(self.font())

    def _curve_polygons(self, values: np.ndarray, rect: QRectF) -> list[QPolygonF]:
        """Visible finite runs of a curve; min/max per pixel column when frames outnumber pixels."""
        start, end = self._view
        lo = max(0, int(math.floor(start)) - 1)
        hi = min(len(values), int(math.ceil(end)) + 1)
        frames = np.arange(lo, hi)
        vals = values[lo:hi]
        polys = []
        finite = np.isfinite(vals)
        if not finite.any():
            return polys
        # split into runs of finite values (NaN = no face: a gap in the line)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
        for run_start, run_end in zip(edges[::2], edges[1::2]):
            f = frames[run_start:run_end]
            v = vals[run_start:run_end]
            cols = int(rect.width())
            if len(f) > 2 * cols > 0:  # decimate: keep the min and max of each pixel column
                bins = np.linspace(0, len(f), cols + 1).astype(int)
                bins = np.unique(bins[:-1])
                mins, maxs = np.minimum.reduceat(v, bins), np.maximum.reduceat(v, bins)
                f = np.repeat(f[bins], 2)
                v = np.column_stack([mins, maxs]).ravel()
            xs = [self.frame_to_x(x) for x in f]
            polys.append(QPolygonF([QPointF(x, self._y(y)) for x, y in zip(xs, v)]))
        return polys

    def _draw_curves(self, p: QPainter, rect: QRectF) -> None:
        for name, width in (("right", 1.2), ("left", 1.2), ("mean", 2.0)):
            values = self._curves.get(name)
            if values is None:
                continue
            p.setPen(QPen(COLORS[name], width))
            for poly in self._curve_polygons(values, rect):
                p.drawPolyline(poly)

    def _draw_markers(self, p: QPainter, rect: QRectF) -> None:
        plan = self._plan
        if plan is not None:
            for frame, edge in ((plan.first, -0.5), (plan.last, 0.5)):
                x = self.frame_to_x(frame + edge)
                p.setPen(QPen(COLORS["window"], 2))
                p.drawLine(QPointF(x, rect.top() - 6), QPointF(x, rect.bottom()))
                p.fillRect(QRectF(x - 3, rect.top() - 12, 6, 12), COLORS["window"])
            x = self.frame_to_x(plan.loop_point)
            p.setPen(QPen(COLORS["loop_point"], 2))
            p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom()))
            tri = QPainterPath()
            tri.moveTo(x - 7, rect.top() - 14)
            tri.lineTo(x + 7, rect.top() - 14)
            tri.lineTo(x, rect.top())
            tri.closeSubpath()
            p.fillPath(tri, COLORS["loop_point"])
        x = self.frame_to_x(self._playhead)
        p.setPen(QPen(COLORS["playhead"], 1.5))
        p.drawLine(QPointF(x, rect.top()), QPointF(x, rect.bottom() + BOTTOM))

    def _draw_ruler(self, p: QPainter, rect: QRectF) -> None:
        p.setPen(COLORS["text"])
        fps = self._fps or 1.0
        start, end = self._view
        seconds = (end - start) / fps
        step = next((s for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60) if seconds / s <= 12), 120)
        t = math.ceil(start / fps / step) * step
        while t * fps <= end:
            x = self.frame_to_x(t * fps - 0.5)
            p.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 4))
            p.drawText(QPointF(x + 2, rect.bottom() + 15), f"{t:g} s")
            t = round(t + step, 6)

    def _draw_legend(self, p: QPainter, rect: QRectF) -> None:
        x = rect.left() + 4
        y = 13
        for name, label in (("right", "right eye"), ("left", "left eye"), ("mean", "mean EAR")):
            p.setPen(QPen(COLORS[name], 2))
            p.drawLine(QPointF(x, y - 4), QPointF(x + 14, y - 4))
            p.setPen(COLORS["text"])
            p.drawText(QPointF(x + 18, y), label)
            x += 26 + p.fontMetrics().horizontalAdvance(label)
        p.setPen(COLORS["playhead"])
        fps = self._fps or 1.0
        p.drawText(QPointF(x + 12, y), f"playhead: frame {self._playhead} · {self._playhead / fps:.2f} s")
        if self._plan is not None:
            p.setPen(COLORS["text"])
            text = f"loop: {self._plan.strategy} · {self._plan.output_frames} frames · {self._plan.duration:.2f} s"
            p.drawText(QRectF(rect.left(), 0, rect.width() - 4, 17),
                       Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, text)
