"""`navtalk-loop export`: a face video in, a seamless loop out."""

from __future__ import annotations

import sys
from pathlib import Path

from ..core import defaults
from ..core.loop_plan import DEFAULT_AFTER_S, DEFAULT_BEFORE_S, DEFAULT_CROSSFADE_S, DEFAULT_DURATION_S, STRATEGIES
from .arg_types import frame_index, non_negative_seconds, positive_seconds
from .progress import ProgressLine


def register(sub) -> None:
    p = sub.add_parser("export", help="export a seamless loop (one FFmpeg encode, frame-exact)")
    p.add_argument("video", type=Path)
    p.add_argument("--out", type=Path, required=True, help="output file (.mp4, .webm, .mov or .gif)")
    point = p.add_mutually_exclusive_group()
    point.add_argument("--at", type=non_negative_seconds, metavar="SECONDS", help="loop point in seconds (default: best blink)")
    point.add_argument("--frame", type=frame_index, metavar="N", help="loop point as a frame index")
    p.add_argument("--before", type=non_negative_seconds, default=None, help=f"seconds before the loop point (default {DEFAULT_BEFORE_S})")
    p.add_argument("--after", type=non_negative_seconds, default=None, help=f"seconds after it, ping-pong (default {DEFAULT_AFTER_S})")
    p.add_argument("--duration", type=positive_seconds, default=DEFAULT_DURATION_S, help="loop length in seconds (default 4)")
    p.add_argument("--strategy", choices=STRATEGIES, default=defaults.EXPORT_STRATEGY.value)
    p.add_argument("--crossfade", type=non_negative_seconds, default=None,
                   help=f"transition length in seconds (default {DEFAULT_CROSSFADE_S:g}, or shorter where a "
                        f"face moves too fast for it)")
    p.add_argument("--format", choices=defaults.FORMAT_NAMES, help="default: from the --out suffix")
    p.add_argument("--quality", choices=defaults.QUALITY_NAMES, default=defaults.EXPORT_QUALITY)
    p.add_argument("--keyframes", choices=("auto", "all"), default="auto",
                   help="auto: one keyframe per loop, encoded so the wrap shows no pulse; all: every frame a "
                        "keyframe (all-intra; larger files) for players that need it (mp4, webm)")
    p.add_argument("--blinks", type=Path, metavar="FILE.json",
                   help="use this corrected blink list (the JSON `analyze --json` prints) instead of the "
                        "detected blinks and the studio's stored corrections")
    p.set_defaults(func=run_export)


def run_export(args) -> int:
    from ..core.atomic import check_output_path, ensure_not_source, remove_stale_partials
    from ..core.export import format_for, sidecar_path_for
    from ..core.pipeline import LoopRequest, make_loop

    check_output_path(args.out)
    remove_stale_partials(args.out.parent)
    format_for(args.out, args.format)
    blinks = getattr(args, "blinks", None)
    ensure_not_source(args.out, args.video, blinks)
    ensure_not_source(sidecar_path_for(args.out), args.video, blinks, what="sidecar")
    request = LoopRequest(strategy=args.strategy, duration=args.duration, loop_point=args.frame, loop_at_s=args.at,
                          before=args.before, after=args.after, crossfade=args.crossfade, fmt=args.format,
                          quality=args.quality, keyframes=args.keyframes, blinks_file=blinks)

    def planned(choice, notes) -> None:
        for note in notes:
            print(f"note: {note}" if not note.startswith("blinks:") else note, file=sys.stderr)
        print(choice.explanation, file=sys.stderr)
        plan = choice.plan
        print(f"plan: {plan.strategy}, source frames {plan.first}-{plan.last} at {float(plan.fps):g} fps, "
              f"{plan.output_frames} frames out ({plan.duration:.3f} s)", file=sys.stderr)

    outcome = make_loop(args.video, args.out, request, progress=ProgressLine, on_plan=planned)
    result = outcome.export
    print(f"wrote {result.path}\nsidecar {result.sidecar_path}\n{result.report.summary()}")
    return 0
