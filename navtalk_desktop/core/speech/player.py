"""Audio output through sounddevice, or a silent stand-in on a monotonic clock when there is no device.

A new utterance replaces the old one cleanly: the stream is aborted (queued audio discarded), the
buffer swapped and the clock re-anchored before it restarts, so no stale audio or clock survives.
A streamed utterance starts open-ended and grows with `extend`; while it is open, a buffer that runs dry
holds its position (silence, the clock stands still) instead of skipping audio that has not arrived yet.
"""

from __future__ import annotations

import logging
import threading
from math import gcd

import numpy as np

from .clock import AudioDeviceClock, MonotonicClock, PlaybackClock

log = logging.getLogger(__name__)


class AudioUnavailable(Exception):
    """No usable audio output (library missing, no device); carries the reason for the user."""


def _sounddevice():
    try:
        import sounddevice
    except OSError as exc:  # libportaudio is not installed
        raise AudioUnavailable(f"PortAudio library not found ({exc})") from exc
    return sounddevice


def resample(audio: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    if rate_in == rate_out or len(audio) == 0:
        return audio.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = gcd(int(rate_in), int(rate_out))
    return resample_poly(audio, int(rate_out) // g, int(rate_in) // g).astype(np.float32)


class AudioPlayer:
    """Plays utterances on an output device; its clock is the device's DAC clock."""

    audio_available = True

    def __init__(self, device: int | str | None = None, latency: str | float = "low") -> None:
        sd = _sounddevice()
        try:
            info = sd.query_devices(device, kind="output")
            self.sample_rate = int(info["default_samplerate"])
            self._lock = threading.Lock()
            self._buffer: np.ndarray | None = None
            self._pos = 0
            self._open_ended = False
            self._stream = sd.OutputStream(samplerate=self.sample_rate, channels=1, dtype="float32",
                                           device=device, latency=latency, callback=self._callback)
        except (OSError, sd.PortAudioError, ValueError) as exc:
            raise AudioUnavailable(f"no audio output device ({exc})") from exc
        self.device_name = str(info.get("name", "output"))
        self.clock: PlaybackClock = AudioDeviceClock(
            self.sample_rate, lambda: self._stream.time, float(self._stream.latency),
            description=f"audio device clock ({self.device_name}, latency {self._stream.latency * 1000:.0f} ms)")
        self.reason = ""

    @property
    def output_latency(self) -> float:
        return float(self._stream.latency)

    def _callback(self, outdata, frames, time_info, status) -> None:  # PortAudio thread
        with self._lock:
            buf, pos = self._buffer, self._pos
            if buf is None:
                outdata.fill(0)
                return
            n = max(0, min(frames, len(buf) - pos))
            outdata[:n, 0] = buf[pos:pos + n]
            outdata[n:] = 0
            self.clock.on_buffer(pos, time_info.outputBufferDacTime, time_info.currentTime)
            # Keep counting past the end (the clock runs on through the release), unless more audio is coming.
            self._pos = pos + (n if self._open_ended else frames)

    def play(self, audio: np.ndarray, sample_rate: int, open_ended: bool = False) -> None:
        data = resample(np.asarray(audio, np.float32), sample_rate, self.sample_rate)
        if self._stream.active:
            self._stream.abort()  # drop what is queued: no stale audio from the previous utterance
        with self._lock:
            self._buffer, self._pos, self._open_ended = data, 0, open_ended
            self.clock.reset()
        self._stream.start()

    def extend(self, audio: np.ndarray, sample_rate: int, final: bool = False) -> None:
        """The growing utterance's audio so far (a longer version of what plays); playback goes on."""
        data = resample(np.asarray(audio, np.float32), sample_rate, self.sample_rate)
        with self._lock:
            if self._buffer is not None:
                self._buffer = data
                self._open_ended = not final

    def stop(self) -> None:
        if self._stream.active:
            self._stream.abort()
        with self._lock:
            self._buffer, self._pos = None, 0
            self.clock.reset()

    def close(self) -> None:
        self.stop()
        self._stream.close()


class SilentPlayer:
    """No device: 'plays' on the monotonic clock so the mouth still moves in real time."""

    audio_available = False
    output_latency = 0.0

    def __init__(self, reason: str = "no audio output device") -> None:
        self.reason = reason
        self.clock = MonotonicClock(description=f"system monotonic clock ({reason}; playing without sound)")

    def play(self, audio: np.ndarray, sample_rate: int, open_ended: bool = False) -> None:
        self.clock.start(0.0)

    def extend(self, audio: np.ndarray, sample_rate: int, final: bool = False) -> None:
        """Nothing to queue without a device: the clock already runs."""

    def stop(self) -> None:
        self.clock.reset()

    def close(self) -> None:
        self.stop()


def open_player(device: int | str | None = None) -> AudioPlayer | SilentPlayer:
    """The device player when an output device can be opened, else the silent one (with the reason)."""
    try:
        return AudioPlayer(device)
    except AudioUnavailable as exc:
        log.warning("audio preview without sound: %s", exc)
        return SilentPlayer(str(exc))
