"""The 22-viseme set and a total mapping from the IPA phonemes espeak-ng / phonemizer emit for English.

Why a fixed table: the mouth renderer and any web front end need a small, stable vocabulary. Why
total: a phoneme that silently maps to nothing makes the mouth freeze mid-word, so every phoneme
either maps (directly, or split into known units) or raises `UnknownPhonemeError`.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from ..errors import NavTalkError

# Order is the viseme id (0..21), like Azure's 22 ids: silence, ten vowel groups, eleven consonant groups.
VISEMES: tuple[str, ...] = (
    "sil",
    # vowels
    "aa",  # father, car
    "ae",  # cat
    "ah",  # cup, comma (schwa)
    "ao",  # thought, north
    "eh",  # bed, face (first part)
    "er",  # bird, letter
    "ih",  # kit
    "iy",  # fleece, yes
    "ow",  # go (first part)
    "uw",  # goose, foot
    # consonants
    "pbm",  # lips fully closed
    "fv",  # lower lip to upper teeth
    "th",  # tongue between teeth
    "tdn",
    "kg",
    "sz",
    "shch",  # sh, zh, ch, j
    "r",
    "l",
    "w",
    "h",
)
VISEME_IDS: dict[str, int] = {name: i for i, name in enumerate(VISEMES)}
VOWEL_VISEMES = frozenset(VISEMES[1:11])
SILENCE = "sil"

# Espeak's pause pseudo-phonemes (empty names come from the phoneme events at pauses).
PAUSES = frozenset({"", "_", "_:", "_!", "_^_", "||", "|", "‖"})

# Each phoneme -> ((viseme, share of its duration), ...). Diphthongs and r-coloured vowels split
# 60/40 as Rhubarb's animation rules do, so the mouth travels between the two shapes.
_TABLE: dict[str, tuple[tuple[str, float], ...]] = {}


def _add(visemes: str | tuple[tuple[str, float], ...], *phonemes: str) -> None:
    value = ((visemes, 1.0),) if isinstance(visemes, str) else visemes
    for ph in phonemes:
        _TABLE[ph] = value


# Vowels (en-us and en-gb espeak inventories, long and short forms).
_add("aa", "ɑ", "ɑː", "a", "aː", "ä", "ɑ̃", "ɑ̃ː")
_add("ae", "æ", "æː", "æ̃")
_add("ah", "ʌ", "ə", "ɐ", "ɐː", "əː", "ɘ")
_add("ao", "ɔ", "ɔː", "ɒ", "ɒː", "ɔ̃")
_add("eh", "ɛ", "ɛː", "e", "eː", "ɛ̃")
_add("er", "ɜ", "ɜː", "ɝ", "ɚ", "ɚː", "ɝː")
_add("ih", "ɪ", "ᵻ", "ɨ", "ɪ̈", "y", "ʏ")
_add("iy", "i", "iː", "j")
_add("ow", "o", "oː", "ø", "øː", "œ", "õ")
_add("uw", "u", "uː", "ʊ", "ʉ", "ʉː", "ɯ")
# Diphthongs and triphthongs.
_add((("aa", 0.6), ("ih", 0.4)), "aɪ", "aɪ")
_add((("aa", 0.6), ("uw", 0.4)), "aʊ")
_add((("ao", 0.6), ("ih", 0.4)), "ɔɪ", "ɔy")
_add((("eh", 0.6), ("ih", 0.4)), "eɪ", "ɛɪ")
_add((("ow", 0.6), ("uw", 0.4)), "oʊ", "ɔʊ")
_add((("ah", 0.6), ("uw", 0.4)), "əʊ", "ɐʊ")
_add((("ih", 0.6), ("ah", 0.4)), "ɪə")
_add((("iy", 0.6), ("ah", 0.4)), "iə")
_add((("eh", 0.6), ("ah", 0.4)), "eə", "ɛə")
_add((("uw", 0.6), ("ah", 0.4)), "ʊə")
_add((("aa", 0.45), ("ih", 0.3), ("ah", 0.25)), "aɪə")
_add((("aa", 0.45), ("uw", 0.3), ("ah", 0.25)), "aʊə")
# r-coloured vowels as espeak en-us writes them (one phoneme event each).
_add((("aa", 0.65), ("r", 0.35)), "ɑːɹ", "ɑɹ", "aːɹ")
_add((("ao", 0.65), ("r", 0.35)), "ɔːɹ", "ɔɹ")
_add((("ow", 0.65), ("r", 0.35)), "oːɹ", "oɹ")
_add((("ih", 0.6), ("r", 0.4)), "ɪɹ", "iɹ", "iəɹ")
_add((("eh", 0.6), ("r", 0.4)), "ɛɹ", "eɹ", "ɛəɹ")
_add((("uw", 0.6), ("r", 0.4)), "ʊɹ", "uɹ", "ʊəɹ")
_add((("aa", 0.4), ("ih", 0.25), ("er", 0.35)), "aɪɚ", "aɪəɹ")
_add((("aa", 0.4), ("uw", 0.25), ("er", 0.35)), "aʊɚ", "aʊəɹ")
_add((("ah", 0.5), ("l", 0.5)), "əl")
_add((("ah", 0.5), ("pbm", 0.5)), "əm")
_add((("ah", 0.5), ("tdn", 0.5)), "ən")
# Consonants.
_add("pbm", "p", "b", "m", "m̩", "ɱ", "pʰ")
_add("fv", "f", "v", "ɸ", "β")
_add("th", "θ", "ð")
_add("tdn", "t", "d", "n", "ɾ", "ʔ", "n̩", "ɾ̃", "tʰ", "ɲ", "ɳ", "ʈ", "ɖ", "ts", "dz")
_add("kg", "k", "g", "ɡ", "ŋ", "x", "ɣ", "q", "ɢ", "kʰ", "c", "ɟ", "χ", "ŋ̩")
_add("sz", "s", "z")
_add("shch", "ʃ", "ʒ", "tʃ", "dʒ", "ç", "ʝ", "ɕ", "ʑ", "tɕ", "dʑ")
_add("r", "ɹ", "r", "ɻ", "ɹ̩", "ʁ", "ɾʲ")
_add("l", "l", "ɫ", "ɬ", "l̩", "ɮ", "ʎ", "ʟ")
_add("w", "w", "ʍ", "ɥ")
_add("h", "h", "ɦ")
_add("sil", *PAUSES)

# Marks that carry prosody, not mouth shape: stress, syllable and tie marks, length is kept in the table.
_STRIP = "ˈˌ%=\u0361\u035c'\""


class UnknownPhonemeError(NavTalkError):
    """A phoneme the viseme table does not know: reported, never silently dropped."""

    def __init__(self, phoneme: str) -> None:
        self.phoneme = phoneme
        codes = " ".join(f"U+{ord(c):04X}" for c in phoneme)
        super().__init__(f"no viseme for phoneme {phoneme!r} ({codes})")


def normalize_phoneme(phoneme: str) -> str:
    """Drop stress/tie marks and normalise Unicode so espeak's and phonemizer's spellings agree."""
    text = unicodedata.normalize("NFC", phoneme.strip())
    return "".join(c for c in text if c not in _STRIP)


def is_pause(phoneme: str) -> bool:
    return normalize_phoneme(phoneme) in PAUSES


@lru_cache(maxsize=4096)
def phoneme_visemes(phoneme: str) -> tuple[tuple[str, float], ...]:
    """Visemes of one phoneme with their share of its duration; raises UnknownPhonemeError.

    Clusters espeak writes as one unit (e.g. a vowel plus r) that are not in the table are split
    greedily into known units, longest first, so new combinations still map.
    """
    ph = normalize_phoneme(phoneme)
    if ph in _TABLE:
        return _TABLE[ph]
    pieces: list[str] = []
    rest = ph
    while rest:
        for size in range(min(4, len(rest)), 0, -1):
            if rest[:size] in _TABLE and rest[:size] not in PAUSES:
                pieces.append(rest[:size])
                rest = rest[size:]
                break
        else:
            raise UnknownPhonemeError(phoneme)
    weights = [relative_duration(p) for p in pieces]
    total = sum(weights)
    out: list[tuple[str, float]] = []
    for piece, weight in zip(pieces, weights):
        for vis, share in _TABLE[piece]:
            out.append((vis, share * weight / total))
    return tuple(out)


def phoneme_viseme(phoneme: str) -> str:
    """The main (first) viseme of a phoneme."""
    return phoneme_visemes(phoneme)[0][0]


# Relative spoken durations, used to spread phonemes over an edge-tts word window (TalkingHead-like).
_CLASS_DURATION = {
    "aa": 1.3, "ae": 1.3, "ah": 0.9, "ao": 1.3, "eh": 1.1, "er": 1.2, "ih": 0.9, "iy": 1.1, "ow": 1.2,
    "uw": 1.0, "pbm": 0.9, "fv": 1.1, "th": 0.9, "tdn": 0.8, "kg": 0.85, "sz": 1.2, "shch": 1.2,
    "r": 0.8, "l": 0.8, "w": 0.7, "h": 0.8, "sil": 1.0,
}


def relative_duration(phoneme: str) -> float:
    """How long this phoneme usually lasts relative to an average one (diphthongs and long vowels longer)."""
    ph = normalize_phoneme(phoneme)
    parts = _TABLE.get(ph)
    if parts is None:
        parts = phoneme_visemes(ph)
    base = sum(_CLASS_DURATION[v] * share for v, share in parts)
    if len(parts) > 1 and all(v in VOWEL_VISEMES for v, _ in parts):
        base *= 1.35
    if "ː" in ph:
        base *= 1.25
    return base
