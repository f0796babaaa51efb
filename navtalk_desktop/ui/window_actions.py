"""The studio window's commands as data: each action's id, text, keys, tips and callback, then the menus and the
toolbar that show them (napari declares its `qactions` the same way).

`build(window)` turns the table into QActions once; the window keeps the result (`WindowActions`) and looks
actions up by id. A callback receives the window and goes through its public API, never its private parts.
Timeline keys (arrows, Space, J/K/L, I/O/P, F) are `editor` actions, limited to the frame view + timeline
area (WidgetWithChildrenShortcut), so they never steal keys from text fields in the panels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence

Std = QKeySequence.StandardKey


@dataclass(frozen=True)
class ActionSpec:
    """One command. `callback(window)` runs when it triggers; a checkable one has `toggled(window, on)`."""

    id: str
    text: str
    callback: Callable[[Any], object] | None = None
    shortcuts: tuple = ()  # key strings or QKeySequence.StandardKey; every one triggers it
    status_tip: str = ""
    tooltip: str = ""
    editor: bool = False  # only while the frame view / timeline area has focus
    toggled: Callable[[Any, bool], object] | None = None  # makes the action checkable
    checked: Callable[[Any], bool] | None = None  # its state when the window opens
    mirror: Callable[[Any], Any] | None = None  # a check box of the window that shows and sets the same state
    create: Callable[[Any], QAction] | None = None  # an action Qt makes itself (undo / redo)


def _step(delta: int) -> Callable[[Any], object]:
    return lambda w: w.document.step_playhead(delta)


ACTIONS: tuple[ActionSpec, ...] = (
    # --- file ---------------------------------------------------------------------------------------------
    ActionSpec("file.open", "&Open…", lambda w: w.open_dialog(), (Std.Open,), "Open a portrait image or a video"),
    ActionSpec("file.open_project", "Open &Project…", lambda w: w.open_project_dialog(), ("Ctrl+Shift+O",)),
    ActionSpec("file.save", "&Save Project", lambda w: w.save_project(), (Std.Save,)),
    ActionSpec("file.save_as", "Save Project &As…", lambda w: w.save_project_as(), ("Ctrl+Shift+S",)),
    ActionSpec("file.export", "&Export Loop", lambda w: w.loop.export(), ("Ctrl+E",), "Export the loop"),
    ActionSpec("file.settings", "Se&ttings…", lambda w: w.open_settings(), (Std.Preferences,)),
    ActionSpec("file.generate", "&Generate", lambda w: w.generate.generate(), ("Ctrl+G",),
               "Generate a video of the open portrait with Kling"),
    ActionSpec("file.quit", "&Quit", lambda w: w.close(), (Std.Quit,)),
    # --- edit ---------------------------------------------------------------------------------------------
    ActionSpec("edit.undo", "&Undo", shortcuts=("Ctrl+Z",),
               create=lambda w: w.document.undo_stack.createUndoAction(w, "&Undo")),
    ActionSpec("edit.redo", "&Redo", shortcuts=("Ctrl+Shift+Z", "Ctrl+Y"),
               create=lambda w: w.document.undo_stack.createRedoAction(w, "&Redo")),
    # --- playhead and loop markers ------------------------------------------------------------------------------
    ActionSpec("timeline.next_frame", "Next frame", _step(1), ("Right",), editor=True),
    ActionSpec("timeline.previous_frame", "Previous frame", _step(-1), ("Left",), editor=True),
    ActionSpec("timeline.forward_10", "10 frames forward", _step(10), ("Shift+Right",), editor=True),
    ActionSpec("timeline.back_10", "10 frames back", _step(-10), ("Shift+Left",), editor=True),
    ActionSpec("timeline.next_blink", "Next blink", lambda w: w.document.jump_to_blink(1), ("Ctrl+Right",),
               editor=True),
    ActionSpec("timeline.previous_blink", "Previous blink", lambda w: w.document.jump_to_blink(-1), ("Ctrl+Left",),
               editor=True),
    ActionSpec("timeline.first_frame", "First frame", lambda w: w.document.set_playhead(0), ("Home",), editor=True),
    ActionSpec("timeline.last_frame", "Last frame", lambda w: w.document.set_playhead(w.document.frame_count - 1),
               ("End",), editor=True),
    ActionSpec("timeline.loop_start", "Set loop start at playhead", lambda w: w.document.set_window_start_here(),
               ("I",), editor=True),
    ActionSpec("timeline.loop_end", "Set loop end at playhead", lambda w: w.document.set_window_end_here(),
               ("O",), editor=True),
    # P, not L: L is the shuttle's "forwards" (J/K/L), as in every video editor
    ActionSpec("timeline.loop_point", "Move loop point to playhead", lambda w: w.document.set_loop_point_here(),
               ("P",), editor=True),
    ActionSpec("timeline.fit", "Fit", lambda w: w.timeline.zoom_to_fit(), ("F",),
               tooltip="Show the whole clip on the timeline (F)", editor=True),
    ActionSpec("timeline.snap", "Snap to blink apexes", toggled=lambda w, on: w.set_snap(on),
               checked=lambda w: w.settings.snap_to_apex, mirror=lambda w: w.snap_check),
    ActionSpec("timeline.landmarks", "Show eye landmarks", toggled=lambda w, on: w.set_show_landmarks(on),
               checked=lambda w: w.settings.show_landmarks, mirror=lambda w: w.landmarks_check),
    # --- blink corrections --------------------------------------------------------------------------------------
    ActionSpec("blinks.select", "Select blink at playhead (again: next handle)",
               lambda w: w.blink_editor.select_at_playhead(), ("Return", "Enter"), editor=True),  # keypad Enter too
    ActionSpec("blinks.add", "Add blink at playhead", lambda w: w.blink_editor.add_at_playhead(), ("B",),
               editor=True),
    ActionSpec("blinks.delete", "Delete selected blink", lambda w: w.blink_editor.delete_selected(), (Std.Delete,),
               editor=True),
    ActionSpec("blinks.nudge_back", "Nudge blink edge back", lambda w: w.blink_editor.nudge(-1), ("Alt+Left",),
               editor=True),
    ActionSpec("blinks.nudge_forward", "Nudge blink edge forward", lambda w: w.blink_editor.nudge(1), ("Alt+Right",),
               editor=True),
    ActionSpec("blinks.reset", "Reset blinks to detected", lambda w: w.document.reset_blinks()),
    ActionSpec("blinks.refit", "Re-detect blinks with thresholds fitted to this face…",
               lambda w: w.refit_offer.open_dialog()),
    ActionSpec("blinks.replan", "New automatic loop from the corrected blinks", lambda w: w.loop.replan_from_blinks()),
    # --- playback and the frame view --------------------------------------------------------------------------
    ActionSpec("playback.play", "Play", lambda w: w.playback.toggle(), ("Space",), "Play or pause the loop (Space)",
               "Play / pause the planned loop, wrap included (Space)", editor=True),
    ActionSpec("playback.shuttle_back", "Shuttle backwards", lambda w: w.playback.shuttle(-1), ("J",), editor=True),
    ActionSpec("playback.stop", "Stop", lambda w: w.playback.stop(), ("K",), editor=True),
    ActionSpec("playback.shuttle_forward", "Shuttle forwards", lambda w: w.playback.shuttle(1), ("L",), editor=True),
    ActionSpec("playback.play_seam", "Play seam", lambda w: w.playback.play_seam(), ("Shift+Space",),
               "Play from 1 s before the wrap to 1 s after, repeating",
               "Play across the seam: 1 s before the wrap to 1 s after, repeating (Shift+Space)", editor=True),
    ActionSpec("playback.seam_view", "Seam view", shortcuts=("S",), status_tip="The loop's last frame beside its first",
               tooltip="Last frame beside first, onion skin or difference (S)", editor=True,
               toggled=lambda w, on: w.editor.show_seam_view(on)),
    ActionSpec("frame.zoom_in", "Zoom frame in", lambda w: w.frame_view.zoom_in(), ("+", "="), editor=True),
    ActionSpec("frame.zoom_out", "Zoom frame out", lambda w: w.frame_view.zoom_out(), ("-",), editor=True),
    ActionSpec("frame.actual_pixels", "Frame at 1:1", lambda w: w.frame_view.zoom_actual_pixels(), ("1",),
               editor=True),
    ActionSpec("frame.fit", "Fit frame", lambda w: w.frame_view.zoom_to_fit(), ("0",), editor=True),
    # --- help ---------------------------------------------------------------------------------------------
    ActionSpec("help.shortcuts", "&Keyboard Shortcuts", lambda w: show_shortcuts(w), ("F1",)),
    ActionSpec("help.about", "&About NavTalk Loop Studio", lambda w: w.show_about()),
)

#: The menu bar: (id, title, entries); an entry is an action id, None for a separator, or "@<menu id>" for a
#: submenu ("@recent": the recent files, filled when it opens; "@docks": the panels' show/hide toggles).
MENUS: tuple[tuple[str, str, tuple], ...] = (
    ("file", "&File", ("file.open", "@recent", None, "file.open_project", "file.save", "file.save_as", None,
                       "file.generate", "file.export", None, "file.settings", None, "file.quit")),
    ("edit", "&Edit", ("edit.undo", "edit.redo")),
    ("playback", "&Playback", ("playback.play", "playback.shuttle_back", "playback.stop", "playback.shuttle_forward",
                               "playback.play_seam", None, "playback.seam_view", "frame.zoom_in", "frame.zoom_out",
                               "frame.actual_pixels", "frame.fit")),
    ("timeline", "&Timeline", ("timeline.next_frame", "timeline.previous_frame", "timeline.forward_10",
                               "timeline.back_10", "timeline.next_blink", "timeline.previous_blink",
                               "timeline.first_frame", "timeline.last_frame", None, "timeline.loop_start",
                               "timeline.loop_end", "timeline.loop_point", None, "timeline.fit", "@blinks", None,
                               "timeline.snap", "timeline.landmarks")),
    ("view", "&View", ("@docks",)),
    ("help", "&Help", ("help.shortcuts", "help.about")),
)
SUBMENUS: dict[str, tuple[str, tuple]] = {
    "recent": ("Open &Recent", ()),
    "blinks": ("&Blinks", ("blinks.select", "blinks.add", "blinks.delete", "blinks.nudge_back",
                           "blinks.nudge_forward", None, "blinks.reset", "blinks.refit", "blinks.replan")),
}
TOOLBAR = ("file.open", "file.save", None, "edit.undo", "edit.redo", None, "file.generate", "file.export", None,
           "file.settings")
#: The menus whose keys Help ▸ Keyboard Shortcuts lists, in this order.
SHORTCUT_MENUS = ("playback", "timeline", "blinks")


class WindowActions:
    """The window's QActions by id, and its menus by id (`in_menu` keeps each menu's order and separators)."""

    def __init__(self) -> None:
        self.actions: dict[str, QAction] = {}
        self.menus: dict[str, Any] = {}  # QMenu by menu id
        self.entries: dict[str, list[QAction | None]] = {}  # each menu's actions, None for a separator

    def __getitem__(self, action_id: str) -> QAction:
        return self.actions[action_id]

    def in_menu(self, menu_id: str) -> list[QAction | None]:
        return self.entries[menu_id]


def _make(window, spec: ActionSpec) -> QAction:
    action = spec.create(window) if spec.create is not None else QAction(spec.text, window)
    keys = [QKeySequence(s) for s in spec.shortcuts]
    keys = [k for k in keys if not k.isEmpty()]  # a standard key this platform does not bind (Preferences)
    if keys:
        action.setShortcuts(keys)
    if spec.status_tip:
        action.setStatusTip(spec.status_tip)
    if spec.tooltip:
        action.setToolTip(spec.tooltip)
    if spec.callback is not None:
        action.triggered.connect(lambda _checked=False, cb=spec.callback: cb(window))
    if spec.toggled is not None:
        action.setCheckable(True)
        if spec.checked is not None:
            action.setChecked(spec.checked(window))
        action.toggled.connect(lambda on, cb=spec.toggled: cb(window, on))
    if spec.mirror is not None:
        box = spec.mirror(window)
        box.setChecked(action.isChecked())
        box.toggled.connect(action.setChecked)
        action.toggled.connect(box.setChecked)
    if spec.editor:  # keys like ← → only act while the frame view / timeline area has focus
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        window.editor.addAction(action)
    return action


def build(window) -> WindowActions:
    """Every action of ACTIONS, the menu bar of MENUS and the main toolbar, on `window`."""
    built = WindowActions()
    for spec in ACTIONS:
        built.actions[spec.id] = _make(window, spec)
    bar = window.menuBar()
    for menu_id, title, entries in MENUS:
        _fill_menu(window, built, menu_id, bar.addMenu(title), entries)
    built.menus["recent"].aboutToShow.connect(lambda: window.fill_recent_menu(built.menus["recent"]))
    toolbar = window.addToolBar("Main")
    toolbar.setObjectName("main_toolbar")
    for action_id in TOOLBAR:
        toolbar.addSeparator() if action_id is None else toolbar.addAction(built[action_id])
    return built


def _fill_menu(window, built: WindowActions, menu_id: str, menu, entries: tuple) -> None:
    built.menus[menu_id] = menu
    built.entries[menu_id] = []
    for entry in entries:
        if entry is None:
            menu.addSeparator()
            built.entries[menu_id].append(None)
        elif entry == "@docks":
            for dock in (window.source_dock, window.generate_dock, window.export_dock, window.jobs_dock):
                menu.addAction(dock.toggleViewAction())
        elif entry.startswith("@"):
            title, sub_entries = SUBMENUS[entry[1:]]
            _fill_menu(window, built, entry[1:], menu.addMenu(title), sub_entries)
        else:
            menu.addAction(built[entry])
            built.entries[menu_id].append(built[entry])


def shortcut_lines(window) -> list[str]:
    """Every editor key, from the actions themselves (so the list cannot drift from the keys)."""
    lines = []
    for menu_id in SHORTCUT_MENUS:
        for action in window.actions.in_menu(menu_id):
            if action is not None and not action.shortcut().isEmpty():
                keys = " / ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
                lines.append(f"{keys}\t{action.text().replace('&', '')}")
    return lines


def show_shortcuts(window) -> None:
    from PySide6.QtWidgets import QMessageBox

    QMessageBox.information(window, "Keyboard shortcuts", "\n".join(shortcut_lines(window)) +
                            "\n\nThe loop point moves with P (L is the shuttle's forwards).")
