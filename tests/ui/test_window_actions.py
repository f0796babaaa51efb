"""The window's actions are data (window_actions.ACTIONS): each declared once, each shown somewhere, no key twice."""

from __future__ import annotations

from navtalk_desktop.ui.window_actions import ACTIONS, MENUS, SUBMENUS, TOOLBAR


def test_every_action_is_declared_once_reachable_and_its_keys_unambiguous(qtbot, window):
    ids = [spec.id for spec in ACTIONS]
    assert len(ids) == len(set(ids))
    entries = [e for _menu, _title, items in MENUS for e in items] + [e for _t, items in SUBMENUS.values()
                                                                      for e in items] + list(TOOLBAR)
    named = {e for e in entries if e is not None and not e.startswith("@")}
    assert named == set(ids)  # every menu entry is a declared action, every action is in a menu
    keys = [key.toString() for action_id in ids for key in window.actions[action_id].shortcuts()]
    assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
    assert window.actions["timeline.loop_point"].shortcut().toString() == "P"
    assert [a.text() if a else None for a in window.actions.in_menu("edit")] == ["&Undo", "&Redo"]
