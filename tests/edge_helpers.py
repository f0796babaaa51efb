"""A loopback stand-in for the Edge "Read Aloud" service, shared by the speech tests.

The remote service cannot be reached here, so a small websocket server on 127.0.0.1 speaks the
documented protocol (speech.config, SSML, turn.start, audio.metadata with WordBoundary or
SentenceBoundary, binary audio frames, turn.end). Its audio is real speech (espeak-ng, MP3-encoded
by ffmpeg) and its word offsets are espeak's own word times, in 100 ns ticks. `pace` sends the audio
no faster than `pace` × real time, as the real service does while it synthesises.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import threading
import time
import uuid

import numpy as np
import pytest
from aiohttp import web

from navtalk_desktop.core import ffmpeg
from navtalk_desktop.core.speech.audio import to_int16
from navtalk_desktop.core.speech.edge_engine import TICKS_PER_SECOND
from navtalk_desktop.core.speech.espeak_engine import EspeakEngine
from navtalk_desktop.core.speech.types import WordTiming

CHUNK_BYTES = 4096
MP3_BYTES_PER_SECOND = 6000  # 48 kbit/s


def _mp3(audio: np.ndarray, rate: int) -> bytes:
    proc = subprocess.run(
        [ffmpeg.ffmpeg_exe(), "-hide_banner", "-loglevel", "error", "-f", "s16le", "-ar", str(rate), "-ac", "1",
         "-i", "-", "-ar", "24000", "-c:a", "libmp3lame", "-b:a", "48k", "-f", "mp3", "-"],
        input=to_int16(audio).tobytes(), capture_output=True, check=True)
    return proc.stdout


class FakeEdgeService:
    """Loopback websocket server with the Edge TTS message shapes."""

    def __init__(self, pace: float | None = None) -> None:
        self.pace = pace  # None: as fast as possible; 2.0: audio arrives at twice real time
        self.sent_last_audio_at: float | None = None  # time.perf_counter() after the last audio frame
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
            self.sent_mp3 = mp3
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
            for i in range(0, len(mp3), CHUNK_BYTES):
                await ws.send_bytes(self._audio_message(mp3[i:i + CHUNK_BYTES]))
                if self.pace:
                    await asyncio.sleep(CHUNK_BYTES / MP3_BYTES_PER_SECOND / self.pace)
            self.sent_last_audio_at = time.perf_counter()
            await ws.send_str(self._text_message("turn.end", "{}"))
            break
        await ws.close()
        return ws


def serve_edge(monkeypatch, pace: float | None = None):
    """Point edge-tts at a FakeEdgeService for one test (a context manager)."""
    import edge_tts.communicate

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    service = FakeEdgeService(pace)
    service.__enter__()
    monkeypatch.setattr(edge_tts.communicate, "WSS_URL", service.url)
    return service


@pytest.fixture
def edge_service(monkeypatch):
    service = serve_edge(monkeypatch)
    yield service
    service.__exit__(None, None, None)
