"""Text -> IPA phonemes through phonemizer's espeak backend, pointed at the bundled espeak-ng library.

Why phonemizer: it gives per-word phoneme lists for text whose timing comes from elsewhere (edge-tts
word windows). Why the bundled library: no system espeak-ng is needed, and espeak's own synthesis
(espeak_lib) and phonemizer then agree on the phoneme inventory.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from ..errors import NavTalkError

_lock = threading.Lock()


class PhonemizerError(NavTalkError):
    """phonemizer or its espeak backend is not usable."""


@lru_cache(maxsize=1)
def configure_phonemizer() -> None:
    """Point phonemizer at espeakng-loader's library and data (instead of a system espeak-ng)."""
    import espeakng_loader
    from phonemizer.backend.espeak.wrapper import EspeakWrapper

    EspeakWrapper.set_library(espeakng_loader.get_library_path())
    EspeakWrapper.set_data_path(espeakng_loader.get_data_path())


@lru_cache(maxsize=4)
def _backend(language: str):
    configure_phonemizer()
    from phonemizer.backend import EspeakBackend

    try:
        # Language-switch flags like "(fr)" are removed; the switched words' phonemes stay (and still map).
        return EspeakBackend(language, preserve_punctuation=False, with_stress=False,
                             language_switch="remove-flags", words_mismatch="ignore")
    except RuntimeError as exc:
        raise PhonemizerError(f"phonemizer cannot use espeak for language {language!r}: {exc}") from exc


def language_of_voice(voice: str) -> str:
    """The phonemizer language for a voice name: 'en-US-AriaNeural' -> 'en-us', 'en-gb' -> 'en-gb'."""
    parts = voice.replace("_", "-").split("-")
    if len(parts) >= 2 and len(parts[0]) in (2, 3) and len(parts[1]) == 2:
        return f"{parts[0]}-{parts[1]}".lower()
    return "en-us" if voice.lower().startswith("en") or not voice else voice.lower()


def phonemize_words(words: list[str], language: str = "en-us") -> list[list[str]]:
    """Phonemes of each word (one phonemizer call for all words, as its docs advise: init is costly).

    A word that yields no phonemes (punctuation only) gets an empty list, never a dropped slot.
    """
    if not words:
        return []
    from phonemizer.separator import Separator

    backend = _backend(language)
    sep = Separator(phone=" ", word=" | ", syllable="")
    with _lock:
        out = backend.phonemize([w if w.strip() else "" for w in words], separator=sep, strip=True, njobs=1)
    result = []
    for line in out:
        phones = [p for chunk in line.split(" | ") for p in chunk.split(" ") if p]
        result.append(phones)
    return result


def phonemize_text(text: str, language: str = "en-us") -> list[list[str]]:
    """Phonemes of each word of `text`, as phonemizer splits it."""
    from phonemizer.separator import Separator

    backend = _backend(language)
    sep = Separator(phone=" ", word=" | ", syllable="")
    with _lock:
        line = backend.phonemize([text], separator=sep, strip=True, njobs=1)[0]
    return [[p for p in chunk.split(" ") if p] for chunk in line.split(" | ") if chunk.strip()]
