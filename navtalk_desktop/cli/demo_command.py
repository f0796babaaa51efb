"""`navtalk-loop demo`: the whole headless pipeline on the bundled sample portrait, offline."""

from __future__ import annotations

from pathlib import Path

from ..core.atomic import write_json_atomic
from .progress import ProgressLine
from .error_words import LOOP_POINT_HINT


def register(sub) -> None:
    p = sub.add_parser("demo", help="animate the sample portrait, find its blinks and export a seamless loop")
    p.add_argument("--out-dir", type=Path, default=Path("navtalk-demo"), help="folder for the results")
    p.add_argument("--portrait", type=Path, help="use this portrait instead of the bundled sample")
    p.set_defaults(func=run_demo)


def run_demo(args) -> int:
    from ..core.animator import AnimationSpec, render_face_video
    from ..core.pipeline import make_loop
    from ..core.resources import sample_portrait

    out_dir = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    portrait = args.portrait or sample_portrait()
    face = out_dir / "face.mp4"
    # Six seconds with two blinks: room for crossfade candidates around either.
    truth = render_face_video(portrait, face, AnimationSpec(fps=25, duration=6.0, blink_times=(1.6, 4.2)),
                              on_progress=ProgressLine("animating"))
    print(f"face video: {face} ({truth.frame_count} frames, blinks at frames {truth.apex_frames})")
    outcome = make_loop(face, out_dir / "loop.mp4", progress=ProgressLine,
                        on_plan=lambda choice, notes: print("\n".join([*notes, choice.explanation])))
    analysis, result = outcome.analysis, outcome.export
    print(analysis.summary(LOOP_POINT_HINT))
    write_json_atomic(out_dir / "analysis.json", analysis.to_dict(curves=False))
    print(f"loop: {result.path}\nsidecar: {result.sidecar_path}\n{result.report.summary()}")
    return 0
