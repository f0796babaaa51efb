"""Playback clocks and the live session: the monotonic fallback (no audio device here), the device clock
with a fake stream, and the real PortAudio stream on an ALSA file device (what reaches the "speaker")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


# A real PortAudio stream on an ALSA device that writes what it plays to a file (alsa-lib's `file` plugin
# over `null`): no sound card is needed, yet the player's real callback, its real time stamps and the
# stream's abort/start cycle all run. The null device is not paced in real time (it takes samples as fast
# as they come), so this checks *what* is played and that the device clock drives the session; the
# real-time pacing itself is covered by the fake-stream test above.
_REAL_STREAM_SCRIPT = r"""
import json, sys, time
import numpy as np
from navtalk_desktop.core.speech.player import AudioPlayer, open_player, resample
from navtalk_desktop.core.speech.session import LipSyncSession
from navtalk_desktop.core.speech.utterance import prepare_utterance

player = open_player()
assert isinstance(player, AudioPlayer), getattr(player, "reason", player)
session = LipSyncSession(player=player, display_latency=0.0)
first = prepare_utterance("Papa made a big map.", "espeak")
second = prepare_utterance("Bob.", "espeak")

def wait_position():
    end = time.monotonic() + 5
    while time.monotonic() < end:
        pos = session.position()
        if pos is not None:
            return pos
        time.sleep(0.002)
    raise SystemExit("the audio callback never anchored the device clock")

session.speak(first)
positions = [wait_position()]
time.sleep(0.05)
positions.append(session.position())
session.speak(second)  # new text while speaking
after_replace = wait_position()
time.sleep(0.05)
session.stop()
stopped = session.position()
time.sleep(0.05)
player.close()
np.save(sys.argv[1] + ".first.npy", resample(first.audio, first.sample_rate, player.sample_rate))
np.save(sys.argv[1] + ".second.npy", resample(second.audio, second.sample_rate, player.sample_rate))
print(json.dumps({"description": session.clock_description, "positions": positions,
                  "after_replace": after_replace, "stopped": stopped, "is_audio_clock": player.clock.is_audio_clock}))
"""


def _play_on_alsa_file_device(tmp_path, script: str, raw):
    """Run `script` against ALSA's file device (samples land in `raw`); its last stdout line as JSON."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".asoundrc").write_text(
        f'pcm.!default {{ type file slave.pcm "null" file "{raw}" format "raw" }}\n')
    env = {**os.environ, "HOME": str(home)}
    env.pop("ALSA_CONFIG_PATH", None)
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path / "ref")], env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the ALSA file device exists on Linux only")
def test_real_portaudio_stream_plays_each_utterance_whole_and_clocks_the_session(tmp_path):
    raw = tmp_path / "played.raw"
    report = _play_on_alsa_file_device(tmp_path, _REAL_STREAM_SCRIPT, raw)
    assert report["is_audio_clock"] and report["description"].startswith("audio device clock")
    assert report["positions"][0] >= 0.0 and report["positions"][1] > report["positions"][0]  # runs on
    assert report["stopped"] is None  # Stop forgets the utterance and its clock
    first = np.load(tmp_path / "ref.first.npy")
    second = np.load(tmp_path / "ref.second.npy")
    played = np.fromfile(raw, "<f4")  # PortAudio opens the device as float32 mono, like the stream
    loud = lambda x: np.nonzero(np.abs(x) > 1e-6)[0]  # noqa: E731
    assert len(loud(played)), "nothing reached the device"
    # What reached the device: the first utterance whole, then the second from its first sample
    # (replacement restarts cleanly), and nothing else but silence. (Speech starts with a little silence.)
    a = loud(played)[0] - loud(first)[0]
    assert a >= 0 and np.allclose(played[a:a + len(first)], first, atol=1e-6)
    rest = played[a + len(first):]
    b = a + len(first) + loud(rest)[0] - loud(second)[0]
    assert np.allclose(played[b:b + len(second)], second, atol=1e-6)
    assert not len(loud(played[b + len(second):]))


_STREAMED_SCRIPT = r"""
import json, sys, time
import numpy as np
from navtalk_desktop.core.speech.player import AudioPlayer, open_player, resample
from navtalk_desktop.core.speech.session import LipSyncSession
from navtalk_desktop.core.speech.utterance import prepare_utterance

player = open_player()
assert isinstance(player, AudioPlayer), getattr(player, "reason", player)
session = LipSyncSession(player=player, display_latency=0.0)
whole = prepare_utterance("Papa made a big map for my brother.", "espeak")
part = len(whole.audio) // 2
session.speak(whole, open_ended=True)
player.extend(whole.audio[:part], whole.sample_rate)  # only half has "arrived"
time.sleep(0.4)  # the null device drains that half at once, then must wait, not skip ahead
stalled = [session.position()]
time.sleep(0.1)
stalled.append(session.position())
session.extend(whole, final=True)
time.sleep(0.4)
player.close()
np.save(sys.argv[1] + ".whole.npy", resample(whole.audio, whole.sample_rate, player.sample_rate))
np.save(sys.argv[1] + ".half.npy", resample(whole.audio[:part], whole.sample_rate, player.sample_rate))
print(json.dumps({"stalled": stalled, "rate": player.sample_rate}))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the ALSA file device exists on Linux only")
def test_real_portaudio_stream_waits_for_streamed_audio_instead_of_skipping_it(tmp_path):
    """A streamed utterance that runs dry holds its place: the device gets every sample once, in order."""
    raw = tmp_path / "played.raw"
    report = _play_on_alsa_file_device(tmp_path, _STREAMED_SCRIPT, raw)
    whole = np.load(tmp_path / "ref.whole.npy")
    half = len(np.load(tmp_path / "ref.half.npy"))
    played = np.fromfile(raw, "<f4")
    loud = lambda x: np.nonzero(np.abs(x) > 1e-6)[0]  # noqa: E731
    a = loud(played)[0] - loud(whole)[0]  # where the utterance's sample 0 reached the device
    edge = 300  # resampling a prefix differs from the whole only near its cut
    assert np.allclose(played[a:a + half - edge], whole[:half - edge], atol=1e-6)
    # Then the stall: silence while nothing had arrived (the clock held still meanwhile) ...
    assert report["stalled"][0] is not None and report["stalled"][1] == pytest.approx(report["stalled"][0], abs=0.02)
    after = played[a + half:]
    resume = loud(after)[0] - loud(whole[half:])[0]
    assert resume > 0.1 * report["rate"], "no stall: the player ran on past the audio it had"
    # ... and then the rest from exactly where it stopped: nothing skipped, nothing repeated.
    rest = after[resume:]
    assert np.allclose(rest[edge:len(whole) - half], whole[half + edge:], atol=1e-6)
    assert not len(loud(rest[len(whole) - half:]))
