"""The EAR timeline: curves of both eyes and their mean, blink events, loop window, loop point, playhead.

A plain QPainter widget (faster and simpler than a plot library here). It follows the document (`observe`)
and reports what the user does: `playhead_requested` while scrubbing,
`plan_dragged` for the live plan during a drag and `plan_edit_requested` once the drag is released (one
undo step per drag). The wheel zooms around the cursor; Shift+wheel (or a horizontal wheel) pans.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QLineF, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from ..core.loop_plan import LoopPlan
from . import curve_geometry, plan_edits, timeline_marks
from . import timeline_paint as paint
from .timeline_paint import COLORS

BOTTOM = 2 * paint.RULER_ROW + 4  # px below the plot: seconds, then frame numbers when zoomed
LEFT = 20  # px left of the plot: the EAR axis title
SIDE = 8
GRAB_PX = 6  # how close the pointer must be to grab a marker
SNAP_PX = 8  # how close a drag must come to a blink apex to snap to it
MIN_VISIBLE_FRAMES = 10
CURVE_PIECE = 16  # segments per stroked polyline piece (see _draw_curves)
DENSE_FRAMES_PER_PX = 2.0  # more frames than this per pixel: min/max columns, drawn aliased in 1 px passes

HIT_ORDER = ("loop_point", "start", "end")
PORTRAIT_MESSAGE = "A portrait: generate a clip from it (Generate panel), or open a video to loop"


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
        self.lock_length = True  # an edge drag keeps the loop's duration (the other edge follows)
        self.warnings: list = []  # plan_warnings.PlanWarning, flagged on the plot
        self._top_cache: tuple | None = None
        self._curve_cache: tuple | None = None
        self._curves_version = 0  # bumped with every new analysis (invalidates the curve cache)

    # --- the document ---------------------------------------------------------------------------------------
    def observe(self, document) -> None:
        """Show `document` from now on: its source, length, blinks, plan and playhead, as each changes.

        What no document holds (the plan's warnings, a failed analysis) is still set from outside.
        """
        document.source_changed.connect(lambda: self._source_changed(document))
        document.video_info_changed.connect(lambda info: info is not None and self.set_length(
            int(info.frame_count), float(info.fps)))
        document.analysis_changed.connect(lambda result: result is not None and self.set_analysis(result))
        document.blinks_changed.connect(self.set_analysis)
        document.plan_changed.connect(self.set_plan)
        document.playhead_changed.connect(self.set_playhead)

    def _source_changed(self, document) -> None:
        self.set_length(0, 0.0)
        self.set_analysis(None)
        if document.source_kind == "image":
            self.set_message(PORTRAIT_MESSAGE)

    # --- data ---------------------------------------------------------------------------------------------
    def set_analysis(self, result) -> None:
        self._curves_version += 1
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

    def set_warnings(self, warnings) -> None:
        self.warnings = list(warnings)
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

    @property
    def plan(self) -> LoopPlan | None:
        return self._plan

    @property
    def playhead(self) -> int:
        return self._playhead

    @property
    def fps(self) -> float:
        return self._fps

    @property
    def y_max(self) -> float:
        return self._y_max

    def set_view_range(self, start: float, end: float) -> None:
        total = float(max(self._frames, 1))
        width = min(max(end - start, min(MIN_VISIBLE_FRAMES, total)), total)
        start = min(max(0.0, start), total - width)
        self._view = (start, start + width)
        self.update()

    # --- geometry ---------------------------------------------------------------------------------------------
    def top_margin(self) -> int:
        """Legend rows (they wrap on a narrow window) plus room for the marker handles (cached: every
        frame_to_x needs it)."""
        key = (self.width(), self._plan, len(self.warnings), self._fps)
        if self._top_cache is None or self._top_cache[0] != key:
            rows = paint.legend_rows(self, self.width() - LEFT - SIDE, self.fontMetrics())
            self._top_cache = (key, rows * paint.LEGEND_ROW + paint.HANDLES)
        return self._top_cache[1]

    def plot_rect(self) -> QRectF:
        top = self.top_margin()
        return QRectF(LEFT, top, max(1, self.width() - LEFT - SIDE), max(1, self.height() - top - BOTTOM))

    def frame_to_x(self, frame: float) -> float:
        rect = self.plot_rect()
        start, end = self._view
        return rect.left() + (frame + 0.5 - start) / (end - start) * rect.width()

    def x_to_frame(self, x: float) -> float:
        rect = self.plot_rect()
        start, end = self._view
        return start + (x - rect.left()) / rect.width() * (end - start) - 0.5

    def value_to_y(self, value: float) -> float:
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
            self._warning_tooltip(event)
            return
        if self._drag == "playhead":
            self.playhead_requested.emit(self._snapped_frame(x))
            return
        frame = self._snapped_frame(x, self._grab_offset)
        base = self._drag_start_plan
        if base is None:
            return
        if self._drag == "loop_point":
            new = plan_edits.move_loop_point(base, frame)
        elif self._drag == "start":
            new = plan_edits.move_window_start(base, frame, self.lock_length)
        else:
            new = plan_edits.move_window_end(base, frame, self.lock_length)
        if new is not None and new != self._plan:
            self.plan_dragged.emit(new)
        if new is not None:  # the frame view shows the frame under the dragged handle
            self.playhead_requested.emit(self.marker_frames()[self._drag])

    def mouseReleaseEvent(self, event) -> None:  # noqa: N802
        if event.button() != Qt.MouseButton.LeftButton or self._drag is None:
            return
        drag, self._drag = self._drag, None
        if drag in HIT_ORDER:
            text = plan_edits.edit_text(drag, self._plan) if self._plan is not None else ""
            self.plan_edit_requested.emit(self._drag_start_plan, self._plan, text)
            self._drag_start_plan = None

    def warning_at(self, x: float):
        return next((w for w in self.warnings if abs(self.frame_to_x(w.frame) - x) <= GRAB_PX), None)

    def _warning_tooltip(self, event) -> None:
        warning = self.warning_at(event.position().x()) if self.warnings else None
        if warning is not None:
            QToolTip.showText(event.globalPosition().toPoint(), warning.message, self)

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
        p.setClipRect(rect.adjusted(0, -paint.HANDLES, 0, 0))
        paint.draw_plan_region(p, self, rect, self._plan)
        paint.draw_grid(p, self, rect)
        self._draw_events(p, rect)
        self._draw_curves(p, rect)
        if not self._curves:
            self._draw_message(p, rect)
        timeline_marks.draw_warning_spans(p, self, rect, self.warnings)
        paint.draw_warnings(p, self, rect, self.warnings)
        self._draw_markers(p, rect)
        p.setClipping(False)
        paint.draw_ruler(p, self, rect)
        paint.draw_axis_title(p, rect)
        paint.draw_legend(p, self, rect.left(), rect.width())
        if self.hasFocus():
            p.setPen(QPen(COLORS["window"], 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(self.rect().adjusted(0, 0, -1, -1))
        p.end()

    def _draw_message(self, p: QPainter, rect: QRectF) -> None:
        p.setPen(COLORS["text"])
        p.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._message)

    def span_rect(self, first: float, last: float, rect: QRectF) -> QRectF:
        x0, x1 = self.frame_to_x(first - 0.5), self.frame_to_x(last + 0.5)
        return QRectF(x0, rect.top(), x1 - x0, rect.height())

    def _draw_events(self, p: QPainter, rect: QRectF) -> None:
        """Blink bands batched by shade (one fill per confidence level, one call for all apex lines):
        a 10-minute clip has ~150 blinks and one call each was a large part of its paint."""
        font = QFont(self.font())
        font.setPointSizeF(max(6.5, font.pointSizeF() * 0.8))
        p.setFont(font)
        start, end = self._view
        left, top, height = rect.left(), rect.top(), rect.height()
        scale = rect.width() / (end - start)  # frame_to_x without a plot_rect() per call
        shades: dict[int, list[QRectF]] = {}
        apexes: list[QLineF] = []
        labels: list[tuple[float, str]] = []
        for event in self._events:
            if event.end + 0.5 < start or event.start - 0.5 > end:
                continue  # out of view
            alpha = int(30 + 90 * max(0.0, min(1.0, event.confidence)))
            x0 = left + (event.start - start) * scale
            shades.setdefault(alpha, []).append(QRectF(x0, top, (event.end + 1 - event.start) * scale, height))
            x = left + (event.apex + 0.5 - start) * scale
            apexes.append(QLineF(x, rect.top(), x, rect.bottom()))
            kind = {"blink": "", "long_closure": "closure "}.get(event.kind, event.kind.replace("_", " ") + " ")
            labels.append((x, f"{kind}{event.confidence:.2f}"))
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)  # axis-aligned bands: smoothing shows nothing
        p.setPen(Qt.PenStyle.NoPen)
        for alpha, spans in shades.items():
            color = QColor(COLORS["blink"])
            color.setAlpha(alpha)
            p.setBrush(color)
            p.drawRects(spans)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(COLORS["blink"], 1, Qt.PenStyle.DashLine))
        p.drawLines(apexes)
        p.restore()
        p.setPen(COLORS["blink"])
        metrics = p.fontMetrics()
        free_from = -math.inf  # a label that would overlap the previous one is left out (unreadable anyway)
        for x, label in sorted(labels):
            if x + 3 < free_from:
                continue
            p.drawText(QPointF(x + 3, rect.top() + 12), label)
            free_from = x + 3 + metrics.horizontalAdvance(label) + 2
        p.setFont(self.font())

    def _curve_points(self, values: np.ndarray, rect: QRectF) -> list[tuple[np.ndarray, np.ndarray]]:
        """Visible finite runs of a curve as (xs, ys) in widget pixels (decimated where frames are dense)."""
        start, end = self._view
        polys = []
        for f, v in curve_geometry.visible_runs(values, start, end, rect.width()):
            xs = rect.left() + (f + 0.5 - start) / (end - start) * rect.width()
            ys = rect.bottom() - np.minimum(v, self._y_max) / self._y_max * rect.height()  # value_to_y
            polys.append((xs, ys))
        return polys

    def _draw_curves(self, p: QPainter, rect: QRectF) -> None:
        """The eye curves use 1 px pens (the line rasteriser, ~0.5 ms for 3 000 points) and only the mean is
        stroked 2 px wide, in CURVE_PIECE-segment pieces: Qt strokes a wide pen by building one outline path
        per polyline and filling it, which grows much faster than the point count (one 3 000-point polyline
        ~100 ms, the same in pieces ~2.5 ms; bench/bench_timeline_paint.py). Beyond DENSE_FRAMES_PER_PX the
        curve is min/max columns: aliased, and the mean is three 1 px passes a pixel apart (2 px across
        and tall), which at that density looks the same as a stroke."""
        # The polygons only change with the view: playback repaints the playhead 30 times a second.
        key = (self._view, rect.getRect(), self._y_max, self._curves_version)
        dense = self._view[1] - self._view[0] > DENSE_FRAMES_PER_PX * rect.width()
        if self._curve_cache is None or self._curve_cache[0] != key:
            polygons = {}
            for name, values in self._curves.items():
                wide = name == "mean" and not dense  # stroked 2 px wide: in pieces
                polygons[name] = [poly for xs, ys in self._curve_points(values, rect)
                                  for poly in (curve_geometry.pieces(xs, ys, CURVE_PIECE) if wide
                                               else [curve_geometry.polygon(xs, ys)])]
            self._curve_cache = (key, polygons)
        polygons = self._curve_cache[1]
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, not dense)
        for name in ("right", "left"):
            p.setPen(QPen(COLORS[name], 1.0))
            for poly in polygons.get(name, []):
                p.drawPolyline(poly)
        # dense: 1 px passes at (0, 0), (1, 0) and (0, 1) make a line 2 px wide across and 2 px tall
        passes = ((0.0, 0.0), (1.0, 0.0), (-1.0, 1.0)) if dense else ((0.0, 0.0),)
        p.setPen(QPen(COLORS["mean"], 1.0 if dense else 2.0))
        for dx, dy in passes:
            p.translate(dx, dy)
            for poly in polygons.get("mean", []):
                p.drawPolyline(poly)
        p.restore()

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
