"""Live preview without OpenGL (the offscreen pass): the factory's fallback and its memory, the raster view,
and loop playback timing (source frame rate, wrap without a hitch, play/pause, one-shot)."""

from __future__ import annotations

import os

# Under offscreen a QOpenGLWidget must fail cleanly, never reach for a GLX display (that segfaults);
# read when the QApplication starts, which is after test collection.
os.environ.setdefault("QT_QPA_OFFSCREEN_NO_GLX", "1")

import time  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from preview_helpers import (colour_frames, image_array, index_of_colour, pump,  # noqa: E402
                             shown_centre_colour, wait_until)
from PySide6.QtGui import QGuiApplication  # noqa: E402

from navtalk_desktop.core.settings import Settings, load_settings, save_settings  # noqa: E402
from navtalk_desktop.ui.preview import view_factory  # noqa: E402
from navtalk_desktop.ui.preview.player import LoopPlayer  # noqa: E402
from navtalk_desktop.ui.preview.raster_view import RasterPreviewView  # noqa: E402
from navtalk_desktop.ui.preview.view_factory import create_preview_view  # noqa: E402


@pytest.fixture
def offscreen(qapp):
    if QGuiApplication.platformName() != "offscreen":
        pytest.skip("runs in the offscreen pass (the GL pass covers xcb)")


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def raster_view(qtbot):
    view = RasterPreviewView()
    qtbot.addWidget(view)
    view.resize(320, 180)
    view.show()
    qtbot.waitExposed(view)
    return view


# --- the factory ------------------------------------------------------------------------------------------------
def test_offscreen_falls_back_to_raster_and_remembers_it(offscreen, monkeypatch):
    monkeypatch.delenv("NAVTALK_PREVIEW", raising=False)
    settings = Settings()
    view = create_preview_view(settings)
    assert view.backend == "raster" and isinstance(view, RasterPreviewView)
    assert "offscreen" in view.backend_reason
    assert settings.preview_backend == "raster"
    assert load_settings().preview_backend == "raster"  # on disk now, not only at exit
    again = create_preview_view(load_settings())  # the next launch does not try OpenGL again
    assert again.backend == "raster" and "earlier run" in again.backend_reason


def test_remembering_writes_only_its_own_field(offscreen, monkeypatch):
    monkeypatch.delenv("NAVTALK_PREVIEW", raising=False)
    save_settings(Settings(export_duration=6.0, region="cn"))
    in_memory = Settings(export_duration=2.0)  # the window's unsaved state is not frozen into the file
    create_preview_view(in_memory)
    stored = load_settings()
    assert stored.preview_backend == "raster" and stored.export_duration == 6.0 and stored.region == "cn"


def test_environment_forces_a_backend(offscreen, monkeypatch):
    monkeypatch.setenv("NAVTALK_PREVIEW", "raster")
    view = create_preview_view(Settings())
    assert view.backend == "raster" and "NAVTALK_PREVIEW=raster" in view.backend_reason
    assert load_settings().preview_backend == "auto"  # a forced choice is not a failure to remember
    monkeypatch.setenv("NAVTALK_PREVIEW", "gl")  # impossible here: refused with the reason, no crash
    view = create_preview_view(Settings())
    assert view.backend == "raster" and "NAVTALK_PREVIEW=gl ignored" in view.backend_reason


def test_a_gl_start_that_never_finished_means_raster(offscreen, monkeypatch):
    """'probing' left in the settings = the last launch died while the GL context started (a bad driver)."""
    monkeypatch.delenv("NAVTALK_PREVIEW", raising=False)
    save_settings(Settings(preview_backend=view_factory.PROBING))
    view = create_preview_view(load_settings())
    assert view.backend == "raster" and "did not start on the last run" in view.backend_reason
    assert load_settings().preview_backend == "raster"


def test_gl_view_failing_at_runtime_is_replaced_by_raster(offscreen, qtbot, monkeypatch):
    """A context that fails after the factory chose GL (a driver that lies): the panel swaps views."""
    from navtalk_desktop.ui.preview.gl_view import GLPreviewView
    from navtalk_desktop.ui.preview.preview_panel import PreviewPanel

    monkeypatch.setattr(view_factory, "choose_backend", lambda settings: ("gl", "OpenGL view"))
    settings = Settings()
    panel = PreviewPanel(settings=settings)
    qtbot.addWidget(panel)
    assert isinstance(panel.view, GLPreviewView)
    panel.player.set_loop(colour_frames(10), 25.0, play=False)
    with qtbot.waitSignal(panel.view_replaced, timeout=5000) as blocker:
        panel.resize(400, 400)
        panel.show()
    new_view = blocker.args[0]
    assert new_view is panel.view and new_view.backend == "raster"
    assert load_settings().preview_backend == "raster" and settings.preview_backend == "raster"
    assert "OpenGL" in panel.status_label.text()
    panel.player.seek(7)  # the player now draws into the raster view
    wait_until(qtbot, lambda: new_view.paint_count > 0)
    assert index_of_colour(shown_centre_colour(new_view)) == 7
    panel.runner.shutdown()


# --- the raster view --------------------------------------------------------------------------------------------
def test_frame_is_scaled_to_fit_and_centred(raster_view, qtbot):
    frame = np.zeros((90, 160, 3), np.uint8)
    frame[:] = (200, 40, 10)
    raster_view.resize(400, 400)
    raster_view.set_frame(frame, 3)
    qtbot.wait(20)
    rect = raster_view.image_rect()
    assert (rect.width(), rect.height()) == (400, 225) and rect.top() == (400 - 225) // 2
    pixels = image_array(raster_view.grab_image())
    assert tuple(pixels[200, 200]) == (200, 40, 10)
    assert tuple(pixels[20, 200]) != (200, 40, 10)  # letterbox above the frame
    with pytest.raises(ValueError, match="uint8 RGB"):
        raster_view.set_frame(np.zeros((4, 4), np.float32))


def test_image_made_once_per_frame_change_not_per_paint(raster_view, qtbot):
    frames = colour_frames(3)
    raster_view.set_frame(frames[0], 0)
    qtbot.wait(20)
    uploads, paints = raster_view.upload_count, raster_view.paint_count
    for _ in range(5):
        raster_view.repaint()
    raster_view.set_overlay_text("aa")
    raster_view.repaint()
    assert raster_view.paint_count >= paints + 6 and raster_view.upload_count == uploads
    raster_view.set_frame(frames[1], 1)
    raster_view.repaint()
    assert raster_view.upload_count == uploads + 1
    assert index_of_colour(shown_centre_colour(raster_view)) == 1


# --- playback timing ----------------------------------------------------------------------------------------------
def test_loop_position_follows_the_clock_and_wraps(raster_view, qtbot):
    clock = FakeClock()
    player = LoopPlayer(raster_view, clock=clock)
    frames = colour_frames(40)
    player.set_loop(frames, 20.0)  # a 2-second loop
    assert player.is_playing and index_of_colour(shown_centre_colour(raster_view)) == 0
    for seconds, expected in ((0.26, 5), (1.99, 39), (2.01, 0), (2.13, 2), (7.5, 30)):
        clock.t = 1000.0 + seconds
        wait_until(qtbot, lambda e=expected: player.frame_index == e and raster_view.frame_index() == e, 3)
        assert index_of_colour(shown_centre_colour(raster_view)) == expected
    player.close()


def test_steps_across_the_wrap_are_single_frames(raster_view, qtbot):
    clock = FakeClock()
    player = LoopPlayer(raster_view, clock=clock)
    player.set_loop(colour_frames(8), 10.0)
    seen = []
    player.frame_changed.connect(lambda i, n: seen.append(i))
    for k in range(1, 21):  # two and a half passes, one frame period at a time
        clock.t = 1000.0 + k * 0.1 + 0.001
        wait_until(qtbot, lambda k=k: player.frame_index == k % 8, 3)
    assert seen == [k % 8 for k in range(1, 21)]
    player.close()


def test_real_time_playback_runs_at_the_source_rate(raster_view, qtbot):
    """On the real monotonic clock: every shown frame is the one the clock says, steps are one frame time
    apart (median: a loaded CI machine may stall the event loop, and then the player catches up by skipping,
    never by slowing down), and the wrap is a step like any other."""
    player = LoopPlayer(raster_view)
    player.set_loop(colour_frames(12), 30.0)  # wraps every 0.4 s
    anchor = player._anchor_time  # frame 0 started here (time.monotonic)
    steps = []
    player.frame_changed.connect(lambda i, n: steps.append((time.monotonic(), i)))
    pump(qtbot, 1.3)
    player.pause()
    assert len(steps) >= 20  # about 39 frame changes in 1.3 s at 30 fps
    for t, index in steps:  # the frame shown is the clock's frame (never a stale one after a stall)
        expected = int((t - anchor) * 30) % 12
        assert min((index - expected) % 12, (expected - index) % 12) <= 1, (t - anchor, index, expected)
    jumps = [(b - a) % 12 for (_t, a), (_u, b) in zip(steps, steps[1:])]
    assert all(j != 0 for j in jumps) and all(j <= 6 for j in jumps), jumps  # forward only, never back
    intervals = sorted(u - t for (t, _a), (u, _b) in zip(steps, steps[1:]))
    assert abs(intervals[len(intervals) // 2] - 1 / 30) < 0.25 / 30  # the source rate
    assert sum(j == 1 for j in jumps) >= 0.5 * len(jumps)
    wraps = [(u - t, b) for (t, a), (u, b) in zip(steps, steps[1:]) if b < a]
    assert len(wraps) >= 2 and any(b == 0 for _d, b in wraps)  # wraps land on frame 0...
    wrap_intervals = sorted(d for d, b in wraps if b == 0)
    assert wrap_intervals[0] < 1.6 / 30  # ...one frame time after frame 11, like any other step
    held = player.frame_index
    pump(qtbot, 0.2)
    assert player.frame_index == held and not player.is_playing  # paused means paused
    player.close()


def test_pause_resumes_where_it_stopped_and_one_shot_stops_at_the_end(raster_view, qtbot):
    clock = FakeClock()
    player = LoopPlayer(raster_view, clock=clock)
    player.set_loop(colour_frames(10), 10.0)
    clock.t += 0.45
    wait_until(qtbot, lambda: player.frame_index == 4, 3)
    player.pause()
    clock.t += 5.0
    pump(qtbot, 0.05)
    assert player.frame_index == 4
    player.play()  # resumes from 4, not from where the wall clock would be
    clock.t += 0.2
    wait_until(qtbot, lambda: player.frame_index == 6, 3)
    player.set_looping(False)
    clock.t += 10.0
    wait_until(qtbot, lambda: not player.is_playing, 3)
    assert player.frame_index == 9 and index_of_colour(shown_centre_colour(raster_view)) == 9
    player.play()  # a finished one-shot pass plays again from the start
    assert player.is_playing and player.frame_index == 0
    player.close()


def test_bad_loops_are_refused_clearly(raster_view):
    player = LoopPlayer(raster_view)
    with pytest.raises(ValueError, match="frame rate"):
        player.set_loop(colour_frames(3), 0.0)
    with pytest.raises(ValueError, match=r"\(n, h, w, 3\) uint8"):
        player.set_loop(np.zeros((0, 4, 4, 3), np.uint8), 25.0)


def test_panel_transport_play_pause_loop_toggle_and_frame_counter(offscreen, qtbot, monkeypatch):
    """The panel's own controls drive the player: Play/Pause, the Loop check box, the frame counter."""
    from PySide6.QtCore import Qt

    from navtalk_desktop.ui.preview.loop_data import PreviewLoop
    from navtalk_desktop.ui.preview.preview_panel import PreviewPanel

    monkeypatch.setenv("NAVTALK_PREVIEW", "raster")
    panel = PreviewPanel(settings=Settings())
    qtbot.addWidget(panel)
    panel.resize(420, 560)
    panel.show()
    qtbot.waitExposed(panel)
    assert not panel.play_button.isEnabled() and panel.counter_label.text() == "–"
    panel.set_loop(PreviewLoop(colour_frames(20), 40.0, None))  # 0.5 s per pass
    player = panel.player
    assert player.is_playing and panel.play_button.text() == "Pause" and panel.play_button.isEnabled()
    wait_until(qtbot, lambda: player.frame_index >= 5, 3)
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)  # pause
    assert not player.is_playing and panel.play_button.text() == "Play"
    held = player.frame_index
    pump(qtbot, 0.15)
    assert player.frame_index == held
    assert panel.counter_label.text() == f"Frame {held + 1} / 20"  # 1-based, of the whole loop
    assert index_of_colour(shown_centre_colour(panel.view)) == held  # the counter names the frame on screen
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)  # play again
    assert player.is_playing and panel.play_button.text() == "Pause"
    seen = []
    player.frame_changed.connect(lambda i, n: seen.append(i))
    pump(qtbot, 0.7)  # more than one pass with Loop on: it wraps
    assert player.is_playing and any(b < a for a, b in zip(seen, seen[1:]))
    panel.loop_check.setChecked(False)  # Loop off: one pass, then it stops on the last frame
    wait_until(qtbot, lambda: not player.is_playing, 3)
    assert player.frame_index == 19 and panel.counter_label.text() == "Frame 20 / 20"
    assert panel.play_button.text() == "Play"
    assert index_of_colour(shown_centre_colour(panel.view)) == 19
    qtbot.mouseClick(panel.play_button, Qt.MouseButton.LeftButton)  # a finished pass plays from the start
    assert player.is_playing and player.frame_index == 0 and panel.counter_label.text() == "Frame 1 / 20"
    panel.loop_check.setChecked(True)
    pump(qtbot, 0.7)
    assert player.is_playing  # looping again
    panel.shutdown()
    panel.runner.shutdown()
