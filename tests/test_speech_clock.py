"""Playback clocks and the live session: no audio device here, so the monotonic fallback drives it."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from navtalk_desktop.core.mouth.params import REST
from navtalk_desktop.core.speech.clock import AudioDeviceClock, MonotonicClock
from navtalk_desktop.core.speech.player import AudioPlayer, SilentPlayer, open_player
from navtalk_desktop.core.speech.session import LipSyncSession
from navtalk_desktop.core.speech.utterance import prepare_utterance


def _has_output_device() -> bool:
    try:
        import sounddevice as sd

        sd.query_devices(kind="output")
        return True
    except Exception:
        return False


def test_missing_device_falls_back_to_monotonic_clock_and_says_so():
    player = open_player(device=987654)  # no such device, on any machine
    assert isinstance(player, SilentPlayer)
    assert player.audio_available is False
    assert "no audio output device" in player.reason
    assert not player.clock.is_audio_clock
    assert "without sound" in player.clock.description and "monotonic" in player.clock.description


def test_default_player_matches_the_machine():
    player = open_player()
    try:
        assert player.audio_available == _has_output_device()
    finally:
        player.close()


def test_monotonic_clock_runs_from_start():
    now = [100.0]
    clock = MonotonicClock(lambda: now[0])
    assert clock.position() is None
    clock.start()
    now[0] += 1.25
    assert clock.position() == pytest.approx(1.25)
    clock.start(0.5)
    assert clock.position() == pytest.approx(0.5)
    clock.reset()
    assert clock.position() is None


def test_audio_device_clock_uses_dac_time_and_falls_back_to_latency():
    stream_time = [10.0]
    clock = AudioDeviceClock(48000, lambda: stream_time[0], latency=0.05)
    assert clock.position() is None
    clock.on_buffer(first_sample=48000, dac_time=10.08, current_time=10.0)  # heard 80 ms from now
    assert clock.position() == pytest.approx(1.0 - 0.08)
    stream_time[0] = 10.10
    assert clock.position() == pytest.approx(1.02)
    clock.on_buffer(first_sample=96000, dac_time=0.0, current_time=11.0)  # backend without DAC times
    stream_time[0] = 11.05
    assert clock.position() == pytest.approx(2.0)


class _FakeStream:
    """Stands in for the PortAudio stream (no audio device here); records what the player asks of it."""

    def __init__(self) -> None:
        self.active = False
        self.calls: list[str] = []
        self.time = 5.0
        self.latency = 0.04

    def abort(self):
        self.calls.append("abort")
        self.active = False

    def start(self):
        self.calls.append("start")
        self.active = True


def _device_player() -> tuple[AudioPlayer, _FakeStream]:
    player = AudioPlayer.__new__(AudioPlayer)
    stream = _FakeStream()
    player.sample_rate = 8000
    player._lock = threading.Lock()
    player._buffer, player._pos, player._stream = None, 0, stream
    player.clock = AudioDeviceClock(8000, lambda: stream.time, stream.latency)
    return player, stream


def test_device_player_callback_and_clean_replacement():
    player, stream = _device_player()
    out = np.ones((100, 1), np.float32)
    player._callback(out, 100, SimpleNamespace(outputBufferDacTime=5.02, currentTime=5.0), None)
    assert not out.any()  # idle: silence
    first = np.linspace(0.1, 0.2, 300).astype(np.float32)
    player.play(first, 8000)
    player._callback(out, 100, SimpleNamespace(outputBufferDacTime=5.02, currentTime=5.0), None)
    assert np.allclose(out[:, 0], first[:100])
    stream.time = 5.03
    assert player.clock.position() == pytest.approx(0.01)
    # New text while speaking: queued audio is dropped, the buffer and the clock start over.
    second = -np.ones(200, np.float32)
    player.play(second, 16000)  # resampled to the device rate
    assert stream.calls[-2:] == ["abort", "start"]
    assert player.clock.position() is None
    player._callback(out, 100, SimpleNamespace(outputBufferDacTime=5.06, currentTime=5.04), None)
    assert np.all(out[:, 0] < -0.5)  # only the new utterance, none of the old samples
    player._callback(out, 100, SimpleNamespace(outputBufferDacTime=5.07, currentTime=5.05), None)
    assert not out[:, 0].any()  # 100 device samples = the whole new utterance; then silence
    player.stop()
    assert player.clock.position() is None


def test_session_on_monotonic_clock_replaces_utterances_cleanly():
    session = LipSyncSession(player=SilentPlayer("test: no device"), display_latency=0.0)
    assert "no device" in session.clock_description
    assert session.mouth_params_now() is REST
    long_one = prepare_utterance("Aaaah, papa made a big map of the whole wide world.", "espeak")
    short_one = prepare_utterance("Ma.", "espeak")
    session.speak(long_one)
    time.sleep(0.3)
    pos = session.position()
    assert 0.25 < pos < 1.0
    assert session.speaking and session.utterance is long_one
    # The pose shown is the long utterance's pose at the clock's position.
    assert session.mouth_params_now().as_array() == pytest.approx(
        long_one.mouth_params_at(session.position()).as_array(), abs=0.1)
    session.speak(short_one)  # new text while speaking
    assert session.utterance is short_one and session.position() < 0.1
    time.sleep(short_one.duration + 0.15)
    assert session.mouth_params_now() is REST  # finished: no stuck mouth
    assert session.utterance is None and not session.speaking
    session.speak(long_one)
    session.stop()
    assert session.mouth_params_now() is REST and session.position() is None
