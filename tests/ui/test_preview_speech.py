"""The preview panel speaking (offscreen, raster view, no audio device: the monotonic clock).

Real espeak-ng speech, the real loop fixture with its cached MediaPipe landmarks, the real mouth
renderer and the studio's task runner. Only the audio device is stood in for (RecordingPlayer).
"""

from __future__ import annotations

import numpy as np
import pytest
from preview_helpers import (RecordingPlayer, image_array, mouth_change_while_speaking, pump, wait_until)
from studio_helpers import CLIP
from PySide6.QtCore import Qt

from navtalk_desktop.core.settings import Settings
from navtalk_desktop.core.speech.session import LipSyncSession
from navtalk_desktop.ui.preview.loop_data import load_preview_loop
from navtalk_desktop.ui.preview.preview_panel import PreviewPanel

LONG = "Papa made a big map of the moon, and my mother bought a bunch of blue balloons before the parade began."
SHORT = "Bob met me."


@pytest.fixture(scope="module")
def fixture_loop():
    """The fixture clip as the preview holds it (decoded once for the module)."""
    return load_preview_loop(CLIP)


@pytest.fixture
def make_panel(qtbot):
    panels = []

    def make(session=None, loop=None):
        panel = PreviewPanel(settings=Settings(), session=session)
        qtbot.addWidget(panel)
        panel.resize(520, 760)
        panel.show()
        qtbot.waitExposed(panel)
        if loop is not None:
            panel.set_loop(loop)
        panels.append(panel)
        return panel

    yield make
    for panel in panels:
        panel.shutdown()
        panel.runner.shutdown()


@pytest.fixture
def recorder():
    return RecordingPlayer()


@pytest.fixture
def panel(make_panel, recorder, fixture_loop):
    return make_panel(LipSyncSession(player=recorder), fixture_loop)


def test_panel_end_to_end_with_espeak_on_the_monotonic_clock(make_panel, qtbot, monkeypatch):
    monkeypatch.delenv("NAVTALK_TTS_ENGINE", raising=False)
    panel = make_panel()  # the real session: no audio device here, so the silent player and its clock
    assert panel.engine == "espeak"  # offline (NAVTALK_OFFLINE=1): the offline engine is the default
    with qtbot.waitSignal(panel.loop_loaded, timeout=60000):
        panel.load_loop(CLIP)  # decoded and landmarked in the background
    assert panel.loop.frame_count == 216 and panel.loop.renderer is not None and panel.player.is_playing
    assert not panel.speak_button.isEnabled()  # nothing typed yet
    qtbot.keyClicks(panel.text_edit, "Hello, papa made a big map.")
    assert panel.speak_button.isEnabled()
    visemes = []
    panel.player.viseme_changed.connect(visemes.append)
    with qtbot.waitSignal(panel.utterance_started, timeout=15000) as started:
        qtbot.mouseClick(panel.speak_button, Qt.MouseButton.LeftButton)
    utterance = started.args[0]
    assert utterance.speech.engine == "espeak" and panel.player.speaking
    assert not panel.player.session.audio_available
    assert "monotonic clock" in panel.status_label.text()  # says what drives the mouth
    assert panel.stop_button.isEnabled()
    with qtbot.waitSignal(panel.player.speech_finished, timeout=int(utterance.duration * 1000) + 5000):
        pass
    assert "pbm" in visemes and len(set(visemes)) >= 6
    assert visemes[-1] == ""  # back to the loop's own mouth
    assert panel.player.current_params.is_rest and not panel.stop_button.isEnabled()
    shown = panel.player.frame_index
    pump(qtbot, 0.05)
    assert panel.player.frame_index != shown  # the loop kept playing throughout


def test_speaking_moves_the_mouth_only_and_stop_restores_the_frame(panel, qtbot):
    inside, outside, after_stop = mouth_change_while_speaking(qtbot, panel, LONG)
    assert inside > 8.0, "the mouth region did not change while speaking"
    assert outside <= 2, "pixels outside the mouth region changed"
    assert after_stop <= 1, "the frame did not return to the loop's own mouth after Stop"
    assert not panel.player.speaking and panel.player.session.utterance is None


def test_new_text_while_speaking_replaces_the_old_utterance(panel, recorder, qtbot):
    panel.player.pause()
    panel.player.seek(20)
    qtbot.wait(50)
    silent = image_array(panel.view.grab_image())
    started = []
    panel.utterance_started.connect(started.append)
    assert panel.speak(LONG)
    wait_until(qtbot, lambda: len(started) == 1, 15)
    pump(qtbot, 0.4)
    assert panel.player.speaking and panel.player.session.utterance.text == LONG
    assert panel.speak(SHORT)
    wait_until(qtbot, lambda: len(started) == 2, 15)
    long_audio, short_audio = started[0].audio, started[1].audio
    assert panel.player.session.utterance.text == SHORT
    assert recorder.playing is not None and len(recorder.playing) == len(short_audio) != len(long_audio)
    plays = [i for i, e in enumerate(recorder.events) if e[0] == "play"]
    assert [recorder.events[i][1] for i in plays] == [len(long_audio), len(short_audio)]
    assert recorder.events[plays[1] - 1] == ("stop",)  # the old audio was stopped before the new one began
    position = panel.player.session.position()
    assert position is not None and position < 1.0  # the clock restarted with the new text
    wait_until(qtbot, lambda: not panel.player.speaking, short_audio.size / started[1].sample_rate + 5)
    pump(qtbot, 0.1)
    assert panel.player.current_params.is_rest  # no stuck mouth
    assert np.abs(image_array(panel.view.grab_image()).astype(int) - silent).max() <= 1


def test_a_newer_text_or_stop_drops_speech_still_being_prepared(panel, recorder, qtbot):
    started = []
    panel.utterance_started.connect(started.append)
    assert panel.speak(LONG)
    assert panel.speak(SHORT)  # before the first one is ready
    wait_until(qtbot, lambda: len(started) == 1, 15)
    wait_until(qtbot, lambda: not panel.runner.busy, 15)
    pump(qtbot, 0.2)
    assert [u.text for u in started] == [SHORT]  # the older text never starts late
    assert [e for e in recorder.events if e[0] == "play"] == [("play", len(started[0].audio))]
    panel.stop()
    assert panel.speak(LONG)
    panel.stop()  # Stop while it is being prepared
    wait_until(qtbot, lambda: not panel.runner.busy, 15)
    pump(qtbot, 0.2)
    assert len(started) == 1 and not panel.player.speaking


def test_viseme_overlay_toggle(panel, qtbot):
    player = panel.player
    player.pause()
    player.seek(5)
    qtbot.wait(50)
    rect = panel.view.image_rect()
    corner = (slice(rect.top() + 4, rect.top() + 40), slice(rect.left() + 4, rect.left() + 90))
    silent = image_array(panel.view.grab_image())[corner].astype(int)
    assert panel.speak(LONG)
    wait_until(qtbot, lambda: player.speaking, 15)
    qtbot.wait(60)
    assert np.abs(image_array(panel.view.grab_image())[corner].astype(int) - silent).max() <= 1  # off: no label
    panel.viseme_check.setChecked(True)
    qtbot.wait(60)
    assert player.speaking
    assert np.abs(image_array(panel.view.grab_image())[corner].astype(int) - silent).max() > 60  # the label
    panel.stop()
    qtbot.wait(60)
    assert np.abs(image_array(panel.view.grab_image())[corner].astype(int) - silent).max() <= 1  # gone after Stop


def test_engine_and_voice_per_engine(panel, qtbot):
    panel.select_voice("espeak")
    ids = [panel.voice_combo.itemData(i) for i in range(panel.voice_combo.count())]
    assert "en-us" in ids and "en-gb" in ids and len(ids) > 20
    assert ids[0].startswith("en")  # English voices listed first
    panel.select_voice("espeak", "en-gb")
    panel.select_voice("edge")
    edge_ids = [panel.voice_combo.itemData(i) for i in range(panel.voice_combo.count())]
    assert "en-US-AriaNeural" in edge_ids and panel.voice == "en-US-AriaNeural"
    panel.select_voice("espeak")
    assert panel.voice == "en-gb"  # each engine keeps its own choice
    started = []
    panel.utterance_started.connect(started.append)
    assert panel.speak(SHORT)
    wait_until(qtbot, lambda: started, 15)
    assert started[0].speech.engine == "espeak" and started[0].speech.voice == "en-gb"


def test_nothing_to_say_or_no_loop_is_explained(make_panel, panel, qtbot):
    assert not panel.speak("   ")
    assert "Type something" in panel.status_label.text()
    with qtbot.waitSignal(panel.message, timeout=15000) as failed:
        assert panel.speak("... ?")
    assert "nothing to pronounce" in failed.args[0] and "nothing to pronounce" in panel.status_label.text()
    assert not panel.player.speaking
    empty = make_panel()
    assert not empty.speak("Hello") and "Open a loop first" in empty.status_label.text()
    assert not empty.speak_button.isEnabled() and not empty.play_button.isEnabled()


def test_unreadable_loop_is_reported(make_panel, qtbot, tmp_path):
    bad = tmp_path / "broken.mp4"
    bad.write_text("not a video")
    panel = make_panel()
    panel.load_loop(bad)
    wait_until(qtbot, lambda: "cannot be previewed" in panel.status_label.text(), 15)
    assert "not a video" in panel.status_label.text() and panel.loop is None


def test_studio_window_previews_the_current_plan(analysed_window, qtbot):
    import numpy as np

    from navtalk_desktop.core.loop_plan import make_plan
    from navtalk_desktop.ui import plan_frames

    window = analysed_window
    panel = window.preview_panel
    assert panel.loop is None  # a hidden tab costs nothing
    with qtbot.waitSignal(panel.loop_loaded, timeout=30000):
        window.preview_dock.raise_()
    plan, source = window.document.plan, window.loop.preview.frames
    loop = panel.loop
    assert loop.plan == plan and loop.frame_count == plan.output_frames  # the plan, not the raw clip
    expected = plan_frames.assemble(source, plan)  # the export's recipe, a morph's included
    for i in range(plan.output_frames):  # assembled from the studio's frames, no decode
        assert np.array_equal(loop.frames[i], expected[i])
    assert loop.renderer is not None and panel.player.is_playing
    assert "current plan" in panel.status_label.text()
    # a changed plan (here a crossfade around another frame) replaces the preview without an export
    info = window.document.video_info
    crossfade = make_plan("crossfade", info.fps, info.frame_count, 100, duration=3.0)
    with qtbot.waitSignal(panel.loop_loaded, timeout=10000) as loaded:
        window.document.edit_plan(crossfade, "test")
    blended = loaded.args[0]
    assert blended.plan == crossfade and blended.frame_count == crossfade.output_frames
    k = crossfade.crossfade_frames
    for t in range(crossfade.output_frames - k, crossfade.output_frames - 1):  # the faded tail is blended
        parts = crossfade.output_sources()[t]
        assert len(parts) == 2
        (a, wa), (b, wb) = parts
        expected = np.clip(source[a].astype(np.float32) * wa + source[b].astype(np.float32) * wb + 0.5, 0, 255)
        assert np.array_equal(blended.frames[t], expected.astype(np.uint8))  # the export's weights
        assert np.array_equal(plan_frames.blend(source, parts), expected.astype(np.uint8))  # and playback's
        assert not np.array_equal(blended.frames[t], source[a])
    started = []
    panel.utterance_started.connect(started.append)
    assert panel.speak(LONG)
    wait_until(qtbot, lambda: panel.player.speaking, 15)
    window.close()  # closing the window silences the preview
    assert not panel.player.speaking and panel.player.session.utterance is None


def test_studio_window_previews_each_exported_loop(analysed_window, qtbot, tmp_path):
    window = analysed_window
    panel = window.preview_panel
    with qtbot.waitSignal(panel.loop_loaded, timeout=30000):
        window.preview_dock.raise_()
    out = tmp_path / "exported_loop.mp4"
    with qtbot.waitSignal(panel.loop_loaded, timeout=90000, check_params_cb=lambda lp: lp.path == out) as loaded:
        assert window.loop.export(out)
    loop = loaded.args[0]
    assert loop.plan is None  # the file itself, decoded
    assert loop.path == out and loop.frame_count == window.document.plan.output_frames
    assert loop.renderer is not None  # landmarked in the background, so the exported loop can talk too
    assert out.name in panel.status_label.text()
    window.export_dock.raise_()  # a background tab stops painting
    assert not panel.player.is_playing
    window.preview_dock.raise_()
    wait_until(qtbot, lambda: panel.player.is_playing, 5)
    with qtbot.waitSignal(panel.loop_loaded, timeout=10000) as back:  # Plan: the current plan again
        panel.plan_button.click()
    assert back.args[0].plan == window.document.plan and "current plan" in panel.status_label.text()


def test_online_engine_unreachable_speaks_offline_and_says_so(panel, qtbot, monkeypatch):
    """edge-tts streams on the Qt loop (qasync); here its service is a loopback port with nobody
    listening, so the panel speaks with espeak-ng and tells the user why."""
    import socket

    import edge_tts.communicate

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", f"ws://127.0.0.1:{port}/edge/v1?TrustedClientToken=t")
    panel.select_voice("espeak", "en-gb")
    panel.select_voice("edge", "en-US-GuyNeural")
    with qtbot.waitSignal(panel.utterance_started, timeout=30000) as started:
        assert panel.speak(SHORT)
    utterance = started.args[0]
    assert utterance.speech.engine == "espeak" and utterance.speech.voice == "en-gb"  # the user's offline voice
    assert "online voices unavailable" in panel.status_label.text() and panel.player.speaking


def test_user_patch_folder_replaces_the_generated_mouth(panel, qtbot, tmp_path, fixture_loop):
    """The panel's Mouth menu: a folder of PNG patches (docs/mouth-patches.md) draws the speaking mouth,
    an invalid folder is explained and changes nothing, and the generated mouth comes back on request."""
    import cv2

    from navtalk_desktop.core.mouth.patches import PatchMouthRenderer
    from navtalk_desktop.core.mouth.renderer import MouthRenderer

    folder = tmp_path / "mouths"
    folder.mkdir()
    for name in ("sil", "aa", "ah", "pbm"):
        rgba = np.zeros((160, 256, 4), np.uint8)
        cv2.ellipse(rgba, (128, 80), (64, 4 if name in ("sil", "pbm") else 30), 0, 0, 360, (0, 0, 255, 255), -1)
        cv2.imwrite(str(folder / f"{name}.png"), cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))
    generated = panel.loop.renderer
    assert not panel.use_patches(tmp_path / "missing")
    assert "cannot be used" in panel.status_label.text() and panel.loop.renderer is generated
    assert panel.use_patches(folder)
    assert isinstance(panel.loop.renderer, PatchMouthRenderer) and panel.mouth_button.text() == "Mouth: patches"
    player = panel.player
    player.pause()
    player.seek(10)
    assert panel.speak(LONG)
    wait_until(qtbot, lambda: player.speaking, 15)
    blue = 0
    for _ in range(20):
        shown = image_array(panel.view.grab_image()).astype(int)
        blue = max(blue, int(((shown[..., 2] > 180) & (shown[..., 0] < 80) & (shown[..., 1] < 80)).sum()))
        qtbot.wait(40)
    assert blue > 20, "the patch mouth was not drawn"
    panel.stop()
    generated_action, folder_action = panel.mouth_button.menu().actions()
    assert "PNG patch folder" in folder_action.text()
    generated_action.trigger()  # the Mouth menu: back to the generated mouth
    assert isinstance(panel.loop.renderer, MouthRenderer) and panel.mouth_button.text() == "Mouth: generated"
    assert panel.patches is None
    panel.set_loop(fixture_loop)  # a loop arriving later (generated mouth) keeps the user's choice
    assert isinstance(panel.loop.renderer, MouthRenderer)
    assert panel.use_patches(folder)
    panel.set_loop(fixture_loop)
    assert isinstance(panel.loop.renderer, PatchMouthRenderer)


def test_the_preview_warns_that_a_talking_idle_clip_talks(make_panel, fixture_loop):
    """The fixture clip's own mouth opens and closes: the studio says so and suggests a quieter window."""
    panel = make_panel(loop=fixture_loop)
    text = panel.status_label.text()
    assert "idle clip talks" in text and "quietest window" in text
    assert "#c98a1b" in panel.status_label.styleSheet()  # shown as a warning
