"""Correcting blinks on the timeline with real mouse, keyboard and context-menu events on the real clip."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QContextMenuEvent
from PySide6.QtWidgets import QApplication
from studio_helpers import CLIP, open_and_wait_for_plan

from navtalk_desktop.core import blink_store
from navtalk_desktop.core.loop_plan import make_plan
from navtalk_desktop.ui.blink_editor import HANDLE_STRIP


def x_of(timeline, frame: float) -> int:
    return int(round(timeline.frame_to_x(frame)))


def handle_y(timeline) -> int:
    return int(timeline.plot_rect().bottom() - HANDLE_STRIP / 2)


def mid_y(timeline) -> int:
    return int(timeline.plot_rect().center().y())


def drag(qtbot, widget, x_from: int, x_to: int, y: int, steps: int = 6) -> None:
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=QPoint(x_from, y))
    for i in range(1, steps + 1):
        qtbot.mouseMove(widget, QPoint(int(x_from + (x_to - x_from) * i / steps), y))
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=QPoint(x_to, y))


def events(doc) -> list[tuple[int, int, int, str]]:
    return [(e.start, e.apex, e.end, e.origin) for e in doc.analysis.events]


def blink(doc, apex: int):
    return next(e for e in doc.analysis.events if abs(e.apex - apex) <= 2)


@pytest.fixture
def editing_window(qtbot, analysed_window):
    window = analysed_window
    window.actions["timeline.snap"].setChecked(False)
    window.timeline.zoom_to_fit()
    window.timeline.resize(1000, 240)  # ~4.6 px per frame
    return window


def menu_action(window, text: str):
    menu = window.blink_editor.menu
    return next(a for a in menu.actions() if a.text().startswith(text))


def right_click(window, frame: float):
    timeline = window.timeline
    pos = QPoint(x_of(timeline, frame), mid_y(timeline))
    QApplication.sendEvent(timeline, QContextMenuEvent(QContextMenuEvent.Reason.Mouse, pos, timeline.mapToGlobal(pos)))
    return window.blink_editor.menu


def test_select_and_drag_handles_frame_exact_with_undo(qtbot, editing_window):
    window = editing_window
    doc, timeline, editor = window.document, window.timeline, window.blink_editor
    first = blink(doc, 96)
    assert (first.start, first.apex, first.end) == (92, 96, 101)
    qtbot.mouseClick(timeline, Qt.MouseButton.LeftButton, pos=QPoint(x_of(timeline, 94), mid_y(timeline)))
    assert editor.selected == first.key
    plan_before = doc.plan
    drag(qtbot, timeline, x_of(timeline, first.end + 0.5), x_of(timeline, first.end + 2.5), handle_y(timeline))
    assert blink(doc, 96).end == 103 and blink(doc, 96).start == 92 and blink(doc, 96).origin == "edited"
    assert doc.plan == plan_before  # grabbing a blink handle never moves the loop markers
    assert doc.undo_stack.count() == 1 and doc.undo_stack.undoText() == "Move blink end to 103"
    drag(qtbot, timeline, x_of(timeline, first.start - 0.5), x_of(timeline, first.start - 3.5), handle_y(timeline))
    assert blink(doc, 96).start == 89
    assert doc.undo_stack.undoText() == "Move blink start to 89"
    drag(qtbot, timeline, x_of(timeline, 96), x_of(timeline, 98), handle_y(timeline))
    assert blink(doc, 98).apex == 98 and doc.undo_stack.undoText() == "Move blink apex to 98"
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert (blink(doc, 96).start, blink(doc, 96).end) == (92, 103)
    doc.undo_stack.undo()
    assert events(doc)[0] == (92, 96, 101, "detected")
    doc.undo_stack.redo()
    assert blink(doc, 96).end == 103
    # the timeline's own bands show the corrected set, and a drag past the apex stops at the apex
    assert timeline._events[0].end == 103
    drag(qtbot, timeline, x_of(timeline, 103.5), x_of(timeline, 80), handle_y(timeline))
    assert blink(doc, 96).end == 96


def test_handle_drag_snaps_to_ear_minimum_and_curve_edges(qtbot, editing_window):
    window = editing_window
    doc, timeline, editor = window.document, window.timeline, window.blink_editor
    window.actions["timeline.snap"].setChecked(True)
    second = blink(doc, 187)
    editor.select(second.key)
    from navtalk_desktop.core import blink_edits as be

    minima = [m for m in be.local_minima(doc.analysis.ear_mean) if second.start <= m <= second.end]
    drag(qtbot, timeline, x_of(timeline, second.apex), x_of(timeline, second.start), handle_y(timeline))
    assert blink(doc, 187).apex in minima  # one frame off the apex: back onto an EAR minimum
    edge_start, _edge_end = be.curve_edges(doc.analysis.openness, second.apex, doc.analysis.fps)
    drag(qtbot, timeline, x_of(timeline, second.start - 0.5), x_of(timeline, edge_start - 1.5), handle_y(timeline))
    assert blink(doc, 187).start == edge_start
    window.actions["timeline.snap"].setChecked(False)
    drag(qtbot, timeline, x_of(timeline, edge_start - 0.5), x_of(timeline, edge_start - 1.5), handle_y(timeline))
    assert blink(doc, 187).start == edge_start - 1


def test_keyboard_select_nudge_delete_add_jump(qtbot, editing_window):
    window = editing_window
    doc, timeline, editor = window.document, window.timeline, window.blink_editor
    window.activateWindow()
    timeline.setFocus()
    qtbot.waitUntil(timeline.hasFocus)
    doc.set_playhead(0)
    qtbot.keyClick(timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)  # jump to the next blink
    assert doc.playhead == 96
    qtbot.keyClick(timeline, Qt.Key.Key_Return)
    assert editor.selected == "d96" and editor.active_handle == "start"
    qtbot.keyClick(timeline, Qt.Key.Key_Return)
    qtbot.keyClick(timeline, Qt.Key.Key_Return)
    assert editor.active_handle == "end"
    qtbot.keyClick(timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert blink(doc, 96).end == 103 and doc.undo_stack.undoText() == "Move blink end to 103"
    assert doc.playhead == 96  # Alt+arrow nudges the edge, not the playhead
    qtbot.keyClick(timeline, Qt.Key.Key_Delete)
    assert [e.apex for e in doc.analysis.events] == [187]
    assert doc.undo_stack.undoText() == "Delete blink at frame 96"
    doc.set_playhead(0)
    qtbot.keyClick(timeline, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    assert doc.playhead == 187  # jumping follows the corrected set
    doc.set_playhead(60)
    qtbot.keyClick(timeline, Qt.Key.Key_B)
    added = [e for e in doc.analysis.events if e.origin == "added"]
    assert len(added) == 1 and abs(added[0].apex - 60) <= 6
    assert added[0].start <= added[0].apex <= added[0].end
    assert doc.undo_stack.undoText() == f"Add blink at frame {added[0].apex}"
    assert editor.selected == added[0].key
    qtbot.keyClick(timeline, Qt.Key.Key_Delete)  # added ones can be deleted too
    assert not [e for e in doc.analysis.events if e.origin == "added"]
    assert doc.undo_stack.count() == 5  # two nudges, delete, add, delete: one step each
    for _ in range(5):
        doc.undo_stack.undo()
    assert events(doc) == [(92, 96, 101, "detected"), (185, 187, 188, "detected")]


def test_context_menu_kind_exclusion_and_the_plan(qtbot, editing_window):
    window = editing_window
    doc, panel = window.document, window.export_panel
    assert doc.plan.loop_point == 96 and doc.plan.first <= 187 <= doc.plan.last + doc.plan.crossfade_frames
    right_click(window, 94)
    menu_action(window, "One eye: left").trigger()
    first = blink(doc, 96)
    assert (first.kind, first.eye, first.both_eyes) == ("one_eye", "left", False)
    assert doc.undo_stack.undoText() == "Mark blink at frame 96 as one eye: left"
    assert "one-eye closure (left eye)" in panel.blink_notes_label.text()
    right_click(window, 94)
    menu_action(window, "Blink").trigger()
    assert blink(doc, 96).both_eyes
    # a plan whose crossfade crosses the blink at 187 (auto's own 4 s plan ends before it)
    doc.edit_plan(make_plan("crossfade", doc.plan.fps, doc.plan.source_frames, 96, duration=4.0, before=0.7),
                  "crossing plan")
    assert doc.plan.faded_range[0] <= 187 <= doc.plan.faded_range[1]
    right_click(window, 187)
    action = menu_action(window, "Never loop through this")
    assert action.isCheckable() and not action.isChecked()
    action.trigger()
    assert blink(doc, 187).exclude
    assert doc.undo_stack.undoText() == "Never loop through blink at frame 187"
    assert "marked never to loop through" in panel.blink_notes_label.text()  # the current plan crosses it
    with qtbot.waitSignal(doc.plan_changed, timeout=60000):
        next(a for a in window.actions.in_menu("blinks") if a and a.text().startswith("New automatic loop")).trigger()
    from navtalk_desktop.core.blink_rules import plan_conflicts

    assert not plan_conflicts(doc.plan, doc.analysis.events)
    assert "never to loop through" not in panel.blink_notes_label.text()
    right_click(window, 187)
    menu_action(window, "Delete blink").trigger()
    assert [e.apex for e in doc.analysis.events] == [96]
    right_click(window, 40)  # empty place: only add and reset
    texts = [a.text() for a in window.blink_editor.menu.actions() if a.text()]
    assert texts[0].startswith("Add blink at playhead") and "Reset blinks to detected" in texts
    window.blink_editor.menu.close()


def test_plan_follows_deleted_and_added_blinks(qtbot, editing_window):
    window = editing_window
    doc, editor = window.document, window.blink_editor
    replan = next(a for a in window.actions.in_menu("blinks") if a and a.text().startswith("New automatic loop"))
    assert doc.plan.loop_point == 96
    editor.select("d96")
    editor.delete_selected()
    with qtbot.waitSignal(doc.plan_changed, timeout=60000):
        replan.trigger()
    assert doc.plan.loop_point == 187  # the deleted blink no longer attracts the loop
    editor.select("d187")
    editor.delete_selected()
    doc.set_playhead(60)
    assert editor.add_at_playhead()
    added = doc.analysis.events[0]
    with qtbot.waitSignal(doc.plan_changed, timeout=60000):
        replan.trigger()
    assert doc.plan.loop_point == added.apex  # the added one does
    assert doc.undo_stack.undoText() == "Automatic loop from the corrected blinks"


def test_corrections_survive_restart_and_project_round_trip(qtbot, editing_window, make_window, tmp_path):
    window = editing_window
    doc, editor = window.document, window.blink_editor
    editor.select("d96")
    editor.delete_selected()
    editor.select("d187")
    editor.active_handle = "end"
    editor.nudge(1)
    assert editor.set_kind("one_eye", "right")
    expected = events(doc)
    assert expected == [(185, 187, 189, "edited")]
    key = blink_store.content_hash_of(doc.analysis)
    assert json.loads(blink_store.store_path().read_text())["clips"][key]["deleted"] == [96]
    # a restart: a new window opening the same clip gets the stored corrections
    second = make_window()
    open_and_wait_for_plan(qtbot, second, CLIP)
    assert events(second.document) == expected
    assert second.document.plan.loop_point != 96  # planned around the corrected set from the start
    # the project file carries them even when the store is gone
    project = tmp_path / "clip.navtalk.json"
    assert window._write_project(project)
    saved = json.loads(project.read_text())["blinks"]
    assert saved["deleted"] == [96] and saved["changed"][0]["kind"] == "one_eye"
    blink_store.store_path().unlink()
    third = make_window()
    with qtbot.waitSignal(third.loop.plan_ready, timeout=60000):
        assert third.open_project(project)
    assert events(third.document) == expected
    assert not third.document.analysis.events[0].both_eyes
    # reset to detected: one undo step, undoable
    third.document.reset_blinks()
    assert [o for *_f, o in events(third.document)] == ["detected", "detected"]
    assert third.document.undo_stack.undoText() == "Reset blinks to detected"
    third.document.undo_stack.undo()
    assert events(third.document) == expected


def test_refit_offer_shows_changes_before_applying(qtbot, window):
    """A face that half-closes its eyes: the artist adds one missed blink and fixes another; the studio
    offers to re-detect, lists the other missed blink, and adds it only on Apply (one undo step)."""
    from test_blink_edits import shallow_face

    open_and_wait_for_plan(qtbot, window, CLIP.with_name("liveportrait_d12.mp4"))
    doc, editor, timeline = window.document, window.blink_editor, window.timeline
    doc.set_analysis(shallow_face(doc.analysis))
    window.timeline.set_analysis(doc.analysis)
    assert [e.apex for e in doc.analysis.events] == [50]
    window.activateWindow()
    timeline.setFocus()
    qtbot.waitUntil(timeline.hasFocus)
    doc.set_playhead(93)
    qtbot.keyClick(timeline, Qt.Key.Key_B)
    assert "re-detect" not in window.message_bar.text()  # one correction is not yet "a few"
    doc.set_playhead(50)
    qtbot.keyClick(timeline, Qt.Key.Key_Return)
    qtbot.keyClick(timeline, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    assert "re-detect the rest of the clip" in window.message_bar.text()
    before = doc.blink_edits
    window.message_bar.action_button.click()
    dialog = window.refit_offer.dialog
    assert dialog is not None and dialog.isVisible()
    lines = [dialog.changes.item(i).text() for i in range(dialog.changes.count())]
    assert len(lines) == 1 and lines[0].startswith("+ new blink at frame 13")
    assert doc.blink_edits == before  # shown, not applied
    dialog.apply_button.click()
    assert [abs(e.apex - 136) <= 2 for e in doc.analysis.events] == [False, False, True]
    assert doc.undo_stack.undoText() == "Re-detect blinks with fitted thresholds"
    doc.undo_stack.undo()
    assert doc.blink_edits == before
