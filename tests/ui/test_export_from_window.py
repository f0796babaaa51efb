"""Exporting from the window: the written loop has the plan's frames; Cancel leaves nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices

from navtalk_desktop.core import media
from navtalk_desktop.core.loop_plan import make_plan


def test_export_writes_loop_with_planned_frame_count(qtbot, analysed_window, tmp_path):
    window = analysed_window
    doc, panel = window.document, window.export_panel
    info = doc.video_info
    # a user-edited plan, so the test does not depend on what auto chose
    doc.edit_plan(make_plan("pingpong", info.fps, info.frame_count, 95, duration=3.0), "test plan")
    plan = doc.plan
    out = tmp_path / "loop.mp4"
    panel.output_edit.setText(str(out))
    progress = []
    with qtbot.waitSignal(window.loop.export_finished, timeout=60000) as blocker:
        panel.export_button.click()
        assert panel.progress_bar.isVisible() and panel.cancel_button.isVisible()
        window.loop.export_panel.progress_bar.valueChanged.connect(progress.append)
    result = blocker.args[0]
    assert progress and max(progress) > 0  # the bar moved
    assert result is not None and result.path == out
    assert media.probe(out).frame_count == plan.output_frames == 90
    assert result.report.frame_count == plan.output_frames
    sidecar = json.loads(out.with_name(out.name + ".json").read_text())
    assert sidecar["plan"]["first"] == plan.first and sidecar["plan"]["last"] == plan.last
    # afterwards: the seam report and the buttons to find the file
    assert panel.result_box.isVisible()
    assert panel.path_label.text() == str(out) and panel.path_label.toolTip() == str(out)  # elided, whole in tip
    assert "verdict" in panel.result_label.text()
    assert panel.show_folder_button.isVisible() and panel.open_button.isVisible()
    assert panel.export_button.isVisible() and not panel.cancel_button.isVisible()
    # the buttons hand the folder / the file to the desktop (a real QDesktopServices handler catches them)
    opened = _open_urls_with(window, [panel.show_folder_button, panel.open_button])
    assert opened == [out.parent, out]
    # the verdict speaks of the exported plan: once the plan moves on, the box says so; undo, and it is current
    assert panel.result_box.title() == "Last export"
    doc.edit_plan(plan.with_window(plan.first + 2, plan.last + 2), "move")
    assert panel.result_box.title() == "Last export (of an earlier plan)"
    doc.undo_stack.undo()
    assert doc.plan == plan and panel.result_box.title() == "Last export"


class _UrlCatcher(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paths: list[Path] = []

    @Slot(QUrl)
    def handle(self, url: QUrl) -> None:
        self.paths.append(Path(url.toLocalFile()))


def _open_urls_with(window, buttons) -> list[Path]:
    catcher = _UrlCatcher()
    QDesktopServices.setUrlHandler("file", catcher, "handle")
    try:
        for button in buttons:
            button.click()
    finally:
        QDesktopServices.unsetUrlHandler("file")
    assert not window.message_bar.isVisible()  # opened, so no "no application could open" warning
    return catcher.paths


def test_export_gif_from_format_choice(qtbot, analysed_window, tmp_path):
    window = analysed_window
    panel = window.export_panel
    panel.output_edit.setText(str(tmp_path / "avatar.mp4"))
    panel.format_box.setCurrentIndex(panel.format_box.findData("gif"))
    assert panel.output_edit.text().endswith("avatar.gif")  # the name follows the format
    with qtbot.waitSignal(window.loop.export_finished, timeout=90000) as blocker:
        panel.export_button.click()
    result = blocker.args[0]
    assert result is not None and result.path.suffix == ".gif"
    assert media.probe(result.path).frame_count == window.document.plan.output_frames


def test_cancel_during_export_leaves_no_file(qtbot, analysed_window, tmp_path):
    window = analysed_window
    doc, panel = window.document, window.export_panel
    info = doc.video_info
    # a long, slow export (ProRes of a 6 s loop) so Cancel lands while ffmpeg runs
    doc.edit_plan(make_plan("pingpong", info.fps, info.frame_count, 95, duration=6.0), "long plan")
    panel.format_box.setCurrentIndex(panel.format_box.findData("mov"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "cancelled.mov"
    panel.output_edit.setText(str(out))
    with qtbot.waitSignal(window.loop.export_finished, timeout=60000) as blocker:
        panel.export_button.click()
        assert panel.cancel_button.isVisible()
        qtbot.waitUntil(lambda: bool(list(out_dir.glob(".cancelled.*"))), timeout=20000)  # ffmpeg is writing
        panel.cancel_button.click()
    assert blocker.args[0] is None
    assert "cancelled" in panel.status_label.text().lower()
    assert not out.exists()
    assert list(out_dir.iterdir()) == []  # no partial file, no sidecar
    assert panel.export_button.isVisible()


def test_export_to_unwritable_folder_explains(qtbot, analysed_window, tmp_path):
    window = analysed_window
    window.export_panel.output_edit.setText(str(tmp_path / "missing-folder" / "loop.mp4"))
    with qtbot.waitSignal(window.loop.export_finished, timeout=30000) as blocker:
        window.export_panel.export_button.click()
    assert blocker.args[0] is None
    assert "folder does not exist" in window.message_bar.text()


def test_strategy_and_duration_changes_replan_undoably(qtbot, analysed_window):
    window = analysed_window
    doc, panel = window.document, window.export_panel
    start = doc.plan
    panel.strategy_box.setCurrentIndex(panel.strategy_box.findData("pingpong"))
    panel.strategy_changed.emit("pingpong")  # what the combo's `activated` does
    assert doc.plan.strategy == "pingpong"
    assert doc.plan.loop_point == start.loop_point
    panel.duration_spin.setValue(3.0)
    assert abs(doc.plan.duration - 3.0) < 0.1
    assert f"→ {doc.plan.output_frames} frames" in panel.plan_label.text()
    doc.undo_stack.undo()
    doc.undo_stack.undo()
    assert doc.plan == start
    # the seam prediction follows the current plan
    qtbot.waitUntil(lambda: "Seam (predicted)" in panel.seam_label.text(), timeout=30000)


def test_studio_offers_morph_and_exports_it(qtbot, analysed_window, tmp_path):
    window = analysed_window
    doc, panel = window.document, window.export_panel
    index = panel.strategy_box.findData("morph")
    assert index >= 0 and "Morph" in panel.strategy_box.itemText(index)
    panel.strategy_box.setCurrentIndex(index)
    panel.strategy_changed.emit("morph")  # what the combo's `activated` does
    plan = doc.plan
    assert plan.strategy == "morph" and plan.crossfade_frames > 0
    assert "morph" in panel.plan_label.text()
    out = tmp_path / "morph.mp4"
    panel.output_edit.setText(str(out))
    with qtbot.waitSignal(window.loop.export_finished, timeout=90000) as blocker:
        panel.export_button.click()
    result = blocker.args[0]
    assert result is not None and media.probe(out).frame_count == plan.output_frames
    assert json.loads(out.with_name(out.name + ".json").read_text())["plan"]["strategy"] == "morph"
