"""The edits a user makes to a loop plan on the timeline, as pure functions (no Qt, unit-testable).

Each returns a valid plan or None when the edit is impossible; the inputs are clamped first so a drag past
a limit stops at the limit instead of doing nothing. The loop point always stays inside the window.
"""

from __future__ import annotations

from ..core.errors import PlanError
from ..core.loop_plan import BLENDED, LoopPlan

MIN_SPAN = 3


def _margin(plan: LoopPlan) -> int:
    """Source frames read before the window (the head a crossfade or morph blends into)."""
    return plan.first - plan.source_range[0]


def move_loop_point(plan: LoopPlan, frame: int) -> LoopPlan | None:
    """Move the loop point; the window travels with it (core semantics: the window keeps its length)."""
    frame = max(0, min(int(frame), plan.source_frames - 1))
    if frame == plan.loop_point:
        return plan
    try:
        moved = plan.with_loop_point(frame)
    except PlanError:
        return None
    if not moved.first <= moved.loop_point <= moved.last:
        return None
    return moved


def slide_window(plan: LoopPlan, first: int) -> LoopPlan | None:
    """The window moved so it starts at `first`, keeping its length and the loop point inside it."""
    k = _margin(plan)
    span = plan.span
    lo = max(k, plan.loop_point - span + 1)
    hi = min(plan.loop_point, plan.source_frames - span)
    if hi < lo:
        return None
    first = max(lo, min(int(first), hi))
    if first == plan.first:
        return plan
    try:
        return plan.with_window(first, first + span - 1)
    except PlanError:
        return None


def move_window_start(plan: LoopPlan, frame: int, lock_length: bool = False) -> LoopPlan | None:
    """Move the start edge; with `lock_length` the end follows, so the loop keeps its duration."""
    if lock_length:
        return slide_window(plan, frame)
    k = _margin(plan)
    lo = k
    hi = min(plan.loop_point, plan.last - (MIN_SPAN - 1))
    if plan.strategy in BLENDED:
        hi = min(hi, plan.last - plan.crossfade_frames)
    if hi < lo:
        return None
    frame = max(lo, min(int(frame), hi))
    if frame == plan.first:
        return plan
    try:
        return plan.with_window(frame, plan.last)
    except PlanError:
        return None


def move_window_end(plan: LoopPlan, frame: int, lock_length: bool = False) -> LoopPlan | None:
    """Move the end edge; with `lock_length` the start follows, so the loop keeps its duration."""
    if lock_length:
        return slide_window(plan, int(frame) - plan.span + 1)
    k = _margin(plan)
    hi = plan.source_frames - 1 - k
    lo = max(plan.loop_point, plan.first + (MIN_SPAN - 1))
    if plan.strategy in BLENDED:
        lo = max(lo, plan.first + plan.crossfade_frames)
    if hi < lo:
        return None
    frame = max(lo, min(int(frame), hi))
    if frame == plan.last:
        return plan
    try:
        return plan.with_window(plan.first, frame)
    except PlanError:
        return None


def edit_text(marker: str, plan: LoopPlan) -> str:
    """The undo entry of a finished edit, naming what moved where ("Move loop start to frame 41")."""
    if marker == "loop_point":
        return f"Move loop point to frame {plan.loop_point}"
    if marker == "start":
        return f"Move loop start to frame {plan.first}"
    return f"Move loop end to frame {plan.last}"


def snap_frame(frame: float, candidates: list[int], tolerance_frames: float) -> int:
    """Round to a frame, or to the nearest candidate (a blink apex) within the tolerance."""
    best = int(round(frame))
    if candidates:
        nearest = min(candidates, key=lambda c: abs(c - frame))
        if abs(nearest - frame) <= tolerance_frames:
            best = nearest
    return best


def describe(plan: LoopPlan) -> str:
    """One line for the status area: what the loop is made of."""
    fps = float(plan.fps)
    text = (f"{plan.strategy}: frames {plan.first}–{plan.last}, loop point {plan.loop_point} "
            f"({plan.loop_point / fps:.2f} s) → {plan.output_frames} frames, {plan.duration:.2f} s")
    if plan.strategy in BLENDED:
        text += f", {plan.crossfade_frames}-frame {'morph' if plan.strategy == 'morph' else 'crossfade'}"
    return text
