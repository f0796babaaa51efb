"""Background work: progress, errors and cancellation reach the GUI thread; closing the window stops it all."""

from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import QThreadPool

from navtalk_desktop.core.errors import InputError
from navtalk_desktop.core.loop_plan import make_plan
from navtalk_desktop.ui.tasks import TaskRunner

from studio_helpers import CLIP


def test_runner_delivers_progress_and_result_on_gui_thread(qtbot):
    runner = TaskRunner()
    gui_thread = threading.get_ident()
    seen = []

    def work(ctx):
        for i in range(5):
            ctx.progress((i + 1) / 5, f"step {i}")
            time.sleep(0.06)
        return threading.get_ident()

    with qtbot.waitSignal(runner.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
        handle = runner.start("work", work, on_progress=lambda f, t: seen.append((f, t, threading.get_ident())),
                              on_success=lambda r: seen.append(("result", r, threading.get_ident())))
    assert handle.done
    assert [s[0] for s in seen[:-1]][-1] == 1.0
    assert all(s[2] == gui_thread for s in seen)  # every callback ran on the GUI thread
    assert seen[-1][0] == "result" and seen[-1][1] != gui_thread  # the work itself did not


def test_runner_reports_expected_and_unexpected_errors(qtbot):
    runner = TaskRunner()
    errors = []

    def bad_input(_ctx):
        raise InputError("the file is empty (0 bytes): x.mp4")

    def bug(_ctx):
        return 1 / 0

    for fn in (bad_input, bug):
        with qtbot.waitSignal(runner.busy_changed, timeout=5000, check_params_cb=lambda busy: not busy):
            runner.start(fn.__name__, fn, on_failure=errors.append)
    assert errors[0].expected and errors[0].message == "the file is empty (0 bytes): x.mp4"
    assert not errors[1].expected and "ZeroDivisionError" in errors[1].message
    assert "Traceback" in errors[1].details


def test_runner_cancel_and_shutdown(qtbot):
    runner = TaskRunner()
    outcome = []

    def slow(ctx):
        while True:
            ctx.raise_if_cancelled()
            time.sleep(0.01)

    handle = runner.start("slow", slow, on_cancelled=lambda: outcome.append("cancelled"),
                          on_success=lambda _r: outcome.append("succeeded"))
    qtbot.wait(50)
    assert runner.busy
    handle.cancel()
    qtbot.waitUntil(lambda: outcome == ["cancelled"], timeout=5000)
    assert runner.shutdown(5000)
    late = runner.start("late", lambda ctx: 1, on_success=lambda _r: outcome.append("late"))
    assert late.done  # refused after shutdown
    qtbot.wait(50)
    assert outcome == ["cancelled"]


def test_many_tasks_with_many_progress_signals(qtbot):
    """Stress the GUI-owned signals pattern: hundreds of short tasks, thousands of emits, no crash or loss."""
    runner = TaskRunner()
    results = []

    def work(ctx, i=0):
        for k in range(10):
            ctx.progress(k / 10, f"{k}")
        return i

    for i in range(300):
        runner.start("burst", lambda ctx, i=i: work(ctx, i), on_success=results.append)
    qtbot.waitUntil(lambda: len(results) == 300, timeout=30000)
    assert sorted(results) == list(range(300))
    assert QThreadPool.globalInstance().waitForDone(5000)


def test_closing_during_analysis_and_export_cancels_cleanly(qtbot, make_window, tmp_path, monkeypatch):
    window = make_window()
    # analysis with an empty cache: long enough to still run when the window closes
    monkeypatch.setenv("NAVTALK_CACHE_DIR", str(tmp_path / "fresh-cache"))
    window.open_path(CLIP)
    qtbot.waitUntil(lambda: bool(window.runner.running("analysis")), timeout=10000)
    qtbot.waitUntil(lambda: window.source_panel.analysis_bar.value() > 0, timeout=20000)
    started = time.monotonic()
    window.close()
    assert time.monotonic() - started < 10
    assert not window.runner.busy or all(t.cancel_token.cancelled for t in window.runner.running())
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    # nothing half-written in the landmarks cache
    assert not list((tmp_path / "fresh-cache").rglob("*.part*"))


def test_closing_during_export_leaves_no_file(qtbot, analysed_window, tmp_path):
    window = analysed_window
    info = window.document.video_info
    window.document.edit_plan(make_plan("pingpong", info.fps, info.frame_count, 95, duration=6.0), "long")
    window.export_panel.format_box.setCurrentIndex(window.export_panel.format_box.findData("mov"))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    out = out_dir / "closing.mov"
    window.export_panel.output_edit.setText(str(out))
    window.export_panel.export_button.click()
    qtbot.waitUntil(lambda: bool(list(out_dir.glob(".closing.*"))), timeout=20000)
    window.close()
    assert QThreadPool.globalInstance().activeThreadCount() == 0
    assert not out.exists()
    assert list(out_dir.iterdir()) == []


def test_unsaved_changes_ask_before_closing(qtbot, make_window, monkeypatch):
    window = make_window()
    with qtbot.waitSignal(window.loop.plan_ready, timeout=60000):
        window.open_path(CLIP)
    assert not window.document.is_modified  # opening a file is not an edit
    window.document.set_playhead(window.document.plan.loop_point + 2)
    assert window.document.set_loop_point_here()  # a user edit
    assert window.document.is_modified
    asked = []
    window.ask_to_save = lambda: asked.append(True) or False  # the user picks Cancel
    window.close()
    assert asked and window.isVisible()
    window.ask_to_save = lambda: True  # now Discard
    window.close()
    assert not window.isVisible()


@pytest.mark.parametrize("answer, expect_closed", [("discard", True), ("cancel", False)])
def test_unsaved_dialog_buttons(qtbot, make_window, monkeypatch, answer, expect_closed):
    from PySide6.QtWidgets import QMessageBox

    window = make_window()
    window.ask_to_save = window._ask_to_save  # the real dialog
    window.document.set_source(CLIP, "video")
    window.document.mark_modified()  # a user edit (opening alone leaves the project unmodified)
    button = {"discard": QMessageBox.StandardButton.Discard, "cancel": QMessageBox.StandardButton.Cancel}[answer]
    monkeypatch.setattr(QMessageBox, "exec", lambda self: button)
    window.close()
    assert window.isVisible() is (not expect_closed)
    window.ask_to_save = lambda: True


def test_exception_hook_tells_the_user_and_logs(qtbot, window, monkeypatch):
    import logging
    import sys

    from PySide6.QtWidgets import QMessageBox

    from navtalk_desktop.ui.app import install_exception_hook

    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append((box.text(), box.detailedText())) or 0)
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # restored after the test
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("navtalk_desktop.ui").addHandler(handler)
    try:
        install_exception_hook(lambda: window)
        try:
            raise ValueError("a bug in a slot")
        except ValueError:
            sys.excepthook(*sys.exc_info())
    finally:
        logging.getLogger("navtalk_desktop.ui").removeHandler(handler)
    assert shown and "ValueError: a bug in a slot" in shown[0][0]
    assert "Your work is still open" in shown[0][0]
    assert "Traceback" in shown[0][1]
    assert any("a bug in a slot" in r.getMessage() for r in records)


def test_window_raises_the_pool_size_so_generation_does_not_starve_exports(window):
    assert QThreadPool.globalInstance().maxThreadCount() >= 8


def test_closing_the_window_stops_the_preview_audio_and_timers(qtbot, make_window):
    """The preview's player owns an audio stream and a paint timer: closing the window ends both."""
    from preview_helpers import RecordingPlayer

    from navtalk_desktop.core.speech.session import LipSyncSession

    window = make_window()
    recorder = RecordingPlayer()
    closed = []
    recorder.close = lambda: closed.append(True)
    window.preview_panel.player._session = LipSyncSession(player=recorder)
    window.preview_panel.player._timer.start(40)
    window.ask_to_save = lambda: True
    window.close()
    assert closed == [True], "the audio output was left open"
    assert not window.preview_panel.player._timer.isActive()


def test_a_task_in_a_lane_supersedes_the_previous_one(qtbot):
    """The runner drops a superseded task's late progress and result; the newer task's arrive."""
    runner = TaskRunner(pool=QThreadPool())
    release, running = threading.Event(), threading.Event()
    got, progress = [], []

    def slow(ctx):
        running.set()
        release.wait(5)
        ctx.progress(0.5, "late")
        return "old"

    runner.start("t", slow, on_success=got.append, on_progress=lambda f, t: progress.append(t), lane="L")
    assert running.wait(5)  # superseded mid-run, not before it started
    second = runner.start("t", lambda ctx: "new", on_success=got.append, lane="L")
    qtbot.waitUntil(lambda: second.done, timeout=5000)
    release.set()
    qtbot.waitUntil(lambda: not runner.busy, timeout=5000)
    qtbot.wait(50)
    assert got == ["new"] and progress == []
    third = runner.start("t", lambda ctx: "stopped", on_success=got.append, lane="L")
    runner.supersede("L")  # Stop: nothing of it arrives
    qtbot.waitUntil(lambda: third.done, timeout=5000)
    assert got == ["new"] and third.cancel_token.cancelled
    runner.shutdown()


def test_work_outside_the_pool_takes_a_lane_and_a_newer_task_drops_it(qtbot):
    """A claimed lane (the preview's streamed speech): a pool task started there cancels the claim and drops
    what it still delivers; after `release` the lane no longer cancels it."""
    runner = TaskRunner(pool=QThreadPool())
    got, stopped = [], []
    claim = runner.claim("L", "stream", on_cancel=lambda: stopped.append(True))
    deliver = claim.current(got.append)
    deliver("first chunk")
    task = runner.start("t", lambda ctx: "offline", on_success=got.append, lane="L")
    deliver("late chunk")  # the stream's next update, after it was superseded
    qtbot.waitUntil(lambda: task.done, timeout=5000)
    assert got == ["first chunk", "offline"] and stopped == [True] and claim.cancel_token.cancelled
    ended = runner.claim("L", "stream", on_cancel=lambda: stopped.append("ended"))
    runner.release(ended)
    runner.supersede("L")
    assert stopped == [True] and not ended.cancel_token.cancelled
    runner.shutdown()
    after = runner.claim("L", "stream")  # a runner that has shut down: the claim delivers nothing
    after.current(got.append)("never")
    assert got == ["first chunk", "offline"]
