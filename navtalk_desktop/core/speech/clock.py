"""Playback clocks: where in the current utterance we are, for picking the mouth pose of a painted frame.

The audio device clock is the master when a device exists (what you hear is what the mouth must
match); without one, a monotonic clock stands in, so previews and tests still run in real time.
"""

from __future__ import annotations

import threading
import time
from typing import Callable, Protocol, runtime_checkable


@runtime_checkable
class PlaybackClock(Protocol):
    is_audio_clock: bool
    description: str

    def position(self) -> float | None:
        """Seconds into the current utterance as heard now; None when nothing has started."""
        ...

    def reset(self) -> None:
        """Forget the current utterance (a new one is about to start)."""
        ...


class MonotonicClock:
    """Wall-clock position since `start()`; used when there is no audio device."""

    is_audio_clock = False

    def __init__(self, time_source: Callable[[], float] = time.monotonic,
                 description: str = "system monotonic clock (no audio device)") -> None:
        self._now = time_source
        self.description = description
        self._origin: float | None = None
        self._lock = threading.Lock()

    def start(self, at: float = 0.0) -> None:
        """Position `at` seconds is now."""
        with self._lock:
            self._origin = self._now() - at

    def reset(self) -> None:
        with self._lock:
            self._origin = None

    def position(self) -> float | None:
        with self._lock:
            return None if self._origin is None else self._now() - self._origin


class AudioDeviceClock:
    """Position from PortAudio's timestamps: the DAC time of each buffer's first sample.

    The audio callback reports (index of its first sample, outputBufferDacTime, currentTime);
    position = index / rate + (stream.time - dac_time), which already includes the output latency.
    Backends that leave the DAC time at 0 fall back to currentTime + the stream's latency.
    """

    is_audio_clock = True

    def __init__(self, sample_rate: int, stream_time: Callable[[], float], latency: float,
                 description: str = "audio device clock") -> None:
        self.sample_rate = int(sample_rate)
        self._stream_time = stream_time
        self.latency = float(latency)
        self.description = description
        self._anchor: tuple[int, float] | None = None
        self._lock = threading.Lock()

    def on_buffer(self, first_sample: int, dac_time: float, current_time: float) -> None:
        """Called from the audio callback for every buffer of the current utterance."""
        if dac_time <= 0.0:  # DirectSound / WDM-KS report no DAC time
            dac_time = current_time + self.latency
        with self._lock:
            self._anchor = (int(first_sample), float(dac_time))

    def reset(self) -> None:
        with self._lock:
            self._anchor = None

    def position(self) -> float | None:
        with self._lock:
            anchor = self._anchor
        if anchor is None:
            return None
        first_sample, dac_time = anchor
        return first_sample / self.sample_rate + (self._stream_time() - dac_time)
