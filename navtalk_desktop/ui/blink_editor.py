"""Manual blink correction on the EAR timeline: select a band, drag its handles, add, delete, set its kind.

The timeline draws the (corrected) blink bands; this helper lies over it as a transparent overlay that
paints what only editing needs (eye marks, "never loop" hatching, the selected band's handles) and watches
the timeline's mouse and context-menu events through an event filter, so the timeline itself stays a
plain view. Every change goes to the document as one named undo step (core/blink_edits.py does the math).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QBrush, QColor, QPainter, QPen
from PySide6.QtWidgets import QMenu, QWidget

from ..core import blink_edits as be
from . import plan_edits
from .timeline import COLORS, SNAP_PX

HANDLE_STRIP = 16  # px at the bottom of the plot where the selected blink's handles sit
HANDLE_GRAB = 6
KIND_CHOICES = (("Blink", "blink", "both"), ("Long closure", "long_closure", "both"),
                ("Half blink", "half_blink", "both"), ("One eye: left", "one_eye", "left"),
                ("One eye: right", "one_eye", "right"))
EXCLUDED = QColor(255, 77, 77)
SELECTED = QColor("#ffffff")
LABEL_BACK = QColor(18, 18, 22, 215)  # behind a mark's words: they sit on hatching and on the blink band


def _label(p: QPainter, at: QPointF, text: str, color) -> None:
    """`text` with its baseline at `at`, in `color` on a dark chip, legible over any band or hatching."""
    box = QRectF(p.fontMetrics().boundingRect(text)).translated(at).adjusted(-2, -1, 2, 1)
    p.fillRect(box, LABEL_BACK)
    p.setPen(QColor(color))
    p.drawText(at, text)


class _Overlay(QWidget):
    def __init__(self, editor: "BlinkEditor", parent: QWidget) -> None:
        super().__init__(parent)
        self._editor = editor
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)

    def paintEvent(self, _event) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        self._editor.paint(p)
        p.end()


class BlinkEditor(QObject):
    selection_changed = Signal(str)  # key of the selected blink ("" for none)

    def __init__(self, timeline, document, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timeline, self.doc = timeline, document
        self.selected = ""
        self.active_handle = "start"  # the edge Alt+←/→ nudges; Enter on a selected blink cycles it
        self.menu: QMenu | None = None
        self._drag: tuple[str, be.BlinkEvent, be.BlinkEdits, float] | None = None
        self.overlay = _Overlay(self, timeline)
        self.overlay.setGeometry(timeline.rect())
        self.overlay.show()
        timeline.installEventFilter(self)
        document.blinks_changed.connect(lambda _a: self.overlay.update())
        document.analysis_changed.connect(lambda _a: self.select(""))

    # --- state ----------------------------------------------------------------------------------------------
    @property
    def events(self) -> list[be.BlinkEvent]:
        return list(self.doc.analysis.events) if self.doc.analysis is not None else []

    def selected_event(self) -> be.BlinkEvent | None:
        return next((e for e in self.events if e.key == self.selected), None)

    def select(self, key: str) -> None:
        if key != self.selected:
            self.selected = key
            self.active_handle = "start"
            self.selection_changed.emit(key)
        self.overlay.update()

    def _event_at(self, frame: float) -> be.BlinkEvent | None:
        inside = [e for e in self.events if e.start - 0.5 <= frame <= e.end + 0.5]
        return min(inside, key=lambda e: abs(e.apex - frame)) if inside else None

    def _edit(self, edits: be.BlinkEdits, text: str, select_fields: dict | None = None) -> bool:
        changed = self.doc.edit_blinks(edits, text)
        if changed and select_fields is not None:
            match = next((e for e in self.events if (e.start, e.apex, e.end) ==
                          (select_fields["start"], select_fields["apex"], select_fields["end"])), None)
            self.select(match.key if match else "")
        return changed

    # --- commands (menu, keys, tests) ---------------------------------------------------------------------------
    def select_at_playhead(self) -> bool:
        """Enter: select the blink under the playhead (else the nearest); again: next handle."""
        events = self.events
        if not events:
            return False
        playhead = self.doc.playhead
        current = self.selected_event()
        if current is not None and current.start <= playhead <= current.end:
            order = ("start", "apex", "end")
            self.active_handle = order[(order.index(self.active_handle) + 1) % 3]
            self.overlay.update()
            return True
        target = self._event_at(playhead) or min(events, key=lambda e: abs(e.apex - playhead))
        self.select(target.key)
        return True

    def delete_selected(self) -> bool:
        event = self.selected_event()
        if event is None or self.doc.analysis is None:
            return False
        self.select("")
        return self._edit(be.delete(self.doc.blink_edits, event), f"Delete blink at frame {event.apex}")

    def add_at(self, frame: int) -> bool:
        """A blink near `frame`: apex at the openness minimum there, edges from the curve."""
        a = self.doc.analysis
        if a is None:
            return False
        if any(e.start <= frame <= e.end for e in self.events):
            self.select(self._event_at(frame).key)
            return False  # one blink per closure: select the one already there
        o_right, o_left = self._eye_openness()
        values = be.event_at(frame, a.openness, o_right, o_left, a.fps)
        return self._edit(be.add(self.doc.blink_edits, values), f"Add blink at frame {values['apex']}", values)

    def add_at_playhead(self) -> bool:
        return self.add_at(self.doc.playhead)

    def set_kind(self, kind: str, eye: str) -> bool:
        event = self.selected_event()
        if event is None:
            return False
        label = next(text for text, k, e in KIND_CHOICES if (k, e) == (kind, eye if kind == "one_eye" else "both"))
        return self._edit(be.update(self.doc.blink_edits, event, kind=kind, eye=eye),
                          f"Mark blink at frame {event.apex} as {label.lower()}", _span(event))

    def set_exclude(self, on: bool) -> bool:
        event = self.selected_event()
        if event is None:
            return False
        text = ("Never loop through blink at frame " if on else "Allow looping through blink at frame ")
        return self._edit(be.update(self.doc.blink_edits, event, exclude=on), text + str(event.apex), _span(event))

    def nudge(self, delta: int) -> bool:
        """Alt+←/→: move the active handle of the selected blink by one frame."""
        event = self.selected_event()
        if event is None or self.doc.analysis is None:
            return False
        frame = getattr(event, self.active_handle) + delta
        return self._move(event, self.doc.blink_edits, self.active_handle, frame)

    def _move(self, event: be.BlinkEvent, base: be.BlinkEdits, handle: str, frame: int) -> bool:
        a = self.doc.analysis
        values = be.move_handle(event, handle, frame, a.openness, a.frame_count)
        new = be.update(base, event, **values)
        return self._edit(new, f"Move blink {handle} to {values[handle]}", values)

    def _eye_openness(self):
        from ..core.blinks import openness  # numpy only

        a = self.doc.analysis
        return openness(a.ear_right, a.fps), openness(a.ear_left, a.fps)

    # --- snapping ------------------------------------------------------------------------------------------------
    def _snap(self, handle: str, frame: float, event: be.BlinkEvent) -> int:
        a = self.doc.analysis
        tl = self.timeline
        if not tl.snap_to_apex:
            return int(round(frame))
        if handle == "apex":
            targets = [m for m in be.local_minima(a.ear_mean) if event.start <= m <= event.end]
        else:
            targets = list(be.curve_edges(a.openness, event.apex, a.fps))
        start, end = tl.view_range
        px_per_frame = tl.plot_rect().width() / max(1e-9, end - start)
        return plan_edits.snap_frame(frame, targets, SNAP_PX / px_per_frame)

    # --- events of the timeline ------------------------------------------------------------------------------------
    def _handle_x(self, event: be.BlinkEvent, handle: str) -> float:
        edge = {"start": -0.5, "end": 0.5}.get(handle, 0.0)
        return self.timeline.frame_to_x(getattr(event, handle) + edge)

    def _hit_handle(self, pos: QPointF) -> str | None:
        event = self.selected_event()
        rect = self.timeline.plot_rect()
        if event is None or not rect.bottom() - HANDLE_STRIP - 2 <= pos.y() <= rect.bottom() + 2:
            return None
        best = min(("apex", "start", "end"), key=lambda h: abs(self._handle_x(event, h) - pos.x()))
        return best if abs(self._handle_x(event, best) - pos.x()) <= HANDLE_GRAB else None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 (Qt API)
        kind = event.type()
        if kind == QEvent.Type.Resize:
            self.overlay.setGeometry(self.timeline.rect())
        elif kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            return self._press(event)
        elif kind == QEvent.Type.MouseMove and self._drag is not None:
            self._drag_to(event.position().x())
            return True
        elif kind == QEvent.Type.MouseButtonRelease and self._drag is not None:
            self._release(event.position().x())
            return True
        elif kind == QEvent.Type.MouseButtonPress and self._drag is not None:
            self._cancel_drag()  # another button during a drag cancels it
            return True
        elif kind == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Escape and self._drag is not None:
            self._cancel_drag()
            return True
        elif kind == QEvent.Type.ContextMenu and self.doc.analysis is not None:
            self.show_menu(event.pos(), event.globalPos())
            return True
        return False

    def _press(self, event) -> bool:
        if self.doc.analysis is None:
            return False
        pos = event.position()
        handle = self._hit_handle(pos)
        if handle is not None:
            blink = self.selected_event()
            offset = self.timeline.x_to_frame(pos.x()) - (getattr(blink, handle) +
                                                          {"start": -0.5, "end": 0.5}.get(handle, 0.0))
            self._drag = (handle, blink, self.doc.blink_edits, offset)
            self.active_handle = handle
            return True
        hit = self._event_at(self.timeline.x_to_frame(pos.x()))
        self.select(hit.key if hit else "")
        return False  # the timeline still scrubs or grabs its loop markers

    def _drag_frame(self, x: float) -> int:
        handle, blink, _base, offset = self._drag
        frame = self.timeline.x_to_frame(x) - offset + {"start": 0.5, "end": -0.5}.get(handle, 0.0)
        return self._snap(handle, frame, blink)

    def _drag_to(self, x: float) -> None:
        handle, blink, base, _ = self._drag
        a = self.doc.analysis
        values = be.move_handle(blink, handle, self._drag_frame(x), a.openness, a.frame_count)
        self.doc.set_blink_edits(be.update(base, blink, **values), store=False)  # live, not yet a step

    def _release(self, x: float) -> None:
        handle, blink, base, _ = self._drag
        frame = self._drag_frame(x)
        self._drag = None
        self.doc.set_blink_edits(base, store=False)
        self._move(blink, base, handle, frame)
        self.overlay.update()

    def _cancel_drag(self) -> None:
        if self._drag is not None:
            self.doc.set_blink_edits(self._drag[2], store=False)
        self._drag = None

    # --- context menu ------------------------------------------------------------------------------------------------
    def show_menu(self, pos, global_pos) -> QMenu:
        """Right click: kind, "never loop through this", delete for the blink there; add at the playhead."""
        hit = self._event_at(self.timeline.x_to_frame(pos.x()))
        if hit is not None:
            self.select(hit.key)
        menu = QMenu(self.timeline)
        event = self.selected_event() if hit is not None else None
        if event is not None:
            title = menu.addAction(f"{event.kind.replace('_', ' ').capitalize()} at frame {event.apex} "
                                   f"({event.origin})")
            title.setEnabled(False)
            group = QActionGroup(menu)
            for text, kind, eye in KIND_CHOICES:
                action = QAction(text, menu, checkable=True)
                action.setChecked(event.kind == kind and (kind != "one_eye" or event.eye == eye))
                action.triggered.connect(lambda _c=False, k=kind, e=eye: self.set_kind(k, e))
                group.addAction(action)
                menu.addAction(action)
            menu.addSeparator()
            never = QAction("Never loop through this", menu, checkable=True)
            never.setChecked(event.exclude)
            never.toggled.connect(self.set_exclude)
            menu.addAction(never)
            menu.addAction("Delete blink", self.delete_selected)
            menu.addSeparator()
        menu.addAction(f"Add blink at playhead (frame {self.doc.playhead})", self.add_at_playhead)
        reset = menu.addAction("Reset blinks to detected", self.doc.reset_blinks)
        reset.setEnabled(bool(self.doc.blink_edits.count))
        self.menu = menu
        menu.popup(global_pos)
        return menu

    # --- painting -----------------------------------------------------------------------------------------------------
    def paint(self, p: QPainter) -> None:
        tl = self.timeline
        if self.doc.analysis is None or not tl.view_range[1] > tl.view_range[0]:
            return
        rect = tl.plot_rect()
        p.setClipRect(rect)
        for event in self.events:
            self._paint_marks(p, rect, event)
        event = self.selected_event()
        if event is not None:
            self._paint_selection(p, rect, event)

    def _span_rect(self, rect: QRectF, event: be.BlinkEvent) -> QRectF:
        x0 = self.timeline.frame_to_x(event.start - 0.5)
        x1 = self.timeline.frame_to_x(event.end + 0.5)
        return QRectF(x0, rect.top(), x1 - x0, rect.height())

    def _paint_marks(self, p: QPainter, rect: QRectF, event: be.BlinkEvent) -> None:
        span = self._span_rect(rect, event)
        if not event.both_eyes:  # one eye: hatched in that eye's colour, and said in words
            color = QColor(COLORS[event.eye])
            color.setAlpha(200)
            p.fillRect(span, QBrush(color, Qt.BrushStyle.BDiagPattern))
            p.setPen(QPen(COLORS[event.eye], 2))
            p.drawLine(QPointF(span.left(), rect.top() + 1), QPointF(span.right(), rect.top() + 1))
            _label(p, QPointF(span.left() + 2, rect.top() + 38), f"{event.eye} eye only", COLORS[event.eye])
        if event.exclude:
            p.fillRect(span, QBrush(EXCLUDED, Qt.BrushStyle.DiagCrossPattern))
            _label(p, QPointF(span.left() + 2, rect.top() + 52), "no loop", EXCLUDED)
        # which eye closed: two dots under the band's top, filled for a closed eye
        x = self.timeline.frame_to_x(event.apex)
        for k, eye in enumerate(("right", "left")):
            closed = event.both_eyes or event.eye == eye
            p.setPen(QPen(COLORS[eye], 1.2))
            p.setBrush(COLORS[eye] if closed else Qt.BrushStyle.NoBrush)
            p.drawEllipse(QPointF(x - 4 + 8 * k, rect.top() + 22), 3, 3)
        if event.origin != "detected":
            p.setPen(SELECTED)
            p.drawText(QPointF(span.left() + 2, rect.bottom() - HANDLE_STRIP - 4), event.origin)
        p.setBrush(Qt.BrushStyle.NoBrush)

    def _paint_selection(self, p: QPainter, rect: QRectF, event: be.BlinkEvent) -> None:
        span = self._span_rect(rect, event)
        p.setPen(QPen(SELECTED, 1.5, Qt.PenStyle.DashLine))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(span.adjusted(0, 1, 0, -1))
        y = rect.bottom() - HANDLE_STRIP / 2
        for handle in ("start", "apex", "end"):
            x = self._handle_x(event, handle)
            active = handle == self.active_handle
            p.setPen(QPen(QColor("#000000"), 1))
            p.setBrush(COLORS["blink"] if active else SELECTED)
            size = 6 if active else 5
            if handle == "apex":
                p.drawPolygon([QPointF(x, y - size - 1), QPointF(x + size + 1, y), QPointF(x, y + size + 1),
                               QPointF(x - size - 1, y)])
            else:
                p.drawRect(QRectF(x - size / 2 - 1, y - size, size + 2, 2 * size))
        p.setBrush(Qt.BrushStyle.NoBrush)


def _span(event: be.BlinkEvent) -> dict:
    return {"start": event.start, "apex": event.apex, "end": event.end}
