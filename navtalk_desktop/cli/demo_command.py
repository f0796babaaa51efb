"""`navtalk-loop demo`: the whole headless pipeline on the bundled sample portrait, offline."""

from __future__ import annotations

from pathlib import Path

from ..core.atomic import write_json_atomic
from .progress import ProgressLine


def register(sub) -> None:
    p = sub.add_parser("demo", help="animate the sample portrait, find its blinks and export a seamless loop")
    p.add_argument("--out-dir", type=Path, default=Path("navtalk-demo"), help="folder for the results")
    p.add_argument("--portrait", type=Path, help="use this portrait instead of the bundled sample")
    p.set_defaults(func=run_demo)


def run_demo(args) -> int:
    from ..core.analysis import analyze_video
    from ..core.animator import AnimationSpec, render_face_video
    from ..core.auto_loop import choose_plan, explain
    from ..core.export import export_loop
    from ..core.resources import sample_portrait

    out_dir = args.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    portrait = args.portrait or sample_portrait()
    face = out_dir / "face.mp4"
    # Six seconds with two blinks: room for crossfade candidates around either.
    truth = render_face_video(portrait, face, AnimationSpec(fps=25, duration=6.0, blink_times=(1.6, 4.2)),
                              on_progress=ProgressLine("animating"))
    print(f"face video: {face} ({truth.frame_count} frames, blinks at frames {truth.apex_frames})")
    analysis = analyze_video(face, on_progress=ProgressLine("analysing"))
    print(analysis.summary())
    plan, candidates = choose_plan(analysis, face)
    print(explain(candidates))
    loop = out_dir / "loop.mp4"
    result = export_loop(face, plan, loop, on_progress=ProgressLine("exporting"), info=analysis.info,
                         source_hash=analysis.content_hash)
    write_json_atomic(out_dir / "analysis.json", analysis.to_dict(curves=False))
    print(f"loop: {result.path}\nsidecar: {result.sidecar_path}\n{result.report.summary()}")
    return 0
