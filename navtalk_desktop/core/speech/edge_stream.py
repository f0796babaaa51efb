"""Online speech that starts before synthesis ends: edge-tts chunks folded into growing utterances.

The service sends MP3 frames and word boundaries while it synthesises. Waiting for the last chunk costs the
whole synthesis time before the first sound; instead, each time enough new audio has arrived, the audio so
far is decoded and timed into an Utterance the player can extend while it plays. The last update is exactly
what the non-streaming path (`EdgeTtsEngine.synthesize`) gives for the same chunks.

Decoding and cue building block (ffmpeg, phonemizer), so the caller passes `to_thread` to keep them off the
GUI thread; the loop itself only awaits.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from ..cancel import CancelToken
from ..errors import InputError
from .audio import decode_audio
from .edge_engine import EdgeTtsEngine, TtsNetworkError, words_or_audio
from .phonemes import language_of_voice
from .types import SpeechResult, WordTiming, check_text
from .utterance import Utterance, utterance_from_speech

MP3_BYTES_PER_SECOND = 6000  # edge-tts' default format: 24 kHz mono MP3 at 48 kbit/s
FIRST_UPDATE_S = 0.5  # audio needed before the first update: enough to ride out network jitter
STEP_S = 0.75  # new audio between updates (each update decodes everything so far)


@dataclass
class StreamUpdate:
    utterance: Utterance
    final: bool
    elapsed: float  # seconds since the request


class SpeechStream:
    """The chunks received so far, and utterances made of them."""

    def __init__(self, engine: EdgeTtsEngine, text: str, voice: str) -> None:
        self.engine = engine
        self.text = text
        self.voice = voice
        self.mp3 = bytearray()
        self.words: list[WordTiming] = []
        self.requested = time.perf_counter()
        self.first_audio: float | None = None
        self._decoded_bytes = 0

    def feed(self, chunk: dict) -> None:
        words_or_audio(chunk, self.mp3, self.words, self.engine.audio_delay)
        if chunk.get("type") == "audio" and self.first_audio is None:
            self.first_audio = time.perf_counter()

    def ready_for_update(self) -> bool:
        need = (FIRST_UPDATE_S if self._decoded_bytes == 0 else STEP_S) * MP3_BYTES_PER_SECOND
        return len(self.mp3) - self._decoded_bytes >= need

    def utterance(self, final: bool) -> Utterance:
        """The audio so far, decoded and timed (blocking: run it in a thread)."""
        data = bytes(self.mp3)
        self._decoded_bytes = len(data)
        if not data:
            raise TtsNetworkError("edge-tts returned no audio")
        audio, sr = decode_audio(data, codec="mp3", fmt="mp3")
        speech = SpeechResult(
            text=self.text, engine=self.engine.name, voice=self.voice, language=language_of_voice(self.voice),
            audio=audio, sample_rate=sr, words=list(self.words), phonemes=None,
            first_audio_latency=(self.first_audio - self.requested) if self.first_audio else None)
        utterance = utterance_from_speech(speech)
        if final and all(c.viseme == "sil" for c in utterance.cues):
            raise InputError("the text has nothing to pronounce (only punctuation or spaces?)")
        return utterance


async def stream_utterances(
    text: str,
    voice: str | None = None,
    engine: EdgeTtsEngine | None = None,
    cancel: CancelToken | None = None,
    to_thread: Callable[..., Awaitable] = asyncio.to_thread,
) -> AsyncIterator[StreamUpdate]:
    """Growing utterances of `text` while edge-tts streams it; the last one has final=True."""
    engine = engine or EdgeTtsEngine()
    text = check_text(text)
    stream = SpeechStream(engine, text, voice or engine.default_voice)
    async for chunk in engine.chunks(text, stream.voice, cancel):
        stream.feed(chunk)
        if stream.ready_for_update():
            utterance = await to_thread(stream.utterance, False)
            yield StreamUpdate(utterance, False, time.perf_counter() - stream.requested)
    utterance = await to_thread(stream.utterance, True)
    yield StreamUpdate(utterance, True, time.perf_counter() - stream.requested)
