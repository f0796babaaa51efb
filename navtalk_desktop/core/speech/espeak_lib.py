"""ctypes binding to the espeak-ng library that `espeakng-loader` ships: audio plus timed phoneme events.

Why ctypes and not the espeak-ng program: the wheel ships only the library, and its synth callback
hands over the samples together with phoneme/word events carrying exact sample positions, which is
what makes espeak the lip-sync timing reference. The library keeps global state, so every call
holds one process-wide lock.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import InputError, NavTalkError, Remedy

# speak_lib.h (API revision 12)
AUDIO_OUTPUT_SYNCHRONOUS = 2
INITIALIZE_PHONEME_EVENTS = 0x0001
INITIALIZE_PHONEME_IPA = 0x0002
CHARS_UTF8 = 1
POS_CHARACTER = 1
EVENT_LIST_TERMINATED = 0
EVENT_WORD = 1
EVENT_END = 5
EVENT_PHONEME = 7
PARAM_RATE = 1
EE_OK = 0


class _EventId(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p), ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    _fields_ = [
        ("type", ctypes.c_int),
        ("unique_identifier", ctypes.c_uint),
        ("text_position", ctypes.c_int),
        ("length", ctypes.c_int),
        ("audio_position", ctypes.c_int),
        ("sample", ctypes.c_int),
        ("user_data", ctypes.c_void_p),
        ("id", _EventId),
    ]


class _Voice(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("languages", ctypes.c_void_p),
        ("identifier", ctypes.c_char_p),
        ("gender", ctypes.c_ubyte),
        ("age", ctypes.c_ubyte),
        ("variant", ctypes.c_ubyte),
        ("xx1", ctypes.c_ubyte),
        ("score", ctypes.c_int),
        ("spare", ctypes.c_void_p),
    ]


_SynthCallback = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                  ctypes.POINTER(_Event))


class EspeakError(NavTalkError):
    """The espeak-ng library could not be loaded or failed to speak."""


@dataclass(frozen=True)
class RawPhonemeEvent:
    sample: int  # position of the phoneme's start in the output, in samples
    name: str  # IPA, with stress marks; "" at pauses


@dataclass(frozen=True)
class RawWordEvent:
    sample: int
    text_position: int  # 1-based character index into the text
    length: int  # characters


@dataclass
class EspeakOutput:
    samples: np.ndarray  # int16 mono
    sample_rate: int
    phonemes: list[RawPhonemeEvent]
    words: list[RawWordEvent]


@dataclass(frozen=True)
class EspeakVoice:
    identifier: str  # e.g. "gmw/en-US"
    name: str  # e.g. "English_(America)"
    languages: tuple[str, ...]  # e.g. ("en-us", "en")
    gender: str


class _Library:
    """The loaded, initialised library and the per-call collector its callback fills."""

    def __init__(self) -> None:
        import espeakng_loader

        try:
            self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        except OSError as exc:
            raise EspeakError(f"cannot load the espeak-ng library shipped by espeakng-loader: {exc}") from exc
        self.data_path = espeakng_loader.get_data_path()
        lib = self.lib
        lib.espeak_Initialize.restype = ctypes.c_int
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetVoiceByName.restype = ctypes.c_int
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int,
                                     ctypes.c_uint, ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_Synth.restype = ctypes.c_int
        lib.espeak_SetVoiceByProperties.argtypes = [ctypes.POINTER(_Voice)]
        lib.espeak_SetVoiceByProperties.restype = ctypes.c_int
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_Voice))
        lib.espeak_ListVoices.argtypes = [ctypes.c_void_p]
        rate = lib.espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 100, self.data_path.encode(),
                                     INITIALIZE_PHONEME_EVENTS | INITIALIZE_PHONEME_IPA)
        if rate <= 0:
            raise EspeakError(f"espeak-ng failed to initialise with data at {self.data_path}")
        self.sample_rate = int(rate)
        self.chunks: list[bytes] = []
        self.phonemes: list[RawPhonemeEvent] = []
        self.words: list[RawWordEvent] = []
        self.abort: Callable[[], bool] | None = None
        self.on_first_audio: Callable[[], None] | None = None
        self._callback = _SynthCallback(self._on_synth)  # keep a reference: the library holds a raw pointer
        lib.espeak_SetSynthCallback(self._callback)

    def _on_synth(self, wav, n_samples, events) -> int:
        if n_samples > 0:
            if not self.chunks and self.on_first_audio is not None:
                self.on_first_audio()
            self.chunks.append(ctypes.string_at(wav, n_samples * 2))
        i = 0
        while events[i].type != EVENT_LIST_TERMINATED:
            ev = events[i]
            if ev.type == EVENT_PHONEME:
                raw = bytes(ev.id.string).split(b"\0", 1)[0]
                self.phonemes.append(RawPhonemeEvent(int(ev.sample), raw.decode("utf-8", "replace")))
            elif ev.type == EVENT_WORD:
                self.words.append(RawWordEvent(int(ev.sample), int(ev.text_position), int(ev.length)))
            i += 1
        return 1 if (self.abort is not None and self.abort()) else 0


_lock = threading.Lock()
_library: _Library | None = None


def _get() -> _Library:
    global _library
    if _library is None:
        _library = _Library()
    return _library


def sample_rate() -> int:
    with _lock:
        return _get().sample_rate


def synthesize(
    text: str,
    voice: str = "en-us",
    rate_wpm: int = 165,
    abort: Callable[[], bool] | None = None,
    on_first_audio: Callable[[], None] | None = None,
) -> EspeakOutput:
    """Speak `text` to memory. `abort()` returning True stops synthesis at the next audio chunk."""
    data = text.encode("utf-8") + b"\0"
    with _lock:
        lib = _get()
        if not _set_voice(lib, voice):
            raise InputError(f"espeak-ng has no voice {voice!r}", remedy=Remedy.LIST_VOICES, engine="espeak")
        lib.lib.espeak_SetParameter(PARAM_RATE, int(rate_wpm), 0)
        lib.chunks, lib.phonemes, lib.words = [], [], []
        lib.abort, lib.on_first_audio = abort, on_first_audio
        buf = ctypes.create_string_buffer(data, len(data))
        try:
            status = lib.lib.espeak_Synth(buf, len(data), 0, POS_CHARACTER, 0, CHARS_UTF8, None, None)
            lib.lib.espeak_Synchronize()
        finally:
            lib.abort, lib.on_first_audio = None, None
        chunks, phonemes, words = lib.chunks, lib.phonemes, lib.words
        lib.chunks, lib.phonemes, lib.words = [], [], []
        rate = lib.sample_rate
    if status != EE_OK:
        raise EspeakError(f"espeak-ng failed to synthesise the text (status {status})")
    samples = np.frombuffer(b"".join(chunks), dtype="<i2").copy()
    return EspeakOutput(samples=samples, sample_rate=rate, phonemes=phonemes, words=words)


def _set_voice(lib: _Library, voice: str) -> bool:
    """By voice file name ("en-us", "gmw/en-GB-x-rp"), else by language ("en-gb")."""
    if lib.lib.espeak_SetVoiceByName(voice.encode("utf-8")) == EE_OK:
        return True
    language = ctypes.create_string_buffer(voice.lower().encode("utf-8"))
    spec = _Voice()
    spec.languages = ctypes.cast(language, ctypes.c_void_p)
    return lib.lib.espeak_SetVoiceByProperties(ctypes.byref(spec)) == EE_OK


def list_voices() -> list[EspeakVoice]:
    with _lock:
        lib = _get()
        array = lib.lib.espeak_ListVoices(None)
        voices = []
        i = 0
        while array[i]:
            v = array[i].contents
            voices.append(EspeakVoice(
                identifier=(v.identifier or b"").decode("utf-8", "replace"),
                name=(v.name or b"").decode("utf-8", "replace"),
                languages=tuple(_languages(v.languages)),
                gender={1: "male", 2: "female"}.get(v.gender, ""),
            ))
            i += 1
    return voices


def _languages(ptr: int | None) -> list[str]:
    """Decode espeak's packed language list: (priority byte, NUL-terminated name)* then a 0 byte."""
    if not ptr:
        return []
    out = []
    offset = 0
    while True:
        priority = ctypes.c_ubyte.from_address(ptr + offset).value
        if priority == 0:
            break
        name = ctypes.string_at(ptr + offset + 1)
        out.append(name.decode("utf-8", "replace"))
        offset += 2 + len(name)
    return out
