"""The viseme table is total over what phonemizer and espeak-ng emit for English, and loud about the rest."""

from __future__ import annotations

import pytest

from navtalk_desktop.core.mouth.params import VISEME_MATRIX, viseme_params
from navtalk_desktop.core.speech import espeak_lib
from navtalk_desktop.core.speech.types import PhonemeTiming
from navtalk_desktop.core.speech.phonemes import phonemize_text, phonemize_words
from navtalk_desktop.core.speech.timeline import cues_from_phonemes
from navtalk_desktop.core.speech.visemes import (
    VISEMES, UnknownPhonemeError, is_pause, normalize_phoneme, phoneme_viseme, phoneme_visemes,
)

# Pangrams, every vowel of the standard lexical sets, r-coloured vowels, syllabic consonants, flaps,
# glottal stops, foreign loans, numbers, abbreviations and contractions.
VARIED_ENGLISH = [
    "The quick brown fox jumps over the lazy dog.",
    "Pack my box with five dozen liquor jugs! How vexingly quick daft zebras jump.",
    "Sphinx of black quartz, judge my vow. Jackdaws love my big sphinx of quartz.",
    "I'd've thought you'd sure enjoy the measure of leisure in Beijing at 42.5 degrees, Mr. Smith.",
    "Our hour, their air, your poor tour, fire, hire, cure, pure, year, here, there, more, four.",
    "Bird, heard, butter, button, little, bottle, rhythm, prism, uh-oh, hmm, nation, vision.",
    "Thought, thing, then, loch, huge, yes, queue, orange, oil, boy, cow, now, go, say, high, eye.",
    "Mary, marry, merry, car, north, nurse, start, lot, cloth, palm, bath, trap, dress, kit, fleece.",
    "Face, goose, foot, strut, comma, letter, happy, which, whether, what, church, ship, sing, finger.",
    "Genre, café, naïve, résumé, ahh, psst, shh, the year 1999, 3:45 pm, 100% and $20.",
    "Schadenfreude, croissant, déjà vu, fjord, Tchaikovsky, Nguyen, Llewellyn, Xavier, Zhuang.",
    "Colonel, Worcestershire, February, library, squirrel, anemone, otorhinolaryngology.",
]


def test_viseme_set_is_the_22_documented_groups():
    assert len(VISEMES) == 22
    assert VISEMES[0] == "sil"
    for group in ("pbm", "fv", "th", "tdn", "kg", "sz", "shch", "r", "l", "w", "h"):
        assert group in VISEMES
    assert VISEME_MATRIX.shape == (22, 4)
    # The animators' closed shape is really closed, the open vowel really open.
    assert viseme_params("pbm").jaw_open == 0.0 and viseme_params("pbm").closed == 1.0
    assert viseme_params("aa").jaw_open > 0.8
    assert viseme_params("uw").lip_round > 0.8 and viseme_params("iy").lip_width > 0.4


@pytest.mark.parametrize("language", ["en-us", "en-gb"])
def test_every_phoneme_phonemizer_emits_for_english_maps(language):
    seen: set[str] = set()
    for text in VARIED_ENGLISH:
        for word in phonemize_text(text, language):
            seen.update(word)
    assert len(seen) >= 40, f"too few phonemes to be a real coverage check: {sorted(seen)}"
    unmapped = []
    for ph in sorted(seen):
        try:
            parts = phoneme_visemes(ph)
        except UnknownPhonemeError:
            unmapped.append(ph)
            continue
        assert parts and abs(sum(share for _, share in parts) - 1.0) < 1e-6
        assert all(v in VISEMES for v, _ in parts)
    assert not unmapped, f"{language}: phonemes without viseme: {unmapped}"


def test_every_phoneme_event_espeak_emits_for_english_maps():
    names: set[str] = set()
    for voice in ("en-us", "en-gb"):
        out = espeak_lib.synthesize(" ".join(VARIED_ENGLISH), voice)
        names.update(ev.name for ev in out.phonemes)
    spoken = {n for n in names if not is_pause(n)}
    assert len(spoken) >= 40
    for name in spoken:
        phoneme_visemes(name)  # raises on anything unmapped


def test_phonemize_words_keeps_one_slot_per_word():
    words = ["Hello", "42", "—", "map"]
    phones = phonemize_words(words, "en-us")
    assert len(phones) == len(words)
    assert phones[0][0] == "h" and phones[3][0] == "m"
    assert phones[2] == []  # punctuation only: an empty slot, never a shifted list


def test_stress_and_tie_marks_do_not_matter():
    assert normalize_phoneme("ˈoʊ") == "oʊ"
    assert phoneme_visemes("ˈoʊ") == phoneme_visemes("oʊ")
    assert phoneme_viseme("d͡ʒ") == "shch"
    assert phoneme_viseme("ɡ") == phoneme_viseme("g") == "kg"


def test_diphthongs_and_clusters_split_into_two_shapes():
    assert [v for v, _ in phoneme_visemes("aɪ")] == ["aa", "ih"]
    assert [v for v, _ in phoneme_visemes("ˈɔːɹ")] == ["ao", "r"]
    # A cluster not in the table is split into known units rather than dropped.
    parts = phoneme_visemes("ɔːɹə")
    assert [v for v, _ in parts] == ["ao", "r", "ah"]
    assert abs(sum(s for _, s in parts) - 1.0) < 1e-6


def test_unknown_phoneme_raises_with_its_code_points():
    with pytest.raises(UnknownPhonemeError) as err:
        phoneme_visemes("ǂ")
    assert "U+01C2" in str(err.value)


def test_unknown_phoneme_is_reported_not_dropped():
    phonemes = [PhonemeTiming(0.0, 0.1, "h"), PhonemeTiming(0.1, 0.3, "ǂ"), PhonemeTiming(0.3, 0.4, "m")]
    built = cues_from_phonemes(phonemes, 0.5)
    assert built.unknown_phonemes == ["ǂ"]
    # Its time still shows a mouth shape (the mouth does not freeze or skip).
    covering = [c for c in built.cues if c.start <= 0.2 <= c.end]
    assert covering and covering[0].viseme != "sil"
    with pytest.raises(UnknownPhonemeError):
        cues_from_phonemes(phonemes, 0.5, strict=True)
