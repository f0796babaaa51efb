"""The timeline can be read: legible axes, a legend for every band, the fade span and warnings in the fade.

Checked on the rendered widget (its pixels), with the real clip analysed in the real window.
"""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from navtalk_desktop.core.loop_plan import make_plan
from navtalk_desktop.ui import plan_warnings
from navtalk_desktop.ui import timeline_paint as paint
from navtalk_desktop.ui.timeline import LEFT


def _pixels(widget) -> np.ndarray:
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    return np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, :3 * w].reshape(h, w, 3)


def _max_contrast(region: np.ndarray, background: QColor) -> float:
    colours = {tuple(px) for px in region.reshape(-1, 3)}
    return max(paint.contrast_ratio(QColor(*c), background) for c in colours)


@pytest.fixture
def timeline_window(qtbot, analysed_window):
    window = analysed_window
    info = window.document.video_info
    window.document.reset_plan(make_plan("pingpong", info.fps, info.frame_count, 95, duration=4.0))
    window.timeline.resize(1000, 300)
    window.timeline.zoom_to_fit()
    return window


def test_tick_labels_reach_4_5_to_1_contrast_and_the_ear_axis_has_a_title(timeline_window):
    timeline = timeline_window.timeline
    assert paint.contrast_ratio(paint.COLORS["text"], paint.COLORS["plot"]) >= 4.5
    assert paint.contrast_ratio(paint.COLORS["text"], paint.COLORS["background"]) >= 4.5
    rgb = _pixels(timeline)
    rect = timeline.plot_rect()
    ticks = paint.ear_ticks(timeline.y_max)
    assert ticks
    for value in ticks:  # each EAR tick label, where it is drawn: left of the plot, just above its line
        y = int(timeline.value_to_y(value))
        label = rgb[y - 12:y - 1, int(rect.left()) + 2:int(rect.left()) + 22]
        assert _max_contrast(label, paint.COLORS["plot"]) >= 4.5, value
    seconds = paint.second_ticks(timeline.view_range, timeline.fps)
    x = int(timeline.frame_to_x(seconds[1][0] - 0.5))
    ruler = rgb[int(rect.bottom()) + 3:int(rect.bottom()) + paint.RULER_ROW + 2, x + 1:x + 20]
    assert _max_contrast(ruler, paint.COLORS["background"]) >= 4.5
    title = rgb[int(rect.top()):int(rect.bottom()), 0:LEFT - 2]  # "EAR (eye openness)", written upwards
    assert _max_contrast(title, paint.COLORS["background"]) >= 4.5


def test_frame_numbers_show_when_zoomed_in(timeline_window):
    timeline = timeline_window.timeline
    timeline.resize(500, 300)
    timeline.set_view_range(0, 216)  # the whole clip on 470 px: seconds only
    assert paint.frame_ticks(timeline.view_range, timeline.plot_rect().width()) == []
    timeline.set_view_range(80, 120)  # 40 frames: a number every few frames
    ticks = paint.frame_ticks(timeline.view_range, timeline.plot_rect().width())
    assert ticks and all(80 <= f <= 120 for f, _ in ticks)
    steps = {b[0] - a[0] for a, b in zip(ticks, ticks[1:])}
    assert len(steps) == 1 and steps.pop() <= 5
    rgb = _pixels(timeline)
    rect = timeline.plot_rect()
    frame, _label = ticks[1]
    x = int(timeline.frame_to_x(frame))
    row = rgb[int(rect.bottom()) + paint.RULER_ROW + 2:int(rect.bottom()) + 2 * paint.RULER_ROW + 2, x - 10:x + 10]
    assert _max_contrast(row, paint.COLORS["background"]) >= 4.5  # the number is drawn there


def test_legend_names_every_band_and_the_fade_span_is_drawn(timeline_window):
    window = timeline_window
    timeline, doc = window.timeline, window.document
    labels = [label for _k, _c, label in paint.legend_items(timeline)]
    assert {"blink", "loop", "loop point", "mean EAR"} <= set(labels)
    assert not any("crossfade" in label for label in labels)  # a ping-pong has no fade
    info = doc.video_info
    crossfade = make_plan("crossfade", info.fps, info.frame_count, 95, duration=3.0)
    doc.edit_plan(crossfade, "test")
    k = crossfade.crossfade_frames
    assert plan_warnings.fade_spans(crossfade) == [(crossfade.first - k, crossfade.first - 1),
                                                   (crossfade.last - k + 1, crossfade.last)]
    labels = [label for _k, _c, label in paint.legend_items(timeline)]
    assert f"crossfade ({k} f)" in labels
    rgb = _pixels(timeline)
    rect = timeline.plot_rect()
    fade = np.array([paint.COLORS["fade"].red(), paint.COLORS["fade"].green(), paint.COLORS["fade"].blue()])
    for lo, hi in plan_warnings.fade_spans(crossfade):  # the solid strip under each faded span
        x = int(timeline.frame_to_x((lo + hi) / 2))
        assert np.abs(rgb[int(rect.bottom()) - 2, x].astype(int) - fade).max() <= 3
    outside = int(timeline.frame_to_x(crossfade.loop_point - 5))
    assert np.abs(rgb[int(rect.bottom()) - 2, outside].astype(int) - fade).max() > 30


def test_a_blink_inside_the_fade_is_flagged_on_the_timeline_and_in_the_plan_panel(timeline_window, qtbot):
    window = timeline_window
    doc, timeline, panel = window.document, window.timeline, window.export_panel
    assert timeline.warnings == [] and not panel.warnings_label.isVisible()
    plan_text = lambda: panel.warnings_label.text() + "\n" + panel.blink_notes_label.text()  # noqa: E731
    info = doc.video_info
    apex = max(doc.blink_apexes())  # the second blink (~frame 186)
    # a crossfade whose faded tail ends on that blink
    plan = make_plan("crossfade", info.fps, info.frame_count, apex - 60, duration=2.0 + 1 / 30 * 4, before=0)
    plan = plan.with_window(apex - 66, apex + 2)
    doc.edit_plan(plan, "test")
    assert [w.kind for w in timeline.warnings] == ["blink_in_fade"]
    assert timeline.warnings[0].frame == apex
    # listed once in the plan panel (by the blink rules' note when it names it, else by the warnings list)
    assert plan_text().count(f"blink at frame {apex}") == 1 and "crossfade" in plan_text()
    assert panel.warnings_label.isVisible() or panel.blink_notes_label.isVisible()
    assert "warning (hover)" in [label for _k, _c, label in paint.legend_items(timeline)]
    rgb = _pixels(timeline)
    rect = timeline.plot_rect()
    x, y = int(timeline.frame_to_x(apex)), int(rect.bottom()) - 31  # the red flag above the strip
    red = np.array([paint.COLORS["warning"].red(), paint.COLORS["warning"].green(), paint.COLORS["warning"].blue()])
    patch = rgb[y - 4:y + 5, x - 5:x + 6].reshape(-1, 3).astype(int)
    assert (np.abs(patch - red).max(axis=1) <= 10).sum() > 10
    assert timeline.warning_at(timeline.frame_to_x(apex)).message.startswith(f"blink at frame {apex}")
    doc.undo_stack.undo()  # back to the ping-pong: nothing in a fade any more
    assert timeline.warnings == [] and f"blink at frame {apex}" not in plan_text()


def test_seam_report_warnings_are_used_when_the_report_has_them():
    class Report:
        warnings = [{"kind": "motion_in_fade", "frame": 150, "message": "strong motion at frame 150"}]

    plan = make_plan("crossfade", 30, 216, 95, duration=3.0)
    found = plan_warnings.plan_warnings(plan, [], Report())
    assert [(w.kind, w.frame, w.message) for w in found] == [("motion_in_fade", 150, "strong motion at frame 150")]
    assert plan_warnings.report_warnings(object()) == []  # an older report without warnings


def test_a_second_label_cut_by_the_right_edge_is_left_out(timeline_window):
    timeline = timeline_window.timeline
    timeline.resize(1000, 300)
    timeline.set_view_range(150, 210)  # the 7 s tick (frame 209.5) lands a few px from the right edge
    seconds = paint.second_ticks(timeline.view_range, timeline.fps)
    frame, label = seconds[-1]
    x = int(timeline.frame_to_x(frame - 0.5))
    assert x + 2 + timeline.fontMetrics().horizontalAdvance(label) > timeline.width()  # it would be cut
    rgb = _pixels(timeline)
    rect = timeline.plot_rect()
    tail = rgb[int(rect.bottom()) + 6:int(rect.bottom()) + paint.RULER_ROW + 2, x + 2:]
    text = np.array([paint.COLORS["text"].red(), paint.COLORS["text"].green(), paint.COLORS["text"].blue()])
    near_text = np.abs(tail.reshape(-1, 3).astype(int) - text).max(axis=1) <= 90
    assert near_text.sum() == 0, near_text.sum()  # no glyph of it right of its tick (a cut "7" is gone)
    prev_frame, _ = seconds[-2]  # the label before it still shows
    px = int(timeline.frame_to_x(prev_frame - 0.5))
    ruler = rgb[int(rect.bottom()) + 3:int(rect.bottom()) + paint.RULER_ROW + 2, px + 1:px + 20]
    assert _max_contrast(ruler, paint.COLORS["background"]) >= 4.5


def test_the_plan_panels_warnings_read_on_its_background(analysed_window):
    from PySide6.QtGui import QPalette

    from navtalk_desktop.ui.export_panel import warning_color

    panel = analysed_window.export_panel
    style = panel.warnings_label.styleSheet()
    colour = QColor(style.split("color:")[1].strip(" ;"))
    background = panel.palette().color(QPalette.ColorRole.Window)
    assert paint.contrast_ratio(colour, background) >= 4.5, (colour.name(), background.name())
    for window_grey in ("#efefef", "#2b2b2b"):  # Qt's light default and a dark theme
        palette = QPalette(QColor(window_grey))
        ratio = paint.contrast_ratio(QColor(warning_color(palette)), palette.color(QPalette.ColorRole.Window))
        assert ratio >= 4.5, window_grey
