"""espeak-ng engine: offline, robotic, with exact phoneme times from the library's own events."""

from __future__ import annotations

import time

from ..cancel import CancelToken
from . import espeak_lib
from .audio import to_float
from .types import ESPEAK, PhonemeTiming, SpeechResult, Voice, WordTiming, check_text


class EspeakEngine:
    """espeak-ng through its C library."""

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
