"""Viseme timing: espeak-ng's own phoneme events are the reference; the animators' rules hold."""

from __future__ import annotations

import json

import numpy as np
import pytest

from navtalk_desktop.core.speech import espeak_lib
from navtalk_desktop.core.speech.cues import CUES_FORMAT, write_cues
from navtalk_desktop.core.speech.engines import default_engine, engine_by_name
from navtalk_desktop.core.speech.espeak_engine import EspeakEngine
from navtalk_desktop.core.speech.types import PhonemeTiming, SpeechResult, WordTiming
from navtalk_desktop.core.errors import InputError
from navtalk_desktop.core.speech.timeline import (
    LEAD_S, MouthTimeline, VisemeCue, cues_from_phonemes, spread_word_phonemes,
)
from navtalk_desktop.core.speech.utterance import prepare_utterance, utterance_from_speech
from navtalk_desktop.core.speech.visemes import normalize_phoneme

PBM_SENTENCE = "Bob brought me a big blue map, maybe by Pam's boat."


def test_pbm_visemes_within_20ms_of_espeak_phoneme_events():
    # Reference: espeak's raw events, read straight from the library (sample positions).
    raw = espeak_lib.synthesize(PBM_SENTENCE, "en-us")
    events = [ev.sample / raw.sample_rate for ev in raw.phonemes if normalize_phoneme(ev.name) in ("p", "b", "m")]
    assert len(events) >= 10
    utterance = prepare_utterance(PBM_SENTENCE, "espeak", "en-us", strict=True)
    pbm = [c for c in utterance.cues if c.viseme == "pbm"]
    assert pbm
    for t in events:
        near = [c for c in pbm if c.start - 0.020 <= t <= c.end]
        assert near, f"no p/b/m cue at espeak event {t:.3f}s"
        # Merged runs (e.g. "Bob brought") start at the first event; every other event is inside.
        assert min(abs(c.start - t) for c in pbm) <= 0.020 or any(c.start < t < c.end for c in near)
    for cue in pbm:
        assert min(abs(cue.start - t) for t in events) <= 0.020, f"p/b/m cue at {cue.start:.3f}s matches no event"
    # Lips fully closed at each p/b/m sound, whatever the vowels around it do; the pose's viseme weights
    # (what a PNG patch set blends, what the overlay names) say so too.
    for t in events:
        pose = utterance.mouth_params_at(t + 0.005)
        assert pose.closed > 0.9 and pose.jaw_open < 0.05, (t, pose)
        shut = pose.weights.get("pbm", 0.0) + pose.weights.get("sil", 0.0)  # (a silence may be closing in too)
        assert pose.viseme in ("pbm", "sil") and shut >= 0.9 * sum(pose.weights.values()), (t, pose)


def test_engine_times_match_the_audio_length():
    result = EspeakEngine().synthesize("Testing one two three.")
    assert result.sample_rate == 22050 and result.audio.dtype == np.float32
    assert result.phonemes and result.phonemes[-1].end == pytest.approx(result.duration, abs=1e-6)
    assert [w.text for w in result.words] == ["Testing", "one", "two", "three"]
    assert all(a.end <= b.start + 1e-9 for a, b in zip(result.phonemes, result.phonemes[1:]))
    assert result.first_audio_latency is not None and result.first_audio_latency < 1.0


def test_shapes_lead_their_sound():
    cues = [VisemeCue(0.0, 0.5, "sil"), VisemeCue(0.5, 0.7, "aa"), VisemeCue(0.7, 1.2, "sil")]
    tl = MouthTimeline(cues, 1.2)
    assert tl.mouth_params_at(0.5 - LEAD_S - 0.01).jaw_open == pytest.approx(0.0, abs=1e-6)
    early = tl.mouth_params_at(0.5 - LEAD_S / 3).jaw_open
    assert 0.2 < early < tl.mouth_params_at(0.55).jaw_open  # already opening before the sound
    assert 0.04 <= LEAD_S <= 0.06


def test_short_pause_half_open_long_pause_closed():
    phonemes = [
        PhonemeTiming(0.00, 0.15, "ɑː"), PhonemeTiming(0.15, 0.35, ""),  # 0.2 s pause
        PhonemeTiming(0.35, 0.50, "ɑː"), PhonemeTiming(0.50, 1.30, ""),  # 0.8 s pause
        PhonemeTiming(1.30, 1.45, "ɑː"),
    ]
    built = cues_from_phonemes(phonemes, 1.6)
    tl = MouthTimeline(built.cues, 1.6)
    short = tl.mouth_params_at(0.25)
    long_ = tl.mouth_params_at(0.9)
    full = tl.mouth_params_at(0.1).jaw_open
    assert 0.15 * full < short.jaw_open < 0.6 * full  # half open
    assert long_.jaw_open == pytest.approx(0.0, abs=1e-6) and long_.viseme == "sil"
    assert [c.viseme for c in built.cues] == ["aa", "ah", "aa", "sil", "aa", "sil"]


def test_transitions_are_smooth():
    utterance = prepare_utterance("Hello world, papa made a big map.", "espeak")
    times = np.arange(0, utterance.duration, 0.002)
    params, _ = utterance.timeline.params_array(times)
    steps = np.abs(np.diff(params, axis=0)).max()
    assert steps < 0.12  # no jumps: at most 0.12 of the range in 2 ms
    assert params[:, 0].max() > 0.5  # ...while the mouth does open wide


def test_measured_silence_closes_the_mouth_even_against_the_text():
    engine = EspeakEngine()
    a, b = engine.synthesize("Hello there."), engine.synthesize("Good morning.")
    gap = np.zeros(int(0.8 * a.sample_rate), np.float32)
    audio = np.concatenate([a.audio, gap, b.audio])
    # Text timing that wrongly claims a long vowel across the silent gap.
    phonemes = list(a.phonemes[:-1]) + [PhonemeTiming(a.phonemes[-1].start, a.duration + 0.8, "ɑː")]
    phonemes += [PhonemeTiming(p.start + a.duration + 0.8, p.end + a.duration + 0.8, p.phoneme) for p in b.phonemes]
    speech = SpeechResult("Hello there. Good morning.", "espeak", "en-us", "en-us", audio, a.sample_rate,
                          phonemes=phonemes)
    utterance = utterance_from_speech(speech)
    middle = a.duration + 0.4
    assert any(s.start <= middle <= s.end for s in utterance.silences)
    assert utterance.mouth_params_at(middle).jaw_open < 0.02
    assert utterance.mouth_params_at(middle).viseme == "sil"
    # Without the audio's silences the text timing alone would hold the mouth open there.
    assert MouthTimeline(utterance.cues, utterance.duration).mouth_params_at(middle).jaw_open > 0.5
    # ...and it opens again for the next words.
    opened = max(utterance.mouth_params_at(t).jaw_open for t in np.arange(a.duration + 0.8, utterance.duration, 0.01))
    assert opened > 0.3


def test_word_windows_spread_phonemes_by_relative_duration():
    words = [WordTiming(0.10, 0.50, "map"), WordTiming(0.60, 0.70, "a")]
    timed = spread_word_phonemes(words, [["m", "æ", "p"], ["ɐ"]])
    assert [p.phoneme for p in timed] == ["m", "æ", "p", "ɐ"]
    assert timed[0].start == pytest.approx(0.10) and timed[2].end == pytest.approx(0.50)
    lengths = [p.end - p.start for p in timed[:3]]
    assert lengths[1] > lengths[0] and lengths[1] > lengths[2]  # the vowel takes the longest share
    built = cues_from_phonemes(timed, 0.8)
    assert [c.viseme for c in built.cues][:4] == ["sil", "pbm", "ae", "pbm"]


def test_cues_json_has_audio_cues_and_rms(tmp_path):
    utterance = prepare_utterance("Papa made a map.", "espeak")
    json_path, wav_path = write_cues(utterance, tmp_path / "cues.json")
    doc = json.loads(json_path.read_text())
    assert doc["format"] == CUES_FORMAT and wav_path.exists() and doc["audio"]["file"] == "cues.wav"
    assert doc["cues"] and set(doc["cues"][0]) == {"start", "end", "viseme", "weight"}
    assert [c["viseme"] for c in doc["cues"]] == [c.viseme for c in utterance.cues]
    rms = np.array(doc["rms"]["values"])
    assert doc["rms"]["hop"] == pytest.approx(0.01)
    assert len(rms) == pytest.approx(utterance.duration / 0.01, abs=2) and rms.max() > 0.05
    # The RMS series follows the audio: loud where the speech is, quiet in its trailing silence.
    assert rms[-5:].max() < 0.2 * rms.max()
    import wave

    with wave.open(str(wav_path)) as wav:
        assert wav.getframerate() == utterance.sample_rate
        assert wav.getnframes() == len(utterance.audio)


def test_engine_choice_and_bad_input():
    assert default_engine(online=False).name == "espeak"
    assert engine_by_name("edge").name == "edge"
    with pytest.raises(InputError, match="unknown speech engine"):
        engine_by_name("sapi")
    with pytest.raises(InputError, match="no text"):
        EspeakEngine().synthesize("   ")
    with pytest.raises(InputError, match="no voice"):
        EspeakEngine().synthesize("hello", voice="xx-nope")
    with pytest.raises(InputError, match="nothing to pronounce"):
        prepare_utterance("...", "espeak")


def test_offline_switch_picks_espeak(monkeypatch):
    monkeypatch.setenv("NAVTALK_OFFLINE", "1")
    assert default_engine().name == "espeak"
    monkeypatch.setenv("NAVTALK_TTS_ENGINE", "edge")
    assert default_engine().name == "edge"
