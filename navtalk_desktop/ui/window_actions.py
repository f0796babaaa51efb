"""The studio window's actions, menus and toolbar (what each command is, its shortcut, where it appears).

Timeline keys (arrows, Space, J/K/L, I/O/P, F) are window actions limited to the frame view + timeline area
(WidgetWithChildrenShortcut), so they never steal keys from text fields in the panels.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence


def make_action(window, text: str, slot, shortcut=None, tip: str = "", editor: bool = False) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    if editor:  # keys like ← → only act while the frame view / timeline area has focus
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.editor.addAction(action)
    return action


def build_actions(window) -> None:
    d = window.document
    window.open_action = make_action(window, "&Open…", window.open_dialog, QKeySequence.StandardKey.Open,
                                     "Open a portrait image or a video")
    window.open_project_action = make_action(window, "Open &Project…", window.open_project_dialog, "Ctrl+Shift+O")
    window.save_action = make_action(window, "&Save Project", window.save_project, QKeySequence.StandardKey.Save)
    window.save_as_action = make_action(window, "Save Project &As…", window.save_project_as, "Ctrl+Shift+S")
    window.export_action = make_action(window, "&Export Loop", lambda: window.loop.export(), "Ctrl+E",
                                       "Export the loop")
    window.settings_action = make_action(window, "Se&ttings…", window.open_settings,
                                         QKeySequence.StandardKey.Preferences)
    window.generate_action = make_action(window, "&Generate", window.generate.generate, "Ctrl+G",
                                         "Generate a video of the open portrait with Kling")
    window.quit_action = make_action(window, "&Quit", window.close, QKeySequence.StandardKey.Quit)
    window.undo_action = d.undo_stack.createUndoAction(window, "&Undo")
    window.undo_action.setShortcut(QKeySequence("Ctrl+Z"))
    window.redo_action = d.undo_stack.createRedoAction(window, "&Redo")
    window.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
    window.timeline_actions = [
        make_action(window, "Next frame", lambda: d.step_playhead(1), "Right", editor=True),
        make_action(window, "Previous frame", lambda: d.step_playhead(-1), "Left", editor=True),
        make_action(window, "10 frames forward", lambda: d.step_playhead(10), "Shift+Right", editor=True),
        make_action(window, "10 frames back", lambda: d.step_playhead(-10), "Shift+Left", editor=True),
        make_action(window, "Next blink", lambda: d.jump_to_blink(1), "Ctrl+Right", editor=True),
        make_action(window, "Previous blink", lambda: d.jump_to_blink(-1), "Ctrl+Left", editor=True),
        make_action(window, "First frame", lambda: d.set_playhead(0), "Home", editor=True),
        make_action(window, "Last frame", lambda: d.set_playhead(d.frame_count - 1), "End", editor=True),
        None,
        make_action(window, "Set loop start at playhead", d.set_window_start_here, "I", editor=True),
        make_action(window, "Set loop end at playhead", d.set_window_end_here, "O", editor=True),
        # P, not L: L is the shuttle's "forwards" (J/K/L), as in every video editor
        make_action(window, "Move loop point to playhead", d.set_loop_point_here, "P", editor=True),
        None,
        make_action(window, "Zoom to fit", window.timeline.zoom_to_fit, "F", editor=True),
    ]
    blinks = window.blink_editor
    window.blink_actions = [
        make_action(window, "Select blink at playhead (again: next handle)", blinks.select_at_playhead, "Return",
                    editor=True),
        make_action(window, "Add blink at playhead", blinks.add_at_playhead, "B", editor=True),
        make_action(window, "Delete selected blink", blinks.delete_selected, QKeySequence.StandardKey.Delete,
                    editor=True),
        make_action(window, "Nudge blink edge back", lambda: blinks.nudge(-1), "Alt+Left", editor=True),
        make_action(window, "Nudge blink edge forward", lambda: blinks.nudge(1), "Alt+Right", editor=True),
        None,
        make_action(window, "Reset blinks to detected", d.reset_blinks),
        make_action(window, "Re-detect blinks with thresholds fitted to this face…", window.refit_offer.open_dialog),
        make_action(window, "New automatic loop from the corrected blinks", window.loop.replan_from_blinks),
    ]
    window.blink_actions[0].setShortcuts([QKeySequence("Return"), QKeySequence("Enter")])  # keypad Enter too
    window.snap_action = QAction("Snap to blink apexes", window, checkable=True)
    window.snap_action.setChecked(window.settings.snap_to_apex)
    window.snap_action.toggled.connect(window._set_snap)
    window.snap_check.setChecked(window.settings.snap_to_apex)
    window.snap_check.toggled.connect(window.snap_action.setChecked)
    window.landmarks_action = QAction("Show eye landmarks", window, checkable=True)
    window.landmarks_action.setChecked(window.settings.show_landmarks)
    window.landmarks_action.toggled.connect(window._set_landmarks)
    window.landmarks_check.setChecked(window.settings.show_landmarks)
    window.landmarks_check.toggled.connect(window.landmarks_action.setChecked)
    build_playback_actions(window)
    window.editor.fill_tools(window.play_action, window.play_seam_action, window.seam_view_action,
                             window.fit_action)


def build_playback_actions(window) -> None:
    """Space / J / K / L / Shift+Space, the seam view (S) and the frame view's zoom keys."""
    pb, fv = window.playback, window.frame_view
    window.play_action = make_action(window, "Play", pb.toggle, "Space", "Play or pause the loop (Space)", True)
    window.play_action.setToolTip("Play / pause the planned loop, wrap included (Space)")
    window.play_seam_action = make_action(window, "Play seam", pb.play_seam, "Shift+Space",
                                          "Play from 1 s before the wrap to 1 s after, repeating", True)
    window.play_seam_action.setToolTip("Play across the seam: 1 s before the wrap to 1 s after, repeating "
                                       "(Shift+Space)")
    window.seam_view_action = make_action(window, "Seam view", lambda: None, "S",
                                          "The loop's last frame beside its first", True)
    window.seam_view_action.setCheckable(True)
    window.seam_view_action.toggled.connect(window.editor.show_seam_view)
    window.seam_view_action.setToolTip("Last frame beside first, onion skin or difference (S)")
    window.fit_action = window.timeline_actions[-1]
    window.fit_action.setText("Fit")
    window.fit_action.setToolTip("Show the whole clip on the timeline (F)")
    window.playback_actions = [
        window.play_action,
        make_action(window, "Shuttle backwards", lambda: pb.shuttle(-1), "J", editor=True),
        make_action(window, "Stop", pb.stop, "K", editor=True),
        make_action(window, "Shuttle forwards", lambda: pb.shuttle(1), "L", editor=True),
        window.play_seam_action,
        None,
        window.seam_view_action,
        make_action(window, "Zoom frame in", fv.zoom_in, "+", editor=True),
        make_action(window, "Zoom frame out", fv.zoom_out, "-", editor=True),
        make_action(window, "Frame at 1:1", fv.zoom_actual_pixels, "1", editor=True),
        make_action(window, "Fit frame", fv.zoom_to_fit, "0", editor=True),
    ]
    window.playback_actions[7].setShortcuts([QKeySequence("+"), QKeySequence("=")])
    window.playback.playing_changed.connect(lambda on: window.play_action.setText("Pause" if on else "Play"))


def shortcut_lines(window) -> list[str]:
    """Every editor key, from the actions themselves (so the list cannot drift from the keys)."""
    lines = []
    for action in [*window.playback_actions, *window.timeline_actions, *getattr(window, "blink_actions", [])]:
        if action is not None and not action.shortcut().isEmpty():
            keys = " / ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
            lines.append(f"{keys}\t{action.text().replace('&', '')}")
    return lines


def show_shortcuts(window) -> None:
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.information(window, "Keyboard shortcuts", "\n".join(shortcut_lines(window)) +
                            "\n\nThe loop point moves with P (L is the shuttle's forwards).")


def build_menus(window) -> None:
    bar = window.menuBar()
    file_menu = bar.addMenu("&File")
    file_menu.addAction(window.open_action)
    window.recent_menu = file_menu.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(window._fill_recent)
    file_menu.addSeparator()
    for action in (window.open_project_action, window.save_action, window.save_as_action):
        file_menu.addAction(action)
    file_menu.addSeparator()
    file_menu.addAction(window.generate_action)
    file_menu.addAction(window.export_action)
    file_menu.addSeparator()
    file_menu.addAction(window.settings_action)
    window.file_menu = file_menu
    window.quit_separator = file_menu.addSeparator()
    file_menu.addAction(window.quit_action)
    edit = bar.addMenu("&Edit")
    edit.addAction(window.undo_action)
    edit.addAction(window.redo_action)
    window.edit_menu = edit
    playback = bar.addMenu("&Playback")
    for action in window.playback_actions:
        playback.addSeparator() if action is None else playback.addAction(action)
    timeline = bar.addMenu("&Timeline")
    for action in window.timeline_actions:
        timeline.addSeparator() if action is None else timeline.addAction(action)
    blinks = timeline.addMenu("&Blinks")
    for action in window.blink_actions:
        blinks.addSeparator() if action is None else blinks.addAction(action)
    timeline.addSeparator()
    timeline.addAction(window.snap_action)
    timeline.addAction(window.landmarks_action)
    window.view_menu = bar.addMenu("&View")
    for dock in (window.source_dock, window.generate_dock, window.export_dock, window.jobs_dock):
        window.view_menu.addAction(dock.toggleViewAction())
    help_menu = bar.addMenu("&Help")
    help_menu.addAction(make_action(window, "&Keyboard Shortcuts", lambda: show_shortcuts(window), "F1"))
    help_menu.addAction(make_action(window, "&About NavTalk Loop Studio", window._about))
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    for action in (window.open_action, window.save_action, None, window.undo_action, window.redo_action, None,
                   window.generate_action, window.export_action, None, window.settings_action):
        toolbar.addSeparator() if action is None else toolbar.addAction(action)
