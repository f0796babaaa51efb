"""`navtalk-loop analyze` and `navtalk-loop inspect`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..core import strict_json
from ..core.atomic import check_output_path, ensure_not_source, remove_stale_partials, write_text_atomic
from .progress import ProgressLine
from .error_words import LOOP_POINT_HINT


def register(sub) -> None:
    p = sub.add_parser("analyze", help="find blinks in a face video (EAR curve from MediaPipe Face Mesh)")
    p.add_argument("video", type=Path)
    out = p.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the full result as JSON (curves, corrected and "
                     "detected events with their origin, video)")
    out.add_argument("--csv", action="store_true", help="print the per-frame EAR curve as CSV")
    p.add_argument("-o", "--output", type=Path, help="write the JSON/CSV/summary to this file instead of stdout")
    p.add_argument("--no-cache", action="store_true", help="recompute landmarks even if cached")
    p.set_defaults(func=run_analyze)

    p = sub.add_parser("inspect", help="measure the seam quality of an exported loop")
    p.add_argument("loop", type=Path)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=run_inspect)


def run_analyze(args) -> int:
    from ..core.analysis import analyze_video
    from ..core.blink_store import with_stored_corrections

    if args.output:  # before the analysis: a wrong -o must not cost a minute of work, nor the video
        check_output_path(args.output)
        ensure_not_source(args.output, args.video)
        remove_stale_partials(args.output.parent)
    quiet = args.json or args.csv
    progress = None if quiet and not args.output else ProgressLine("analysing")
    result = with_stored_corrections(analyze_video(args.video, on_progress=progress, use_cache=not args.no_cache))
    text = result.to_json() if args.json else result.to_csv() if args.csv else result.summary(LOOP_POINT_HINT) + "\n"
    if args.output:
        write_text_atomic(args.output, text)
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
    return 0


def _sidecar_inputs(sidecar: Path):
    """The plan, source and seam context an export's sidecar names; None for what it lacks or what moved."""
    from ..core import media
    from ..core.errors import NavTalkError
    from ..core.loop_plan import LoopPlan
    from ..core.seam import SeamContext

    try:
        data = json.loads(sidecar.read_text())
        plan = LoopPlan.from_dict(data["plan"])
    except (OSError, KeyError, ValueError, TypeError, NavTalkError):
        return None, None, None
    context = SeamContext.from_dict(data.get("seam_context"))
    named = data.get("source") if isinstance(data.get("source"), dict) else {}
    path, digest = named.get("path"), named.get("sha256")
    source = Path(path) if isinstance(path, str) and path else None
    try:
        if (source is not None and source.is_file() and media.probe(source).frame_count == plan.source_frames
                and (not isinstance(digest, str) or media.content_hash(source) == digest)):
            return plan, source, context
    except (NavTalkError, OSError):
        pass
    print(f"note: the source {source} is not there (or changed): the seam is measured on the file alone, "
          f"without the prediction from the source frames or the ghost measure", file=sys.stderr)
    return plan, None, context


def run_inspect(args) -> int:
    from ..core.export import sidecar_path_for
    from ..core.seam import inspect_loop

    plan = source = context = None
    sidecar = sidecar_path_for(args.loop)
    if sidecar.exists():
        plan, source, context = _sidecar_inputs(sidecar)
    report = inspect_loop(args.loop, plan, source=source, context=context)
    print(strict_json.dumps(report.to_dict()) if args.json else report.summary())
    return 0
