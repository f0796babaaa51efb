"""Audio as float PCM: decoding through pydub (using the bundled ffmpeg), silences and loudness.

Why find silences in the audio itself: text timing (especially edge-tts word windows) can put a
mouth shape where the voice is actually quiet; a measured silence closes the mouth regardless.
"""

from __future__ import annotations

import io
import warnings
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..atomic import atomic_output
from ..errors import InputError
from ..ffmpeg import ffmpeg_exe

# A measured silence at least this long closes the mouth (the same limit as a "long pause" in text).
MIN_SILENCE_S = 0.30
# Silence threshold relative to the clip's average loudness (pydub's usual "dBFS - 16" rule, a bit lower).
SILENCE_BELOW_AVERAGE_DB = 18.0
SILENCE_FLOOR_DBFS = -60.0
RMS_HOP_S = 0.010
RMS_WINDOW_S = 0.025


@lru_cache(maxsize=1)
def audio_segment_class():
    """pydub's AudioSegment, pointed at imageio-ffmpeg's binary (there is no system ffmpeg/ffprobe)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydub warns at import when no ffmpeg is on PATH
        from pydub import AudioSegment
    AudioSegment.converter = ffmpeg_exe()
    return AudioSegment


def segment_from_pcm(samples: np.ndarray, sample_rate: int):
    """An AudioSegment from float (-1..1) or int16 mono samples."""
    pcm = to_int16(samples)
    return audio_segment_class()(data=pcm.tobytes(), sample_width=2, frame_rate=int(sample_rate), channels=1)


def to_int16(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return samples
    return (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype("<i2")


def to_float(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return (samples.astype(np.float32) / 32768.0).astype(np.float32)
    return samples.astype(np.float32, copy=False)


def pcm_of_segment(segment) -> tuple[np.ndarray, int]:
    """(float32 mono samples, sample rate) of an AudioSegment."""
    segment = segment.set_channels(1).set_sample_width(2)
    samples = np.frombuffer(segment.raw_data, dtype="<i2")
    return to_float(samples), int(segment.frame_rate)


def decode_audio(source: Path | str | bytes, codec: str | None = None, fmt: str | None = None,
                 sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Decode a file (or bytes) to float32 mono PCM with pydub + the bundled ffmpeg.

    `codec` names the decoder (e.g. "mp3", "aac"): pydub then skips ffprobe, which is not bundled.
    """
    cls = audio_segment_class()
    if isinstance(source, (bytes, bytearray)):
        handle: object = io.BytesIO(bytes(source))
        label = "audio data"
    else:
        path = Path(source)
        if not path.is_file():
            raise InputError(f"audio file not found: {path}")
        handle = str(path)
        label = path.name
    params = ["-ac", "1"] + (["-ar", str(int(sample_rate))] if sample_rate else [])
    try:
        if fmt == "wav" or (codec is None and isinstance(handle, str) and handle.lower().endswith(".wav")):
            segment = cls.from_wav(handle)
            if sample_rate:
                segment = segment.set_frame_rate(int(sample_rate))
        else:
            segment = cls.from_file(handle, format=fmt, codec=codec or _codec_guess(label, fmt),
                                    parameters=params)
    except Exception as exc:  # pydub raises CouldntDecodeError or IndexError on bad data
        raise InputError(f"cannot decode {label}: {str(exc).strip().splitlines()[-1] if str(exc) else exc}") from exc
    return pcm_of_segment(segment)


def _codec_guess(label: str, fmt: str | None) -> str:
    ext = (fmt or Path(label).suffix.lstrip(".")).lower()
    return {"mp3": "mp3", "m4a": "aac", "mp4": "aac", "aac": "aac", "ogg": "libvorbis", "opus": "libopus",
            "flac": "flac"}.get(ext, "mp3")


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> Path:
    """Write 16-bit mono WAV atomically."""
    with atomic_output(Path(path), suffix=".wav") as tmp:
        with wave.open(str(tmp), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(int(sample_rate))
            wav.writeframes(to_int16(samples).tobytes())
    return Path(path)


@dataclass(frozen=True)
class Silence:
    start: float
    end: float


def find_silences(samples: np.ndarray, sample_rate: int, min_length: float = MIN_SILENCE_S,
                  threshold_dbfs: float | None = None) -> list[Silence]:
    """Quiet stretches (pydub dBFS detection) at least `min_length` long, in seconds."""
    audio_segment_class()  # first: quiets pydub's import-time warning about ffmpeg on PATH
    from pydub.silence import detect_silence

    if len(samples) == 0:
        return []
    segment = segment_from_pcm(samples, sample_rate)
    if threshold_dbfs is None:
        average = segment.dBFS
        threshold_dbfs = SILENCE_FLOOR_DBFS if not np.isfinite(average) else max(
            SILENCE_FLOOR_DBFS, average - SILENCE_BELOW_AVERAGE_DB)
    ranges = detect_silence(segment, min_silence_len=int(min_length * 1000), silence_thresh=threshold_dbfs,
                            seek_step=5)
    return [Silence(a / 1000.0, b / 1000.0) for a, b in ranges]


@dataclass(frozen=True)
class EnergySeries:
    """RMS loudness every `hop` seconds (window centred on each time), 0..1 of full scale."""

    hop: float
    values: np.ndarray

    def times(self) -> np.ndarray:
        return np.arange(len(self.values)) * self.hop

    def at(self, t: np.ndarray | float) -> np.ndarray:
        return np.interp(t, self.times(), self.values, left=0.0, right=0.0)


def rms_series(samples: np.ndarray, sample_rate: int, hop: float = RMS_HOP_S,
               window: float = RMS_WINDOW_S) -> EnergySeries:
    x = to_float(samples).astype(np.float64)
    hop_n = max(1, int(round(hop * sample_rate)))
    win_n = max(hop_n, int(round(window * sample_rate)))
    n_out = int(np.ceil(len(x) / hop_n)) if len(x) else 0
    if n_out == 0:
        return EnergySeries(hop, np.zeros(0, np.float32))
    # Sliding mean of x^2 via a cumulative sum: O(n), no Python loop.
    pad = win_n // 2
    sq = np.concatenate([np.zeros(pad), x * x, np.zeros(win_n)])
    csum = np.concatenate([[0.0], np.cumsum(sq)])
    starts = np.arange(n_out) * hop_n
    energy = (csum[starts + win_n] - csum[starts]) / win_n
    return EnergySeries(hop, np.sqrt(np.maximum(energy, 0.0)).astype(np.float32))
