"""`navtalk-loop export`: a face video in, a seamless loop out."""

from __future__ import annotations

import sys
from pathlib import Path

from ..core.errors import PlanError
from ..core.loop_plan import DEFAULT_AFTER_S, DEFAULT_BEFORE_S, DEFAULT_CROSSFADE_S, DEFAULT_DURATION_S, STRATEGIES
from .progress import ProgressLine


def register(sub) -> None:
    p = sub.add_parser("export", help="export a seamless loop (one FFmpeg encode, frame-exact)")
    p.add_argument("video", type=Path)
    p.add_argument("--out", type=Path, required=True, help="output file (.mp4, .webm, .mov or .gif)")
    point = p.add_mutually_exclusive_group()
    point.add_argument("--at", type=float, metavar="SECONDS", help="loop point in seconds (default: best blink)")
    point.add_argument("--frame", type=int, metavar="N", help="loop point as a frame index")
    p.add_argument("--before", type=float, default=None, help=f"seconds before the loop point (default {DEFAULT_BEFORE_S})")
    p.add_argument("--after", type=float, default=None, help=f"seconds after it, ping-pong (default {DEFAULT_AFTER_S})")
    p.add_argument("--duration", type=float, default=DEFAULT_DURATION_S, help="loop length in seconds (default 4)")
    p.add_argument("--strategy", choices=STRATEGIES, default="auto")
    p.add_argument("--crossfade", type=float, default=DEFAULT_CROSSFADE_S, help="crossfade length in seconds")
    p.add_argument("--format", choices=("mp4", "webm", "mov", "gif"), help="default: from the --out suffix")
    p.add_argument("--quality", choices=("high", "medium", "small"), default="high")
    p.set_defaults(func=run_export)


def resolve_plan(args, source: Path, analysis, log=print):
    """The loop plan the options ask for; `auto` measures candidates and says why it chose one."""
    from ..core.auto_loop import choose_plan, explain
    from ..core.loop_plan import make_plan

    info = analysis.info
    point = None
    if args.frame is not None:
        point = args.frame
    elif args.at is not None:
        point = int(round(args.at * float(info.fps)))
    if point is not None and not 0 <= point < info.frame_count:
        raise PlanError(f"the loop point (frame {point}) is outside the video (frames 0-{info.frame_count - 1})")
    if args.strategy == "auto":
        plan, candidates = choose_plan(analysis, source, loop_point=point, duration=args.duration,
                                       crossfade=args.crossfade, before=args.before)
        log(explain(candidates))
        return plan
    if point is None:
        best = analysis.best_blink()
        if best is None:
            raise PlanError("no clean blink found; give the loop point with --at SECONDS or --frame N")
        point = best.apex
    before = DEFAULT_BEFORE_S if args.before is None else args.before
    return make_plan(args.strategy, info.fps, info.frame_count, point, duration=args.duration, before=before,
                     after=args.after, crossfade=args.crossfade)


def run_export(args) -> int:
    from ..core.analysis import analyze_video
    from ..core.atomic import check_output_path
    from ..core.export import export_loop, format_for

    check_output_path(args.out)
    format_for(args.out, args.format)
    analysis = analyze_video(args.video, on_progress=ProgressLine("analysing"))
    plan = resolve_plan(args, args.video, analysis, log=lambda text: print(text, file=sys.stderr))
    print(f"plan: {plan.strategy}, source frames {plan.first}-{plan.last} at {float(plan.fps):g} fps, "
          f"{plan.output_frames} frames out ({plan.duration:.3f} s)", file=sys.stderr)
    result = export_loop(args.video, plan, args.out, fmt=args.format, quality=args.quality,
                         on_progress=ProgressLine("exporting"), info=analysis.info)
    print(f"wrote {result.path}\nsidecar {result.sidecar_path}\n{result.report.summary()}")
    return 0
