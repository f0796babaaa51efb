"""The timeline draws each curve where its values are, for short clips and 10-minute ones alike."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from navtalk_desktop.ui.timeline import TimelineWidget
from navtalk_desktop.ui.timeline_paint import COLORS


def _result(n: int, values: np.ndarray):
    return SimpleNamespace(ear_right=values, ear_left=values, ear_mean=values, events=[], frame_count=n,
                           info=SimpleNamespace(fps=30.0))


def _column_rows(image, x: int, color) -> list[int]:
    want = color.rgb() & 0xFFFFFF
    return [y for y in range(image.height()) if image.pixel(x, y) & 0xFFFFFF == want]


def test_mean_curve_is_painted_at_its_value_with_a_gap_for_missing_face(qtbot):
    for n in (150, 1200, 18000):  # a 5 s clip, 1.5 frames a pixel, and a decimated 10-minute one
        values = np.full(n, 0.30)
        values[n // 2:] = 0.15
        values[n // 4 - n // 20:n // 4 + n // 20] = np.nan  # no face: no line there
        widget = TimelineWidget()
        qtbot.addWidget(widget)
        widget.resize(800, 300)
        widget.set_analysis(_result(n, values))
        image = widget.grab().toImage()
        for frame, value in ((n // 8, 0.30), (n * 3 // 4, 0.15)):
            rows = _column_rows(image, int(widget.frame_to_x(frame)), COLORS["mean"])
            assert rows, (n, frame)
            assert abs(np.median(rows) - widget.value_to_y(value)) <= 2, (n, frame, rows)
        assert not _column_rows(image, int(widget.frame_to_x(n // 4)), COLORS["mean"]), n


def test_blinks_are_shaded_and_only_they_in_a_long_clip(qtbot):
    from navtalk_desktop.core.blinks import BlinkEvent

    n = 18000
    values = np.full(n, 0.30)
    events = [BlinkEvent(start=a - 3, apex=a, end=a + 3, depth=0.7, confidence=0.9, kind="blink",
                         touches_edge=False, touches_gap=False, both_eyes=True) for a in range(300, n - 300, 120)]
    result = _result(n, values)
    result.events = events
    widget = TimelineWidget()
    qtbot.addWidget(widget)
    widget.resize(800, 300)
    widget.set_analysis(result)
    widget.set_view_range(9000, 9600)  # 600 frames: each blink spans several pixels
    image = widget.grab().toImage()
    y = int(widget.plot_rect().bottom()) - 5
    plot = COLORS["plot"].rgb() & 0xFFFFFF
    inside = [e for e in events if 9000 < e.start and e.end < 9600]
    assert inside
    for e in inside:
        assert image.pixel(int(widget.frame_to_x(e.apex - 2)), y) & 0xFFFFFF != plot  # shaded
        assert image.pixel(int(widget.frame_to_x(e.end + 30)), y) & 0xFFFFFF == plot  # between blinks: not


def test_curve_pieces_join_into_the_whole_polyline():
    from navtalk_desktop.ui.curve_geometry import pieces

    xs, ys = np.arange(50.0), np.arange(50.0) ** 1.5
    parts = pieces(xs, ys, 16)
    assert [len(p) for p in parts] == [17, 17, 17, 2]  # 49 segments: 16 + 16 + 16 + 1
    points = [(pt.x(), pt.y()) for k, part in enumerate(parts) for pt in list(part)[1 if k else 0:]]
    assert points == list(zip(xs, ys))  # each piece starts where the last ended: no gap, nothing doubled
    assert len(pieces(xs[:10], ys[:10], 16)) == 1
