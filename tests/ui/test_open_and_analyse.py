"""Opening sources in the window: the real clip is analysed in the background, images get a pre-flight."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from navtalk_desktop.core.resources import sample_portrait

from studio_helpers import ANNOTATIONS, CLIP, open_and_wait_for_plan


def test_real_clip_analysis_shows_annotated_blinks(qtbot, window):
    plan = open_and_wait_for_plan(qtbot, window, CLIP)
    doc = window.document
    truth = ANNOTATIONS[CLIP.name]
    assert doc.video_info.frame_count == truth["frames"]
    assert abs(float(doc.video_info.fps) - truth["fps"]) < 0.01
    events = window.timeline._events
    assert len(events) == len(truth["blinks"])
    for event, blink in zip(sorted(events, key=lambda e: e.apex), truth["blinks"]):
        assert abs(event.apex - blink["apex"]) <= 2
        assert event.start <= blink["apex"] <= event.end
    # the starting loop sits on one of the detected blinks, and the playhead shows it
    assert plan.loop_point in [e.apex for e in events]
    assert doc.playhead == plan.loop_point
    assert "2 blinks found" in window.source_panel.analysis_label.text()
    assert "480×480" in window.source_panel.facts_label.text()
    # the seam of the starting plan is predicted before any export
    qtbot.waitUntil(lambda: "Seam (predicted)" in window.export_panel.seam_label.text(), timeout=30000)


def test_second_open_uses_cached_analysis(qtbot, make_window):
    first = make_window()
    open_and_wait_for_plan(qtbot, first, CLIP)
    second = make_window()
    with qtbot.waitSignal(second.loop.analysis_finished, timeout=10000):
        second.open_path(CLIP)
    assert len(second.document.analysis.events) == len(first.document.analysis.events)


def test_image_shows_preflight_and_offers_fix(qtbot, window, tmp_path):
    small = tmp_path / "small.webp"
    Image.open(sample_portrait()).convert("RGB").save(small, "WEBP")
    window.open_path(small)
    panel = window.source_panel
    qtbot.waitUntil(lambda: "Checking" not in panel.preflight_label.text(), timeout=10000)
    assert "WEBP" in panel.preflight_label.text()
    assert panel.fix_button.isVisibleTo(window)
    assert window.frame_view.current_image() is not None  # the portrait is displayed
    panel.fix_button.click()
    qtbot.waitUntil(lambda: "Ready for Kling" in panel.preflight_label.text(), timeout=10000)
    assert window.loop.image_fix is True
    assert "converted" in panel.preflight_label.text().lower() or "•" in panel.preflight_label.text()


def test_good_portrait_is_ready(qtbot, window):
    window.open_path(sample_portrait())
    panel = window.source_panel
    qtbot.waitUntil(lambda: "Ready for Kling" in panel.preflight_label.text(), timeout=10000)
    assert not panel.fix_button.isVisibleTo(window)
    assert "512×512" in panel.facts_label.text()


def test_unusable_files_give_a_message_not_a_crash(qtbot, window, tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video")
    window.open_path(bogus)
    qtbot.waitUntil(lambda: window.message_bar.isVisible(), timeout=10000)
    assert "not a video" in window.message_bar.text()
    assert window.message_bar.level == "error"
    window.message_bar.hide()
    window.open_path(tmp_path / "missing.mp4")
    assert "File not found" in window.message_bar.text()


def test_cancel_analysis(qtbot, window, tmp_path, monkeypatch):
    # a fresh cache, so the analysis really runs and can be cancelled
    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "cache"))
    window.open_path(CLIP)
    panel = window.source_panel
    qtbot.waitUntil(lambda: bool(window.runner.running("analysis")), timeout=10000)
    qtbot.waitUntil(lambda: panel.analysis_bar.value() > 0, timeout=20000)
    panel.analysis_cancel.click()
    qtbot.waitUntil(lambda: "cancelled" in panel.analysis_label.text().lower(), timeout=20000)
    assert window.document.analysis is None
    assert window.document.plan is None


def test_drop_a_file_opens_it(qtbot, window):
    from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(Path(sample_portrait())))])
    enter = QDragEnterEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    window.dragEnterEvent(enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPoint(50, 50), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier)
    window.dropEvent(drop)
    assert window.document.source_kind == "image"
    assert window.document.source_path.name == "sample_portrait.png"
    qtbot.waitUntil(lambda: "Ready for Kling" in window.source_panel.preflight_label.text(), timeout=10000)
    assert window.settings.recent_files[0].endswith("sample_portrait.png")
