"""What a loop plan does to the (corrected) blinks: conflicts `auto` must avoid and notes for the plan panel.

A blink marked "never loop through this" must not be cut by the seam, half-faded by a crossfade or
played backwards by a ping-pong; a normal blink inside a crossfade shows as a ghost (a warning).
"""

from __future__ import annotations

from .blinks import BlinkEvent
from .loop_plan import BLENDED, LoopPlan


def _overlaps(event: BlinkEvent, lo: int, hi: int) -> bool:
    return event.end >= lo and event.start <= hi


def _fade_ranges(plan: LoopPlan) -> list[tuple[int, int]]:
    """Source frames blended at a crossfade seam: the faded tail and the frames it fades into."""
    if plan.strategy not in BLENDED or not plan.crossfade_frames:  # crossfade and morph blend the same frames
        return []
    return [plan.faded_range, (plan.first - plan.crossfade_frames, plan.first - 1)]


def exclusion_problem(plan: LoopPlan, event: BlinkEvent) -> str:
    """Why `plan` breaks the user's "never loop through this" on `event` ("" when it does not)."""
    if not event.exclude or not _overlaps(event, *plan.source_range):
        return ""
    if plan.strategy == "pingpong" and _overlaps(event, plan.first, plan.last):
        return "plays backwards"
    if not (plan.first <= event.start and event.end <= plan.last) and _overlaps(event, plan.first, plan.last):
        return "is cut by the seam"
    if any(_overlaps(event, lo, hi) for lo, hi in _fade_ranges(plan)):
        return "is crossed by the crossfade"
    return ""


def plan_conflicts(plan: LoopPlan, events: list[BlinkEvent]) -> list[BlinkEvent]:
    """Excluded events the plan crosses or reverses: `auto` drops such candidates."""
    return [e for e in events if exclusion_problem(plan, e)]


def plan_notes(plan: LoopPlan | None, events: list[BlinkEvent]) -> list[str]:
    """Warnings for the plan panel, from the corrected events."""
    if plan is None:
        return []
    notes = []
    fades = _fade_ranges(plan)
    for e in events:
        problem = exclusion_problem(plan, e)
        if problem:
            notes.append(f"the blink at frame {e.apex} is marked never to loop through, but it {problem}")
        elif not e.exclude and fades and _overlaps(e, *plan.faded_range):
            notes.append(f"the blink at frame {e.apex} falls in the crossfade: it shows half-faded")
        elif not e.exclude and plan.first <= e.apex <= plan.last and not plan.first <= e.start <= e.end <= plan.last:
            notes.append(f"the blink at frame {e.apex} is cut by the loop's edge")
    loop_event = next((e for e in events if e.start <= plan.loop_point <= e.end), None)
    if loop_event is not None and not loop_event.both_eyes:
        notes.append(f"the loop point sits on a one-eye closure ({loop_event.eye} eye)")
    return notes
