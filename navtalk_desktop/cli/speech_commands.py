"""`navtalk-loop speak` (render a talking clip and/or export viseme cues) and `navtalk-loop voices`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ..core.errors import InputError, OutputError
from .arg_types import crf


def register(sub) -> None:
    speak = sub.add_parser(
        "speak",
        help="make the loop say a text: talking MP4 with audio, and/or timed viseme cues for a web player",
        description="Speak TEXT over LOOP: the loop repeats while the mouth follows the words. "
                    "--out writes the talking clip (audio muxed in); --cues writes cues JSON + WAV + RMS.",
    )
    speak.add_argument("loop", type=Path, help="the idle loop video (MP4)")
    speak.add_argument("text", help='what to say ("-" reads it from standard input)')
    speak.add_argument("--out", type=Path, help="talking clip to write (MP4)")
    speak.add_argument("--cues", type=Path, help="also write timed viseme cues (JSON) and the audio next to it (WAV)")
    speak.add_argument("--engine", default="auto", choices=("auto", "espeak", "edge"),
                       help="speech engine: espeak (offline), edge (online neural voices), auto = edge when "
                            "online else espeak (default: auto)")
    speak.add_argument("--voice", help="voice for the engine (see `navtalk-loop voices`)")
    speak.add_argument("--patches", type=Path, help="folder of mouth PNG patches (docs/mouth-patches.md) "
                                                    "to use instead of the generated mouth")
    speak.add_argument("--crf", type=crf, default=18, help="H.264 quality (lower = better; default 18)")
    speak.set_defaults(func=_speak)

    voices = sub.add_parser("voices", help="list the voices of a speech engine")
    voices.add_argument("--engine", default="espeak", choices=("espeak", "edge"))
    voices.add_argument("--lang", default="en", help="language prefix filter, e.g. en, en-gb (default en; 'all' for every voice)")
    voices.add_argument("--online", action="store_true", help="edge: fetch the full list from the service")
    voices.set_defaults(func=_voices)


def _speak(args: argparse.Namespace) -> int:
    from ..core.speech.cues import write_cues
    from ..core.speech.utterance import prepare_utterance

    if args.out is None and args.cues is None:
        raise InputError("nothing to write: give --out talk.mp4 and/or --cues cues.json")
    _check_speak_files(args)  # inputs and outputs first: speech synthesis is the slow part
    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise InputError("there is no text to speak")
    utterance = prepare_utterance(text, args.engine, args.voice)
    if utterance.notice:
        print(f"note: {utterance.notice}", file=sys.stderr)
    if utterance.unknown_phonemes:
        print("warning: no viseme for phoneme(s) " + ", ".join(sorted(set(utterance.unknown_phonemes)))
              + " (shown as a neutral open mouth)", file=sys.stderr)
    speech = utterance.speech
    print(f"voice: {speech.engine} {speech.voice}; speech {speech.duration:.2f} s, {len(utterance.cues)} cues")
    if args.cues is not None:
        json_path, wav_path = write_cues(utterance, args.cues)
        print(f"wrote {json_path} and {wav_path}")
    if args.out is not None:
        from ..core.talk_render import render_talk_video

        renderer = None
        if args.patches is not None:
            from ..core.landmarks import load_or_compute_landmarks
            from ..core.mouth.patches import PatchLibrary, PatchMouthRenderer

            library = PatchLibrary.load(args.patches)
            renderer = PatchMouthRenderer(load_or_compute_landmarks(args.loop), library)
        result = render_talk_video(args.loop, utterance, args.out, renderer=renderer, crf=args.crf,
                                   on_progress=_progress if sys.stderr.isatty() else None)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        print(f"wrote {result.path}: {result.frame_count} frames at {result.fps:g} fps "
              f"({result.duration:.2f} s) in {result.render_seconds:.1f} s")
        if result.source_warning:
            print(f"warning: {result.source_warning}", file=sys.stderr)
        if result.faceless_frames:
            print(f"warning: {result.faceless_frames} frame(s) had no face; their mouth was left as is",
                  file=sys.stderr)
    return 0


def _check_speak_files(args: argparse.Namespace) -> None:
    from ..core import media
    from ..core.atomic import check_output_path, ensure_not_source, remove_stale_partials

    media.probe(args.loop)  # missing, empty, not a video...: the specific message, before any speech
    if args.patches is not None and not args.patches.is_dir():
        raise InputError(f"mouth patch folder not found: {args.patches}")
    outputs = []
    if args.out is not None:
        outputs.append((args.out, "output"))
    if args.cues is not None:
        outputs += [(args.cues, "cues file"), (args.cues.with_suffix(".wav"), "cues audio")]
    for path, what in outputs:
        check_output_path(path)
        ensure_not_source(path, args.loop, what=what)
        remove_stale_partials(path.parent)
    if args.out is not None and args.cues is not None:
        for path, what in outputs[1:]:
            if os.path.realpath(path) == os.path.realpath(args.out):
                raise OutputError(f"the {what} {path} is also the --out file; give them different names")


def _progress(fraction: float) -> None:
    print(f"\rrendering {fraction * 100:5.1f}%", end="", file=sys.stderr, flush=True)


def _voices(args: argparse.Namespace) -> int:
    from ..core.speech.engines import engine_by_name

    engine = engine_by_name(args.engine)
    if args.online and args.engine == "edge":
        import asyncio

        voices = asyncio.run(engine.fetch_voices())
    else:
        voices = engine.voices()
    lang = args.lang.lower()
    shown = [v for v in voices if lang == "all" or v.language.lower().startswith(lang)]
    for v in shown:
        print(f"{v.id:32} {v.language:12} {v.gender:7} {v.name}")
    if not shown:
        print(f"no {args.engine} voices for language {args.lang!r}", file=sys.stderr)
        return 1
    return 0
