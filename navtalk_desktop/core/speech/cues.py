"""Export an utterance for a web front end: the audio file, timed viseme cues and an RMS series.

Why: a browser can draw the mouth itself over the looping video instead of receiving a rendered
talking clip. Cue times are sound times; the front end applies the envelope given in the file.
"""

from __future__ import annotations

import os
from pathlib import Path

from .. import strict_json
from ..atomic import check_output_path, write_text_atomic
from ..errors import OutputError
from ..mouth.params import VISEME_MATRIX
from .audio import write_wav
from .utterance import Utterance
from .visemes import VISEMES

CUES_FORMAT = "navtalk-visemes/1"


def cues_document(utterance: Utterance, audio_file: str) -> dict:
    speech = utterance.speech
    return {
        "format": CUES_FORMAT,
        "text": speech.text,
        "engine": speech.engine,
        "voice": speech.voice,
        "audio": {"file": audio_file, "sample_rate": speech.sample_rate, "duration": round(speech.duration, 4)},
        "visemes": list(VISEMES),
        "viseme_params": {
            "names": ["jaw_open", "lip_width", "lip_round", "upper_lip_raise"],
            "values": {v: [round(float(x), 3) for x in VISEME_MATRIX[i]] for i, v in enumerate(VISEMES)},
        },
        "envelope": utterance.timeline.envelope_info(),
        "cues": [c.to_dict() for c in utterance.cues],
        "silences": [{"start": round(s.start, 4), "end": round(s.end, 4)} for s in utterance.silences],
        "words": [{"start": round(w.start, 4), "end": round(w.end, 4), "text": w.text} for w in speech.words],
        "rms": {"hop": utterance.energy.hop, "values": [round(float(v), 5) for v in utterance.energy.values]},
        "unknown_phonemes": list(utterance.unknown_phonemes),
    }


def write_cues(utterance: Utterance, json_path: Path | str, audio_path: Path | str | None = None) -> tuple[Path, Path]:
    """Write the WAV (default: next to the JSON, same stem) and the cues JSON, each atomically.

    The JSON names the audio relative to itself when they share a folder, so the pair can be moved.
    """
    json_path = check_output_path(Path(json_path))
    audio_path = Path(audio_path) if audio_path is not None else json_path.with_suffix(".wav")
    check_output_path(audio_path)
    if audio_path.resolve() == json_path.resolve():
        raise OutputError(f"the cues JSON and its audio file need different names: {json_path}")
    write_wav(audio_path, utterance.audio, utterance.sample_rate)
    try:
        ref = os.path.relpath(audio_path.resolve(), json_path.resolve().parent)
    except ValueError:  # different drives on Windows
        ref = str(audio_path.resolve())
    document = cues_document(utterance, Path(ref).as_posix())
    write_text_atomic(json_path, strict_json.dumps(document, ensure_ascii=False))
    return json_path, audio_path
