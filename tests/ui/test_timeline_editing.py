"""Editing the loop on the timeline with real mouse and keyboard events, and undoing every step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from navtalk_desktop.core.loop_plan import make_plan
from navtalk_desktop.ui import plan_edits


def _x(timeline, frame: float) -> int:
    return int(round(timeline.frame_to_x(frame)))


def _y(timeline) -> int:
    return int(timeline.plot_rect().center().y())


def drag(qtbot, widget, x_from: int, x_to: int, y: int, steps: int = 6) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(x_from, y))
    for i in range(1, steps + 1):
        qtbot.mouseMove(widget, QPoint(int(x_from + (x_to - x_from) * i / steps), y))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(x_to, y))


@pytest.fixture
def pingpong_window(qtbot, analysed_window):
    """The analysed clip with a known ping-pong plan around the first blink (apex ~95), snapping off."""
    window = analysed_window
    doc = window.document
    info = doc.video_info
    doc.reset_plan(make_plan("pingpong", info.fps, info.frame_count, 95, duration=4.0))
    window.actions["timeline.snap"].setChecked(False)
    window.timeline.zoom_to_fit()
    window.timeline.resize(1000, 240)  # ~4.5 px per frame
    return window


def test_drag_loop_point_moves_plan_by_exact_frames(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline = window.document, window.timeline
    before = doc.plan
    assert (before.first, before.last, before.loop_point) == (65, 125, 95)
    drag(qtbot, timeline, _x(timeline, 95), _x(timeline, 110), _y(timeline))
    after = doc.plan
    assert after.loop_point == 110
    assert (after.first, after.last) == (80, 140)  # the window travels with the loop point
    assert doc.undo_stack.count() == 1  # one drag = one undo step, however many move events
    assert doc.undo_stack.undoText() == "Move loop point to frame 110"
    assert window.actions["edit.undo"].text() == "&Undo Move loop point to frame 110"


def test_edge_drag_keeps_the_duration_while_the_length_is_locked(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline = window.document, window.timeline
    assert window.editor.lock_check.isChecked()  # locked by default
    before = doc.plan
    drag(qtbot, timeline, _x(timeline, 64.5), _x(timeline, 54.5), _y(timeline))  # start edge 65 -> 55
    after = doc.plan
    assert (after.first, after.last, after.loop_point) == (55, 115, 95)  # the end edge followed
    assert after.output_frames == before.output_frames and after.duration == before.duration == 4.0
    assert doc.undo_stack.undoText() == "Move loop start to frame 55"
    assert window.export_panel.duration_spin.value() == 4.0
    drag(qtbot, timeline, _x(timeline, 115.5), _x(timeline, 130.5), _y(timeline))  # end edge 115 -> 130
    assert (doc.plan.first, doc.plan.last) == (70, 130) and doc.plan.duration == 4.0
    assert doc.undo_stack.undoText() == "Move loop end to frame 130"
    # the loop point stays inside: the window cannot slide past it
    drag(qtbot, timeline, _x(timeline, 69.5), _x(timeline, 120), _y(timeline))
    assert doc.plan.first == 95 and doc.plan.span == before.span


def test_drag_window_edges_changes_only_that_edge(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline = window.document, window.timeline
    window.editor.lock_check.setChecked(False)  # unlocked: an edge drag changes the length
    drag(qtbot, timeline, _x(timeline, 64.5), _x(timeline, 54.5), _y(timeline))  # start edge sits at first - 0.5
    assert (doc.plan.first, doc.plan.last, doc.plan.loop_point) == (55, 125, 95)
    assert doc.plan.output_frames == 2 * (125 - 55 + 1) - 2
    drag(qtbot, timeline, _x(timeline, 125.5), _x(timeline, 150.5), _y(timeline))  # end edge at last + 0.5
    assert (doc.plan.first, doc.plan.last) == (55, 150)
    # an edge cannot pass the loop point: the drag stops there
    drag(qtbot, timeline, _x(timeline, 54.5), _x(timeline, 120), _y(timeline))
    assert doc.plan.first == 95
    assert doc.undo_stack.count() == 3


def test_drag_snaps_to_blink_apex_when_enabled(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline = window.document, window.timeline
    apexes = doc.blink_apexes()
    second = max(apexes)
    window.actions["timeline.snap"].setChecked(True)
    # drop one frame beside the second blink's apex (within the snap distance): it lands on the apex
    drag(qtbot, timeline, _x(timeline, 95), _x(timeline, second + 1), _y(timeline))
    assert doc.plan.loop_point == second


def test_scrub_moves_playhead_and_frame_view(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline = window.document, window.timeline
    drag(qtbot, timeline, _x(timeline, 20), _x(timeline, 40), _y(timeline))
    assert doc.playhead == 40
    assert doc.undo_stack.count() == 0  # scrubbing is not an edit
    assert window.frame_view._index == 40
    assert window.frame_view.current_image() is not None


def test_right_click_during_drag_restores_the_plan(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline = window.document, window.timeline
    before = doc.plan
    y = _y(timeline)
    qtbot.mousePress(timeline, Qt.MouseButton.LeftButton, pos=QPoint(_x(timeline, 95), y))
    qtbot.mouseMove(timeline, QPoint(_x(timeline, 105), y))
    assert doc.plan.loop_point == 105
    qtbot.mousePress(timeline, Qt.MouseButton.RightButton, pos=QPoint(_x(timeline, 105), y))
    qtbot.mouseRelease(timeline, Qt.MouseButton.LeftButton, pos=QPoint(_x(timeline, 105), y))
    assert doc.plan == before
    assert doc.undo_stack.count() == 0


def test_keyboard_steps_blink_jumps_and_window_keys(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline = window.document, window.timeline
    window.activateWindow()
    timeline.setFocus()
    qtbot.waitUntil(timeline.hasFocus)
    doc.set_playhead(0)
    qtbot.keyClick(timeline, Qt.Key.Key_Right)
    assert doc.playhead == 1
    qtbot.keyClick(timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert doc.playhead == 11
    qtbot.keyClick(timeline, Qt.Key.Key_Left)
    assert doc.playhead == 10
    apexes = doc.blink_apexes()
    qtbot.keyClick(timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert doc.playhead == apexes[0]
    qtbot.keyClick(timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert doc.playhead == apexes[1]
    qtbot.keyClick(timeline, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    assert doc.playhead == apexes[0]
    # set the loop window at the playhead with I / O
    doc.set_playhead(80)
    qtbot.keyClick(timeline, Qt.Key.Key_I)
    assert doc.plan.first == 80
    doc.set_playhead(130)
    qtbot.keyClick(timeline, Qt.Key.Key_O)
    assert doc.plan.last == 130
    assert doc.undo_stack.count() == 2


def test_undo_and_redo_restore_each_state(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline = window.document, window.timeline
    states = [doc.plan]
    drag(qtbot, timeline, _x(timeline, 95), _x(timeline, 100), _y(timeline))
    states.append(doc.plan)
    drag(qtbot, timeline, _x(timeline, states[-1].first - 0.5), _x(timeline, states[-1].first - 8.5), _y(timeline))
    states.append(doc.plan)
    doc.set_playhead(states[-1].last - 10)
    window.activateWindow()
    timeline.setFocus()
    qtbot.keyClick(timeline, Qt.Key.Key_O)
    states.append(doc.plan)
    assert len({(s.first, s.last, s.loop_point) for s in states}) == 4

    for expected in reversed(states[:-1]):  # Ctrl+Z walks back through every state
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert doc.plan == expected
        assert timeline._plan == expected  # the view follows
    assert not doc.undo_stack.canUndo()
    for expected in states[1:]:  # Ctrl+Shift+Z walks forward again
        qtbot.keyClick(window, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        assert doc.plan == expected
    assert not doc.undo_stack.canRedo()


def test_wheel_zooms_around_cursor_and_shift_wheel_pans(qtbot, pingpong_window):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    timeline = pingpong_window.timeline
    start, end = timeline.view_range
    x = _x(timeline, 100)

    def wheel(dy: int, modifiers=Qt.KeyboardModifier.NoModifier):
        pos = QPointF(x, _y(timeline))
        event = QWheelEvent(pos, timeline.mapToGlobal(pos), QPoint(0, 0), QPoint(0, dy), Qt.MouseButton.NoButton,
                            modifiers, Qt.ScrollPhase.NoScrollPhase, False)
        QApplication.sendEvent(timeline, event)

    wheel(240)  # zoom in two notches
    zs, ze = timeline.view_range
    assert ze - zs < (end - start) * 0.7
    assert abs(timeline.x_to_frame(x) - 100) < 1.0  # the frame under the cursor stays put
    wheel(-120, Qt.KeyboardModifier.ShiftModifier)  # pan right
    ps, pe = timeline.view_range
    assert ps > zs and abs((pe - ps) - (ze - zs)) < 1e-6


def test_plan_edits_refuse_impossible_windows():
    plan = make_plan("crossfade", 30, 216, 95, duration=4.0)
    k = plan.crossfade_frames
    assert plan_edits.move_window_start(plan, -50).first == k  # stops where the crossfade margin still fits
    assert plan_edits.move_window_end(plan, 10_000).last == 215 - k
    assert plan_edits.move_window_start(plan, 10_000).first <= plan.loop_point
    assert plan_edits.snap_frame(101.4, [95, 186], 2.0) == 101
    assert plan_edits.snap_frame(96.6, [95, 186], 2.0) == 95


def test_seam_prediction_follows_each_edit_before_any_export(qtbot, pingpong_window):
    window = pingpong_window
    doc, timeline, panel = window.document, window.timeline, window.export_panel
    window.editor.lock_check.setChecked(False)
    drag(qtbot, timeline, _x(timeline, 64.5), _x(timeline, 54.5), _y(timeline))  # window now 55-125
    edited = doc.plan
    assert edited.output_frames == 140
    assert "Seam: measuring" in panel.seam_label.text()  # the old plan's numbers are gone at once
    with qtbot.waitSignal(window.loop.seam_predicted, timeout=30000,
                          check_params_cb=lambda report: report.frame_count == 140) as blocker:
        pass
    report = blocker.args[0]
    assert report.expected_frames == edited.output_frames
    assert "Seam (predicted)" in panel.seam_label.text()
    assert f"step ratio {report.seam_step_ratio:.2f}" in panel.seam_label.text()
    assert window.loop.last_export is None  # measured on the plan, nothing was exported


def _eye_pixels(frame_view) -> int:
    """Pixels in the right-eye landmark colour (#5aa9ff) on the frame view."""
    import numpy as np
    from PySide6.QtGui import QImage

    image = frame_view.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    w, h = image.width(), image.height()
    rgb = np.frombuffer(image.constBits(), np.uint8).reshape(h, image.bytesPerLine())[:, :3 * w].reshape(h, w, 3)
    target = np.array([0x5a, 0xa9, 0xff], int)
    return int((np.abs(rgb.astype(int) - target).max(axis=2) < 24).sum())


def _ring_length(frame_view, index: int) -> float:
    """On-screen length of the right-eye ring the view draws at `index`."""
    import numpy as np

    from navtalk_desktop.core.ear import RIGHT_EYE

    image = frame_view.current_image()
    target = frame_view._target(image)
    k = frame_view._scale * target.width() / image.width()
    ring = frame_view._points[index][list(RIGHT_EYE) + [RIGHT_EYE[0]]] * k
    return float(np.linalg.norm(np.diff(ring, axis=0), axis=1).sum())


def test_eye_landmarks_drawn_on_the_frame_only_when_asked(qtbot, pingpong_window):
    window = pingpong_window
    window.document.set_playhead(40)  # eyes open, face found
    window.landmarks_check.setChecked(False)
    qtbot.wait(20)
    without = _eye_pixels(window.frame_view)
    window.landmarks_check.setChecked(True)  # the checkbox above the timeline
    assert window.frame_view.show_landmarks and window.settings.show_landmarks
    with_marks = _eye_pixels(window.frame_view)
    assert with_marks > without + 12
    # thin outlines, not blobs: about one pen width along the eye ring (dots of 4.4 px would triple it)
    assert with_marks - without < 3 * _ring_length(window.frame_view, 40)
    window.actions["timeline.landmarks"].setChecked(False)  # the Timeline menu's toggle does the same
    assert not window.landmarks_check.isChecked()
    assert _eye_pixels(window.frame_view) <= without + 5
