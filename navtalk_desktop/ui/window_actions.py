"""The studio window's actions, menus and toolbar (what each command is, its shortcut, where it appears).

Timeline keys (arrows, I/O/L, F) are window actions limited to the frame view + timeline area
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
        make_action(window, "Move loop point to playhead", d.set_loop_point_here, "L", editor=True),
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
    help_menu.addAction(make_action(window, "&About NavTalk Loop Studio", window._about))
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    for action in (window.open_action, window.save_action, None, window.undo_action, window.redo_action, None,
                   window.generate_action, window.export_action, None, window.settings_action):
        toolbar.addSeparator() if action is None else toolbar.addAction(action)
