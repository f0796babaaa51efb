"""Timed viseme cues and the smooth mouth pose they give at any instant.

Cue times are *sound* times (when the phoneme is heard), so they can be checked against the audio
and exported as they are; the animators' rules live in the envelopes: each shape starts LEAD_S
before its sound (attack), holds, then releases; p/b/m press the lips fully shut at their sound;
short pauses keep the mouth half open, long ones close it; measured silences close it too.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from ..mouth.params import REST, VISEME_MATRIX, MouthParams, params_from_array
from .audio import Silence
from .types import PhonemeTiming, SpeechResult, WordTiming
from .visemes import SILENCE, VISEME_IDS, UnknownPhonemeError, is_pause, phoneme_visemes, relative_duration

log = logging.getLogger(__name__)

LEAD_S = 0.06  # shapes start this long before their sound (Rhubarb / TalkingHead anticipate 40-60 ms)
RELEASE_S = 0.045  # ...and fade out after it (longer releases made the mouth trail the audio)
SHORT_PAUSE_MAX_S = 0.35  # pauses up to this keep the mouth half open (Rhubarb's rule)
HALF_OPEN = ("ah", 0.35)  # the half-open pose of a short pause
MERGE_GAP_S = 0.06  # gaps shorter than this just extend the previous shape
SILENCE_CLOSE_S = 0.12  # how fast a measured silence closes the mouth
PBM = "pbm"
UNKNOWN_FALLBACK = ("ah", 0.5)  # shape shown (and reported) for a phoneme the table does not know


@dataclass(frozen=True)
class VisemeCue:
    start: float  # sound start, seconds
    end: float
    viseme: str
    weight: float = 1.0  # 0..1 intensity of the shape

    def to_dict(self) -> dict:
        return {"start": round(self.start, 4), "end": round(self.end, 4), "viseme": self.viseme,
                "weight": round(self.weight, 3)}


@dataclass
class CueBuild:
    cues: list[VisemeCue]
    unknown_phonemes: list[str]


def _segments_of(phoneme: str, start: float, end: float, strict: bool, unknown: list[str]):
    """(start, end, viseme, weight) pieces of one timed phoneme; a pause gives viseme None."""
    if is_pause(phoneme):
        return [(start, end, None, 0.0)]
    try:
        parts = phoneme_visemes(phoneme)
        weight = 1.0
    except UnknownPhonemeError:
        if strict:
            raise
        unknown.append(phoneme)
        log.warning("no viseme for phoneme %r; showing a neutral open shape", phoneme)
        parts, weight = ((UNKNOWN_FALLBACK[0], 1.0),), UNKNOWN_FALLBACK[1]
    out, t = [], start
    for viseme, share in parts:
        t_end = t + (end - start) * share
        out.append((t, t_end, viseme, weight))
        t = t_end
    return out


def cues_from_phonemes(phonemes: Sequence[PhonemeTiming], duration: float, strict: bool = False) -> CueBuild:
    """Cues from exactly timed phonemes (espeak-ng's events)."""
    unknown: list[str] = []
    segments = []
    for ph in phonemes:
        segments.extend(_segments_of(ph.phoneme, ph.start, ph.end, strict, unknown))
    return CueBuild(_apply_rules(segments, duration), unknown)


def spread_word_phonemes(words: Sequence[WordTiming], word_phonemes: Sequence[Sequence[str]]) -> list[PhonemeTiming]:
    """Phoneme times inside each word's window, in proportion to each phoneme's usual duration."""
    if len(words) != len(word_phonemes):
        raise ValueError("one phoneme list per word is needed")
    out: list[PhonemeTiming] = []
    for word, phones in zip(words, word_phonemes):
        phones = [p for p in phones if not is_pause(p)]
        if not phones or word.end <= word.start:
            continue
        weights = np.array([relative_duration(p) for p in phones], dtype=np.float64)
        edges = word.start + (word.end - word.start) * np.concatenate([[0.0], np.cumsum(weights)]) / weights.sum()
        out.extend(PhonemeTiming(float(a), float(b), p) for a, b, p in zip(edges[:-1], edges[1:], phones))
    return out


def cues_from_words(words: Sequence[WordTiming], word_phonemes: Sequence[Sequence[str]], duration: float,
                    strict: bool = False) -> CueBuild:
    """Cues from word windows (edge-tts WordBoundary) and each word's phonemes (phonemizer)."""
    return cues_from_phonemes(spread_word_phonemes(words, word_phonemes), duration, strict)


def _apply_rules(segments: list, duration: float) -> list[VisemeCue]:
    """Pauses and gaps -> rest/half-open cues, tiny gaps absorbed, repeated shapes merged."""
    segments = sorted((s for s in segments if s[1] > s[0]), key=lambda s: s[0])
    spoken: list[list] = []  # [start, end, viseme, weight]; viseme None = pause
    cursor = 0.0
    for start, end, viseme, weight in segments:
        if start > cursor + 1e-6:
            spoken.append([cursor, start, None, 0.0])
        spoken.append([max(start, cursor), end, viseme, weight])
        cursor = max(cursor, end)
    if duration > cursor + 1e-6:
        spoken.append([cursor, duration, None, 0.0])
    # Merge runs of pauses, then decide what each pause shows.
    merged: list[list] = []
    for seg in spoken:
        if merged and seg[2] is None and merged[-1][2] is None:
            merged[-1][1] = seg[1]
        else:
            merged.append(list(seg))
    voiced = [i for i, s in enumerate(merged) if s[2] is not None]
    first_voiced, last_voiced = (voiced[0], voiced[-1]) if voiced else (len(merged), -1)
    cues: list[VisemeCue] = []
    for i, (start, end, viseme, weight) in enumerate(merged):
        if viseme is None:
            length = end - start
            inside = first_voiced < i < last_voiced
            if inside and length < MERGE_GAP_S and cues:
                prev = cues[-1]
                cues[-1] = VisemeCue(prev.start, end, prev.viseme, prev.weight)
                continue
            if inside and length <= SHORT_PAUSE_MAX_S:
                viseme, weight = HALF_OPEN
            else:
                viseme, weight = SILENCE, 1.0
        if cues and cues[-1].viseme == viseme and abs(cues[-1].weight - weight) < 1e-6 \
                and abs(cues[-1].end - start) < 1e-6:
            cues[-1] = VisemeCue(cues[-1].start, end, viseme, weight)
        else:
            cues.append(VisemeCue(start, end, viseme, weight))
    return cues


def close_silent_pauses(cues: Sequence[VisemeCue], silences: Iterable[Silence]) -> list[VisemeCue]:
    """A half-open pause that is mostly silent in the audio becomes a closed mouth (audio beats text)."""
    spans = [(s.start, s.end) for s in silences]
    out = []
    for cue in cues:
        if (cue.viseme, cue.weight) == HALF_OPEN and spans:
            covered = sum(max(0.0, min(cue.end, b) - max(cue.start, a)) for a, b in spans)
            if covered >= 0.5 * (cue.end - cue.start):
                cue = VisemeCue(cue.start, cue.end, SILENCE, 1.0)
        out.append(cue)
    return out


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


class MouthTimeline:
    """The mouth pose at any time of an utterance, from its cues and measured silences."""

    def __init__(self, cues: Sequence[VisemeCue], duration: float, silences: Iterable[Silence] = (),
                 lead: float = LEAD_S, release: float = RELEASE_S) -> None:
        self.cues = list(cues)
        self.duration = float(duration)
        self.silences = list(silences)
        self.lead, self.release = float(lead), float(release)
        self._start = np.array([c.start for c in self.cues], np.float64)
        self._end = np.array([c.end for c in self.cues], np.float64)
        self._weight = np.array([c.weight for c in self.cues], np.float64)
        self._ids = np.array([VISEME_IDS[c.viseme] for c in self.cues], np.int64)
        self._pbm = self._ids == VISEME_IDS[PBM]
        self._params = VISEME_MATRIX[self._ids].astype(np.float64) if self.cues else np.zeros((0, 4))
        self._sil = np.array([(s.start, s.end) for s in self.silences], np.float64).reshape(-1, 2)

    def activations(self, times: np.ndarray, index: np.ndarray | slice = slice(None)) -> np.ndarray:
        """(n_times, n_cues) envelope values: attack LEAD_S before the sound, hold, release after."""
        t = np.asarray(times, np.float64).reshape(-1, 1)
        attack = _smoothstep((t - (self._start[index] - self.lead)) / self.lead)
        release = 1.0 - _smoothstep((t - self._end[index]) / self.release)
        return np.minimum(attack, release) * self._weight[index]

    def silence_gate(self, times: np.ndarray) -> np.ndarray:
        """1 where a measured silence holds the mouth shut; opens in time for the next shape's lead."""
        t = np.asarray(times, np.float64).reshape(-1, 1)
        if not len(self._sil):
            return np.zeros(t.shape[0])
        a, b = self._sil[:, 0], self._sil[:, 1]
        closing = _smoothstep((t - a) / SILENCE_CLOSE_S)
        opening = 1.0 - _smoothstep((t - (b - self.lead)) / self.lead)
        return np.max(np.minimum(closing, opening), axis=1)

    def _evaluate(self, times: np.ndarray, index: np.ndarray | slice = slice(None)):
        times = np.asarray(times, np.float64).reshape(-1)
        act = self.activations(times, index)
        total = act.sum(axis=1, keepdims=True)
        params = act @ self._params[index] / np.maximum(1.0, total)
        pbm = self._pbm[index]
        # p/b/m: lips pressed shut whatever the neighbours are doing.
        closed = np.clip(act[:, pbm].max(axis=1), 0.0, 1.0) if pbm.any() else np.zeros(len(times))
        gate = self.silence_gate(times)
        params[:, 0] *= 1.0 - closed
        params[:, 3] *= 1.0 - closed
        params *= (1.0 - gate)[:, None]
        outside = (times < -self.lead) | (times > self.duration + self.release)
        params[outside] = 0.0
        return params, np.maximum(closed, gate), act, gate

    def params_array(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(params (n, 4), closed (n,)) at each time, vectorised for offline rendering."""
        times = np.asarray(times, np.float64).reshape(-1)
        if not self.cues:
            return np.zeros((len(times), 4)), np.zeros(len(times))
        params, closed, _, _ = self._evaluate(times)
        return params, closed

    def mouth_params_at(self, t: float) -> MouthParams:
        """The pose at time t (seconds into the utterance); REST outside it. Cheap: only nearby cues count."""
        if not self.cues or t < -self.lead or t > self.duration + self.release:
            return REST
        near = np.nonzero((self._start - self.lead <= t) & (self._end + self.release >= t))[0]
        if not len(near):
            return REST
        params, closed, act, gate_arr = self._evaluate(np.array([t]), near)
        weights: dict[str, float] = {}
        pressed = 0.0  # how shut p/b/m press the lips now (as in _evaluate)
        for i, a in zip(near, act[0]):
            if a > 0.02:
                name = self.cues[i].viseme
                weights[name] = weights.get(name, 0.0) + float(a)
            if self._pbm[i]:
                pressed = max(pressed, min(1.0, float(a)))
        if pressed > 0.0:
            # The weights say what is drawn (patch sets blend by them, the overlay names the largest): while
            # p/b/m shut the lips, the neighbours' open shapes fade by the same factor as the pose's opening.
            weights = {k: (v if k == PBM else v * (1.0 - pressed)) for k, v in weights.items()}
        gate = float(gate_arr[0])
        if gate > 0.02:
            weights = {k: v * (1.0 - gate) for k, v in weights.items()}
            weights[SILENCE] = weights.get(SILENCE, 0.0) + gate
        dominant = max(weights, key=weights.get) if weights else SILENCE
        if weights.get(dominant, 0.0) < 0.15:
            dominant = SILENCE
        return params_from_array(params[0], dominant, weights, float(closed[0]))

    def envelope_info(self) -> dict:
        return {"lead": self.lead, "release": self.release,
                "shape": "smoothstep attack from start-lead to start, hold to end, smoothstep release to end+release; "
                         "pose = sum(a_i * params_i) / max(1, sum(a_i)); p/b/m activation closes the lips",
                "short_pause_max": SHORT_PAUSE_MAX_S, "silence_close": SILENCE_CLOSE_S}


def build_cues(speech: SpeechResult, strict: bool = False) -> CueBuild:
    """Cues for a synthesised utterance: exact phoneme times when the engine has them, else word windows."""
    if speech.phonemes is not None:
        return cues_from_phonemes(speech.phonemes, speech.duration, strict)
    from .phonemes import phonemize_words

    word_phonemes = phonemize_words([w.text for w in speech.words], speech.language)
    return cues_from_words(speech.words, word_phonemes, speech.duration, strict)
