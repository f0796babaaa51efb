"""The seam report's range warnings on the timeline: an amber strip over the source frames a warning covers.

A ghost (the face moves inside the fade) or a blink inside the fade covers a span of frames, not one frame:
the "!" flag (timeline_paint.draw_warnings) says where to hover, this strip says how far it reaches. Kept
apart from timeline_paint so the plot's own painting stays as it is; a few rectangles, no paths.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QPainter

STRIP = 4  # px, just above the fade strip (timeline_paint.draw_plan_region draws that in the bottom 4 px)
COLOR = QColor(255, 176, 32, 200)  # the warning flags' amber (timeline_paint.COLORS["warning"])


def spans(warnings) -> list[tuple[int, int]]:
    """The distinct source-frame spans of the warnings that cover a range."""
    return sorted({w.span for w in warnings if getattr(w, "span", None)})


def draw_warning_spans(p: QPainter, tl, rect: QRectF, warnings) -> None:
    for lo, hi in spans(warnings):
        band = tl.span_rect(lo, hi, rect)
        p.fillRect(QRectF(band.left(), rect.bottom() - 4 - STRIP, band.width(), STRIP), COLOR)
