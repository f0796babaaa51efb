"""edge-tts engine: Microsoft Edge's online neural voices, with per-word timing.

Word boundaries are requested explicitly: since edge-tts 7.2.0 the default is SentenceBoundary,
which would leave only sentence windows to time the mouth with.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import time

from ..cancel import CancelToken
from ..errors import CancelledError, NavTalkError, Remedy
from .audio import decode_audio
from .types import EDGE, SpeechResult, Voice, WordTiming, check_text
from .phonemes import language_of_voice

TICKS_PER_SECOND = 10_000_000  # edge-tts offsets and durations are in 100 ns ticks
WORD_BOUNDARY = "WordBoundary"

# A few common English voices, so a voice list exists without the network (`fetch_voices` has them all).
KNOWN_VOICES = (
    Voice("en-US-AriaNeural", "Aria (US)", "en-us", "female"),
    Voice("en-US-GuyNeural", "Guy (US)", "en-us", "male"),
    Voice("en-US-JennyNeural", "Jenny (US)", "en-us", "female"),
    Voice("en-US-EmmaMultilingualNeural", "Emma (US)", "en-us", "female"),
    Voice("en-US-AndrewNeural", "Andrew (US)", "en-us", "male"),
    Voice("en-GB-SoniaNeural", "Sonia (UK)", "en-gb", "female"),
    Voice("en-GB-RyanNeural", "Ryan (UK)", "en-gb", "male"),
    Voice("en-AU-NatashaNeural", "Natasha (AU)", "en-au", "female"),
)


class TtsNetworkError(NavTalkError):
    """The online voice service could not be reached or refused the request."""


class EdgeTtsEngine:
    name = EDGE
    needs_network = True
    default_voice = "en-US-AriaNeural"

    def __init__(self, rate: str = "+0%", connect_timeout: int = 10, receive_timeout: int = 60,
                 audio_delay: float = 0.0) -> None:
        self.rate = rate
        self.connect_timeout = connect_timeout
        self.receive_timeout = receive_timeout
        # Seconds to add to word times if the decoded MP3 carries encoder delay the offsets do not.
        self.audio_delay = audio_delay

    def voices(self) -> list[Voice]:
        return list(KNOWN_VOICES)

    async def fetch_voices(self) -> list[Voice]:
        """Every voice the service offers (needs the network)."""
        import edge_tts

        try:
            raw = await edge_tts.list_voices()
        except Exception as exc:
            raise TtsNetworkError(f"cannot list edge-tts voices: {type(exc).__name__}") from exc
        return [Voice(v["ShortName"], v.get("FriendlyName", v["ShortName"]), v["Locale"].lower(),
                      v.get("Gender", "").lower()) for v in raw]

    def communicate(self, text: str, voice: str):
        """The edge-tts request, with word boundaries switched on."""
        import edge_tts

        return edge_tts.Communicate(text, voice, rate=self.rate, boundary=WORD_BOUNDARY,
                                    connect_timeout=self.connect_timeout, receive_timeout=self.receive_timeout)

    async def chunks(self, text: str, voice: str, cancel: CancelToken | None = None):
        """The service's stream chunks as they arrive (audio and word boundaries), errors made specific."""
        try:
            async for chunk in self.communicate(text, voice).stream():
                if cancel is not None and cancel.cancelled:
                    raise CancelledError("speech cancelled")
                yield chunk
        except (CancelledError, NavTalkError):
            raise
        except Exception as exc:  # aiohttp / edge_tts errors: say what failed, offer the offline engine
            raise TtsNetworkError(
                f"edge-tts failed ({type(exc).__name__}: {str(exc)[:200]}); check the network",
                remedy=Remedy.OFFLINE_ENGINE) from exc

    async def synthesize_async(self, text: str, voice: str | None = None,
                               cancel: CancelToken | None = None) -> SpeechResult:
        text = check_text(text)
        voice = voice or self.default_voice
        requested = time.perf_counter()
        first_audio: float | None = None
        mp3 = bytearray()
        words: list[WordTiming] = []
        async for chunk in self.chunks(text, voice, cancel):
            words_or_audio(chunk, mp3, words, self.audio_delay)
            if chunk["type"] == "audio" and first_audio is None:
                first_audio = time.perf_counter()
        if not mp3:
            raise TtsNetworkError("edge-tts returned no audio")
        audio, sr = decode_audio(bytes(mp3), codec="mp3", fmt="mp3")
        return SpeechResult(
            text=text, engine=self.name, voice=voice, language=language_of_voice(voice), audio=audio,
            sample_rate=sr, words=words, phonemes=None,
            first_audio_latency=(first_audio - requested) if first_audio else None,
        )

    def synthesize(self, text: str, voice: str | None = None, cancel: CancelToken | None = None) -> SpeechResult:
        """Blocking form; safe to call from a thread that already runs an event loop (e.g. qasync)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(self.synthesize_async(text, voice, cancel))
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            return pool.submit(asyncio.run, self.synthesize_async(text, voice, cancel)).result()


def words_or_audio(chunk: dict, mp3: bytearray, words: list[WordTiming], delay: float = 0.0) -> None:
    """Fold one edge-tts stream chunk into the MP3 bytes and word list (the documented chunk shapes)."""
    kind = chunk.get("type")
    if kind == "audio":
        mp3.extend(chunk["data"])
    elif kind == WORD_BOUNDARY:
        start = chunk["offset"] / TICKS_PER_SECOND + delay
        words.append(WordTiming(start, start + chunk["duration"] / TICKS_PER_SECOND, chunk["text"]))
