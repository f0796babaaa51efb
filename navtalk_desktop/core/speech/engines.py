"""Text-to-speech engines behind one small interface: espeak-ng (offline, exact phoneme times) and
edge-tts (online neural voices, word windows).

Why two: edge-tts sounds natural but needs the network and gives only word timings; espeak-ng is
always there and its phoneme events are the timing reference. The offline one is the default
when there is no network.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from ..cancel import CancelToken
from ..errors import InputError
from . import espeak_lib
from .audio import to_float

ESPEAK = "espeak"
EDGE = "edge"
ENGINE_NAMES = (ESPEAK, EDGE)


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


class EspeakEngine:
    """espeak-ng through its C library: robotic voice, exact phoneme times from its own events."""

    name = ESPEAK
    needs_network = False
    default_voice = "en-us"

    def __init__(self, rate_wpm: int = 165) -> None:
        self.rate_wpm = rate_wpm

    def voices(self) -> list[Voice]:
        out = []
        for v in espeak_lib.list_voices():
            if not v.languages:
                continue
            out.append(Voice(id=v.languages[0], name=v.name, language=v.languages[0], gender=v.gender))
        return out

    def synthesize(self, text: str, voice: str | None = None, cancel: CancelToken | None = None) -> SpeechResult:
        text = check_text(text)
        voice = voice or self.default_voice
        requested = time.perf_counter()
        first: list[float] = []
        raw = espeak_lib.synthesize(
            text, voice, self.rate_wpm,
            abort=(lambda: cancel.cancelled) if cancel is not None else None,
            on_first_audio=lambda: first.append(time.perf_counter()),
        )
        if cancel is not None:
            cancel.raise_if_cancelled()
        sr = raw.sample_rate
        total = len(raw.samples) / sr
        phonemes = []
        for i, ev in enumerate(raw.phonemes):
            start = ev.sample / sr
            end = raw.phonemes[i + 1].sample / sr if i + 1 < len(raw.phonemes) else total
            if end > start:
                phonemes.append(PhonemeTiming(start, end, ev.name))
        words = []
        for i, ev in enumerate(raw.words):
            start = ev.sample / sr
            end = raw.words[i + 1].sample / sr if i + 1 < len(raw.words) else total
            word = text[max(0, ev.text_position - 1): ev.text_position - 1 + ev.length]
            words.append(WordTiming(start, min(end, total), word))
        from .phonemes import language_of_voice

        return SpeechResult(
            text=text, engine=self.name, voice=voice, language=language_of_voice(voice),
            audio=to_float(raw.samples), sample_rate=sr, words=words, phonemes=phonemes,
            first_audio_latency=(first[0] - requested) if first else None,
        )


def network_available() -> bool:
    """Whether a route to the internet exists, decided without sending a packet.

    Connecting a UDP socket only asks the kernel for a route; NAVTALK_OFFLINE=1 forces offline.
    """
    if os.environ.get("NAVTALK_OFFLINE", "").strip() not in ("", "0"):
        return False
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("192.0.2.1", 443))  # TEST-NET-1: never contacted, only routed
            return not sock.getsockname()[0].startswith("127.")
    except OSError:
        return False


def engine_by_name(name: str) -> TtsEngine:
    name = (name or "").strip().lower()
    if name in ("espeak", "espeak-ng"):
        return EspeakEngine()
    if name in ("edge", "edge-tts"):
        from .edge_engine import EdgeTtsEngine

        return EdgeTtsEngine()
    raise InputError(f"unknown speech engine {name!r}; choose one of: {', '.join(ENGINE_NAMES)}")


def default_engine(online: bool | None = None) -> TtsEngine:
    """edge-tts when the network is there, espeak-ng otherwise; NAVTALK_TTS_ENGINE overrides."""
    forced = os.environ.get("NAVTALK_TTS_ENGINE", "").strip()
    if forced:
        return engine_by_name(forced)
    if online is None:
        online = network_available()
    return engine_by_name(EDGE if online else ESPEAK)


def __getattr__(name: str):  # EdgeTtsEngine lives in its own module; import it lazily (aiohttp is heavy)
    if name == "EdgeTtsEngine":
        from .edge_engine import EdgeTtsEngine

        return EdgeTtsEngine
    raise AttributeError(name)
