"""How the timeline is drawn: axes, ruler, bands, warnings and the legend (the widget keeps the state).

Text colours are chosen for contrast: tick labels and titles reach at least 4.5:1 against the plot
(WCAG AA, `contrast_ratio`). Frame numbers join the seconds on the ruler once a label every few frames fits.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPen

from . import plan_warnings

COLORS = {
    "background": QColor("#1d1f24"),
    "plot": QColor("#24272e"),
    "grid": QColor("#3c414d"),
    "text": QColor("#d5d8de"),
    "right": QColor("#5aa9ff"),
    "left": QColor("#ffa64d"),
    "mean": QColor("#f2f2f2"),
    "blink": QColor(255, 214, 10),
    "window": QColor(64, 160, 255),
    "fade": QColor(190, 140, 255),
    "warning": QColor("#ffb020"),  # amber: apart from the red playhead, which often sits on the same frame
    "loop_point": QColor("#3ddc84"),
    "playhead": QColor("#ff4d4d"),
}
LEGEND_ROW = 16  # px per legend row above the plot
HANDLES = 18  # px between the legend and the plot for the marker handles
RULER_ROW = 14  # px per ruler text row
FRAME_LABEL_PX = 34  # least spacing of frame-number labels on the ruler
SECOND_STEPS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120)
FRAME_STEPS = (1, 2, 5, 10)  # coarser than every 10 frames: not zoomed in, seconds say enough


def _luminance(color: QColor) -> float:
    def channel(v: float) -> float:
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(color.redF()) + 0.7152 * channel(color.greenF()) + 0.0722 * channel(color.blueF())


def contrast_ratio(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio of two colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


# --- the ruler -----------------------------------------------------------------------------------------------
def second_ticks(view: tuple[float, float], fps: float) -> list[tuple[float, str]]:
    """(frame position, label) of the seconds ticks in view: at most ~12."""
    fps = fps or 1.0
    start, end = view
    seconds = (end - start) / fps
    step = next((s for s in SECOND_STEPS if seconds / s <= 12), 300)
    ticks, t = [], math.ceil(start / fps / step) * step
    while t * fps <= end:
        ticks.append((t * fps, f"{t:g} s"))
        t = round(t + step, 6)
    return ticks


def frame_ticks(view: tuple[float, float], plot_width: float) -> list[tuple[int, str]]:
    """Frame-number ticks, only when zoomed in far enough that one every ≤ 10 frames fits; else []."""
    start, end = view
    px_per_frame = plot_width / max(1e-9, end - start)
    step = next((s for s in FRAME_STEPS if s * px_per_frame >= FRAME_LABEL_PX), None)
    if step is None or end - start > 400:
        return []
    first = int(math.ceil(max(0.0, start) / step) * step)
    return [(f, str(f)) for f in range(first, int(end) + 1, step)]


def draw_ruler(p: QPainter, tl, rect: QRectF) -> None:
    p.setPen(COLORS["text"])
    metrics = p.fontMetrics()
    for frame, label in second_ticks(tl.view_range, tl.fps):
        x = tl.frame_to_x(frame - 0.5)
        p.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 5))
        if x + 2 + metrics.horizontalAdvance(label) <= tl.width():  # a label cut at the right edge ("7") misreads
            p.drawText(QPointF(x + 2, rect.bottom() + RULER_ROW), label)
    ticks = frame_ticks(tl.view_range, rect.width())
    if ticks:
        p.setPen(QPen(COLORS["text"], 1))
        for frame, label in ticks:
            x = tl.frame_to_x(frame)
            p.drawLine(QPointF(x, rect.bottom()), QPointF(x, rect.bottom() + 2))
            p.drawText(QRectF(x - 20, rect.bottom() + RULER_ROW + 1, 40, RULER_ROW),
                       Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, label)


# --- the EAR axis --------------------------------------------------------------------------------------------
def ear_ticks(y_max: float) -> list[float]:
    step = 0.1 if y_max <= 0.6 else 0.2
    return [round(step * i, 3) for i in range(1, int(y_max / step) + 1) if step * i < y_max]


def draw_grid(p: QPainter, tl, rect: QRectF) -> None:
    for value in ear_ticks(tl.y_max):
        y = tl.value_to_y(value)
        p.setPen(QPen(COLORS["grid"], 1, Qt.PenStyle.DotLine))
        p.drawLine(QPointF(rect.left(), y), QPointF(rect.right(), y))
        p.setPen(COLORS["text"])  # labels in text colour: grid grey on the plot is unreadable (1.5:1)
        p.drawText(QPointF(rect.left() + 3, y - 2), f"{value:.1f}")


def draw_axis_title(p: QPainter, rect: QRectF) -> None:
    """"EAR" written up the left margin, beside the tick labels."""
    p.save()
    p.setPen(COLORS["text"])
    p.translate(rect.left() - 4, rect.center().y())
    p.rotate(-90)
    p.drawText(QRectF(-60, -14, 120, 14), Qt.AlignmentFlag.AlignCenter, "EAR (eye openness)")
    p.restore()


# --- bands and warnings -------------------------------------------------------------------------------------
def draw_plan_region(p: QPainter, tl, rect: QRectF, plan) -> None:
    if plan is None:
        return
    fill = QColor(COLORS["window"])
    fill.setAlpha(50)
    p.fillRect(tl.span_rect(plan.first, plan.last, rect), fill)
    fade = QColor(COLORS["fade"])
    fade.setAlpha(80)
    for lo, hi in plan_warnings.fade_spans(plan):
        band = tl.span_rect(lo, hi, rect)
        p.fillRect(band, fade)
        p.fillRect(QRectF(band.left(), rect.bottom() - 4, band.width(), 4), COLORS["fade"])


def draw_warnings(p: QPainter, tl, rect: QRectF, warnings) -> None:
    """An amber "!" flag at the bottom of the plot for each warning (a blink or motion inside a fade)."""
    p.setPen(QPen(COLORS["warning"], 1.5))
    bold = QFont(p.font())
    bold.setBold(True)
    p.setFont(bold)
    for warning in warnings:
        x = tl.frame_to_x(warning.frame)
        p.drawLine(QPointF(x, rect.bottom() - 22), QPointF(x, rect.bottom()))
        box = QRectF(x - 7, rect.bottom() - 38, 14, 14)
        p.setBrush(COLORS["warning"])
        p.drawEllipse(box)
        p.setPen(QColor("#ffffff"))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, "!")
        p.setPen(QPen(COLORS["warning"], 1.5))
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.setFont(tl.font())


# --- the legend -----------------------------------------------------------------------------------------------
def legend_items(tl) -> list[tuple[str, str, str]]:
    """(kind, colour key, label) in reading order: curves, bands, then the playhead and plan texts."""
    plan = tl.plan
    items = [("line", "right", "right eye"), ("line", "left", "left eye"), ("line", "mean", "mean EAR"),
             ("band", "blink", "blink"), ("band", "window", "loop"),
             ("line", "loop_point", "loop point")]
    if plan_warnings.fade_spans(plan):
        items.append(("band", "fade", f"{plan_warnings.fade_name(plan)} ({plan.crossfade_frames} f)"))
    if tl.warnings:
        items.append(("flag", "warning", "warning (hover)"))
    fps = tl.fps or 1.0
    items.append(("text", "playhead", f"playhead {tl.playhead:>4} · {tl.playhead / fps:5.2f} s"))
    if plan is not None:
        items.append(("text", "text", f"{plan.strategy} · {plan.output_frames} frames · {plan.duration:.2f} s"))
    return items


def legend_layout(tl, width: float, metrics) -> list[tuple[float, int, tuple[str, str, str]]]:
    """Items flowed into rows that fit `width`: (x, row, item). The swatches wrap onto as many rows as they
    need; the playhead and plan texts only fill room left on those rows (the caption and the Export panel
    say the same), so a narrow window keeps its plot."""
    placed, x, row = [], 4.0, 0
    for item in legend_items(tl):
        w = metrics.horizontalAdvance(item[2]) + (4 if item[0] == "text" else 22) + 12
        if x + w > width and x > 4:
            if item[0] == "text":
                continue
            x, row = 4.0, row + 1
        placed.append((x, row, item))
        x += w
    return placed


def legend_rows(tl, width: float, metrics) -> int:
    placed = legend_layout(tl, width, metrics)
    return 1 + max((row for _x, row, _i in placed), default=0)


def draw_legend(p: QPainter, tl, left: float, width: float) -> None:
    metrics = p.fontMetrics()
    for x, row, (kind, key, label) in legend_layout(tl, width, metrics):
        x += left
        y = 12 + row * LEGEND_ROW
        color = COLORS[key]
        if kind == "line":
            p.setPen(QPen(color, 2))
            p.drawLine(QPointF(x, y - 4), QPointF(x + 16, y - 4))
        elif kind == "band":
            swatch = QColor(color)
            swatch.setAlpha(150)
            p.fillRect(QRectF(x, y - 9, 16, 10), swatch)
        elif kind == "flag":
            p.setBrush(color)
            p.setPen(Qt.PenStyle.NoPen)
            p.drawEllipse(QRectF(x + 3, y - 10, 11, 11))
            p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(color if kind == "text" else COLORS["text"])
        p.drawText(QPointF(x + (0 if kind == "text" else 20), y), label)
