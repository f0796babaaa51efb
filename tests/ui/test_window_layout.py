"""The window's dock layout: the default tab groups, each with one visible tab bar, fresh and restored."""

from __future__ import annotations

from PySide6.QtWidgets import QTabBar

from navtalk_desktop.core.settings import Settings, load_settings


def _visible_tab_bars(window) -> list[tuple[str, ...]]:
    return sorted(tuple(bar.tabText(i) for i in range(bar.count()))
                  for bar in window.findChildren(QTabBar) if bar.isVisible() and bar.parent() is window)


def _assert_default_groups(qtbot, window) -> None:
    qtbot.wait(50)  # runs the event loop: Qt deletes the tab bars it no longer uses (deferred deletes)
    assert _visible_tab_bars(window) == [("Export", "Live Preview"), ("Generate", "Jobs")]
    assert window.tabifiedDockWidgets(window.export_dock) == [window.preview_dock]
    assert window.tabifiedDockWidgets(window.generate_dock) == [window.jobs_dock]
    # the first tab of each group is the one in front
    assert not window.generate_dock.visibleRegion().isEmpty() and window.jobs_dock.visibleRegion().isEmpty()
    assert not window.export_dock.visibleRegion().isEmpty() and window.preview_dock.visibleRegion().isEmpty()


def test_default_and_restored_dock_layout(qtbot, make_window):
    first = make_window(Settings())
    _assert_default_groups(qtbot, first)
    first.close()  # saves geometry and dock state
    settings = load_settings()
    assert settings.window_state
    _assert_default_groups(qtbot, make_window(settings))
