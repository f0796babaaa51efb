"""The speech engines' shared vocabulary: engine names, timings, voices, results and the engine interface.

Kept apart from any engine so each engine module imports only this, never another engine (no cycles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

from ..cancel import CancelToken
from ..errors import InputError


class EngineName(StrEnum):
    """The text-to-speech engines; values are what the CLI, settings and results use."""

    ESPEAK = "espeak"
    EDGE = "edge"


ESPEAK = EngineName.ESPEAK
EDGE = EngineName.EDGE
ENGINE_NAMES = tuple(e.value for e in EngineName)


@dataclass(frozen=True)
class PhonemeTiming:
    """One phoneme in the audio, in seconds. phoneme == "" marks a pause."""

    start: float
    end: float
    phoneme: str


@dataclass(frozen=True)
class WordTiming:
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Voice:
    id: str  # what `synthesize(voice=...)` takes
    name: str
    language: str
    gender: str = ""


@dataclass
class SpeechResult:
    """Synthesised speech: float32 mono samples and whatever timing the engine knows."""

    text: str
    engine: str
    voice: str
    language: str
    audio: np.ndarray
    sample_rate: int
    words: list[WordTiming] = field(default_factory=list)
    phonemes: list[PhonemeTiming] | None = None  # exact per-phoneme times (espeak); None = words only
    first_audio_latency: float | None = None  # seconds from the request to the first audio chunk

    @property
    def duration(self) -> float:
        return len(self.audio) / float(self.sample_rate) if self.sample_rate else 0.0


@runtime_checkable
class TtsEngine(Protocol):
    name: str
    needs_network: bool
    default_voice: str

    def voices(self) -> list[Voice]: ...

    def synthesize(self, text: str, voice: str | None = None, cancel: CancelToken | None = None) -> SpeechResult:
        ...


def check_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise InputError("there is no text to speak")
    if len(text) > 5000:
        raise InputError(f"the text is too long to preview ({len(text)} characters; at most 5000)")
    return text
