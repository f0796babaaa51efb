"""Online speech streamed: the first sound is ready long before synthesis ends, and the last update is
exactly the non-streamed utterance (edge-tts' real client against the loopback service)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

import numpy as np
import pytest
from edge_helpers import serve_edge

from navtalk_desktop.core.speech.audio import decode_audio
from navtalk_desktop.core.speech.edge_stream import FIRST_UPDATE_S, stream_utterances
from navtalk_desktop.core.speech.player import SilentPlayer
from navtalk_desktop.core.speech.session import LipSyncSession
from navtalk_desktop.core.speech.types import SpeechResult
from navtalk_desktop.core.speech.utterance import utterance_from_speech

TEXT = "Bob made a big map for my brother, and then we walked home across the quiet fields."


def _collect(text: str):
    """Every update of a stream, run on a fresh asyncio loop in a thread of its own."""
    async def collect():
        return [u async for u in stream_utterances(text, "en-US-GuyNeural")]

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, collect()).result(60)


def test_stream_grows_and_ends_with_the_whole_utterance(monkeypatch):
    service = serve_edge(monkeypatch, pace=4.0)  # audio arrives at 4x real time, as a service synthesising
    try:
        updates = (_collect(TEXT))
    finally:
        service.__exit__(None, None, None)
    assert len(updates) >= 3 and [u.final for u in updates] == [False] * (len(updates) - 1) + [True]
    durations = [u.utterance.duration for u in updates]
    assert durations == sorted(durations) and durations[0] >= FIRST_UPDATE_S * 0.8
    # The first update came well before the stream ended (4x pacing of a ~5 s sentence: ~1.2 s of sending).
    assert updates[0].elapsed < 0.6 * updates[-1].elapsed, [u.elapsed for u in updates]
    # Each update's audio is the start of the final audio (growing, never rewritten).
    final = updates[-1].utterance
    for u in updates[:-1]:
        n = len(u.utterance.audio) - 2000  # the last MP3 frame of a partial decode may differ
        assert np.allclose(u.utterance.audio[:n], final.audio[:n], atol=1e-3)
    # The last update is what the non-streaming path makes of the same bytes: same audio, words and cues.
    audio, rate = decode_audio(service.sent_mp3, codec="mp3", fmt="mp3")
    assert np.array_equal(final.audio, audio) and final.sample_rate == rate
    assert [(w.text, w.start) for w in final.speech.words] == \
           [(w.text, pytest.approx(w.start, abs=1e-6)) for w in service.truth]
    whole = SpeechResult(text=TEXT, engine="edge", voice="en-US-GuyNeural", language="en-us", audio=audio,
                         sample_rate=rate, words=final.speech.words)
    assert [(c.viseme, c.start) for c in final.cues] == [(c.viseme, c.start) for c in utterance_from_speech(whole).cues]


def test_session_extends_a_streamed_utterance_without_restarting(monkeypatch):
    service = serve_edge(monkeypatch, pace=4.0)
    try:
        updates = (_collect("Papa made a big map."))
    finally:
        service.__exit__(None, None, None)
    player = SilentPlayer("test: no device")
    session = LipSyncSession(player=player, display_latency=0.0)
    session.speak(updates[0].utterance, open_ended=True)
    time.sleep(0.05)
    before = session.position()
    # An open stream does not end at its current length, even past it.
    monkeypatch.setattr(player.clock, "position", lambda: updates[0].utterance.duration + 1.0)
    assert session.speaking and session.utterance is updates[0].utterance
    monkeypatch.undo()
    assert session.extend(updates[-1].utterance, final=True)
    assert session.utterance is updates[-1].utterance and session.position() >= before  # clock not restarted
    session.stop()
    assert not session.extend(updates[-1].utterance, final=True)  # stopped: a late update is dropped
