"""edge-tts: the real client library against a loopback stand-in for the Edge "Read Aloud" service.

The remote service cannot be reached here, so a small websocket server on 127.0.0.1 speaks the
documented protocol (speech.config, SSML, turn.start, audio.metadata with WordBoundary or
SentenceBoundary, binary audio frames, turn.end). Its audio is real speech (espeak-ng, MP3-encoded
by ffmpeg) and its word offsets are espeak's own word times, in 100 ns ticks.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import threading
import uuid

import numpy as np
import pytest

from navtalk_desktop.core import ffmpeg
from navtalk_desktop.core.speech.audio import to_int16
from navtalk_desktop.core.speech.edge_engine import (
    TICKS_PER_SECOND, WORD_BOUNDARY, EdgeTtsEngine, TtsNetworkError, words_or_audio,
)
from navtalk_desktop.core.speech.espeak_engine import EspeakEngine
from navtalk_desktop.core.speech.types import WordTiming
from navtalk_desktop.core.speech.utterance import prepare_utterance, utterance_from_speech

import aiohttp  # noqa: E402,F401  (a dependency of edge-tts)
from aiohttp import web  # noqa: E402


def _mp3(audio: np.ndarray, rate: int) -> bytes:
    proc = subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(rate), "-ac", "1",
         "-i", "-", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", "-"],
        input=to_int16(audio).tobytes(), capture_output=True, check=True)
    return proc.stdout


class FakeEdgeService:
    """Loopback websocket server with the Edge TTS message shapes."""

    def __init__(self) -> None:
        self.configs: list[dict] = []
        self.ssml: list[str] = []
        self.truth: list[WordTiming] = []
        self.loop = asyncio.new_event_loop()
        self.port = 0
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "FakeEdgeService":
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/consumer/speech/synthesize/readaloud/edge/v1?TrustedClientToken=t"

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_get("/consumer/speech/synthesize/readaloud/edge/v1", self._handle)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        self.port = site._server.sockets[0].getsockname()[1]
        self._ready.set()
        self.loop.run_forever()

    @staticmethod
    def _text_message(path: str, body: str) -> str:
        return (f"X-RequestId:{uuid.uuid4().hex}\r\nContent-Type:application/json; charset=utf-8\r\n"
                f"Path:{path}\r\n\r\n{body}")

    @staticmethod
    def _audio_message(data: bytes) -> bytes:
        header = f"X-RequestId:{uuid.uuid4().hex}\r\nContent-Type:audio/mpeg\r\nPath:audio\r\n".encode()
        return len(header).to_bytes(2, "big") + header + data

    async def _handle(self, request):
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        word_boundaries = False
        async for msg in ws:
            text = msg.data
            body = text.split("\r\n\r\n", 1)[1]
            if "Path:speech.config" in text:
                config = json.loads(body)
                self.configs.append(config)
                options = config["context"]["synthesis"]["audio"]["metadataoptions"]
                word_boundaries = options["wordBoundaryEnabled"] == "true"
                continue
            self.ssml.append(body)
            spoken = re.sub(r"<[^>]+>", "", body).strip()
            speech = EspeakEngine().synthesize(spoken)
            self.truth = speech.words
            await ws.send_str(self._text_message("turn.start", "{}"))
            mp3 = _mp3(speech.audio, speech.sample_rate)
            if word_boundaries:
                for w in speech.words:
                    meta = {"Metadata": [{"Type": "WordBoundary", "Data": {
                        "Offset": int(w.start * TICKS_PER_SECOND), "Duration": int((w.end - w.start) * TICKS_PER_SECOND),
                        "text": {"Text": w.text, "Length": len(w.text), "BoundaryType": "WordBoundary"}}}]}
                    await ws.send_str(self._text_message("audio.metadata", json.dumps(meta)))
            else:  # what the service sends when only sentence boundaries were asked for
                meta = {"Metadata": [{"Type": "SentenceBoundary", "Data": {
                    "Offset": 0, "Duration": int(speech.duration * TICKS_PER_SECOND),
                    "text": {"Text": spoken, "Length": len(spoken), "BoundaryType": "SentenceBoundary"}}}]}
                await ws.send_str(self._text_message("audio.metadata", json.dumps(meta)))
            for i in range(0, len(mp3), 4096):
                await ws.send_bytes(self._audio_message(mp3[i:i + 4096]))
            await ws.send_str(self._text_message("turn.end", "{}"))
            break
        await ws.close()
        return ws


@pytest.fixture
def edge_service(monkeypatch):
    import edge_tts.communicate

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    with FakeEdgeService() as service:
        monkeypatch.setattr(edge_tts.communicate, "WSS_URL", service.url)
        yield service


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
    with pytest.raises(TtsNetworkError, match="--engine espeak"):
        EdgeTtsEngine(connect_timeout=2).synthesize("hello")
    # "auto" falls back to the offline engine and says so.
    monkeypatch.setattr("navtalk_desktop.core.speech.engines.network_available", lambda: True)
    monkeypatch.delenv("NAVTALK_TTS_ENGINE", raising=False)
    monkeypatch.delenv("NAVTALK_OFFLINE", raising=False)
    utterance = prepare_utterance("hello there", "auto")
    assert utterance.speech.engine == "espeak" and "espeak-ng offline" in utterance.notice
