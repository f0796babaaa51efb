"""edge-tts: the real client library against a loopback stand-in for the Edge "Read Aloud" service
(tests/edge_helpers.py)."""

from __future__ import annotations

import pytest
from edge_helpers import edge_service  # noqa: F401  (fixture)

from navtalk_desktop.cli.error_words import worded as cli_worded
from navtalk_desktop.core.errors import Remedy
from navtalk_desktop.core.speech.edge_engine import (
    WORD_BOUNDARY, EdgeTtsEngine, TtsNetworkError, words_or_audio,
)
from navtalk_desktop.core.speech.types import WordTiming
from navtalk_desktop.core.speech.utterance import prepare_utterance, utterance_from_speech


TEXT = "Bob made a big map for my brother."


def test_engine_requests_word_boundaries(edge_service):
    engine = EdgeTtsEngine()
    assert engine.communicate("hi", engine.default_voice).tts_config.boundary == WORD_BOUNDARY
    engine.synthesize(TEXT)
    options = edge_service.configs[0]["context"]["synthesis"]["audio"]["metadataoptions"]
    assert options == {"sentenceBoundaryEnabled": "false", "wordBoundaryEnabled": "true"}
    assert "(en-US, AriaNeural)" in edge_service.ssml[0] and "Bob made a big map" in edge_service.ssml[0]


def test_word_boundaries_become_visemes_in_their_word_windows(edge_service):
    speech = EdgeTtsEngine().synthesize(TEXT, voice="en-US-GuyNeural")
    assert speech.engine == "edge" and speech.phonemes is None and speech.language == "en-us"
    assert [w.text for w in speech.words] == [w.text for w in edge_service.truth]
    for got, want in zip(speech.words, edge_service.truth):
        assert got.start == pytest.approx(want.start, abs=1e-6) and got.end == pytest.approx(want.end, abs=1e-6)
    assert speech.sample_rate == 24000
    assert speech.duration == pytest.approx(edge_service.truth[-1].end, abs=0.25)
    utterance = utterance_from_speech(speech, strict=True)
    # Every word's first sound shape sits at the start of its window; p/b/m words start closed.
    for word in speech.words:
        at_start = [c for c in utterance.cues if c.start - 1e-6 <= word.start < c.end]
        assert at_start and at_start[0].viseme not in ("sil",), f"no shape at the start of {word.text!r}"
        if word.text.lower()[0] in "bmp":  # (a p/b/m ending the previous word merges into the same closure)
            assert at_start[0].viseme == "pbm", (word, at_start[0])
            assert utterance.mouth_params_at(word.start + 0.01).closed > 0.9
    # Speech shapes start inside word windows; between words only pauses (rest / half-open) begin.
    for cue in utterance.cues:
        if (cue.viseme, cue.weight) not in (("sil", 1.0), ("ah", 0.35)):
            assert any(w.start - 1e-6 <= cue.start < w.end for w in speech.words), cue


def test_recorded_chunks_of_the_documented_shapes():
    mp3 = bytearray()
    words: list[WordTiming] = []
    for chunk in [
        {"type": "audio", "data": b"\xff\xf3"},
        {"type": "WordBoundary", "offset": 1_000_000, "duration": 3_500_000, "text": "Hello"},
        {"type": "SentenceBoundary", "offset": 0, "duration": 9_000_000, "text": "Hello world"},
        {"type": "audio", "data": b"\x00\x01"},
        {"type": "WordBoundary", "offset": 5_000_000, "duration": 4_000_000, "text": "world"},
    ]:
        words_or_audio(chunk, mp3, words)
    assert bytes(mp3) == b"\xff\xf3\x00\x01"
    assert [w.text for w in words] == ["Hello", "world"]
    assert [(w.start, w.end) for w in words] == [pytest.approx((0.1, 0.45)), pytest.approx((0.5, 0.9))]


def test_unreachable_service_says_what_to_do(monkeypatch):
    import socket

    import edge_tts.communicate

    with socket.socket() as sock:  # a loopback port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", f"ws://127.0.0.1:{port}/edge/v1?TrustedClientToken=t")
    with pytest.raises(TtsNetworkError, match="check the network") as err:
        EdgeTtsEngine(connect_timeout=2).synthesize("hello")
    assert err.value.remedy == Remedy.OFFLINE_ENGINE  # the CLI words it "--engine espeak", the studio its voice list
    assert cli_worded(err.value).endswith("or use the offline engine (--engine espeak)")
    # "auto" falls back to the offline engine and says so.
    monkeypatch.setattr("navtalk_desktop.core.speech.engines.network_available", lambda: True)
    monkeypatch.delenv("NAVTALK_TTS_ENGINE", raising=False)
    monkeypatch.delenv("NAVTALK_OFFLINE", raising=False)
    utterance = prepare_utterance("hello there", "auto")
    assert utterance.speech.engine == "espeak" and "espeak-ng offline" in utterance.notice
