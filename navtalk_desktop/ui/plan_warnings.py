"""What the artist should know about a plan before exporting: where it fades, and what sits in a fade.

Pure functions (no Qt) shared by the timeline (bands and markers) and the Export panel (the list). The
seam report's own warnings (`SeamReport.warnings`: kind / frame / message) are used when it has them;
a blink inside a fade is also found here from the analysis, so the mark shows before any measurement.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.loop_plan import LoopPlan


@dataclass(frozen=True)
class PlanWarning:
    kind: str  # "blink_in_fade", "ghost", "pulse", ... (the seam report's kinds, core/seam.py WARNING_KINDS)
    frame: int  # source frame the warning is about
    message: str
    span: tuple[int, int] | None = None  # source frames it covers (a ghost over the fade), drawn as a strip


def fade_spans(plan: LoopPlan | None) -> list[tuple[int, int]]:
    """Source frame ranges (inclusive) blended at the seam: the faded tail and the head it fades into.

    Works for every strategy that blends (crossfade, morph): `faded_range` is the tail, the frames read
    before the window (`source_range`) are the head. A ping-pong has none.
    """
    if plan is None:
        return []
    tail = getattr(plan, "faded_range", None)
    if not tail:
        return []
    spans = [(int(tail[0]), int(tail[1]))]
    lo = plan.source_range[0]
    if lo < plan.first:
        spans.insert(0, (lo, plan.first - 1))
    return spans


def fade_name(plan: LoopPlan | None) -> str:
    return "morph" if plan is not None and plan.strategy == "morph" else "crossfade"


def blinks_in_fade(plan: LoopPlan | None, events) -> list[PlanWarning]:
    """A blink overlapping a faded span plays half-transparent over open eyes: a ghost blink."""
    spans = fade_spans(plan)
    found = []
    for event in events or []:
        for lo, hi in spans:
            if event.start <= hi and event.end >= lo:
                found.append(PlanWarning("blink_in_fade", int(event.apex),
                                         f"blink at frame {event.apex} is inside the {fade_name(plan)}"))
                break
    return found


def report_warnings(report) -> list[PlanWarning]:
    """The seam report's structured warnings, when the report has any (older reports have none).

    A SeamWarning (or its sidecar dict) names the source frame to mark as `source_frame`; one without
    a source frame (a report measured without its plan) cannot be placed and is left out.
    """
    found = []
    for item in getattr(report, "warnings", None) or []:
        get = item.get if isinstance(item, dict) else lambda k, _i=item: getattr(_i, k, None)
        frame = get("source_frame")
        frame = get("frame") if frame is None else frame
        if frame is None:
            continue
        span = get("source_span")
        span = (int(span[0]), int(span[1])) if span is not None and len(span) == 2 else None
        found.append(PlanWarning(str(get("kind") or "warning"), int(frame), str(get("message") or ""), span))
    return found


def plan_warnings(plan: LoopPlan | None, events, report=None, measured=None) -> list[PlanWarning]:
    """Report warnings first, then the exported file's own (`measured`, the last export's report when it is
    of this plan: a keyframe pulse shows only there), then local blink-in-fade marks none of them named."""
    found = report_warnings(report)
    seen = {(w.kind, w.frame) for w in found}
    for w in report_warnings(measured):
        if (w.kind, w.frame) not in seen:
            seen.add((w.kind, w.frame))
            found.append(PlanWarning(w.kind, w.frame, f"in the exported file: {w.message}", w.span))
    found += [w for w in blinks_in_fade(plan, events) if (w.kind, w.frame) not in seen]
    return sorted(found, key=lambda w: w.frame)
