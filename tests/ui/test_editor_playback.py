"""Playing the planned loop in the editor with the real keys, and the frame view following every edit.

Real window, real clip (tests/fixtures/liveportrait_d18.mp4, 30 fps, 216 frames), real key and mouse events.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication
from test_timeline_editing import _x, _y, drag

from navtalk_desktop.core.loop_plan import make_plan
from navtalk_desktop.ui import plan_frames
from navtalk_desktop.ui.editor_area import SHORTCUTS


@pytest.fixture
def editor(qtbot, analysed_window):
    window = analysed_window
    doc = window.document
    info = doc.video_info
    doc.reset_plan(make_plan("pingpong", info.fps, info.frame_count, 95, duration=4.0))
    window.actions["timeline.snap"].setChecked(False)
    window.timeline.zoom_to_fit()
    window.activateWindow()
    window.timeline.setFocus()
    qtbot.waitUntil(window.timeline.hasFocus)
    return window


def key(qtbot, window, k, modifier=Qt.KeyboardModifier.NoModifier):
    qtbot.keyClick(window.timeline, k, modifier)


def test_space_plays_the_plan_at_the_clip_rate_and_the_playhead_follows(qtbot, editor):
    window, doc, pb = editor, editor.document, editor.playback
    plan = doc.plan
    key(qtbot, window, Qt.Key.Key_Space)
    assert pb.is_playing and pb.rate == 1.0
    assert window.actions["playback.play"].text() == "Pause"
    qtbot.wait(150)
    t0, p0 = time.monotonic(), pb.position
    qtbot.wait(1000)
    t1, p1 = time.monotonic(), pb.position
    expected = (t1 - t0) * float(plan.fps)
    assert abs((p1 - p0) - expected) <= 1.0, (p1 - p0, expected)  # 30 frames a second, ±1 frame
    sources = plan.output_sources()
    assert doc.playhead == sources[pb.output_index][0][0]  # the playhead is the frame shown
    assert window.timeline.playhead == doc.playhead  # and the timeline draws it there
    assert np.array_equal(window.frame_view._image_buffer, window.loop.preview.frames[doc.playhead])
    assert "output frame" in window.frame_view.caption and f"frame {doc.playhead}" in window.frame_view.caption
    key(qtbot, window, Qt.Key.Key_Space)
    assert not pb.is_playing and window.actions["playback.play"].text() == "Play"
    stopped = doc.playhead
    qtbot.wait(200)
    assert doc.playhead == stopped  # paused where it was
    assert "output frame" not in window.frame_view.caption and f"frame {stopped}" in window.frame_view.caption
    key(qtbot, window, Qt.Key.Key_Space)
    qtbot.mouseClick(window.timeline, Qt.MouseButton.LeftButton, pos=QPoint(_x(window.timeline, 30), _y(window.timeline)))
    assert not pb.is_playing and doc.playhead == 30  # scrubbing takes over from playback


def test_playback_wraps_and_uses_only_frames_in_memory(qtbot, editor, monkeypatch):
    from navtalk_desktop.core import media

    def no_decode(*_a, **_k):
        raise AssertionError("playback decoded a frame")

    monkeypatch.setattr(media, "iter_frames", no_decode)
    monkeypatch.setattr(media, "read_frames", no_decode)
    window, doc, pb = editor, editor.document, editor.playback
    plan = doc.plan
    seen = []
    pb.output_frame_changed.connect(lambda index, _parts: seen.append(index))
    doc.set_playhead(plan.first + 3)  # the ping-pong's way back ends at first + 1, then wraps to first
    key(qtbot, window, Qt.Key.Key_Space)
    def wrapped():
        return any(seen[i] < seen[i - 1] for i in range(1, len(seen)))

    qtbot.waitUntil(wrapped, timeout=10000)
    pb.stop()
    wrap = next(i for i in range(1, len(seen)) if seen[i] < seen[i - 1])
    assert seen[wrap - 1] >= plan.output_frames - 3 and seen[wrap] <= 2  # the end runs into the start
    assert plan.output_sources()[0][0][0] == plan.first


def test_jkl_shuttle_and_the_loop_point_key_moved_to_p(qtbot, editor):
    window, doc, pb = editor, editor.document, editor.playback
    before = doc.plan
    key(qtbot, window, Qt.Key.Key_L)
    assert pb.rate == 1.0
    key(qtbot, window, Qt.Key.Key_L)
    assert pb.rate == 2.0  # again: faster
    key(qtbot, window, Qt.Key.Key_L)
    assert pb.rate == 4.0
    key(qtbot, window, Qt.Key.Key_J)
    assert pb.rate == -1.0  # backwards
    key(qtbot, window, Qt.Key.Key_J)
    assert pb.rate == -2.0
    start = pb.position
    qtbot.wait(500)
    assert pb.position < start - 15  # ~30 frames back in 0.5 s at 2x
    key(qtbot, window, Qt.Key.Key_K)
    assert not pb.is_playing
    assert doc.plan == before and doc.undo_stack.count() == 0  # L never moved the loop point
    doc.set_playhead(100)
    key(qtbot, window, Qt.Key.Key_P)
    assert doc.plan.loop_point == 100 and doc.undo_stack.undoText() == "Move loop point to frame 100"
    assert "P loop point" in SHORTCUTS and "J/K/L" in SHORTCUTS
    menu_keys = {a.shortcut().toString() for a in window.actions.in_menu("playback") if a is not None}
    assert {"Space", "J", "K", "L", "Shift+Space"} <= menu_keys
    from navtalk_desktop.ui.window_actions import shortcut_lines

    lines = shortcut_lines(window)  # Help ▸ Keyboard Shortcuts
    assert "P\tMove loop point to playhead" in lines and "L\tShuttle forwards" in lines
    key(qtbot, window, Qt.Key.Key_Home)
    assert doc.playhead == 0
    key(qtbot, window, Qt.Key.Key_End)
    assert doc.playhead == doc.frame_count - 1
    doc.set_playhead(80)
    key(qtbot, window, Qt.Key.Key_I)
    assert doc.plan.first == 80


def test_play_across_the_seam_repeats_one_second_either_side_of_the_wrap(qtbot, editor):
    window, doc, pb = editor, editor.document, editor.playback
    n, fps = doc.plan.output_frames, 30
    seen = []
    pb.output_frame_changed.connect(lambda index, _parts: seen.append(index))
    key(qtbot, window, Qt.Key.Key_Space, Qt.KeyboardModifier.ShiftModifier)
    assert pb.is_playing and pb.seam_only
    def restarts():  # back to 1 s before the wrap after reaching 1 s past it
        return [i for i in range(1, len(seen)) if n - fps <= seen[i] < n - fps + 3 and seen[i - 1] < fps]

    qtbot.waitUntil(lambda: len(restarts()) >= 2, timeout=12000)
    pb.stop()
    allowed = set(range(n - fps, n)) | set(range(0, fps))
    assert set(seen) <= allowed  # nothing outside the second either side of the wrap
    assert seen[0] == n - fps and any(seen[i] < seen[i - 1] and seen[i] < 3 for i in range(1, len(seen)))


def test_frame_view_follows_every_drag_and_its_caption_names_the_frame(qtbot, editor):
    window, doc, timeline, view = editor, editor.document, editor.timeline, editor.frame_view
    y = _y(timeline)
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=QPoint(_x(timeline, 95), y))
    qtbot.mouseMove(timeline, QPoint(_x(timeline, 105), y))
    qtbot.mouseMove(timeline, QPoint(_x(timeline, 120), y))
    assert view.index == 120 and "frame 120" in view.caption and "loop point" in view.caption  # mid-drag
    assert np.array_equal(view._image_buffer, window.loop.preview.frames[120])
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=QPoint(_x(timeline, 120), y))
    plan = doc.plan
    drag(qtbot, timeline, _x(timeline, plan.last + 0.5), _x(timeline, plan.last + 10.5), y)  # the end edge
    assert view.index == doc.plan.last and "loop end" in view.caption and f"frame {doc.plan.last}" in view.caption
    qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    # undone: the frame shown is no longer the loop end, and the caption says so at once
    assert "loop end" not in view.caption and f"frame {view.index}" in view.caption


def test_seam_view_shows_last_beside_first_onion_and_difference(qtbot, editor):
    window, doc = editor, editor.document
    frames = window.loop.preview.frames
    key(qtbot, window, Qt.Key.Key_S)
    seam = window.seam_view
    assert window.editor.view_stack.currentWidget() is seam and seam.isVisible()
    last, first = plan_frames.seam_pair(frames, doc.plan)
    order = [parts[0][0] for parts in doc.plan.output_sources()]  # ping-pong: one source frame each
    assert np.array_equal(last, frames[order[-1]]) and np.array_equal(first, frames[order[0]])
    assert order[-1] == doc.plan.first + 1 and order[0] == doc.plan.first  # the way back ends beside the start
    panels = seam.canvas._buffers
    assert len(panels) == 2 and np.array_equal(panels[0], last) and np.array_equal(panels[1], first)
    assert "last frame" in seam.canvas.panels[0][1] and "first frame" in seam.canvas.panels[1][1]
    seam.set_mode("onion")
    assert len(seam.canvas._buffers) == 1
    assert np.abs(seam.canvas._buffers[0].astype(int) - (last.astype(int) + first) / 2).max() <= 1
    seam.set_mode("difference")
    diff = seam.canvas._buffers[0]
    assert np.array_equal(diff, plan_frames.difference(last, first))
    # a plan change updates it: the same frames either side of the seam give a black difference
    info = doc.video_info
    doc.edit_plan(make_plan("crossfade", info.fps, info.frame_count, 120, duration=3.0), "test")
    new_last, new_first = plan_frames.seam_pair(frames, doc.plan)
    assert np.array_equal(seam.canvas._buffers[0], plan_frames.difference(new_last, new_first))
    key(qtbot, window, Qt.Key.Key_S)
    assert window.editor.view_stack.currentWidget() is window.frame_view


def test_frame_view_zooms_to_one_to_one_and_pans(qtbot, editor):
    window, view = editor, editor.frame_view
    editor.document.set_playhead(40)
    image = view.current_image()
    fitted = view._target(image)
    anchor = QPointF(fitted.center().x() + 30, fitted.center().y() - 20)
    u = (anchor.x() - fitted.left()) / fitted.width()
    event = QWheelEvent(anchor, view.mapToGlobal(anchor), QPoint(0, 0), QPoint(0, 240), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.ControlModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view, event)
    zoomed = view._target(image)
    assert view.zoom == pytest.approx(1.25 ** 2)
    assert zoomed.width() == pytest.approx(fitted.width() * 1.25 ** 2)
    assert zoomed.left() + u * zoomed.width() == pytest.approx(anchor.x(), abs=0.5)  # the point stays put
    key(qtbot, window, Qt.Key.Key_1)
    assert view._target(image).width() == pytest.approx(image.width())  # 1:1: one image px per screen px
    before = view._target(image).topLeft()
    qtbot.mousePress(view, Qt.MouseButton.LeftButton, pos=QPoint(100, 100))
    qtbot.mouseMove(view, QPoint(80, 90))
    qtbot.mouseRelease(view, Qt.MouseButton.LeftButton, pos=QPoint(80, 90))
    moved = view._target(image).topLeft()
    if image.width() > view.width():  # pannable horizontally
        assert moved.x() == pytest.approx(before.x() - 20)
    assert moved != before or image.height() <= view.height()
    window.timeline.setFocus()
    key(qtbot, window, Qt.Key.Key_0)
    assert view.zoom == 1.0 and view._target(image) == fitted
    key(qtbot, window, Qt.Key.Key_Plus)
    assert view.zoom == pytest.approx(1.25)
    key(qtbot, window, Qt.Key.Key_Minus)
    assert view.zoom == 1.0
