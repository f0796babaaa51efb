"""An utterance ready to play: audio, timed viseme cues, measured silences, loudness, mouth poses.

This is what the preview widget, the offline `speak` render and the cues export all consume.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from ..cancel import CancelToken
from ..errors import InputError
from ..mouth.params import MouthParams
from .audio import EnergySeries, Silence, find_silences, rms_series
from .engines import default_engine, engine_by_name
from .types import EDGE, ESPEAK, SpeechResult, TtsEngine
from .timeline import MouthTimeline, VisemeCue, build_cues, close_silent_pauses

log = logging.getLogger(__name__)


@dataclass
class Utterance:
    speech: SpeechResult
    cues: list[VisemeCue]
    timeline: MouthTimeline
    silences: list[Silence]
    energy: EnergySeries
    unknown_phonemes: list[str] = field(default_factory=list)
    notice: str = ""  # e.g. why the offline engine was used instead of the requested one

    @property
    def audio(self) -> np.ndarray:
        """float32 mono samples, -1..1."""
        return self.speech.audio

    @property
    def sample_rate(self) -> int:
        return self.speech.sample_rate

    @property
    def duration(self) -> float:
        return self.speech.duration

    @property
    def text(self) -> str:
        return self.speech.text

    def mouth_params_at(self, t: float) -> MouthParams:
        return self.timeline.mouth_params_at(t)


def utterance_from_speech(speech: SpeechResult, strict: bool = False) -> Utterance:
    """Cues from the engine's timing, silences and RMS from the audio itself."""
    built = build_cues(speech, strict=strict)
    silences = find_silences(speech.audio, speech.sample_rate)
    cues = close_silent_pauses(built.cues, silences)
    timeline = MouthTimeline(cues, speech.duration, silences)
    return Utterance(speech=speech, cues=cues, timeline=timeline, silences=silences,
                     energy=rms_series(speech.audio, speech.sample_rate),
                     unknown_phonemes=built.unknown_phonemes)


def prepare_utterance(
    text: str,
    engine: TtsEngine | str | None = None,
    voice: str | None = None,
    cancel: CancelToken | None = None,
    strict: bool = False,
) -> Utterance:
    """Synthesize `text` and time its mouth shapes. engine None/"auto" = default_engine().

    With "auto", an unreachable online service falls back to espeak-ng, and `notice` says so.
    """
    auto = engine is None or engine == "auto"
    chosen = default_engine() if auto else (engine_by_name(engine) if isinstance(engine, str) else engine)
    notice = ""
    try:
        speech = chosen.synthesize(text, voice, cancel)
    except Exception as exc:
        from .edge_engine import TtsNetworkError

        if not (auto and chosen.name == EDGE and isinstance(exc, TtsNetworkError)):
            raise
        notice = f"online voices unavailable ({exc}); using espeak-ng offline"
        log.warning(notice)
        chosen = engine_by_name(ESPEAK)
        speech = chosen.synthesize(text, None, cancel)
    utterance = utterance_from_speech(speech, strict=strict)
    if all(c.viseme == "sil" for c in utterance.cues):
        raise InputError("the text has nothing to pronounce (only punctuation or spaces?)")
    utterance.notice = notice
    return utterance
