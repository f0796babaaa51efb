"""Online speech streamed into the preview: the avatar talks before edge-tts has finished sending.

edge-tts' real client talks to the loopback stand-in of its service (tests/edge_helpers.py), paced like a
service that synthesises at 1.5x real time (at 3x the whole sentence was sometimes sent before a loaded
2-core machine had played its first chunk); the chunks arrive on the Qt loop through qasync. Only the audio
device is stood in for (RecordingPlayer).
"""

from __future__ import annotations

import time

import pytest
from edge_helpers import serve_edge
from preview_helpers import RecordingPlayer, mouth_change_while_speaking, wait_until
from test_preview_speech import LONG, fixture_loop, make_panel  # noqa: F401  (fixtures)

from navtalk_desktop.core.speech.session import LipSyncSession


@pytest.fixture
def streaming(monkeypatch):
    service = serve_edge(monkeypatch, pace=1.5)
    yield service
    service.__exit__(None, None, None)


@pytest.fixture
def recorder():
    return RecordingPlayer()


@pytest.fixture
def panel(make_panel, recorder, fixture_loop):  # noqa: F811
    panel = make_panel(LipSyncSession(player=recorder), fixture_loop)
    panel.select_voice("edge", "en-US-GuyNeural")
    return panel


def test_speech_starts_while_the_service_is_still_sending(panel, qtbot, streaming, recorder):
    asked = time.perf_counter()
    with qtbot.waitSignal(panel.utterance_started, timeout=30000) as started:
        assert panel.speak(LONG)
    heard = time.perf_counter()
    first = started.args[0]
    assert first.speech.engine == "edge" and first.speech.voice == "en-US-GuyNeural"
    assert streaming.sent_last_audio_at is None or heard < streaming.sent_last_audio_at, \
        "playback waited for the whole synthesis"
    assert "streams in" in panel.status_label.text() and panel.player.speaking
    # The rest arrives and extends the same utterance in place: no second "play", the clock runs on.
    wait_until(qtbot, lambda: any(e[0] == "extend" and e[2] for e in recorder.events), 30)
    plays = [e for e in recorder.events if e[0] == "play"]
    assert len(plays) == 1 and plays[0][1] == len(first.audio)
    final = panel.player.session.utterance
    assert final is not None and final.duration > first.duration + 1.0
    assert len(recorder.playing) == len(final.audio)
    assert {w.text for w in streaming.truth} == {w.text for w in final.speech.words}
    # Time to first sound is a fraction of the whole synthesis (a ~6 s sentence sent at 1.5x: ~4 s).
    assert heard - asked < 0.7 * (streaming.sent_last_audio_at - asked)
    wait_until(qtbot, lambda: not panel.stop_button.isEnabled() or panel.player.speaking, 5)


def test_the_streamed_mouth_moves_and_stop_ends_the_stream(panel, qtbot, streaming, recorder):
    inside, outside, after_stop = mouth_change_while_speaking(qtbot, panel, LONG)
    assert inside > 8.0 and outside == 0 and after_stop == 0
    extends = len([e for e in recorder.events if e[0] == "extend"])
    # Stop cancelled the stream: nothing is extended afterwards, and the panel is idle.
    time.sleep(0.5)
    qtbot.wait(300)
    assert len([e for e in recorder.events if e[0] == "extend"]) == extends
    assert not panel.player.speaking and panel._stream is None
